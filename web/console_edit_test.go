package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

// timelineKinds returns the kinds of the incident's timeline events, in order.
func timelineKinds(t *testing.T, st *sqlstore.Store, incidentID string) ([]firebreak.EventKind, []firebreak.TimelineEvent) {
	t.Helper()
	p, err := st.ListTimeline(context.Background(), incidentID, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []firebreak.EventKind
	for _, ev := range p.Items {
		kinds = append(kinds, ev.Kind)
	}
	return kinds, p.Items
}

func eventsOf(evs []firebreak.TimelineEvent, kind firebreak.EventKind) []firebreak.TimelineEvent {
	var out []firebreak.TimelineEvent
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func TestConsoleEditDetails(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		inc, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{
			Title: "Checkout errors", Summary: "Some card payments fail.", Severity: firebreak.SEV2,
			Services: []string{"db", "api"}}) // not in catalog order: saving the form unchanged must not reorder
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.login("alice")
		p := b.get("/incidents/INC-1")

		// Collapsed by default, filled with the incident as it is.
		if _, open := p.find(t, "details.inc-edit").Attr("open"); open || p.find(t, "details.inc-edit").Length() != 1 {
			t.Fatal("the details form is missing or open by default")
		}
		if got := p.attr(t, "#edit-title", "value"); got != "Checkout errors" {
			t.Fatalf("title field %q", got)
		}
		if got := p.text(t, "#edit-summary"); got != "Some card payments fail." {
			t.Fatalf("summary field %q", got)
		}
		for slug, want := range map[string]bool{"api": true, "db": true, "web": false} {
			if _, checked := p.find(t, ".inc-edit-form input[name=services][value="+slug+"]").Attr("checked"); checked != want {
				t.Fatalf("service %s checked=%v", slug, checked)
			}
		}
		if p.attr(t, ".inc-edit-form input[name=if_match]", "value") != "1" {
			t.Fatal("the details form does not carry the version")
		}

		// Saved unchanged: nothing is recorded.
		before, _ := timelineKinds(t, st, inc.ID)
		wantStatus(t, b.submit(p, ".inc-edit-form", nil), http.StatusSeeOther)
		if after, _ := timelineKinds(t, st, inc.ID); len(after) != len(before) {
			t.Fatalf("an unchanged form recorded %v", after[len(before):])
		}

		// A title left empty is refused next to the field, with everything typed kept and the form open.
		bad := b.submit(p, ".inc-edit-form", url.Values{"title": {"  "}, "summary": {"Typed summary"},
			"services": {"web"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if got := bad.text(t, "#edit-title-error"); got != "Title is required" {
			t.Fatalf("title error %q", got)
		}
		if _, open := bad.find(t, "details.inc-edit").Attr("open"); !open {
			t.Fatal("the failed details form is closed")
		}
		if bad.attr(t, "#edit-title", "aria-invalid") != "true" || bad.text(t, "#edit-summary") != "Typed summary" {
			t.Fatal("the failed form lost the input or the invalid mark")
		}
		if _, checked := bad.find(t, ".inc-edit-form input[value=web]").Attr("checked"); !checked {
			t.Fatal("the chosen service is not kept")
		}
		if _, checked := bad.find(t, ".inc-edit-form input[value=api]").Attr("checked"); checked {
			t.Fatal("an unchosen service is checked")
		}
		// A service the catalog lacks (a forged form) is refused by the store, next to the services.
		forged := b.submit(p, ".inc-edit-form", url.Values{"services": {"api", "nope"}})
		wantStatus(t, forged, http.StatusUnprocessableEntity)
		if got := forged.text(t, ".inc-edit-form fieldset .field-error"); !strings.Contains(got, `unknown service "nope"`) {
			t.Fatalf("services error %q", got)
		}

		// Saved: the header shows it and the timeline records each change with the reason.
		ok := b.submit(p, ".inc-edit-form", url.Values{"title": {"Card payments fail in the EU"},
			"summary": {"Line one\r\nLine two"}, "services": {"api", "web"}, "reason": {"scope grew"}})
		wantStatus(t, ok, http.StatusSeeOther)
		if ok.location() != "/incidents/INC-1" {
			t.Fatalf("saved, redirected to %q", ok.location())
		}
		p = b.get("/incidents/INC-1")
		if got := p.text(t, "#incident-header h1"); got != "Card payments fail in the EU" {
			t.Fatalf("title %q", got)
		}
		if got := p.text(t, "#incident-header .inc-facts"); !strings.Contains(got, "api, web") {
			t.Fatalf("facts %q", got)
		}
		cur, _ := st.GetIncident(context.Background(), inc.ID)
		if cur.Summary != "Line one\nLine two" || !slices.Equal(cur.Services, []string{"api", "web"}) {
			t.Fatalf("stored %q %v", cur.Summary, cur.Services)
		}
		_, evs := timelineKinds(t, st, inc.ID)
		if tc := eventsOf(evs, firebreak.EventTitleChanged); len(tc) != 1 ||
			tc[0].Message != `Title changed to "Card payments fail in the EU": scope grew` || tc[0].Actor != "alice" {
			t.Fatalf("title events %+v", tc)
		}
		if len(eventsOf(evs, firebreak.EventSummaryChanged)) != 1 || len(eventsOf(evs, firebreak.EventServicesChanged)) != 1 {
			t.Fatalf("summary/services events missing: %v", evs)
		}
		if got := p.text(t, "#timeline-list .tl-services_changed .tl-msg"); got != "Affected services: api, web: scope grew" {
			t.Fatalf("services entry %q", got)
		}
		// The stored summary (LF) and the browser's (CRLF) are the same text: saving again records nothing.
		before, _ = timelineKinds(t, st, inc.ID)
		wantStatus(t, b.submit(p, ".inc-edit-form", url.Values{"summary": {"Line one\r\nLine two"}}), http.StatusSeeOther)
		if after, _ := timelineKinds(t, st, inc.ID); len(after) != len(before) {
			t.Fatalf("an unchanged summary recorded %v", after[len(before):])
		}

		// Someone else renames it meanwhile: the stale form is refused and keeps what was typed.
		p = b.get("/incidents/INC-1")
		title := "Renamed by bob"
		if _, err := st.UpdateIncident(as("bob", firebreak.RoleResponder), inc.ID,
			firebreak.IncidentPatch{Title: &title}, 0); err != nil {
			t.Fatal(err)
		}
		stale := b.submit(p, ".inc-edit-form", url.Values{"title": {"Alice's title"}})
		wantStatus(t, stale, http.StatusPreconditionFailed)
		if got := stale.text(t, "#problem"); !strings.Contains(got, "Someone else changed this incident") {
			t.Fatalf("412 message %q", got)
		}
		if stale.text(t, "#incident-header h1") != "Renamed by bob" || stale.attr(t, "#edit-title", "value") != "Alice's title" {
			t.Fatal("the 412 page must show the current header and keep the typed title")
		}
		if _, open := stale.find(t, "details.inc-edit").Attr("open"); !open {
			t.Fatal("the stale details form is closed")
		}
		if cur, _ := st.GetIncident(context.Background(), inc.ID); cur.Title != "Renamed by bob" {
			t.Fatalf("a stale form overwrote the title: %q", cur.Title)
		}
		// Saving again is a deliberate overwrite on top of the current version.
		wantStatus(t, b.submit(stale, ".inc-edit-form", nil), http.StatusSeeOther)
		if cur, _ := st.GetIncident(context.Background(), inc.ID); cur.Title != "Alice's title" {
			t.Fatalf("title after the second save: %q", cur.Title)
		}

		// A viewer has no such form.
		v := e.browser()
		v.login("vera")
		if v.get("/incidents/INC-1").find(t, ".inc-edit, .ms-edit").Length() != 0 {
			t.Fatal("a viewer is offered to edit the incident")
		}
	})
}

func TestConsoleCorrectMilestones(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		ctx := as("alice", firebreak.RoleResponder)
		inc, err := st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Queue backlog", Severity: firebreak.SEV3})
		if err != nil {
			t.Fatal(err)
		}
		if inc, err = st.ChangeStatus(ctx, inc.ID, firebreak.StatusResolved, "drained", 0); err != nil {
			t.Fatal(err)
		}
		detected := inc.Milestones.DetectedAt.UTC()
		b := e.browser()
		b.login("alice")
		p := b.get("/incidents/INC-1")

		// Collapsed; each milestone has a field with the stored time (UTC, to the minute, for the script to
		// show in local time); every one but declared and detected can be cleared.
		if _, open := p.find(t, "details.ms-edit").Attr("open"); open {
			t.Fatal("the milestones form is open by default")
		}
		if got := p.attr(t, "#msf-in-detected_at", "value"); got != detected.Format("2006-01-02T15:04") {
			t.Fatalf("detected field %q, want %s", got, detected.Format("2006-01-02T15:04"))
		}
		if got := p.attr(t, "#msf-in-detected_at", "data-utc"); got != detected.Truncate(time.Second).Format(time.RFC3339) {
			t.Fatalf("detected data-utc %q", got)
		}
		if p.attr(t, "#msf-in-impact_started_at", "value") != "" {
			t.Fatal("an unset milestone has a value")
		}
		var clearable []string
		p.find(t, ".ms-form input[name=clear]").Each(func(_ int, s *goquery.Selection) {
			clearable = append(clearable, s.AttrOr("value", ""))
		})
		if strings.Join(clearable, ",") != "acknowledged_at,mitigated_at,resolved_at" {
			t.Fatalf("clearable milestones %v", clearable)
		}

		// Saved unchanged (the seconds the field cannot show are not lost): nothing is recorded.
		before, _ := timelineKinds(t, st, inc.ID)
		res := b.submit(p, ".ms-form", nil)
		wantStatus(t, res, http.StatusSeeOther)
		if after, _ := timelineKinds(t, st, inc.ID); len(after) != len(before) {
			t.Fatalf("an unchanged form recorded %v", after[len(before):])
		}

		// Resolved before it was mitigated: refused next to the field, the typed time kept, nothing changed.
		early := detected.Add(-time.Hour).Format("2006-01-02T15:04")
		bad := b.submit(p, ".ms-form", url.Values{"resolved_at": {early}, "resolved_at_tz": {"0"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if got := bad.text(t, "#msf-err-resolved_at"); got != "Resolved must not be before mitigated" {
			t.Fatalf("resolved error %q", got)
		}
		if bad.attr(t, "#msf-in-resolved_at", "aria-invalid") != "true" || bad.attr(t, "#msf-in-resolved_at", "value") != early {
			t.Fatal("the refused field is not marked, or lost what was typed")
		}
		if bad.find(t, "#msf-in-resolved_at[data-utc]").Length() != 0 {
			t.Fatal("a typed (local) value is marked as UTC for the script to convert")
		}
		if _, open := bad.find(t, "details.ms-edit").Attr("open"); !open {
			t.Fatal("the failed milestones form is closed")
		}
		if !strings.Contains(bad.text(t, "#problem"), "Resolved must not be before") {
			t.Fatalf("problem %q", bad.text(t, "#problem"))
		}
		if cur, _ := st.GetIncident(context.Background(), inc.ID); !cur.Milestones.ResolvedAt.Equal(*inc.Milestones.ResolvedAt) {
			t.Fatal("a refused correction changed resolved_at")
		}
		// Detected cannot be cleared; a time in the future is refused.
		cleared := b.submit(p, ".ms-form", url.Values{"detected_at": {""}})
		wantStatus(t, cleared, http.StatusUnprocessableEntity)
		if got := cleared.text(t, "#msf-err-detected_at"); got != "Detected cannot be cleared" {
			t.Fatalf("detected error %q", got)
		}
		future := b.submit(p, ".ms-form", url.Values{"impact_started_at": {time.Now().UTC().Add(2 * time.Hour).Format("2006-01-02T15:04")}})
		wantStatus(t, future, http.StatusUnprocessableEntity)
		if got := future.text(t, "#msf-err-impact_started_at"); got != "Impact started must not be in the future" {
			t.Fatalf("future error %q", got)
		}

		// Impact started half an hour before detection, typed in the browser's time (UTC+2, offset -120).
		want := detected.Truncate(time.Minute).Add(-30 * time.Minute)
		ok := b.submit(p, ".ms-form", url.Values{"impact_started_at": {want.Add(2 * time.Hour).Format("2006-01-02T15:04")},
			"impact_started_at_tz": {"-120"}, "reason": {"from the deploy log"}})
		wantStatus(t, ok, http.StatusSeeOther)
		if ok.location() != "/incidents/INC-1#milestones" {
			t.Fatalf("saved, redirected to %q", ok.location())
		}
		cur, _ := st.GetIncident(context.Background(), inc.ID)
		if cur.Milestones.ImpactStartedAt == nil || !cur.Milestones.ImpactStartedAt.Equal(want) {
			t.Fatalf("impact started at %v, want %v", cur.Milestones.ImpactStartedAt, want)
		}
		if !cur.Milestones.DetectedAt.Equal(*inc.Milestones.DetectedAt) {
			t.Fatal("an untouched milestone changed")
		}
		_, evs := timelineKinds(t, st, inc.ID)
		ms := eventsOf(evs, firebreak.EventMilestoneChanged)
		if len(ms) != 1 || ms[0].Message != "Milestone impact_started_at set to "+want.Format(time.RFC3339)+": from the deploy log" {
			t.Fatalf("milestone events %+v", ms)
		}
		p = b.get("/incidents/INC-1")
		if got := p.text(t, ".milestones .ms-done .ms-label"); !strings.Contains(got, "Impact started") {
			t.Fatalf("milestones done: %q", got)
		}
		if !strings.Contains(p.text(t, "#timeline-list .tl-milestone_changed"), "from the deploy log") {
			t.Fatal("the correction is not on the timeline")
		}

		// Cleared again with the checkbox.
		wantStatus(t, b.submit(p, ".ms-form", url.Values{"clear": {"impact_started_at"}}), http.StatusSeeOther)
		if cur, _ := st.GetIncident(context.Background(), inc.ID); cur.Milestones.ImpactStartedAt != nil {
			t.Fatal("impact_started_at not cleared")
		}

		// A stale form is refused, and shows the milestones as they are now rather than the old values.
		p = b.get("/incidents/INC-1")
		at := detected.Truncate(time.Minute).Add(-10 * time.Minute)
		if _, err := st.UpdateIncident(as("bob", firebreak.RoleResponder), inc.ID, firebreak.IncidentPatch{
			Milestones: map[string]*time.Time{"impact_started_at": &at}}, 0); err != nil {
			t.Fatal(err)
		}
		stale := b.submit(p, ".ms-form", url.Values{"acknowledged_at": {detected.Format("2006-01-02T15:04")}})
		wantStatus(t, stale, http.StatusPreconditionFailed)
		if !strings.Contains(stale.text(t, "#problem"), "Someone else changed this incident") {
			t.Fatalf("412 message %q", stale.text(t, "#problem"))
		}
		if got := stale.attr(t, "#msf-in-impact_started_at", "value"); got != at.Format("2006-01-02T15:04") {
			t.Fatalf("the stale form shows impact started %q, not the current value", got)
		}
	})
}

func TestConsoleNotFound(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	if _, err := st.DeclareIncident(as("alice", firebreak.RoleResponder),
		firebreak.DeclareInput{Title: "Disk full", Severity: firebreak.SEV3}); err != nil {
		t.Fatal(err)
	}
	anon := e.browser()
	b := e.browser()
	b.login("alice")

	// Unknown console addresses get the console's 404 page, signed in or not (no login detour for nothing).
	for _, path := range []string{"/nope", "/incidents/INC-1/nope", "/services/api/history", "/admin/nope",
		"/incidents/INC-999", "/incidents/bogus"} {
		p := b.get(path)
		wantStatus(t, p, http.StatusNotFound)
		if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("%s: %s, CSP %q", path, p.header.Get("Content-Type"), p.header.Get("Content-Security-Policy"))
		}
		if h := p.text(t, "h1"); h != "Page not found" && h != "Not found" {
			t.Fatalf("%s: heading %q", path, h)
		}
		if p.find(t, ".topbar a[href='/incidents']").Length() != 1 {
			t.Fatalf("%s: the 404 page has no navigation", path)
		}
	}
	if got := b.get("/nope").text(t, ".error-path"); got != "/nope" {
		t.Fatalf("the 404 page shows the path as %q", got)
	}
	p := anon.get("/no/such/page")
	wantStatus(t, p, http.StatusNotFound)
	if p.find(t, ".error-actions a[href='/login']").Length() != 1 || p.find(t, ".topbar").Length() != 0 {
		t.Fatal("the anonymous 404 page should offer to sign in, without navigation")
	}

	// "/" is still the list (and still needs a login).
	home := b.get("/")
	wantStatus(t, home, http.StatusOK)
	if home.text(t, "h1") != "Open incidents" || home.find(t, "tr.inc-row").Length() != 1 {
		t.Fatalf("home: %q", home.text(t, "h1"))
	}
	wantStatus(t, anon.get("/"), http.StatusSeeOther)

	// A path that exists with another method answers 405 with Allow.
	wrong := b.post("/incidents", nil)
	wantStatus(t, wrong, http.StatusMethodNotAllowed)
	if wrong.header.Get("Allow") != "GET, HEAD" {
		t.Fatalf("Allow %q", wrong.header.Get("Allow"))
	}
	wantStatus(t, b.get("/incidents/INC-1/status"), http.StatusMethodNotAllowed)

	// The API, the assets and the operational endpoints keep their own answers.
	api := anon.get("/api/v1/nope")
	wantStatus(t, api, http.StatusNotFound)
	if ct := api.header.Get("Content-Type"); ct != "application/problem+json" || !strings.Contains(api.body, `"status":404`) {
		t.Fatalf("/api/v1/nope: %s %s", ct, api.body)
	}
	if ct := b.get("/api/v1/incidents/INC-999").header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("unknown incident over the API: %s", ct)
	}
	if st := anon.get("/static/nope.css"); st.status != http.StatusNotFound || st.doc != nil {
		t.Fatalf("/static/nope.css: %d, HTML %v", st.status, st.doc != nil)
	}
	for path, ct := range map[string]string{"/healthz": "application/json", "/readyz": "application/json",
		"/metrics": "text/plain", "/api/v1/openapi.json": "application/json"} {
		r := anon.get(path)
		wantStatus(t, r, http.StatusOK)
		if !strings.HasPrefix(r.header.Get("Content-Type"), ct) {
			t.Fatalf("%s: Content-Type %q", path, r.header.Get("Content-Type"))
		}
	}
}

// TestConsoleLivePollFallback: an event written by another process that shares the SQLite file sends no wake-up
// to this one, so only the stream's poll finds it. (The wake-up itself is proved by TestConsoleLiveEvents, which
// runs with the default 10 s poll and wants events within 1.5 s.)
func TestConsoleLivePollFallback(t *testing.T) {
	o := sqltest.Options(t, "sqlite")
	open := func() *sqlstore.Store {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s, err := sqlstore.Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	st, other := open(), open()
	e := newConsoleEnvWith(t, st, func(c *web.Config) { c.LivePollInterval = 200 * time.Millisecond })
	inc, err := st.DeclareIncident(as("alice", firebreak.RoleResponder),
		firebreak.DeclareInput{Title: "Replica lag", Severity: firebreak.SEV3})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("bob")
	last := b.get("/incidents/INC-1").attr(t, "[data-live-url]", "data-last-event")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.url+"/incidents/INC-1/events?after="+last, nil)
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(data, "written elsewhere") {
				got <- data
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // let the stream subscribe and send what there was
	if _, err := other.AddTimelineEvent(as("alice", firebreak.RoleResponder), inc.ID,
		firebreak.TimelineInput{Message: "written elsewhere"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the poll did not deliver an event written by another store on the same database")
	}
}
