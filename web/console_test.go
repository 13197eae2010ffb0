package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

func TestConsoleLogin(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		b := e.browser()

		// Logged out: a console page sends you to the login page and remembers where you were going.
		p := b.get("/incidents?severity=SEV1")
		wantStatus(t, p, http.StatusSeeOther)
		if got, want := p.location(), "/login?next="+url.QueryEscape("/incidents?severity=SEV1"); got != want {
			t.Fatalf("redirect to %q, want %q", got, want)
		}
		p = b.get(p.location())
		wantStatus(t, p, http.StatusOK)
		if p.attr(t, "input[name=next]", "value") != "/incidents?severity=SEV1" {
			t.Fatal("the login form lost the next page")
		}

		// A wrong password and an unknown user get the same answer, and the username is kept.
		for _, name := range []string{"alice", "nobody"} {
			res := b.submit(p, "form[action='/login']", url.Values{"username": {name}, "password": {"wrong password"}})
			wantStatus(t, res, http.StatusUnauthorized)
			if got := res.text(t, "#login-error"); got != "Invalid username or password." {
				t.Fatalf("login error %q", got)
			}
			if res.attr(t, "input[name=username]", "value") != name {
				t.Fatal("username not kept after a failed login")
			}
			p = res
		}

		// Success: the session cookie is HttpOnly and SameSite=Lax, and you land where you were going.
		res := b.submit(p, "form[action='/login']", url.Values{"username": {"alice"}, "password": {consolePassword}})
		wantStatus(t, res, http.StatusSeeOther)
		if res.location() != "/incidents?severity=SEV1" {
			t.Fatalf("after login, redirect to %q", res.location())
		}
		var session *http.Cookie
		for _, c := range (&http.Response{Header: res.header}).Cookies() {
			if c.Name == "firebreak_session" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
			t.Fatalf("session cookie %+v", session)
		}
		home := b.get("/incidents?severity=SEV1")
		wantStatus(t, home, http.StatusOK)
		if got := home.text(t, ".me-name"); got != "alice" {
			t.Fatalf("signed in as %q", got)
		}
		if csp := home.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") {
			t.Fatalf("CSP %q", csp)
		}
		if home.find(t, "script:not([src])").Length() != 0 || home.find(t, "[style], [onclick]").Length() != 0 {
			t.Fatal("inline script or style on the page")
		}

		// Logout ends the session on the server too.
		out := b.submit(home, "form[action='/logout']", nil)
		wantStatus(t, out, http.StatusSeeOther)
		if out.location() != "/login" {
			t.Fatalf("logout redirects to %q", out.location())
		}
		wantStatus(t, b.get("/incidents"), http.StatusSeeOther)
		if _, err := st.AuthenticateSession(context.Background(), session.Value); err == nil {
			t.Fatal("the session still works after logout")
		}

		// next must be a local path.
		for _, evil := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example"} {
			b2 := e.browser()
			lp := b2.get("/login?next=" + url.QueryEscape(evil))
			r := b2.submit(lp, "form[action='/login']", url.Values{"username": {"bob"}, "password": {consolePassword}})
			wantStatus(t, r, http.StatusSeeOther)
			if r.location() != "/" {
				t.Fatalf("next=%q redirected to %q", evil, r.location())
			}
		}

		// A login post without the form's token (another site posting) is refused.
		b3 := e.browser()
		forged := b3.post("/login", url.Values{"username": {"bob"}, "password": {consolePassword}, "next": {"/"}})
		wantStatus(t, forged, http.StatusForbidden)
	})
}

