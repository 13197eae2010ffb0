package web_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

// ccUser creates a user with a token and returns a client acting as them, and the token.
func (e *apiEnv) ccUser(username string, role firebreak.UserRole) (*client.Client, string) {
	e.t.Helper()
	ctx := context.Background()
	if _, err := e.admin.CreateUser(ctx, firebreak.UserInput{Username: username, Role: role}); err != nil {
		e.t.Fatalf("create %s: %v", username, err)
	}
	tok, err := e.admin.CreateToken(ctx, firebreak.TokenInput{Username: username, Name: "tests"})
	if err != nil {
		e.t.Fatalf("token for %s: %v", username, err)
	}
	return client.New(e.url, tok.Secret), tok.Secret
}

func TestAPIChangeControl(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		ic, icToken := e.ccUser("ic", firebreak.RoleResponder)
		inc, err := e.responder.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Checkout down",
			Severity: firebreak.SEV1, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "ic"}})
		if err != nil {
			t.Fatal(err)
		}
		base := "/api/v1/incidents/" + inc.Reference + "/proposals"

		// Propose over HTTP: 201 with Location; an Idempotency-Key makes a retry return the first.
		body := `{"action": "Restart the checkout pods", "reason": "a deadlock holds every connection", "risk": "medium"}`
		res := e.asResponder(http.MethodPost, base, body, "Idempotency-Key", "p-1")
		if res.status != http.StatusCreated {
			t.Fatalf("propose: %d %s", res.status, res.body)
		}
		var p firebreak.ChangeProposal
		res.json(t, &p)
		if p.State != firebreak.ProposalProposed || p.ProposedBy != e.responderU || p.Risk != firebreak.RiskMedium ||
			res.header.Get("Location") != base+"/"+p.ID {
			t.Fatalf("proposal %+v at %s", p, res.header.Get("Location"))
		}
		again := e.asResponder(http.MethodPost, base, body, "Idempotency-Key", "p-1")
		var p2 firebreak.ChangeProposal
		again.json(t, &p2)
		if again.status != http.StatusCreated || p2.ID != p.ID || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s", again.status, again.body)
		}

		// Anyone but the commander: 403 problem+json with a clear message. Viewers cannot even try.
		pr := e.asResponder(http.MethodPost, base+"/"+p.ID+"/approve", "").problem(t, http.StatusForbidden)
		if !strings.Contains(pr.Detail, "only the incident commander of "+inc.Reference+" (ic)") {
			t.Errorf("403 detail %q", pr.Detail)
		}
		e.asViewer(http.MethodPost, base+"/"+p.ID+"/approve", "").problem(t, http.StatusForbidden)
		_, err = e.viewer.ProposeChange(ctx, inc.Reference, firebreak.ProposalInput{Action: "a", Reason: "r"})
		wantCode(t, err, firebreak.EForbidden)

		// The commander approves with a note; a second decision is 409.
		got, err := ic.DecideProposal(ctx, inc.Reference, p.ID, firebreak.DecisionApprove,
			firebreak.DecisionInput{Note: "one pod at a time"})
		if err != nil || got.State != firebreak.ProposalApproved || got.DecidedBy != "ic" || got.Note != "one pod at a time" {
			t.Fatalf("approve: %+v %v", got, err)
		}
		e.do(http.MethodPost, base+"/"+p.ID+"/reject", icToken, `{"note": "changed my mind"}`).
			problem(t, http.StatusConflict)

		// An admin may reject; the proposer withdraws; others may not withdraw.
		q, err := e.responder.ProposeChange(ctx, inc.Reference, firebreak.ProposalInput{Action: "Fail over the DB",
			Reason: "latency"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin.DecideProposal(ctx, inc.Reference, q.ID, firebreak.DecisionReject,
			firebreak.DecisionInput{}); err != nil {
			t.Fatal(err)
		}
		w, err := e.responder.ProposeChange(ctx, inc.Reference, firebreak.ProposalInput{Action: "Scale out",
			Reason: "load"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ic.DecideProposal(ctx, inc.Reference, w.ID, firebreak.DecisionWithdraw, firebreak.DecisionInput{})
		wantCode(t, err, firebreak.EForbidden)
		if _, err := e.responder.DecideProposal(ctx, inc.Reference, w.ID, firebreak.DecisionWithdraw,
			firebreak.DecisionInput{}); err != nil {
			t.Fatal(err)
		}

		// The list shows every state; the viewer may read it; the timeline has each step.
		list, err := e.viewer.ListProposals(ctx, inc.Reference)
		if err != nil {
			t.Fatal(err)
		}
		var states []firebreak.ProposalState
		for _, x := range list {
			states = append(states, x.State)
		}
		if !slices.Equal(states, []firebreak.ProposalState{"approved", "rejected", "withdrawn"}) {
			t.Fatalf("states %v", states)
		}
		one, err := e.viewer.GetProposal(ctx, inc.Reference, q.ID)
		if err != nil || one.State != firebreak.ProposalRejected {
			t.Fatalf("get %+v %v", one, err)
		}
		tl, err := e.viewer.ListTimeline(ctx, inc.Reference, firebreak.TimelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range tl.Items {
			if strings.HasPrefix(string(ev.Kind), "change_") {
				n++
			}
		}
		if n != 6 {
			t.Errorf("%d change control events, want 6", n)
		}

		// Bad input names the field; unknown fields and closed incidents are refused.
		pb := e.asResponder(http.MethodPost, base, `{"action": "", "reason": "r"}`).problem(t, http.StatusUnprocessableEntity)
		fieldNamed(t, pb, "action")
		pb = e.asResponder(http.MethodPost, base, `{"action": "a", "reason": "r", "risk": "extreme"}`).
			problem(t, http.StatusUnprocessableEntity)
		fieldNamed(t, pb, "risk")
		fieldNamed(t, e.asResponder(http.MethodPost, base, `{"action": "a", "reason": "r", "owner": "x"}`).
			problem(t, http.StatusUnprocessableEntity), "owner")
		e.asResponder(http.MethodGet, base+"/"+inc.ID, "").problem(t, http.StatusNotFound)
		if _, err := e.responder.ChangeStatus(ctx, inc.Reference, firebreak.StatusResolved, "", 0); err != nil {
			t.Fatal(err)
		}
		pc := e.asResponder(http.MethodPost, base, `{"action": "a", "reason": "r"}`).problem(t, http.StatusConflict)
		if !strings.Contains(pc.Detail, "is resolved") {
			t.Errorf("409 detail %q", pc.Detail)
		}
	})
}

// TestOpenAPIChangeControlAndRunbookSchemas keeps this feature's schemas equal to the Go types.
func TestOpenAPIChangeControlAndRunbookSchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{
		"ChangeProposal": firebreak.ChangeProposal{}, "ProposalInput": firebreak.ProposalInput{},
		"DecisionInput": firebreak.DecisionInput{}, "Runbook": firebreak.Runbook{},
		"RunbookInput": firebreak.RunbookInput{}, "RunbookPatch": firebreak.RunbookPatch{},
		"RunbookRevision": firebreak.RunbookRevision{},
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
