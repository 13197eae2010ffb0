package web_test

import (
	"context"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

// escalationEnv gives the API environment a user with a contact method (bob), one without (carol), a schedule
// bob is on, a disabled channel and service "api".
func escalationEnv(t *testing.T, e *apiEnv) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []string{"bob", "carol"} {
		if _, err := e.admin.CreateUser(ctx, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}); err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range []firebreak.ChannelInput{
		{Kind: firebreak.ChannelEmail, Name: "bob-mail", Address: "bob@example.com", User: "bob"},
		{Kind: firebreak.ChannelWebhook, Name: "off", URL: "http://127.0.0.1:9/x", Secret: "0123456789abcdef",
			Enabled: new(false)},
	} {
		if _, err := e.admin.CreateChannel(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.admin.CreateSchedule(ctx, firebreak.ScheduleInput{Name: "primary", TimeZone: "UTC",
		Layers: []firebreak.Layer{{Name: "l", Rotation: firebreak.RotationWeekly, Start: "2025-01-06",
			HandoffTime: "09:00", Participants: []string{"bob"}}}}); err != nil {
		t.Fatal(err)
	}
	e.service("api")
}

func TestEscalationPoliciesAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		escalationEnv(t, e)
		ctx := context.Background()
		body := `{"name":"checkout","description":"pages payments","repeat":1,"steps":[
			{"delay":"5m","targets":[{"type":"schedule","ref":"primary"}]},
			{"delay":"10m","targets":[{"type":"user","ref":"bob"},{"type":"channel","ref":"off"}]}]}`
		e.asResponder("POST", "/api/v1/escalation-policies", body).problem(t, 403)
		r := e.asAdmin("POST", "/api/v1/escalation-policies", body)
		if r.status != 201 || r.header.Get("ETag") != `"1"` || !strings.HasPrefix(r.header.Get("Location"),
			"/api/v1/escalation-policies/") {
			t.Fatalf("create: %d %v %s", r.status, r.header, r.body)
		}
		var p firebreak.EscalationPolicy
		r.json(t, &p)
		if p.Name != "checkout" || len(p.Steps) != 2 || p.Steps[0].Targets[0].Ref != "primary" ||
			time.Duration(p.Steps[1].Delay) != 10*time.Minute {
			t.Fatalf("created %+v", p)
		}
		if !strings.Contains(string(r.body), `"delay":"5m0s"`) {
			t.Errorf("delays are not duration strings: %s", r.body)
		}
		e.asAdmin("POST", "/api/v1/escalation-policies", body).problem(t, 409)

		// Bad input is refused, naming the field.
		for _, c := range []struct{ body, field string }{
			{`{"name":"x","steps":[{"delay":"5m","targets":[{"type":"user","ref":"zed"}]}]}`, "steps[0].targets[0].ref"},
			{`{"name":"x","steps":[{"delay":"5m","targets":[{"type":"schedule","ref":"nights"}]}]}`, "steps[0].targets[0].ref"},
			{`{"name":"x","steps":[{"delay":"5m","targets":[{"type":"user","ref":"bob"}]},{"delay":"5m","targets":[{"type":"channel","ref":"nope"}]}]}`, "steps[1].targets[0].ref"},
			{`{"name":"x","steps":[{"delay":"5m","targets":[{"type":"user","ref":"carol"},{"type":"channel","ref":"off"}]}]}`, "steps[0].targets"},
			{`{"name":"x","steps":[{"delay":"soon","targets":[{"type":"user","ref":"bob"}]}]}`, "steps[0].delay"},
			{`{"name":"x","steps":[{"delay":"0s","targets":[{"type":"user","ref":"bob"}]}]}`, "steps[0].delay"},
			{`{"name":"x","steps":[{"delay":"5m","targets":[{"type":"team","ref":"bob"}]}]}`, "steps[0].targets[0].type"},
			{`{"name":"x","steps":[]}`, "steps"},
			{`{"name":"","steps":[{"delay":"5m","targets":[{"type":"user","ref":"bob"}]}]}`, "name"},
			{`{"name":"x","repeat":99,"steps":[{"delay":"5m","targets":[{"type":"user","ref":"bob"}]}]}`, "repeat"},
		} {
			fieldNamed(t, e.asAdmin("POST", "/api/v1/escalation-policies", c.body).problem(t, 422), c.field)
		}
		p422 := e.asAdmin("POST", "/api/v1/escalation-policies",
			`{"name":"x","steps":[{"delay":"5m","targets":[{"type":"user","ref":"carol"}]}]}`).problem(t, 422)
		if !strings.Contains(p422.Errors[0].Message, "carol has no contact method") {
			t.Errorf("the refusal does not say why: %+v", p422.Errors)
		}
		fieldNamed(t, e.asAdmin("POST", "/api/v1/escalation-policies", `{"name":"x","steps":[],"color":"red"}`).problem(t,
			422), "color")
		e.asAdmin("POST", "/api/v1/escalation-policies", `{"name":"x",`).problem(t, 400)

		// Read, by id and name, with ETags; list.
		r = e.asViewer("GET", "/api/v1/escalation-policies/checkout", "")
		if r.status != 200 || r.header.Get("ETag") != `"1"` {
			t.Fatalf("get: %d %s", r.status, r.body)
		}
		if r := e.asViewer("GET", "/api/v1/escalation-policies/"+p.ID, "", "If-None-Match", `"1"`); r.status != 304 {
			t.Fatalf("If-None-Match: %d", r.status)
		}
		e.asViewer("GET", "/api/v1/escalation-policies/nope", "").problem(t, 404)
		list, err := e.viewer.ListEscalationPolicies(ctx)
		if err != nil || len(list) != 1 || list[0].ID != p.ID {
			t.Fatalf("list %+v %v", list, err)
		}

		// Change with If-Match.
		e.asAdmin("PATCH", "/api/v1/escalation-policies/checkout", `{"repeat":0}`, "If-Match", `"7"`).problem(t, 412)
		fieldNamed(t, e.asAdmin("PATCH", "/api/v1/escalation-policies/checkout",
			`{"steps":[{"delay":"1m","targets":[{"type":"user","ref":"carol"}]}]}`).problem(t, 422), "steps[0].targets")
		up, err := e.admin.UpdateEscalationPolicy(ctx, "checkout", firebreak.EscalationPolicyPatch{Repeat: new(0),
			Name: new("checkout-primary")}, 1)
		if err != nil || up.Version != 2 || up.Repeat != 0 || up.Name != "checkout-primary" || len(up.Steps) != 2 {
			t.Fatalf("update %+v %v", up, err)
		}

		// Attach to a service (by name or id); GET service shows it; "" detaches.
		fieldNamed(t, e.asAdmin("PATCH", "/api/v1/services/api", `{"escalation_policy":"nope"}`).problem(t, 422),
			"escalation_policy")
		r = e.asAdmin("PATCH", "/api/v1/services/api", `{"escalation_policy":"`+p.ID+`"}`)
		if r.status != 200 || !strings.Contains(string(r.body), `"escalation_policy":"checkout-primary"`) {
			t.Fatalf("attach: %d %s", r.status, r.body)
		}
		svc, err := e.viewer.GetService(ctx, "api")
		if err != nil || svc.EscalationPolicy != "checkout-primary" {
			t.Fatalf("service %+v %v", svc, err)
		}
		if got, _ := e.viewer.GetEscalationPolicy(ctx, p.ID); !slices.Equal(got.Services, []string{"api"}) {
			t.Errorf("policy services %v", got.Services)
		}
		e.asAdmin("DELETE", "/api/v1/escalation-policies/"+p.ID, "").problem(t, 409)

		// An incident of the service pages the first step at once, and the acknowledgement stops it.
		inc := e.declare("Checkout down", firebreak.SEV1, "api")
		tl, err := e.viewer.ListTimeline(ctx, inc.Reference, firebreak.TimelineFilter{})
		if err != nil || !slices.ContainsFunc(tl.Items, func(ev firebreak.TimelineEvent) bool {
			return ev.Kind == firebreak.EventEscalationPaged && ev.Data["paged"] == "bob (on call on primary)"
		}) {
			t.Fatalf("not paged on declare: %+v %v", tl, err)
		}
		if r := e.asResponder("POST", "/api/v1/incidents/"+inc.Reference+"/ack", ""); r.status != 200 {
			t.Fatalf("ack: %d %s", r.status, r.body)
		}
		tl, _ = e.viewer.ListTimeline(ctx, inc.Reference, firebreak.TimelineFilter{})
		if !slices.ContainsFunc(tl.Items, func(ev firebreak.TimelineEvent) bool {
			return ev.Kind == firebreak.EventEscalationStopped
		}) {
			t.Fatal("the acknowledgement did not stop the escalation")
		}

		if _, err := e.admin.UpdateService(ctx, "api", firebreak.ServicePatch{EscalationPolicy: new("")}, 0); err != nil {
			t.Fatal(err)
		}
		if svc, _ := e.viewer.GetService(ctx, "api"); svc.EscalationPolicy != "" ||
			strings.Contains(string(e.asViewer("GET", "/api/v1/services/api", "").body), "escalation_policy") {
			t.Fatalf("detached service still shows a policy: %+v", svc)
		}
		if r := e.asAdmin("DELETE", "/api/v1/escalation-policies/"+p.ID, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		e.asViewer("GET", "/api/v1/escalation-policies/"+p.ID, "").problem(t, 404)
	})
}

