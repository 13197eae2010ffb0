package web_test

import (
	"context"
	"fmt"
	"github.com/google/uuid"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

func TestIntegrationsAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		ctx := context.Background()
		e.service("api")
		in := e.integration("api", firebreak.IntegrationAlertmanager, "")
		if !strings.Contains(in.Snippets.Alertmanager, "webhook_configs:") ||
			!strings.Contains(in.Snippets.Alertmanager, "url: "+e.url+"/api/v1/intake/alertmanager/"+in.Key) ||
			!strings.Contains(in.Snippets.Alertmanager, "send_resolved: true") {
			t.Fatalf("alertmanager snippet:\n%s", in.Snippets.Alertmanager)
		}
		// The key is shown once.
		list, err := e.viewer.ListIntegrations(ctx, "api")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != in.ID || list[0].Key != "" {
			t.Fatalf("list: %+v", list)
		}
		if r := e.asViewer("GET", "/api/v1/integrations", ""); r.status != 200 || strings.Contains(string(r.body), in.Key) {
			t.Fatalf("list shows the key: %d %s", r.status, r.body)
		}
		// Only admins create integrations.
		body := `{"service":"api","kind":"generic"}`
		e.asViewer("POST", "/api/v1/integrations", body).problem(t, http.StatusForbidden)
		e.asResponder("POST", "/api/v1/integrations", body).problem(t, http.StatusForbidden)
		e.do("POST", "/api/v1/integrations", "", body).problem(t, http.StatusUnauthorized)
		// Validation, naming the field.
		fieldNamed(t, e.asAdmin("POST", "/api/v1/integrations", `{"service":"api","kind":"nagios"}`).problem(t, 422), "kind")
		// Snippets follow X-Forwarded-Proto; a PagerDuty integration gets pagerduty_configs.
		r := e.asAdmin("POST", "/api/v1/integrations", `{"service":"api","kind":"pagerduty"}`, "X-Forwarded-Proto", "https")
		var pd struct {
			Key      string `json:"key"`
			Snippets struct {
				URL, Alertmanager string
			} `json:"snippets"`
		}
		r.json(t, &pd)
		host := strings.TrimPrefix(e.url, "http://")
		if r.status != 201 || pd.Snippets.URL != "https://"+host+"/v2/enqueue" ||
			!strings.Contains(pd.Snippets.Alertmanager, "pagerduty_configs:") ||
			!strings.Contains(pd.Snippets.Alertmanager, "routing_key: "+pd.Key) {
			t.Fatalf("pagerduty integration: %d %s", r.status, r.body)
		}
	})
}

func TestListAlertsAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		e.service("db")
		in := e.integration("api", firebreak.IntegrationGeneric, "")
		var alerts []string
		for i := range 5 {
			status := "firing"
			if i < 2 {
				status = "resolved"
			}
			alerts = append(alerts, fmt.Sprintf(`{"dedup_key":"k%d","status":%q,"summary":"alert %d"}`, i, status, i))
		}
		wantIntake(t, e.do("POST", "/api/v1/intake/generic/"+in.Key, "", `{"alerts":[`+strings.Join(alerts, ",")+`]}`), 5)

		count := func(f firebreak.AlertFilter) int { return len(e.alerts(f)) }
		if n := count(firebreak.AlertFilter{Service: "api"}); n != 5 {
			t.Fatalf("%d alerts, want 5", n)
		}
		if n := count(firebreak.AlertFilter{Service: "db"}); n != 0 {
			t.Fatalf("db has %d alerts", n)
		}
		if n := count(firebreak.AlertFilter{Status: []firebreak.AlertStatus{firebreak.AlertResolved}}); n != 2 {
			t.Fatalf("%d resolved, want 2", n)
		}
		if n := count(firebreak.AlertFilter{Status: []firebreak.AlertStatus{firebreak.AlertFiring, firebreak.AlertResolved}}); n != 5 {
			t.Fatalf("%d firing or resolved, want 5", n)
		}
		var r rawResp
		if r = e.asViewer("GET", "/api/v1/alerts?status=firing,resolved", ""); r.status != 200 {
			t.Fatalf("comma-separated status: %d %s", r.status, r.body)
		}
		// Pagination: pages of 2 cover all 5 once.
		seen := map[string]bool{}
		f := firebreak.AlertFilter{Limit: 2}
		for pages := 0; ; pages++ {
			p, err := e.viewer.ListAlerts(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) > 2 || pages > 5 {
				t.Fatalf("page of %d (page %d)", len(p.Items), pages)
			}
			for _, a := range p.Items {
				if seen[a.ID] {
					t.Fatalf("alert %s on two pages", a.ID)
				}
				seen[a.ID] = true
			}
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		if len(seen) != 5 {
			t.Fatalf("pages held %d alerts, want 5", len(seen))
		}
		// One alert by id, as the list shows it.
		listed := e.alerts(firebreak.AlertFilter{Service: "api"})[0]
		got, err := e.viewer.GetAlert(context.Background(), listed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != listed.ID || got.DedupKey != listed.DedupKey || got.Status != listed.Status ||
			got.Summary != listed.Summary || got.Service != "api" {
			t.Fatalf("GET alert = %+v, listed %+v", got, listed)
		}
		e.asViewer("GET", "/api/v1/alerts/"+uuid.NewString(), "").problem(t, http.StatusNotFound)
		e.do("GET", "/api/v1/alerts/"+listed.ID, "", "").problem(t, http.StatusUnauthorized)
		fieldNamed(t, e.asViewer("GET", "/api/v1/alerts?status=burning", "").problem(t, 422), "status")
		fieldNamed(t, e.asViewer("GET", "/api/v1/alerts?colour=red", "").problem(t, 422), "colour")
		fieldNamed(t, e.asViewer("GET", "/api/v1/alerts?flapping=maybe", "").problem(t, 422), "flapping")
		fieldNamed(t, e.asViewer("GET", "/api/v1/alerts?suppressed=boredom", "").problem(t, 422), "suppressed")
		if n := count(firebreak.AlertFilter{Service: "api", Flapping: true}); n != 0 {
			t.Fatalf("%d flapping alerts, none flaps", n)
		}
		e.do("GET", "/api/v1/alerts", "", "").problem(t, http.StatusUnauthorized)
	})
}

func TestRoutingPolicyAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		ctx := context.Background()
		svc := e.service("api")
		// A new service has the default policy, by slug or by UUID.
		want := firebreak.DefaultRoutingPolicy()
		for _, ref := range []string{"api", svc.ID} {
			got, err := e.viewer.GetRoutingPolicy(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Fatalf("default policy via %s: %+v, want %+v", ref, *got, want)
			}
		}
		// An admin sets a policy; it reads back equal.
		p := firebreak.RoutingPolicy{
			Rules: []firebreak.RoutingRule{{Match: map[string]string{"severity": "warning"},
				Action: firebreak.RouteIncident, Severity: firebreak.SEV3}},
			GroupWindow: firebreak.DefaultGroupWindow,
			GroupBy:     []string{"cluster"},
			AutoResolve: firebreak.DefaultAutoResolve(),
			Flapping:    firebreak.DefaultFlappingPolicy(), // an absent one is stored as the default
		}
		set, err := e.admin.SetRoutingPolicy(ctx, svc.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*set, p) {
			t.Fatalf("set: %+v, want %+v", *set, p)
		}
		got, err := e.viewer.GetRoutingPolicy(ctx, "api")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, p) {
			t.Fatalf("read back: %+v, want %+v", *got, p)
		}
		// A warning now opens an incident.
		in := e.integration("api", firebreak.IntegrationGeneric, "")
		wantIntake(t, e.do("POST", "/api/v1/intake/generic/"+in.Key, "",
			`{"alerts":[{"dedup_key":"w1","status":"firing","severity":"warning","summary":"disk filling",`+
				`"labels":{"cluster":"eu-1"}}]}`), 1)
		var incs struct {
			Items []firebreak.Incident `json:"items"`
		}
		r := e.asViewer("GET", "/api/v1/incidents?service=api", "")
		r.json(t, &incs)
		if r.status != 200 || len(incs.Items) != 1 || incs.Items[0].Severity != firebreak.SEV3 {
			t.Fatalf("incidents after a warning: %d %s", r.status, r.body)
		}
		// Only admins set policies; the policy is validated, naming the field; unknown services are 404s.
		body := jsonBody(t, p)
		e.asViewer("PUT", "/api/v1/services/api/routing", body).problem(t, http.StatusForbidden)
		e.asResponder("PUT", "/api/v1/services/api/routing", body).problem(t, http.StatusForbidden)
		fieldNamed(t, e.asAdmin("PUT", "/api/v1/services/api/routing",
			`{"rules":[{"match":{"severity":"critical"},"action":"page"}]}`).problem(t, 422), "rules[0].action")
		fieldNamed(t, e.asAdmin("PUT", "/api/v1/services/api/routing",
			`{"rules":[],"group_window":1000}`).problem(t, 422), "group_window")
		fieldNamed(t, e.asAdmin("PUT", "/api/v1/services/api/routing",
			`{"rules":[],"group_window":"soon"}`).problem(t, 422), "group_window")
		fieldNamed(t, e.asAdmin("PUT", "/api/v1/services/api/routing",
			`{"rules":[],"group_window":"10s"}`).problem(t, 422), "group_window")
		var stored firebreak.RoutingPolicy
		r = e.asAdmin("PUT", "/api/v1/services/api/routing", `{"rules":[],"group_window":"1h30m"}`)
		r.json(t, &stored)
		if stored.GroupWindow != 90*time.Minute || !strings.Contains(string(r.body), `"group_window":"1h30m0s"`) {
			t.Fatalf("group_window as text: %s", r.body)
		}
		e.asAdmin("PUT", "/api/v1/services/api/routing", `{"rules":[],"colour":"red"}`).problem(t, 422)
		e.asViewer("GET", "/api/v1/services/nope/routing", "").problem(t, http.StatusNotFound)
		e.asAdmin("PUT", "/api/v1/services/nope/routing", body).problem(t, http.StatusNotFound)
		e.do("GET", "/api/v1/services/api/routing", "", "").problem(t, http.StatusUnauthorized)
	})
}
