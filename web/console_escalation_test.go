package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// An admin adds, edits and deletes an escalation policy in the console; refusals show next to the steps; the
// service page shows the policy; a viewer reads but gets no form.
func TestConsoleEscalationPolicies(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			st := sqltest.Open(t, d)
			e := newConsoleEnv(t, st)
			admin := as("ada", firebreak.RoleAdmin)
			if _, err := st.CreateChannel(admin, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: "bob-mail",
				Address: "bob@example.com", User: "bob"}); err != nil {
				t.Fatal(err)
			}
			b := e.browser()
			b.login("ada")
			p := b.get("/escalation-policies")
			wantStatus(t, p, http.StatusOK)
			if !strings.Contains(p.text(t, ".empty-state"), "No escalation policies yet") {
				t.Fatalf("empty page: %s", p.body)
			}

			// A step nobody can be reached by is refused, with the reason under the steps and the input kept.
			res := b.submit(p, "form.esc-form", url.Values{"name": {"api-primary"},
				"steps": {"5m user:bob\n10m user:alice"}, "repeat": {"1"}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if msg := res.text(t, "form.esc-form .field-error"); !strings.Contains(msg, "Step 2:") ||
				!strings.Contains(msg, "alice has no contact method") {
				t.Fatalf("error shown: %q", msg)
			}
			if got := res.find(t, "#esc-steps").Text(); got != "5m user:bob\n10m user:alice" {
				t.Fatalf("input not kept: %q", got)
			}
			res = b.submit(res, "form.esc-form", url.Values{"steps": {"5m user:bob\nsoon user:bob"}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if msg := res.text(t, "form.esc-form .field-error"); !strings.Contains(msg, "Step 2:") {
				t.Fatalf("parse error shown: %q", msg)
			}

			res = b.submit(res, "form.esc-form", url.Values{"steps": {"5m user:bob\n10m user:bob, user:ada"}})
			wantStatus(t, res, http.StatusSeeOther)
			p = b.get(res.location())
			wantStatus(t, p, http.StatusOK)
			if steps := p.text(t, ".esc-policy .esc-steps"); !strings.Contains(steps, "5m user:bob") ||
				!strings.Contains(steps, "10m user:bob, user:ada") {
				t.Fatalf("steps shown: %q", steps)
			}

			// Edit: the form carries the version; a stale one is refused.
			res = b.submit(p, "form.esc-form", url.Values{"steps": {"1m user:bob"}, "description": {"primary <on-call>"}})
			wantStatus(t, res, http.StatusSeeOther)
			pol, err := st.GetEscalationPolicy(admin, "api-primary")
			if err != nil || len(pol.Steps) != 1 || pol.Version != 2 || pol.Description != "primary <on-call>" {
				t.Fatalf("after the edit: %+v %v", pol, err)
			}
			res = b.submit(p, "form.esc-form", url.Values{"steps": {"2m user:bob"}}) // p still has version 1
			wantStatus(t, res, http.StatusPreconditionFailed)

			// Attached to a service, the service page shows it and it cannot be deleted.
			if _, err := st.UpdateService(admin, "api", firebreak.ServicePatch{EscalationPolicy: new("api-primary")},
				0); err != nil {
				t.Fatal(err)
			}
			sp := b.get("/services/api")
			wantStatus(t, sp, http.StatusOK)
			if got := sp.attr(t, ".svc-escalation a", "href"); got != "/escalation-policies/api-primary" {
				t.Fatalf("service page link %q", got)
			}
			p = b.get("/escalation-policies/" + pol.ID)
			if p.find(t, "form.esc-delete").Length() != 0 || !strings.Contains(p.text(t, ".facts"), "api") {
				t.Fatal("a policy in use offers deletion or hides its services")
			}
			if _, err := st.UpdateService(admin, "api", firebreak.ServicePatch{EscalationPolicy: new("")}, 0); err != nil {
				t.Fatal(err)
			}

			// A viewer reads the list and the policy, with no form.
			v := e.browser()
			v.login("vera")
			vp := v.get("/escalation-policies")
			wantStatus(t, vp, http.StatusOK)
			if vp.find(t, "form.esc-form").Length() != 0 || !strings.Contains(vp.text(t, ".esc-row"), "api-primary") {
				t.Fatalf("viewer page: %s", vp.body)
			}
			wantStatus(t, v.post("/escalation-policies", url.Values{"name": {"x"}}), http.StatusForbidden)

			p = b.get("/escalation-policies/" + pol.ID)
			res = b.submit(p, "form.esc-delete", nil)
			wantStatus(t, res, http.StatusSeeOther)
			if _, err := st.GetEscalationPolicy(admin, pol.ID); firebreak.ErrorCode(err) != firebreak.ENotFound {
				t.Fatalf("not deleted: %v", err)
			}
			wantStatus(t, b.get("/escalation-policies/"+pol.ID), http.StatusNotFound)
		})
	}
}