// The OpenAPI schemas of escalation match the Go types field for field.
func TestOpenAPIEscalationSchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{"EscalationPolicy": firebreak.EscalationPolicy{},
		"EscalationPolicyInput": firebreak.EscalationPolicyInput{}, "EscalationPolicyPatch": firebreak.EscalationPolicyPatch{},
		"EscalationStep": firebreak.EscalationStep{}, "EscalationTarget": firebreak.EscalationTarget{},
		"IncidentEscalation": firebreak.IncidentEscalation{}, "RunningEscalation": firebreak.RunningEscalation{},
		"EscalationStepState": firebreak.EscalationStepState{}, "EscalationTargetState": firebreak.EscalationTargetState{},
		"EscalationEnd": firebreak.EscalationEnd{}, "CriterionStatus": firebreak.CriterionStatus{}} {
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

// GET /incidents/{id}/escalation says which step paged, which pages next and when, and, after the
// acknowledgement, who stopped the paging; the client and the JSON agree.
func TestIncidentEscalationAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		escalationEnv(t, e)
		ctx := context.Background()
		if _, err := e.admin.CreateEscalationPolicy(ctx, firebreak.EscalationPolicyInput{Name: "checkout",
			Steps: []firebreak.EscalationStep{
				{Delay: firebreak.Duration(5 * time.Minute), Targets: []firebreak.EscalationTarget{{Type: "user", Ref: "bob"}}},
				{Delay: firebreak.Duration(10 * time.Minute), Targets: []firebreak.EscalationTarget{{Type: "schedule", Ref: "primary"}}},
			}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin.UpdateService(ctx, "api", firebreak.ServicePatch{EscalationPolicy: new("checkout")}, 0); err != nil {
			t.Fatal(err)
		}
		inc := e.declare("Checkout down", firebreak.SEV1, "api")
		r := e.asViewer("GET", "/api/v1/incidents/"+inc.Reference+"/escalation", "")
		if r.status != 200 {
			t.Fatalf("get: %d %s", r.status, r.body)
		}
		for _, want := range []string{`"state":"running"`, `"policies":["checkout"]`, `"paged":["bob"]`,
			`"on_call":["bob"]`, `"delay":"10m0s"`, `"ended":[]`} {
			if !strings.Contains(string(r.body), want) {
				t.Errorf("the answer lacks %s: %s", want, r.body)
			}
		}
		st, err := e.viewer.IncidentEscalation(ctx, inc.Reference)
		if err != nil || st.State != firebreak.EscalationRunning || len(st.Running) != 1 {
			t.Fatalf("client: %+v %v", st, err)
		}
		run := st.Running[0]
		if run.Current == nil || run.Current.Step != 1 || run.Next == nil || run.Next.Step != 2 ||
			run.Next.TargetsText() != "schedule primary (on call: bob)" || run.NextAt.Sub(*run.Current.PagedAt) != 5*time.Minute {
			t.Fatalf("running %+v current %+v next %+v", run, run.Current, run.Next)
		}
		if _, err := e.responder.AcknowledgeIncident(ctx, inc.Reference, 0); err != nil {
			t.Fatal(err)
		}
		st, err = e.viewer.IncidentEscalation(ctx, inc.Reference)
		if err != nil || st.State != firebreak.EscalationStopped || len(st.Running) != 0 || len(st.Ended) != 1 ||
			st.Ended[0].By != e.responderU || st.AcknowledgedAt == nil {
			t.Fatalf("after ack: %+v %v", st, err)
		}
		e.asViewer("GET", "/api/v1/incidents/INC-404/escalation", "").problem(t, 404)
		if r := e.do("GET", "/api/v1/incidents/"+inc.Reference+"/escalation", "", ""); r.status != 401 {
			t.Fatalf("anonymous: %d", r.status)
		}
	})
}