func TestConsoleDeclareAndRun(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		b := e.browser()
		b.login("alice")

		// The form shows each severity's policy and the catalog.
		form := b.get("/incidents/new")
		wantStatus(t, form, http.StatusOK)
		if got := form.find(t, "input[name=severity]").Length(); got != 3 {
			t.Fatalf("%d severity choices", got)
		}
		if txt := form.text(t, ".sevc-sev1"); !strings.Contains(txt, "5 min") || !strings.Contains(txt, "CTO") ||
			!strings.Contains(txt, "Complete service outage") {
			t.Fatalf("SEV1 policy shown as %q", txt)
		}
		if form.find(t, "input[name=services][value=api]").Length() != 1 {
			t.Fatal("service api is not offered")
		}
		if _, checked := form.find(t, "input[name=commander]").Attr("checked"); !checked {
			t.Fatal("'I'm the incident commander' is not checked by default")
		}

		// A validation error is shown next to the field, and everything typed is kept.
		bad := b.submit(form, "form.declare", url.Values{"title": {"  "}, "summary": {"Checkout is down"},
			"severity": {"SEV2"}, "services": {"api", "db"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if got := bad.text(t, "#title-error"); got != "Title is required" {
			t.Fatalf("title error %q", got)
		}
		if bad.attr(t, "#title", "aria-invalid") != "true" {
			t.Fatal("title not marked invalid")
		}
		if got := bad.text(t, "textarea[name=summary]"); got != "Checkout is down" {
			t.Fatalf("summary kept as %q", got)
		}
		if _, ok := bad.find(t, "input[name=severity][value=SEV2]").Attr("checked"); !ok {
			t.Fatal("severity not kept")
		}
		for _, s := range []string{"api", "db"} {
			if _, ok := bad.find(t, "input[name=services][value="+s+"]").Attr("checked"); !ok {
				t.Fatalf("service %s not kept", s)
			}
		}
		if _, ok := bad.find(t, "input[name=services][value=web]").Attr("checked"); ok {
			t.Fatal("service web checked without being chosen")
		}

		// Declared: the incident page has everything in its header.
		ok := b.submit(bad, "form.declare", url.Values{"title": {"Checkout returns 502"}})
		wantStatus(t, ok, http.StatusSeeOther)
		if ok.location() != "/incidents/INC-1" {
			t.Fatalf("declared, redirected to %q", ok.location())
		}
		inc := b.get("/incidents/INC-1")
		wantStatus(t, inc, http.StatusOK)
		if got := inc.text(t, "#incident-header h1"); got != "Checkout returns 502" {
			t.Fatalf("title %q", got)
		}
		if got := inc.text(t, "#incident-header .sev"); got != "SEV2" {
			t.Fatalf("severity %q", got)
		}
		if got := inc.text(t, "#incident-header .status"); got != "Detected" {
			t.Fatalf("status %q", got)
		}
		if got := inc.text(t, "#role-commander .role-holder"); !strings.Contains(got, "alice") {
			t.Fatalf("commander %q", got)
		}
		if got := inc.text(t, "#incident-header .inc-facts"); !strings.Contains(got, "api, db") {
			t.Fatalf("facts %q", got)
		}
		if v := inc.attr(t, "#incident-header", "data-version"); v != "2" && v != "1" {
			t.Fatalf("data-version %q", v)
		}
		// The allowed next statuses are the buttons.
		var buttons []string
		inc.find(t, ".status-form button[name=status]").Each(func(_ int, s *goquery.Selection) {
			v, _ := s.Attr("value")
			buttons = append(buttons, v)
		})
		if strings.Join(buttons, ",") != "investigating,identified,mitigating,resolved,cancelled" {
			t.Fatalf("status buttons %v", buttons)
		}
		if got := inc.text(t, "#timeline-list .tl-declared .tl-msg"); !strings.Contains(got, "Incident declared as SEV2") {
			t.Fatalf("declared entry %q", got)
		}

		// Status change through the form.
		moved := b.submit(inc, ".status-form", url.Values{"status": {"mitigating"}, "message": {"rolled back"}})
		wantStatus(t, moved, http.StatusSeeOther)
		inc = b.get("/incidents/INC-1")
		if got := inc.text(t, "#incident-header .status"); got != "Mitigating" {
			t.Fatalf("status after the form: %q", got)
		}
		if got := inc.text(t, ".tl-status_changed .tl-msg"); got != "Status changed from detected to mitigating: rolled back" {
			t.Fatalf("status entry %q", got)
		}
		if got := inc.text(t, ".milestones .ms-done .ms-label"); !strings.Contains(got, "Mitigated") {
			t.Fatalf("milestones done: %q", got)
		}

		// Severity and roles.
		wantStatus(t, b.submit(inc, ".sev-form", url.Values{"severity": {"SEV1"}, "reason": {"all regions"}}),
			http.StatusSeeOther)
		inc = b.get("/incidents/INC-1")
		wantStatus(t, b.submit(inc, "#role-tech_lead form", url.Values{"user": {"bob"}}), http.StatusSeeOther)
		inc = b.get("/incidents/INC-1")
		if got := inc.text(t, "#incident-header .sev"); got != "SEV1" {
			t.Fatalf("severity %q", got)
		}
		if got := inc.text(t, "#role-tech_lead .role-holder"); got != "BD bob" && !strings.Contains(got, "bob") {
			t.Fatalf("tech lead %q", got)
		}

		// A refused transition (409) says what is allowed.
		conflict := b.submit(inc, ".status-form", url.Values{"status": {"closed"}})
		wantStatus(t, conflict, http.StatusConflict)
		if got := conflict.text(t, "#problem"); !strings.Contains(got, "allowed: investigating, identified, resolved, cancelled") {
			t.Fatalf("409 message %q", got)
		}

		// A backdated, starred note.
		at := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Minute)
		note := b.submit(inc, "#note-form", url.Values{"message": {"Deploy 4512 went out"},
			"occurred_at": {at.Format("2006-01-02T15:04")}, "tz_offset": {"0"}, "starred": {"1"}})
		wantStatus(t, note, http.StatusSeeOther)
		if !strings.HasPrefix(note.location(), "/incidents/INC-1#ev-") {
			t.Fatalf("note redirect %q", note.location())
		}
		inc = b.get("/incidents/INC-1")
		entry := inc.find(t, "#"+strings.TrimPrefix(note.location(), "/incidents/INC-1#"))
		if !entry.HasClass("starred") || !strings.Contains(entry.Find(".tl-backdated").Text(), "recorded") {
			t.Fatalf("backdated note rendered as %q", entry.Text())
		}
		if v, _ := entry.Find("time.tl-time").Attr("datetime"); v != at.Format(time.RFC3339) {
			t.Fatalf("note occurred at %q, want %s", v, at.Format(time.RFC3339))
		}
		// Chronological: the backdated note sits before the declaration's later events.
		first := inc.find(t, "#timeline-list > li").First()
		if !first.HasClass("tl-note") {
			t.Fatalf("first entry is %q", first.AttrOr("class", ""))
		}
		// An empty note is refused next to the field.
		empty := b.submit(inc, "#note-form", url.Values{"message": {"  "}})
		wantStatus(t, empty, http.StatusUnprocessableEntity)
		if got := empty.text(t, "#note-form .field-error"); got != "Message is required" {
			t.Fatalf("note error %q", got)
		}

		// Status updates.
		upd := b.submit(inc, ".update-form", url.Values{"message": {"We are rolling back."}, "audience": {"external"}})
		wantStatus(t, upd, http.StatusSeeOther)
		inc = b.get("/incidents/INC-1")
		if got := inc.text(t, ".updates .update-msg"); got != "We are rolling back." {
			t.Fatalf("update %q", got)
		}
		if got := inc.text(t, ".updates .tag-aud"); got != "External" {
			t.Fatalf("audience %q", got)
		}

		// Action items: not_doing needs a reason.
		add := b.submit(inc, ".ai-add form", url.Values{"title": {"Alert on 5xx ratio"}, "owner": {"bob"},
			"due_date": {"2031-01-31"}, "priority": {"high"}, "kind": {"detect"}})
		wantStatus(t, add, http.StatusSeeOther)
		inc = b.get("/incidents/INC-1")
		if got := inc.text(t, ".ai .ai-title"); got != "Alert on 5xx ratio" {
			t.Fatalf("action item %q", got)
		}
		noReason := b.submit(inc, ".ai-form", url.Values{"status": {"not_doing"}, "reason": {""}})
		wantStatus(t, noReason, http.StatusUnprocessableEntity)
		if got := noReason.text(t, ".ai-form .field-error"); !strings.Contains(got, "required") {
			t.Fatalf("reason error %q", got)
		}
		if _, open := noReason.find(t, ".ai-edit").Attr("open"); !open {
			t.Fatal("the failed edit form is closed")
		}
		withReason := b.submit(noReason, ".ai-form", url.Values{"status": {"not_doing"}, "reason": {"covered by SLO alerts"}})
		wantStatus(t, withReason, http.StatusSeeOther)
		inc = b.get("/incidents/INC-1")
		if got := inc.text(t, ".ai .ai-reason"); got != "Not doing: covered by SLO alerts" {
			t.Fatalf("reason shown as %q", got)
		}

		// Star toggle, the fetch way (the script swaps the returned entry in place).
		id := inc.attr(t, ".tl-declared", "data-id")
		req, _ := http.NewRequest(http.MethodPost, e.url+"/incidents/INC-1/timeline/"+id+"/star",
			strings.NewReader("starred=true"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Requested-With", "fetch")
		req.Header.Set("X-CSRF-Token", inc.attr(t, "input[name=csrf_token]", "value"))
		frag := b.do(req)
		wantStatus(t, frag, http.StatusOK)
		if !frag.find(t, "li.tl-entry").HasClass("starred") {
			t.Fatalf("star fragment: %.300s", frag.body)
		}

		// The list shows it with its columns.
		list := b.get("/incidents")
		row := list.find(t, "tr.inc-row")
		if row.Length() != 1 {
			t.Fatalf("%d rows", row.Length())
		}
		for sel, want := range map[string]string{".ref": "INC-1", ".inc-title": "Checkout returns 502",
			".c-sev": "SEV1", ".c-status": "Mitigating", ".c-services": "api, db", ".c-commander": "alice"} {
			if got := strings.TrimSpace(row.Find(sel).Text()); got != want {
				t.Errorf("list %s = %q, want %q", sel, got, want)
			}
		}
		if strings.TrimSpace(row.Find(".c-duration").Text()) == "" {
			t.Error("no duration")
		}
		// Filters.
		if n := b.get("/incidents?status=&severity=SEV3&service=&q=").find(t, "tr.inc-row").Length(); n != 0 {
			t.Errorf("SEV3 filter: %d rows", n)
		}
		if n := b.get("/incidents?severity=SEV1&service=api&q=checkout&open=1").find(t, "tr.inc-row").Length(); n != 1 {
			t.Errorf("SEV1+api+text filter: %d rows", n)
		}
		if n := b.get("/incidents?service=web&status=&severity=&q=").find(t, "tr.inc-row").Length(); n != 0 {
			t.Errorf("service filter: %d rows", n)
		}
	})
}

func TestConsoleCSRFAndRoles(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	inc, err := st.DeclareIncident(as("bob", firebreak.RoleResponder),
		firebreak.DeclareInput{Title: "Queue backlog", Severity: firebreak.SEV3})
	if err != nil {
		t.Fatal(err)
	}
	ref := "/incidents/" + inc.Reference
	b := e.browser()
	b.login("alice")
	p := b.get(ref)
	token := p.attr(t, "#note-form input[name=csrf_token]", "value")

	// Without the token, or with a wrong one: 403 and nothing written.
	for _, form := range []url.Values{
		{"message": {"no token"}},
		{"message": {"wrong token"}, "csrf_token": {"x" + token}},
	} {
		res := b.post(ref+"/notes", form)
		wantStatus(t, res, http.StatusForbidden)
		if !strings.Contains(res.text(t, "main"), "could not be verified") {
			t.Fatalf("403 page says %q", res.text(t, "main"))
		}
	}
	tl, err := st.ListTimeline(context.Background(), inc.ID, firebreak.TimelineFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range tl.Items {
		if ev.Kind == firebreak.EventNote {
			t.Fatalf("a note was written without a CSRF token: %q", ev.Message)
		}
	}
	// The header works as well as the field (the script uses it).
	req, _ := http.NewRequest(http.MethodPost, e.url+ref+"/notes", strings.NewReader("message=via+header"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", token)
	wantStatus(t, b.do(req), http.StatusSeeOther)

	// A viewer reads but has no controls, and a forged post is refused by role.
	v := e.browser()
	v.login("vera")
	vp := v.get(ref)
	wantStatus(t, vp, http.StatusOK)
	if n := vp.find(t, "form.status-form, #note-form, .role-form, .update-form, .tl-star").Length(); n != 0 {
		t.Fatalf("a viewer sees %d forms", n)
	}
	if vp.find(t, "a[href='/incidents/new']").Length() != 0 {
		t.Fatal("a viewer is offered to declare")
	}
	vt := vp.attr(t, "form[action='/logout'] input[name=csrf_token]", "value")
	res := v.post(ref+"/notes", url.Values{"message": {"viewer note"}, "csrf_token": {vt}})
	wantStatus(t, res, http.StatusForbidden)
	if !strings.Contains(res.text(t, "main"), "viewer") {
		t.Fatalf("403 page says %q", res.text(t, "main"))
	}
	wantStatus(t, v.get("/incidents/new"), http.StatusForbidden)

	// Unknown incidents get a 404 page.
	nf := b.get("/incidents/INC-999")
	wantStatus(t, nf, http.StatusNotFound)
	if nf.text(t, "h1") != "Not found" {
		t.Fatalf("404 page: %q", nf.text(t, "h1"))
	}
}

func TestConsoleStaleIfMatch(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		inc, err := st.DeclareIncident(as("alice", firebreak.RoleResponder),
			firebreak.DeclareInput{Title: "Login errors", Severity: firebreak.SEV2})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.login("alice")
		p := b.get("/incidents/INC-1")
		if got := p.attr(t, ".status-form input[name=if_match]", "value"); got != "1" && got != "2" {
			t.Fatalf("if_match %q", got)
		}

		// Someone else moves the incident on while the page is open.
		if _, err := st.ChangeStatus(as("bob", firebreak.RoleResponder), inc.ID, firebreak.StatusInvestigating,
			"on it", 0); err != nil {
			t.Fatal(err)
		}

		// Each versioned control now gets the 412 explanation, and nothing is overwritten.
		for _, c := range []struct {
			form string
			set  url.Values
		}{
			{".status-form", url.Values{"status": {"mitigating"}}},
			{".sev-form", url.Values{"severity": {"SEV1"}}},
			{"#role-commander form", url.Values{"user": {"alice"}}},
		} {
			res := b.submit(p, c.form, c.set)
			wantStatus(t, res, http.StatusPreconditionFailed)
			if got := res.text(t, "#problem"); !strings.Contains(got, "Someone else changed this incident") ||
				!strings.Contains(got, "Reload") {
				t.Fatalf("%s: 412 message %q", c.form, got)
			}
			// The page shown is the current one, so a deliberate retry works.
			if got := res.text(t, "#incident-header .status"); got != "Investigating" {
				t.Fatalf("%s: the 412 page shows status %q", c.form, got)
			}
		}
		cur, err := st.GetIncident(context.Background(), inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Status != firebreak.StatusInvestigating || cur.Severity != firebreak.SEV2 ||
			cur.Roles[firebreak.RoleCommander] != "" {
			t.Fatalf("a stale form changed the incident: %+v", cur)
		}
		// The If-Match header is honoured too.
		fresh := b.get("/incidents/INC-1")
		req, _ := http.NewRequest(http.MethodPost, e.url+"/incidents/INC-1/status",
			strings.NewReader(url.Values{"status": {"identified"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", fresh.attr(t, "input[name=csrf_token]", "value"))
		req.Header.Set("If-Match", `"1"`)
		wantStatus(t, b.do(req), http.StatusPreconditionFailed)
		req, _ = http.NewRequest(http.MethodPost, e.url+"/incidents/INC-1/status",
			strings.NewReader(url.Values{"status": {"identified"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", fresh.attr(t, "input[name=csrf_token]", "value"))
		req.Header.Set("If-Match", `"`+fresh.attr(t, "#incident-header", "data-version")+`"`)
		wantStatus(t, b.do(req), http.StatusSeeOther)
	})
}

func TestConsoleLiveEvents(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		inc, err := st.DeclareIncident(as("alice", firebreak.RoleResponder),
			firebreak.DeclareInput{Title: "Cache stampede", Severity: firebreak.SEV2})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		// Not signed in: the stream is refused, not redirected.
		wantStatus(t, b.get("/incidents/INC-1/events"), http.StatusUnauthorized)
		b.login("bob")
		p := b.get("/incidents/INC-1")
		last := p.attr(t, "[data-live-url]", "data-last-event")

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/incidents/INC-1/events?after="+last, nil)
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		events := make(chan map[string]string, 16)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			ev := map[string]string{}
			for sc.Scan() {
				line := sc.Text()
				if line == "" {
					if len(ev) > 0 {
						events <- ev
					}
					ev = map[string]string{}
					continue
				}
				if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, ":") {
					ev[k] = v
				}
			}
		}()
		next := func() map[string]string {
			for {
				select {
				case ev, ok := <-events:
					if !ok {
						t.Fatal("stream ended")
					}
					if ev["event"] == "timeline" {
						return ev
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no event within 5 s")
				}
			}
		}
		start := time.Now()
		if _, err := st.AddTimelineEvent(as("alice", firebreak.RoleResponder), inc.ID,
			firebreak.TimelineInput{Message: "Hit ratio dropped to 12%"}); err != nil {
			t.Fatal(err)
		}
		ev := next()
		if time.Since(start) > 1500*time.Millisecond {
			t.Errorf("the note took %v to arrive: the live wake-up did not work", time.Since(start))
		}
		var data struct {
			ID      int64  `json:"id"`
			Kind    string `json:"kind"`
			HTML    string `json:"html"`
			Refresh bool   `json:"refresh"`
		}
		if err := json.Unmarshal([]byte(ev["data"]), &data); err != nil {
			t.Fatal(err)
		}
		if data.Kind != "note" || data.Refresh || !strings.Contains(data.HTML, "Hit ratio dropped to 12%") ||
			!strings.Contains(data.HTML, `id="ev-`) || ev["id"] == "" {
			t.Fatalf("event %+v", data)
		}
		if _, err := st.ChangeStatus(as("alice", firebreak.RoleResponder), inc.ID, firebreak.StatusMitigating, "", 0); err != nil {
			t.Fatal(err)
		}
		ev2 := next()
		if err := json.Unmarshal([]byte(ev2["data"]), &data); err != nil {
			t.Fatal(err)
		}
		if data.Kind != "status_changed" || !data.Refresh {
			t.Fatalf("status event %+v", data)
		}
		cancel()

		// Reconnecting with Last-Event-ID replays only what came after it.
		req2, _ := http.NewRequest(http.MethodGet, e.url+"/incidents/INC-1/events?after=0", nil)
		req2.Header.Set("Last-Event-ID", ev["id"])
		ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel2()
		res2, err := b.c.Do(req2.WithContext(ctx2))
		if err != nil {
			t.Fatal(err)
		}
		defer res2.Body.Close()
		sc := bufio.NewScanner(res2.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ids []string
		for sc.Scan() && len(ids) < 1 {
			if id, ok := strings.CutPrefix(sc.Text(), "id: "); ok {
				ids = append(ids, id)
			}
		}
		if len(ids) != 1 || ids[0] != ev2["id"] {
			t.Fatalf("after Last-Event-ID %s got ids %v, want [%s]", ev["id"], ids, ev2["id"])
		}

		// The sections fragment carries the refreshed header.
		sec := b.get("/incidents/INC-1/sections")
		wantStatus(t, sec, http.StatusOK)
		if got := sec.text(t, "#incident-header .status"); got != "Mitigating" {
			t.Fatalf("sections header status %q", got)
		}
		for _, id := range []string{"#incident-header", "#incident-side", "#updates", "#actions"} {
			if sec.find(t, id+"[data-section]").Length() != 1 {
				t.Fatalf("sections fragment lacks %s", id)
			}
		}
	})
}

func TestConsoleServices(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	if _, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{
		Title: "API latency", Severity: firebreak.SEV2, Services: []string{"api"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{
		Title: "API down", Severity: firebreak.SEV1, Services: []string{"api", "db"}}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("alice")
	list := b.get("/services")
	wantStatus(t, list, http.StatusOK)
	if n := list.find(t, ".svc-table tbody tr").Length(); n != 3 {
		t.Fatalf("%d services listed", n)
	}
	apiRow := list.find(t, ".svc-table tbody tr").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Find(".slug").Text(), "api")
	})
	if got := strings.Join(strings.Fields(apiRow.Text()), " "); !strings.Contains(got, "core") ||
		!strings.Contains(got, "Tier 1") || !strings.Contains(got, "SEV1 2 open") {
		t.Fatalf("api row %q", got)
	}
	if list.find(t, "a[href='/services/new']").Length() != 0 {
		t.Fatal("a responder is offered to add services")
	}
	wantStatus(t, b.get("/services/new"), http.StatusForbidden)

	svc := b.get("/services/api")
	wantStatus(t, svc, http.StatusOK)
	if got := svc.text(t, ".facts"); !strings.Contains(got, "db") || !strings.Contains(got, "web") ||
		!strings.Contains(got, "https://runbooks.example.com/api") {
		t.Fatalf("facts %q", got)
	}
	if n := svc.find(t, "tr.inc-row").Length(); n != 2 {
		t.Fatalf("%d incidents on the service page", n)
	}
	wantStatus(t, b.get("/services/nope"), http.StatusNotFound)

	// An admin adds and edits a service.
	a := e.browser()
	a.login("ada")
	form := a.get("/services/new")
	wantStatus(t, form, http.StatusOK)
	bad := a.submit(form, ".svc-form", url.Values{"slug": {"Bad Slug"}, "name": {"Search"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if bad.text(t, "#slug ~ .field-error") == "" || bad.attr(t, "#name", "value") != "Search" {
		t.Fatalf("bad slug: %q", bad.text(t, ".svc-form"))
	}
	ok := a.submit(bad, ".svc-form", url.Values{"slug": {"search"}, "owner_team": {"discovery"}, "tier": {"2"},
		"depends_on": {"api"}})
	wantStatus(t, ok, http.StatusSeeOther)
	if ok.location() != "/services/search" {
		t.Fatalf("created, redirected to %q", ok.location())
	}
	taken := a.submit(form, ".svc-form", url.Values{"slug": {"search"}})
	wantStatus(t, taken, http.StatusConflict)
	edit := a.get("/services/search/edit")
	wantStatus(t, edit, http.StatusOK)
	if _, checked := edit.find(t, "input[name=depends_on][value=api]").Attr("checked"); !checked {
		t.Fatal("dependency not checked on the edit form")
	}
	// A concurrent edit makes the form stale.
	name := "Search (v2)"
	cur, _ := st.GetService(context.Background(), "search")
	if _, err := st.UpdateService(context.Background(), "search", firebreak.ServicePatch{Name: &name}, cur.Version); err != nil {
		t.Fatal(err)
	}
	stale := a.submit(edit, ".svc-form", url.Values{"owner_team": {"search-team"}})
	wantStatus(t, stale, http.StatusPreconditionFailed)
	if !strings.Contains(stale.text(t, "#form-error"), "Someone else changed this service") {
		t.Fatalf("stale service edit: %q", stale.text(t, "#form-error"))
	}
	saved := a.submit(stale, ".svc-form", nil)
	wantStatus(t, saved, http.StatusSeeOther)
	got, _ := st.GetService(context.Background(), "search")
	if got.OwnerTeam != "search-team" {
		t.Fatalf("owner team %q", got.OwnerTeam)
	}
}

func TestConsoleStaticAssets(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	b := e.browser()
	p := b.get("/login")
	css := p.attr(t, "link[rel=stylesheet]", "href")
	js := p.attr(t, "script[src]", "src")
	for _, u := range []string{css, js} {
		if !strings.Contains(u, "?v=") {
			t.Fatalf("asset URL %q is not versioned", u)
		}
		res := b.get(u)
		wantStatus(t, res, http.StatusOK)
		if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Fatalf("%s Cache-Control %q", u, cc)
		}
		req, _ := http.NewRequest(http.MethodGet, e.url+u, nil)
		req.Header.Set("If-None-Match", res.header.Get("ETag"))
		wantStatus(t, b.do(req), http.StatusNotModified)
	}
	if ct := b.get(js).header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Fatalf("app.js served as %q", ct)
	}
	wantStatus(t, b.get("/static/nope.js"), http.StatusNotFound)
}

func TestConsoleIncidentPages(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	ctx := as("alice", firebreak.RoleResponder)
	for i := range 53 {
		inc, err := st.DeclareIncident(ctx, firebreak.DeclareInput{Title: fmt.Sprintf("Incident %02d", i+1),
			Severity: firebreak.SEV3})
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := st.ChangeStatus(ctx, inc.ID, firebreak.StatusResolved, "", 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := e.browser()
	b.login("vera")
	// A bare visit lists open incidents only.
	open := b.get("/")
	wantStatus(t, open, http.StatusOK)
	if n := open.find(t, "tr.inc-row").Length(); n != 26 {
		t.Fatalf("%d open incidents listed, want 26", n)
	}
	if open.text(t, "h1") != "Open incidents" {
		t.Fatalf("heading %q", open.text(t, "h1"))
	}
	// All of them, in pages.
	first := b.get("/incidents?open=&status=&severity=&service=&q=")
	if n := first.find(t, "tr.inc-row").Length(); n != 50 {
		t.Fatalf("first page has %d rows", n)
	}
	next := first.attr(t, "a[rel=next]", "href")
	if !strings.Contains(next, "cursor=") {
		t.Fatalf("next link %q", next)
	}
	second := b.get(next)
	wantStatus(t, second, http.StatusOK)
	if n := second.find(t, "tr.inc-row").Length(); n != 3 {
		t.Fatalf("second page has %d rows", n)
	}
	if second.find(t, "a[rel=next]").Length() != 0 || second.find(t, ".pager a").Length() != 1 {
		t.Fatal("the last page offers another page, or no way back")
	}
	seen := map[string]bool{}
	for _, p := range []*page{first, second} {
		p.find(t, "tr.inc-row .ref").Each(func(_ int, s *goquery.Selection) { seen[s.Text()] = true })
	}
	if len(seen) != 53 {
		t.Fatalf("%d distinct incidents over both pages", len(seen))
	}
	// A broken cursor goes back to the first page instead of failing.
	bad := b.get("/incidents?open=&cursor=garbage")
	wantStatus(t, bad, http.StatusSeeOther)
	if bad.location() != "/incidents?q=&service=&severity=&status=" {
		t.Fatalf("bad cursor redirects to %q", bad.location())
	}
}

// Failed logins are throttled per address and account: someone guessing alice's password is stopped, while bob,
// behind the same address (a proxy, an office NAT), still signs in.
func TestConsoleLoginThrottle(t *testing.T) {
	e := newConsoleEnv(t, sqltest.Open(t, "sqlite"))
	b := e.browser()
	p := b.get("/login")
	for range 10 {
		res := b.submit(p, "form[action='/login']", url.Values{"username": {"alice"}, "password": {"guess"}})
		wantStatus(t, res, http.StatusUnauthorized)
		p = res
	}
	// The right password is refused too while the account is throttled from this address.
	res := b.submit(p, "form[action='/login']", url.Values{"username": {"alice"}, "password": {consolePassword}})
	wantStatus(t, res, http.StatusTooManyRequests)
	other := e.browser()
	lp := other.get("/login")
	res = other.submit(lp, "form[action='/login']", url.Values{"username": {"bob"}, "password": {consolePassword}})
	wantStatus(t, res, http.StatusSeeOther)
}
