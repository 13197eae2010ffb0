package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

// TestServiceEditEscalationAndArchitecture: an admin attaches an escalation policy to a service and records an
// architecture change from the service's edit form; saving again without touching the date keeps the recorded
// time, and "None" detaches the policy.
func TestServiceEditEscalationAndArchitecture(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		ctx := as("ada", firebreak.RoleAdmin)
		statusMust(st.AddContactMethod(ctx, "bob", firebreak.ChannelInput{Kind: firebreak.ChannelEmail,
			Address: "bob@example.com"}))
		statusMust(st.CreateEscalationPolicy(ctx, firebreak.EscalationPolicyInput{Name: "primary",
			Steps: []firebreak.EscalationStep{{Delay: firebreak.Duration(5 * time.Minute),
				Targets: []firebreak.EscalationTarget{{Type: "user", Ref: "bob"}}}}}))
		b := e.browser()
		b.login("ada")
		p := b.get("/services/api/edit")
		wantStatus(t, p, http.StatusOK)
		res := b.submit(p, "form.svc-form", url.Values{"escalation_policy": {"primary"},
			"architecture_changed": {"2026-02-03"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("save: %d %s", res.status, res.text(t, ".alert"))
		}
		svc := statusMust(st.GetService(ctx, "api"))
		want := time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)
		if svc.EscalationPolicy != "primary" || svc.ArchitectureChangedAt == nil || !svc.ArchitectureChangedAt.Equal(want) {
			t.Fatalf("after save: policy %q, architecture %v", svc.EscalationPolicy, svc.ArchitectureChangedAt)
		}

		// A precise time recorded through the API survives a save of the form that shows only its day.
		precise := time.Date(2026, 2, 3, 15, 4, 5, 0, time.UTC)
		statusMust(st.UpdateService(ctx, "api", firebreak.ServicePatch{ArchitectureChangedAt: &precise}, 0))
		p = b.get("/services/api/edit")
		if got := p.attr(t, "#architecture_changed", "value"); got != "2026-02-03" {
			t.Errorf("date shown %q", got)
		}
		res = b.submit(p, "form.svc-form", url.Values{"escalation_policy": {""}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("second save: %d %s", res.status, res.text(t, ".alert"))
		}
		svc = statusMust(st.GetService(ctx, "api"))
		if svc.EscalationPolicy != "" || !svc.ArchitectureChangedAt.Equal(precise) {
			t.Errorf("after second save: policy %q, architecture %v", svc.EscalationPolicy, svc.ArchitectureChangedAt)
		}
		bad := b.submit(b.get("/services/api/edit"), "form.svc-form", url.Values{"architecture_changed": {"03/02/2026"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
	})
}
