package web_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/web"
)

func genericAlert(key, severity string) string {
	return fmt.Sprintf(`{"alerts":[{"dedup_key":%q,"status":"firing","summary":"alert %s","severity":%q}]}`, key, key,
		severity)
}

func TestMaintenanceWindowsAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		ctx := context.Background()
		e.service("api")
		e.service("db")
		in := e.integration("api", firebreak.IntegrationGeneric, "")
		now := time.Now().UTC()
		body := jsonBody(t, firebreak.MaintenanceInput{Services: []string{"api"}, Title: "Upgrade",
			Description: "API may be slow.", StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour)})

		// Roles and validation.
		e.asViewer("POST", "/api/v1/maintenance-windows", body).problem(t, http.StatusForbidden)
		fieldNamed(t, e.asResponder("POST", "/api/v1/maintenance-windows",
			`{"services":["api"],"title":"x","starts_at":"2030-01-01T00:00:00Z","ends_at":"2029-01-01T00:00:00Z"}`).
			problem(t, 422), "ends_at")
		fieldNamed(t, e.asResponder("POST", "/api/v1/maintenance-windows",
			`{"services":["nope"],"title":"x","starts_at":"2030-01-01T00:00:00Z","ends_at":"2030-01-02T00:00:00Z"}`).
			problem(t, 422), "services")
		fieldNamed(t, e.asResponder("POST", "/api/v1/maintenance-windows", `{"services":["api"],"title":"x","when":1}`).problem(t, 422), "when")
		e.asResponder("POST", "/api/v1/maintenance-windows", `{"services":`).problem(t, 400)

		r := e.asResponder("POST", "/api/v1/maintenance-windows", body)
		var w firebreak.MaintenanceWindow
		r.json(t, &w)
		if r.status != 201 || r.header.Get("Location") != "/api/v1/maintenance-windows/"+w.ID ||
			r.header.Get("ETag") != `"1"` || w.State != firebreak.MaintenanceActive || w.CreatedBy != "test-responder" {
			t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
		}
		for _, field := range []string{`"cancelled_at":null`, `"state":"active"`, `"services":["api"]`,
			`"description":"API may be slow."`} {
			if !strings.Contains(string(r.body), field) {
				t.Fatalf("answer lacks %s: %s", field, r.body)
			}
		}

		// An alert of the service is recorded, suppressed, opens no incident.
		wantIntake(t, e.do("POST", "/api/v1/intake/generic/"+in.Key, "", genericAlert("k1", "critical")), 1)
		a := e.alerts(firebreak.AlertFilter{Service: "api"})[0]
		if a.Suppressed != firebreak.SuppressedMaintenance || a.MaintenanceWindowID != w.ID || a.IncidentID != "" {
			t.Fatalf("alert %+v", a)
		}
		raw := e.asViewer("GET", "/api/v1/alerts?service=api", "")
		if !strings.Contains(string(raw.body), `"suppressed":"maintenance","maintenance_window_id":"`+w.ID+`"`) ||
			!strings.Contains(string(raw.body), `"flapping":false,"flapping_since":null`) {
			t.Fatalf("alert JSON %s", raw.body)
		}

		// Reads and filters.
		got, err := e.viewer.GetMaintenance(ctx, w.ID)
		if err != nil || got.Title != "Upgrade" || got.Version != 1 {
			t.Fatalf("get %+v %v", got, err)
		}
		if e.asViewer("GET", "/api/v1/maintenance-windows/"+w.ID, "", "If-None-Match", `"1"`).status != 304 {
			t.Fatal("no 304")
		}
		e.asViewer("GET", "/api/v1/maintenance-windows/nope", "").problem(t, 404)
		p, err := e.viewer.ListMaintenance(ctx, firebreak.MaintenanceFilter{Service: "api", State: firebreak.MaintenanceActive})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != w.ID {
			t.Fatalf("active %+v %v", p, err)
		}
		if p, _ := e.viewer.ListMaintenance(ctx, firebreak.MaintenanceFilter{Service: "db"}); len(p.Items) != 0 {
			t.Fatalf("db %+v", p.Items)
		}
		fieldNamed(t, e.asViewer("GET", "/api/v1/maintenance-windows?state=later", "").problem(t, 422), "state")
		fieldNamed(t, e.asViewer("GET", "/api/v1/maintenance-windows?when=now", "").problem(t, 422), "when")

		// Changes with If-Match.
		title := "Upgrade (longer)"
		_, err = e.responder.UpdateMaintenance(ctx, w.ID, firebreak.MaintenancePatch{Title: &title}, 9)
		wantCode(t, err, firebreak.EPreconditionFailed)
		u, err := e.responder.UpdateMaintenance(ctx, w.ID, firebreak.MaintenancePatch{Title: &title}, 1)
		if err != nil || u.Title != title || u.Version != 2 {
			t.Fatalf("update %+v %v", u, err)
		}
		_, err = e.viewer.UpdateMaintenance(ctx, w.ID, firebreak.MaintenancePatch{Title: &title}, 0)
		wantCode(t, err, firebreak.EForbidden)

		// Cancelling (DELETE) ends the suppression; the window is kept.
		e.asResponder("DELETE", "/api/v1/maintenance-windows/"+w.ID, "", "If-Match", `"1"`).problem(t, 412)
		c, err := e.responder.CancelMaintenance(ctx, w.ID, 2)
		if err != nil || c.State != firebreak.MaintenanceCancelled || c.CancelledAt == nil || c.Version != 3 {
			t.Fatalf("cancel %+v %v", c, err)
		}
		wantIntake(t, e.do("POST", "/api/v1/intake/generic/"+in.Key, "", genericAlert("k2", "critical")), 1)
		for _, a := range e.alerts(firebreak.AlertFilter{Service: "api"}) {
			if a.DedupKey == "k2" && (a.Suppressed != "" || a.IncidentID == "") {
				t.Fatalf("after cancelling %+v", a)
			}
		}
		if got, _ := e.viewer.GetMaintenance(ctx, w.ID); got.State != firebreak.MaintenanceCancelled {
			t.Fatalf("kept %+v", got)
		}
	})
}

func TestNoiseReportAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		ctx := context.Background()
		e.service("api")
		in := e.integration("api", firebreak.IntegrationGeneric, "")
		wantIntake(t, e.do("POST", "/api/v1/intake/generic/"+in.Key, "", genericAlert("crit", "critical")), 1)
		wantIntake(t, e.do("POST", "/api/v1/intake/generic/"+in.Key, "", genericAlert("warn", "warning")), 1)

		r, err := e.viewer.NoiseReport(ctx, firebreak.NoiseFilter{Service: "api"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Service != "api" || r.Totals.Alerts != 2 || r.Totals.IncidentsOpened != 1 || r.Totals.AlertsWithoutIncident != 1 ||
			r.AlertsPerIncident.Incidents != 1 || len(r.Sources) != 1 || r.Sources[0].IntegrationID != in.ID ||
			len(r.Rules) != 2 || len(r.NeverIncident) != 1 || r.NeverIncident[0].DedupKey != "warn" ||
			r.Until.Sub(r.Since) != 7*24*time.Hour {
			t.Fatalf("report %+v", r)
		}
		raw := e.asViewer("GET", "/api/v1/reports/noise", "")
		for _, field := range []string{`"flapping":[]`, `"totals":{"alerts":2,`, `"alerts_per_incident":{"incidents":1,`} {
			if raw.status != 200 || !strings.Contains(string(raw.body), field) {
				t.Fatalf("answer lacks %s: %d %s", field, raw.status, raw.body)
			}
		}
		fieldNamed(t, e.asViewer("GET", "/api/v1/reports/noise?since=yesterday", "").problem(t, 422), "since")
		fieldNamed(t, e.asViewer("GET", "/api/v1/reports/noise?since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z", "").
			problem(t, 422), "until")
		e.asViewer("GET", "/api/v1/reports/noise?service=nope", "").problem(t, 404)
		e.do("GET", "/api/v1/reports/noise", "", "").problem(t, 401)
	})
}

func TestPagerDutyAcknowledgeAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		in := e.integration("api", firebreak.IntegrationPagerDuty, "")
		send := func(action string) {
			r := e.do("POST", web.PagerDutyEnqueuePath, "", fmt.Sprintf(`{"routing_key":%q,"event_action":%q,
				"dedup_key":"db","payload":{"summary":"db down","source":"db-1","severity":"critical"}}`, in.Key, action))
			if r.status != http.StatusAccepted {
				t.Fatalf("%s: %d %s", action, r.status, r.body)
			}
		}
		send("trigger")
		a := e.alerts(firebreak.AlertFilter{Service: "api"})[0]
		inc, err := e.viewer.GetIncident(context.Background(), a.IncidentID)
		if err != nil || inc.Milestones.AcknowledgedAt != nil {
			t.Fatalf("incident %+v %v", inc, err)
		}
		send("acknowledge")
		inc, err = e.viewer.GetIncident(context.Background(), a.IncidentID)
		if err != nil || inc.Milestones.AcknowledgedAt == nil {
			t.Fatalf("after acknowledge %+v %v", inc, err)
		}
	})
}

// TestOpenAPINoiseSchemas keeps the noise control schemas equal to the JSON of their Go types.
func TestOpenAPINoiseSchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{
		"MaintenanceWindow": firebreak.MaintenanceWindow{}, "MaintenanceInput": firebreak.MaintenanceInput{},
		"MaintenancePatch": firebreak.MaintenancePatch{}, "FlappingPolicy": firebreak.FlappingPolicy{},
		"NoiseReport": firebreak.NoiseReport{}, "NoiseTotals": firebreak.NoiseTotals{},
		"AlertsPerIncident": firebreak.AlertsPerIncident{}, "NoiseIncident": firebreak.NoiseIncident{},
		"NoiseSource": firebreak.NoiseSource{}, "NoiseRule": firebreak.NoiseRule{}, "NoiseAlert": firebreak.NoiseAlert{},
		"Alert": firebreak.Alert{}, "RoutingPolicy": firebreak.RoutingPolicy{},
	} {
		props, _ := d.Components.Schemas[name]["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := jsonFields(reflect.TypeOf(typ)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
		}
	}
}
