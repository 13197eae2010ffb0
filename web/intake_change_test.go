package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/intake"
	"github.com/firebreak/firebreak/web"
)

func changeBody(t *testing.T, key, summary string, at time.Time) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"routing_key": key,
		"payload": map[string]any{"summary": summary, "timestamp": at.UTC().Format(time.RFC3339Nano),
			"source": "ci", "custom_details": map[string]any{"sha": "abc123"}},
		"links": []map[string]string{{"href": "https://ci.example/build/1", "text": "build"}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestChangeEvents(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		ctx := context.Background()
		e.service("checkout")
		e.service("search")
		pd := e.integration("checkout", firebreak.IntegrationPagerDuty, "")
		pdSearch := e.integration("search", firebreak.IntegrationPagerDuty, "")
		now := time.Now()

		post := func(key, summary string, at time.Time) {
			t.Helper()
			wantPD(t, e.do("POST", web.PagerDutyChangeEnqueuePath, "", changeBody(t, key, summary, at)),
				http.StatusAccepted, intake.PagerDutyChangeAccepted())
		}
		post(pd.Key, "deploy v42", now.Add(-30*time.Minute))
		post(pd.Key, "deploy v41", now.Add(-3*time.Hour))
		post(pdSearch.Key, "search deploy", now.Add(-20*time.Minute))

		inc := e.declare("checkout is down", firebreak.SEV2, "checkout")
		got, err := e.viewer.ListIncidentChanges(ctx, inc.Reference, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Window != "2h0m0s" || len(got.Items) != 1 || got.Items[0].Summary != "deploy v42" ||
			got.Items[0].Service != "checkout" || got.Items[0].Details != `{"sha":"abc123"}` ||
			len(got.Items[0].Links) != 1 || got.Items[0].Links[0].Href != "https://ci.example/build/1" {
			t.Fatalf("changes before %s: %+v", inc.Reference, got)
		}
		if got, err := e.viewer.ListIncidentChanges(ctx, inc.ID, 4*time.Hour); err != nil || len(got.Items) != 2 {
			t.Fatalf("4h window: %+v %v", got, err)
		}
		e.asViewer("GET", "/api/v1/incidents/"+inc.Reference+"/changes?window=soon", "").problem(t, http.StatusUnprocessableEntity)
		e.asViewer("GET", "/api/v1/incidents/INC-9999/changes", "").problem(t, http.StatusNotFound)
		e.do("GET", "/api/v1/changes", "", "").problem(t, http.StatusUnauthorized)

		// Listing.
		since := now.Add(-time.Hour)
		p, err := e.viewer.ListChanges(ctx, firebreak.ChangeFilter{Since: &since})
		if err != nil || len(p.Items) != 2 || p.Items[0].Summary != "search deploy" {
			t.Fatalf("since: %+v %v", p, err)
		}
		p, err = e.viewer.ListChanges(ctx, firebreak.ChangeFilter{Service: "checkout"})
		if err != nil || len(p.Items) != 2 {
			t.Fatalf("service: %+v %v", p, err)
		}
		e.asViewer("GET", "/api/v1/changes?since=yesterday", "").problem(t, http.StatusUnprocessableEntity)

		// Bad bodies: PagerDuty-style 400s.
		wantPD(t, e.do("POST", web.PagerDutyChangeEnqueuePath, "", `{"routing_key":"short","payload":{}}`),
			http.StatusBadRequest, (&intake.PagerDutyError{Status: "invalid event", Message: "Event object is invalid",
				Errors: []string{"Length of 'routing_key' is incorrect (should be 32 characters)",
					"'payload.summary' is missing or blank"}}).Body())
		wantPD(t, e.do("POST", web.PagerDutyChangeEnqueuePath, "", `{"routing_key":`), http.StatusBadRequest,
			(&intake.PagerDutyError{Status: "Unrecognized object", Message: "Event object format is unrecognized",
				Errors: []string{"JSON parse error"}}).Body())

		// Unknown keys and keys of other kinds: the same answer as /v2/enqueue gives.
		am := e.integration("checkout", firebreak.IntegrationAlertmanager, "")
		for _, key := range []string{strings.Repeat("0", 32), am.Key} {
			want := e.do("POST", web.PagerDutyEnqueuePath, "", `{"routing_key":"`+key+
				`","event_action":"trigger","payload":{"summary":"s","source":"x","severity":"info"}}`)
			r := e.do("POST", web.PagerDutyChangeEnqueuePath, "", changeBody(t, key, "deploy", now))
			if want.status != http.StatusBadRequest {
				t.Fatalf("/v2/enqueue answered %d %s", want.status, want.body)
			}
			wantPD(t, r, want.status, want.body)
		}
		if p, _ := e.viewer.ListChanges(ctx, firebreak.ChangeFilter{}); len(p.Items) != 3 {
			t.Fatalf("refused events were stored: %+v", p.Items)
		}
	})
}
