package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

func TestConsoleProbes(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	var wakes atomic.Int64
	e := newConsoleEnvWith(t, st, func(c *web.Config) {
		c.Probes = st
		c.ProbeWake = func() { wakes.Add(1) }
	})
	ctx := context.Background()

	// A viewer sees the (empty) list and the nav link, but no form.
	vera := e.browser()
	vera.login("vera")
	list := vera.get("/probes")
	wantStatus(t, list, http.StatusOK)
	if list.find(t, "nav.nav a[href='/probes'][aria-current=page]").Length() != 1 {
		t.Fatal("no current Probes link in the navigation")
	}
	if list.find(t, ".empty-state").Length() != 1 || list.find(t, "form.probe-form").Length() != 0 {
		t.Fatalf("viewer's empty probe list: %q", list.text(t, "main"))
	}

	// A responder adds one; mistakes are shown next to their fields with the input kept.
	alice := e.browser()
	alice.login("alice")
	list = alice.get("/probes")
	bad := alice.submit(list, "form.probe-form", url.Values{"service": {"api"}, "name": {"health"}, "url": {""},
		"interval": {"often"}, "conditions": {"[STATUS] == 200\n[STATUS] =="}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if bad.text(t, "#probe-url ~ .field-error") == "" || bad.text(t, "#probe-interval ~ .field-error") == "" ||
		bad.attr(t, "#probe-name", "value") != "health" || !strings.Contains(bad.text(t, "#probe-conditions"), "[STATUS] ==") {
		t.Fatalf("invalid probe form: %q", bad.text(t, "form.probe-form"))
	}
	if _, open := bad.find(t, "details#add-probe").Attr("open"); !open {
		t.Fatal("the failed add form is collapsed")
	}
	bad = alice.submit(bad, "form.probe-form", url.Values{"url": {"http://127.0.0.1:9/healthz"}, "interval": {"30s"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if !strings.Contains(bad.text(t, "#probe-conditions ~ .field-error"), "Conditions") {
		t.Fatalf("bad condition not shown at its field: %q", bad.text(t, "form.probe-form"))
	}
	if wakes.Load() != 0 {
		t.Fatal("a refused form woke the runner")
	}
	ok := alice.submit(bad, "form.probe-form", url.Values{"conditions": {"[STATUS] == 200\n[RESPONSE_TIME] < 500"},
		"headers": {"X-Probe: firebreak"}})
	wantStatus(t, ok, http.StatusSeeOther)
	id := strings.TrimPrefix(ok.location(), "/probes/")
	p, err := st.GetProbe(ctx, id)
	if err != nil {
		t.Fatalf("created probe %q: %v", ok.location(), err)
	}
	if p.Probe.Service != "api" || time.Duration(p.Probe.Interval) != 30*time.Second || len(p.Probe.Conditions) != 2 ||
		p.Probe.Headers["X-Probe"] != "firebreak" || !p.Probe.Enabled {
		t.Fatalf("probe from the form: %+v", p.Probe)
	}
	if wakes.Load() != 1 {
		t.Fatalf("%d wake-ups after adding a probe", wakes.Load())
	}

	// Results: one success then three failures put it down.
	now := time.Now().UTC()
	runs := []firebreak.ProbeRun{{ProbeID: id, Result: firebreak.ProbeResult{At: now.Add(-4 * time.Second), Success: true,
		LatencyMS: 20, StatusCode: 200}}}
	for i := 3; i > 0; i-- {
		runs = append(runs, firebreak.ProbeRun{ProbeID: id, Result: firebreak.ProbeResult{
			At: now.Add(-time.Duration(i) * time.Second), LatencyMS: 80, StatusCode: 503,
			FailedConditions: []string{"[STATUS] (503) == 200"}}})
	}
	runs = append(runs, firebreak.ProbeRun{ProbeID: id, Result: firebreak.ProbeResult{At: now, LatencyMS: 1000,
		Error: "timeout after 1s"}})
	if err := st.RecordProbeResults(ctx, runs); err != nil {
		t.Fatal(err)
	}
	list = vera.get("/probes")
	wantStatus(t, list, http.StatusOK)
	row := list.find(t, "tr.probe-row")
	if row.Length() != 1 {
		t.Fatalf("%d probe rows", row.Length())
	}
	got := strings.Join(strings.Fields(row.Text()), " ")
	for _, want := range []string{"health", "api", "Down", "http://127.0.0.1:9/healthz", "20.00%", "fail"} {
		if !strings.Contains(got, want) {
			t.Fatalf("probe row %q lacks %q", got, want)
		}
	}
	if row.Find(".c-state .st-detected").Length() != 1 || row.Find(".c-p90").Text() == "—" {
		t.Fatalf("probe row state or p90: %q", got)
	}
	// Filtered by service.
	if n := vera.get("/probes?service=db").find(t, "tr.probe-row").Length(); n != 0 {
		t.Fatalf("%d probe rows for db", n)
	}

	// The probe page: configuration, statistics, results with the failed conditions; no forms for a viewer.
	page := vera.get("/probes/" + id)
	wantStatus(t, page, http.StatusOK)
	if s := page.text(t, "#probe-state"); s != "Down" {
		t.Fatalf("state %q", s)
	}
	if cfg := page.text(t, ".probe-config"); !strings.Contains(cfg, "[RESPONSE_TIME] < 500") ||
		!strings.Contains(cfg, "30s") || !strings.Contains(cfg, "critical after 3 failures") {
		t.Fatalf("configuration %q", cfg)
	}
	if n := page.find(t, "tr.probe-window").Length(); n != 2 {
		t.Fatalf("%d statistics rows", n)
	}
	if w := page.text(t, "tr.probe-window:first-child"); !strings.Contains(w, "Last 24 hours") || !strings.Contains(w, "20.00%") {
		t.Fatalf("24h statistics %q", w)
	}
	results := page.find(t, "tr.probe-result")
	if results.Length() != 5 || page.find(t, "tr.result-fail").Length() != 4 {
		t.Fatalf("%d results, %d failed", results.Length(), page.find(t, "tr.result-fail").Length())
	}
	if first := strings.Join(strings.Fields(results.First().Text()), " "); !strings.Contains(first, "timeout after 1s") ||
		!strings.Contains(first, "1.00 s") {
		t.Fatalf("newest result %q", first)
	}
	if second := results.Eq(1).Text(); !strings.Contains(second, "[STATUS] (503) == 200") || !strings.Contains(second, "503") {
		t.Fatalf("failed result %q", second)
	}
	if page.find(t, "form.probe-form").Length() != 0 || page.find(t, "form.probe-delete").Length() != 0 {
		t.Fatal("a viewer is offered to edit or delete")
	}
	wantStatus(t, vera.post("/probes/"+id+"/delete", url.Values{}), http.StatusForbidden)
	wantStatus(t, vera.get("/probes/00000000-0000-0000-0000-000000000000"), http.StatusNotFound)

	// A responder edits it: a mistake keeps the input, a good change is saved and wakes the runner.
	page = alice.get("/probes/" + id)
	if v := page.attr(t, "#probe-interval", "value"); v != "30s" {
		t.Fatalf("edit form interval %q", v)
	}
	bad = alice.submit(page, "form.probe-form", url.Values{"interval": {"2m"}, "timeout": {"5m"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	if bad.text(t, "#probe-timeout ~ .field-error") == "" || bad.attr(t, "#probe-interval", "value") != "2m" {
		t.Fatalf("invalid edit: %q", bad.text(t, "form.probe-form"))
	}
	saved := alice.submit(bad, "form.probe-form", url.Values{"timeout": {"5s"}, "severity": {"warning"}})
	wantStatus(t, saved, http.StatusSeeOther)
	if saved.location() != "/probes/"+id {
		t.Fatalf("edit redirected to %q", saved.location())
	}
	p, _ = st.GetProbe(ctx, id)
	if time.Duration(p.Probe.Interval) != 2*time.Minute || time.Duration(p.Probe.Timeout) != 5*time.Second ||
		p.Probe.Severity != firebreak.AlertWarning || len(p.Probe.Conditions) != 2 || p.Probe.State != firebreak.ProbeDown {
		t.Fatalf("edited probe: %+v", p.Probe)
	}
	if wakes.Load() != 2 {
		t.Fatalf("%d wake-ups after an edit", wakes.Load())
	}

	// A form without the CSRF token is refused.
	wantStatus(t, alice.post("/probes/"+id+"/delete", url.Values{}), http.StatusForbidden)
	// Deleting goes back to the list.
	page = alice.get("/probes/" + id)
	del := alice.submit(page, "form.probe-delete", nil)
	wantStatus(t, del, http.StatusSeeOther)
	if del.location() != "/probes" {
		t.Fatalf("delete redirected to %q", del.location())
	}
	if _, err := st.GetProbe(ctx, id); firebreak.ErrorCode(err) != firebreak.ENotFound {
		t.Fatalf("deleted probe: %v", err)
	}
	wantStatus(t, alice.get("/probes/"+id), http.StatusNotFound)
}

// TestConsoleProbesNameTaken shows a name already used in the service next to the name field.
func TestConsoleProbesNameTaken(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnvWith(t, st, func(c *web.Config) { c.Probes = st })
	if _, err := st.CreateProbe(context.Background(), firebreak.ProbeInput{Service: "api", Name: "health",
		URL: "http://127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("bob")
	res := b.submit(b.get("/probes"), "form.probe-form", url.Values{"service": {"api"}, "name": {"health"},
		"url": {"http://127.0.0.1:9/other"}})
	wantStatus(t, res, http.StatusConflict)
	if !strings.Contains(res.text(t, "#probe-name ~ .field-error"), "already used") {
		t.Fatalf("name taken: %q", res.text(t, "form.probe-form"))
	}
}

// TestBrowserProbePagesOnAPhone checks the probe pages' content, with the forms open, fits a phone's screen.
func TestBrowserProbePagesOnAPhone(t *testing.T) {
	path := chromiumPath(t)
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnvWith(t, st, func(c *web.Config) { c.Probes = st })
	ctx := context.Background()
	p, err := st.CreateProbe(ctx, firebreak.ProbeInput{Service: "api", Name: "health-check-of-the-public-api",
		URL:        "https://api.example.com/v1/health/deep?include=database,cache,queue&verbose=true",
		Conditions: []string{"[STATUS] == 200", "[BODY].checks.database.status == ok", "[RESPONSE_TIME] < 500"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var runs []firebreak.ProbeRun
	for i := range 6 {
		r := firebreak.ProbeResult{At: now.Add(-time.Duration(6-i) * time.Second), Success: i%3 != 0, LatencyMS: 35,
			StatusCode: 200}
		if !r.Success {
			r.StatusCode = 503
			r.FailedConditions = []string{"[STATUS] (503) == 200", "[BODY].checks.database.status (degraded-replica-lag) == ok"}
		}
		runs = append(runs, firebreak.ProbeRun{ProbeID: p.ID, Result: r})
	}
	if err := st.RecordProbeResults(ctx, runs); err != nil {
		t.Fatal(err)
	}
	phone := newChromium(t, path, 1)[0]
	uiLogin(t, phone, e.url, "alice")
	ui(t, phone, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, page := range []string{"/probes", "/probes/" + p.ID} {
		ui(t, phone, "open "+page, chromedp.Navigate(e.url+page), chromedp.WaitReady(chromedp.CSS("main")),
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`))
		// The page's own content (the shared top bar is the layout's concern) stays within the screen.
		wide := evalJS[string](t, phone, `Array.from(document.querySelectorAll("main *")).filter(e => e.getBoundingClientRect().right > 391).slice(0, 5).map(e => e.tagName + "." + e.className).join(", ")`)
		if w := evalJS[[]int](t, phone, `[document.querySelector("main").scrollWidth, document.querySelector("main").clientWidth]`); wide != "" || w[0] > w[1] {
			t.Errorf("%s overflows a 390 px screen (main %v): %s", page, w, wide)
		}
	}
}
