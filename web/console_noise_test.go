package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

func formTimeUTC(t time.Time) string { return t.UTC().Format("2006-01-02T15:04") }

func TestConsoleMaintenance(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newAlertConsoleEnv(t, st, "")
		alice := e.browser()
		alice.login("alice")

		p := alice.get("/maintenance")
		wantStatus(t, p, http.StatusOK)
		if got := p.text(t, ".empty-state h2"); got != "No maintenance windows now or ahead" {
			t.Fatalf("empty state %q", got)
		}
		if alice.get("/alerts").find(t, "a[href='/maintenance']").Length() != 1 {
			t.Fatal("the Alerts page does not link the maintenance windows")
		}

		// Refusals are shown next to their fields, with the input kept.
		now := time.Now().UTC()
		bad := alice.submit(p, "form.mw-form", url.Values{"title": {"DB upgrade"},
			"starts_at": {formTimeUTC(now.Add(2 * time.Hour))}, "ends_at": {formTimeUTC(now.Add(time.Hour))}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if got := bad.text(t, "fieldset .field-error"); !strings.Contains(got, "at least one service") {
			t.Fatalf("services error %q", got)
		}
		if got := bad.text(t, "#mw-ends ~ .field-error"); !strings.Contains(got, "must be after") {
			t.Fatalf("ends error %q", got)
		}
		if bad.attr(t, "#mw-title", "value") != "DB upgrade" {
			t.Fatal("title not kept")
		}

		// Scheduled, and one running now; both are listed, the active one first.
		ok := alice.submit(p, "form.mw-form", url.Values{"title": {"DB upgrade"}, "services": {"db"},
			"starts_at": {formTimeUTC(now.Add(2 * time.Hour))}, "ends_at": {formTimeUTC(now.Add(3 * time.Hour))},
			"description": {"Read-only for 5 minutes"}})
		wantStatus(t, ok, http.StatusSeeOther)
		if ok.location() != "/maintenance?done=created" {
			t.Fatalf("created, redirected to %q", ok.location())
		}
		wantStatus(t, alice.submit(p, "form.mw-form", url.Values{"title": {"API deploy"}, "services": {"api"},
			"starts_at": {formTimeUTC(now.Add(-10 * time.Minute))}, "ends_at": {formTimeUTC(now.Add(time.Hour))}}),
			http.StatusSeeOther)
		list := alice.get(ok.location())
		wantStatus(t, list, http.StatusOK)
		if list.text(t, "#notice") == "" {
			t.Fatal("no notice after scheduling")
		}
		rows := list.find(t, ".mw-row")
		if rows.Length() != 2 || !strings.Contains(rows.Eq(0).Text(), "API deploy") ||
			!strings.Contains(rows.Eq(0).Text(), "active") || !strings.Contains(rows.Eq(1).Text(), "scheduled") ||
			!strings.Contains(rows.Eq(1).Text(), "Read-only for 5 minutes") {
			t.Fatalf("windows: %q", list.text(t, ".mw-table tbody"))
		}

		// An alert of api during the active window is recorded and suppressed: no incident.
		gen := createIntegrationAs(t, e, "api", "generic")
		if code, body := postJSON(t, gen, []byte(`{"dedup_key":"k","status":"firing","summary":"API down","severity":"critical"}`)); code != http.StatusOK {
			t.Fatalf("delivery %d %s", code, body)
		}
		al := alice.get("/alerts?service=api")
		if got := al.text(t, ".alert-row"); !strings.Contains(got, "suppressed: maintenance") || strings.Contains(got, "INC-") {
			t.Fatalf("alert during maintenance: %q", got)
		}

		// Cancel the scheduled one; a stale version is refused with the current state shown.
		cancelSel := fmt.Sprintf("#%s form.mw-cancel", rows.Eq(1).AttrOr("id", ""))
		stale := list.find(t, cancelSel)
		if stale.Length() != 1 {
			t.Fatalf("no cancel form %s", cancelSel)
		}
		res := alice.submit(list, cancelSel, url.Values{"if_match": {"99"}})
		wantStatus(t, res, http.StatusPreconditionFailed)
		if res.text(t, "#mw-problem") == "" {
			t.Fatal("no explanation of the stale cancel")
		}
		res = alice.submit(list, cancelSel, nil)
		wantStatus(t, res, http.StatusSeeOther)
		after := alice.get("/maintenance")
		if n := after.find(t, ".mw-row").Length(); n != 1 {
			t.Fatalf("%d windows active or ahead after cancelling, want 1", n)
		}
		cancelled := alice.get("/maintenance?state=cancelled")
		if got := cancelled.text(t, ".mw-row"); !strings.Contains(got, "DB upgrade") || cancelled.find(t, "form.mw-cancel").Length() != 0 {
			t.Fatalf("cancelled list %q", got)
		}

		// Viewers see the windows but neither form.
		vera := e.browser()
		vera.login("vera")
		vp := vera.get("/maintenance")
		wantStatus(t, vp, http.StatusOK)
		if vp.find(t, "form.mw-form, form.mw-cancel").Length() != 0 {
			t.Fatal("a viewer gets a form")
		}
		csrf := vp.attr(t, "form[action='/logout'] input[name=csrf_token]", "value")
		wantStatus(t, vera.post("/maintenance", url.Values{"csrf_token": {csrf}, "title": {"x"}}), http.StatusForbidden)
	})
}

