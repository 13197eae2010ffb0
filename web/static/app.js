// Firebreak console: progressive enhancement only. Every page works without this file; it adds local times,
// the live timeline (Server-Sent Events), in-place refresh of the incident's header and panels, starring without
// a reload, confirmations for final status changes and revocations, and copying a new token.
(function () {
  "use strict";

  // ---- local times ----
  var pad = function (n) { return n < 10 ? "0" + n : "" + n; };
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }
  function fmt(d, kind) {
    var now = new Date();
    var clock = pad(d.getHours()) + ":" + pad(d.getMinutes());
    if (kind === "time") {
      clock += ":" + pad(d.getSeconds());
      return sameDay(d, now) ? clock : d.getDate() + " " + months[d.getMonth()] + " " + clock;
    }
    var date = d.getDate() + " " + months[d.getMonth()];
    if (d.getFullYear() !== now.getFullYear()) date += " " + d.getFullYear();
    return date + " " + clock;
  }
  // The value of a datetime-local field for d, in the browser's time zone.
  function inputValue(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes());
  }
  function zoneName() {
    var off = -new Date().getTimezoneOffset();
    var name = "UTC" + (off < 0 ? "−" : "+") + pad(Math.floor(Math.abs(off) / 60)) + ":" + pad(Math.abs(off) % 60);
    try {
      var z = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (z && z !== "UTC" && z !== "Etc/UTC") name = z + ", " + name;
    } catch (e) { /* no Intl: the offset says enough */ }
    return name;
  }
  function localizeTimes(root) {
    root = root || document;
    var els = root.querySelectorAll("time[data-local]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var d = new Date(el.getAttribute("datetime"));
      if (!isNaN(d)) el.textContent = fmt(d, el.getAttribute("data-local"));
    }
    // Fields filled with a stored time come in UTC: show them in local time (the form sends the offset back).
    var inputs = root.querySelectorAll("input[type=datetime-local][data-utc]");
    for (var j = 0; j < inputs.length; j++) {
      var t = new Date(inputs[j].getAttribute("data-utc"));
      if (!isNaN(t)) inputs[j].value = inputValue(t);
      inputs[j].removeAttribute("data-utc");
    }
    var hints = root.querySelectorAll("[data-tz-hint]");
    for (var k = 0; k < hints.length; k++) hints[k].textContent = "Times are in your time zone (" + zoneName() + ").";
  }

  function fmtElapsed(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + "m";
    var h = Math.floor(m / 60);
    if (h < 48) return h + "h " + pad(m % 60) + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }
  function tickElapsed() {
    var els = document.querySelectorAll("[data-elapsed-from]");
    for (var i = 0; i < els.length; i++) {
      var from = new Date(els[i].getAttribute("data-elapsed-from"));
      if (!isNaN(from)) els[i].textContent = fmtElapsed(Date.now() - from.getTime());
    }
    tickCountdowns();
  }
  // Countdowns to a due time (the next escalation step): "in 3m", then "due now".
  function tickCountdowns() {
    var els = document.querySelectorAll("[data-countdown-to]");
    for (var i = 0; i < els.length; i++) {
      var to = new Date(els[i].getAttribute("data-countdown-to"));
      if (isNaN(to)) continue;
      var left = to.getTime() - Date.now();
      els[i].textContent = left > 0 ? "in " + fmtElapsed(left) : "due now";
    }
  }

  // ---- forms ----
  document.addEventListener("submit", function (e) {
    var form = e.target;
    // datetime-local has no zone: send the browser's offset for the chosen moment (daylight saving included).
    var tz = form.querySelector("input[name=tz_offset]");
    if (tz) {
      var local = form.querySelector("input[type=datetime-local]");
      var d = local && local.value ? new Date(local.value) : new Date();
      tz.value = String(isNaN(d) ? new Date().getTimezoneOffset() : d.getTimezoneOffset());
    }
    // A form with several times sends an offset for each (daylight saving time may change between them).
    var locals = form.querySelectorAll("input[type=datetime-local][data-tz]");
    for (var i = 0; i < locals.length; i++) {
      var hidden = form.querySelector("input[name='" + locals[i].getAttribute("data-tz") + "']");
      if (!hidden) continue;
      var at = locals[i].value ? new Date(locals[i].value) : new Date();
      hidden.value = String(isNaN(at) ? new Date().getTimezoneOffset() : at.getTimezoneOffset());
    }
    var btn = e.submitter;
    if (btn && btn.hasAttribute("data-confirm") && !window.confirm(btn.getAttribute("data-confirm"))) {
      e.preventDefault();
      return;
    }
    if (form.hasAttribute("data-star")) {
      e.preventDefault();
      star(form);
      return;
    }
    // One click, one change: disable the form's buttons once the browser has taken the submission (disabling
    // them now would drop the clicked button's value from the form data).
    setTimeout(function () {
      var btns = form.querySelectorAll("button");
      for (var i = 0; i < btns.length; i++) btns[i].disabled = true;
    }, 0);
  });
  // Coming back through the history (back/forward cache) must not leave buttons disabled.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    var btns = document.querySelectorAll("form button[disabled]");
    for (var i = 0; i < btns.length; i++) btns[i].disabled = false;
  });

  // Ctrl/Cmd+Enter sends a note.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && t.hasAttribute && t.hasAttribute("data-submit-on-ctrl-enter")) {
      e.preventDefault();
      if (t.form.requestSubmit) t.form.requestSubmit(); else t.form.submit();
    }
  });

  // Copy buttons (a new token's secret). Without the script the text is still there to select.
  function copied(btn) {
    btn.textContent = "Copied";
    setTimeout(function () { btn.textContent = "Copy"; }, 2000);
  }
  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("button[data-copy]");
    if (!btn) return;
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (!el) return;
    var selectIt = function () {
      var range = document.createRange();
      range.selectNodeContents(el);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      try { if (document.execCommand("copy")) copied(btn); } catch (err) { /* selected: the user copies */ }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () { copied(btn); }, selectIt);
    } else {
      selectIt();
    }
  });
  var copyButtons = document.querySelectorAll("button[data-copy]");
  for (var cb = 0; cb < copyButtons.length; cb++) copyButtons[cb].hidden = false;

  function csrfOf(form) {
    var el = form.querySelector("input[name=csrf_token]");
    return el ? el.value : "";
  }

  function star(form) {
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRF-Token": csrfOf(form) }
    }).then(function (res) {
      if (!res.ok) throw new Error("star failed: " + res.status);
      return res.text();
    }).then(function (html) {
      var li = form.closest("li.tl-entry");
      var fresh = fromHTML(html);
      if (li && fresh) {
        li.replaceWith(fresh);
        localizeTimes(fresh);
      }
    }).catch(function () { form.submit(); });
  }

  function fromHTML(html) {
    var t = document.createElement("template");
    t.innerHTML = html.trim();
    return t.content.firstElementChild;
  }

  // ---- the live incident page ----
  var page = document.querySelector("[data-live-url]");
  var dirty = {};      // section id -> the user typed into a form there
  var pending = null;  // a parsed sections document not yet applied
  var refreshTimer = null;

  function sectionBusy(el) {
    if (!el) return false;
    if (dirty[el.id]) return true;
    var a = document.activeElement;
    return !!(a && a !== document.body && el.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName));
  }

  function applySections(doc, force) {
    var busy = false;
    var fresh = doc.querySelectorAll("[data-section]");
    for (var i = 0; i < fresh.length; i++) {
      var cur = document.getElementById(fresh[i].id);
      if (!cur) continue;
      if (!force && sectionBusy(cur)) { busy = true; continue; }
      var keepOpen = [];
      var opened = cur.querySelectorAll("details[open]");
      for (var j = 0; j < opened.length; j++) {
        var host = opened[j].closest("[id]");
        if (host) keepOpen.push(host.id);
      }
      var node = document.importNode(fresh[i], true);
      cur.replaceWith(node);
      delete dirty[node.id];
      keepOpen.forEach(function (id) {
        var el = document.getElementById(id);
        var det = el && (el.tagName === "DETAILS" ? el : el.querySelector("details"));
        if (det) det.open = true;
      });
      localizeTimes(node);
    }
    var problem = document.getElementById("problem");
    if (problem && !busy) problem.remove();
    pending = busy ? doc : null;
    document.getElementById("live-banner").hidden = !busy;
    tickElapsed();
  }

  function refreshSections() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      fetch(page.getAttribute("data-sections-url"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (res) { if (!res.ok) throw new Error(res.status); return res.text(); })
        .then(function (html) { applySections(new DOMParser().parseFromString(html, "text/html"), false); })
        .catch(function () { /* the next event or a reload will catch up */ });
    }, 250);
  }

  function insertEntry(html) {
    var li = fromHTML(html);
    if (!li || document.getElementById(li.id)) return;
    var list = document.getElementById("timeline-list");
    var at = Number(li.getAttribute("data-at")), id = Number(li.getAttribute("data-id"));
    var items = list.children, before = null;
    for (var i = items.length - 1; i >= 0; i--) {
      var ia = Number(items[i].getAttribute("data-at")), ii = Number(items[i].getAttribute("data-id"));
      if (ia < at || (ia === at && ii < id)) break;
      before = items[i];
    }
    list.insertBefore(li, before);
    li.classList.add("tl-new");
    localizeTimes(li);
  }

  function setLive(state, text) {
    var el = document.getElementById("live-status");
    if (!el) return;
    el.setAttribute("data-state", state);
    el.querySelector(".live-text").textContent = text;
  }

  if (page && window.EventSource) {
    document.addEventListener("input", function (e) {
      var sec = e.target.closest && e.target.closest("[data-section]");
      if (sec) dirty[sec.id] = true;
    });
    document.addEventListener("click", function (e) {
      if (e.target.closest("[data-apply-refresh]") && pending) applySections(pending, true);
    });
    document.addEventListener("focusout", function () {
      // A form left alone again: apply a refresh that waited for it.
      setTimeout(function () { if (pending) applySections(pending, false); }, 0);
    });

    var url = page.getAttribute("data-live-url") + "?after=" + encodeURIComponent(page.getAttribute("data-last-event") || "0");
    var es = new EventSource(url);
    es.onopen = function () { setLive("on", "Live"); };
    es.onerror = function () {
      // The browser retries by itself, unless the server refused the stream (signed out, incident gone).
      if (es.readyState === EventSource.CLOSED) setLive("retry", "Live updates stopped: reload the page");
      else setLive("retry", "Reconnecting…");
    };
    es.addEventListener("timeline", function (msg) {
      var ev;
      try { ev = JSON.parse(msg.data); } catch (err) { return; }
      insertEntry(ev.html);
      page.setAttribute("data-last-event", String(ev.id));
      if (ev.refresh) refreshSections();
    });
    es.addEventListener("signedout", function () {
      es.close();
      setLive("retry", "Signed out: reload to sign in");
    });
    window.addEventListener("pagehide", function () { es.close(); });
  }

  localizeTimes(document);
  tickElapsed();
  setInterval(tickElapsed, 30000);
  setInterval(tickCountdowns, 5000);
})();