// createIntegrationAs creates an integration of kind through the console as ada and returns its URL.
func createIntegrationAs(t *testing.T, e *consoleEnv, service, kind string) string {
	t.Helper()
	ada := e.browser()
	ada.login("ada")
	return createIntegration(t, ada, service, url.Values{"kind": {kind}}).text(t, "#integration-url")
}

func TestConsoleNoiseReport(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newAlertConsoleEnv(t, st, "")
		b := e.browser()
		b.login("vera")

		empty := b.get("/reports/noise")
		wantStatus(t, empty, http.StatusOK)
		if got := empty.text(t, "#nz-alerts"); got != "0" {
			t.Fatalf("alerts with no deliveries: %q", got)
		}
		if got := empty.text(t, "#noise-sources .empty"); got == "" {
			t.Fatal("no empty state for the sources")
		}

		// (The alerts must be seen in the period: a fixture's startsAt would be months ago.)
		api := createIntegrationAs(t, e, "api", "generic")
		if code, body := postJSON(t, api, []byte(`{"alerts":[
			{"status":"firing","summary":"5xx on api-1","severity":"critical","labels":{"alertname":"HighErrorRate","instance":"api-1"}},
			{"status":"firing","summary":"5xx on api-2","severity":"critical","labels":{"alertname":"HighErrorRate","instance":"api-2"}}]}`)); code != http.StatusOK {
			t.Fatalf("delivery %d %s", code, body)
		}
		gen := createIntegrationAs(t, e, "db", "generic")
		for range 3 { // the same warning three times: one alert, recorded only
			if code, body := postJSON(t, gen, []byte(`{"dedup_key":"disk","status":"firing","summary":"Disk 91% full","severity":"warning"}`)); code != http.StatusOK {
				t.Fatalf("delivery %d %s", code, body)
			}
		}

		p := b.get("/reports/noise")
		wantStatus(t, p, http.StatusOK)
		if got := p.text(t, "#nz-alerts"); got != "3" {
			t.Fatalf("alerts %q, want 3", got)
		}
		if got := p.text(t, "#nz-incidents"); got != "1" {
			t.Fatalf("incidents opened %q, want 1", got)
		}
		if got := p.text(t, "#nz-without"); got != "1 (33%)" {
			t.Fatalf("without incident %q", got)
		}
		if got := p.text(t, "#noise-rules"); !strings.Contains(got, "HighErrorRate") {
			t.Fatalf("rules %q", got)
		}
		if got := p.text(t, "#noise-incidents"); !strings.Contains(got, "INC-1") {
			t.Fatalf("incidents %q", got)
		}
		if got := p.text(t, "#noise-never"); strings.Count(got, "Disk 91% full") != 1 || strings.Contains(got, "5xx") {
			t.Fatalf("never an incident %q", got)
		}
		if got := p.text(t, "#noise-sources tbody"); p.find(t, "#noise-sources tbody tr").Length() != 2 ||
			!strings.Contains(got, "generic api 2 2 1") || !strings.Contains(got, "generic db 1 1 0") {
			t.Fatalf("sources %q", got)
		}

		// One service, another period; an unknown service is explained.
		db := b.get("/reports/noise?service=db&days=30")
		wantStatus(t, db, http.StatusOK)
		if db.text(t, "#nz-alerts") != "1" || db.attr(t, "#nz-days option[selected]", "value") != "30" {
			t.Fatalf("db report: alerts %q", db.text(t, "#nz-alerts"))
		}
		nope := b.get("/reports/noise?service=nope")
		wantStatus(t, nope, http.StatusUnprocessableEntity)
		if nope.text(t, "#noise-problem") == "" {
			t.Fatal("no problem shown for an unknown service")
		}
	})
}
