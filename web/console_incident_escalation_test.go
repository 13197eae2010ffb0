package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// The incident page's escalation panel, as served (the browser journey is escalation_browser_test.go): a viewer
// sees the step that paged and the next one, whom it pages (unreachable targets named) and when; after the
// acknowledgement, who stopped it; an incident of a service without a policy says so.
func TestConsoleEscalationPanel(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		ada := as("ada", firebreak.RoleAdmin)
		if _, err := st.CreateChannel(ada, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: "bob-mail",
			Address: "bob@example.com", User: "bob"}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateEscalationPolicy(ada, firebreak.EscalationPolicyInput{Name: "api-paging", Repeat: 1,
			Steps: []firebreak.EscalationStep{
				{Delay: firebreak.Duration(5 * time.Minute), Targets: []firebreak.EscalationTarget{{Type: "user", Ref: "bob"}}},
				{Delay: firebreak.Duration(10 * time.Minute), Targets: []firebreak.EscalationTarget{
					{Type: "user", Ref: "alice"}, {Type: "user", Ref: "bob"}}},
			}}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UpdateService(ada, "api", firebreak.ServicePatch{EscalationPolicy: new("api-paging")}, 0); err != nil {
			t.Fatal(err)
		}
		inc, err := st.DeclareIncident(as("bob", firebreak.RoleResponder), firebreak.DeclareInput{
			Title: "Public API returns 503", Severity: firebreak.SEV3, Services: []string{"api"}})
		if err != nil {
			t.Fatal(err)
		}
		vera := e.browser()
		vera.login("vera")
		p := vera.get("/incidents/" + inc.Reference)
		wantStatus(t, p, http.StatusOK)
		if state := p.find(t, "#escalation").AttrOr("data-state", ""); state != "running" {
			t.Fatalf("panel state %q", state)
		}
		if got := p.text(t, "#escalation .esc-current"); !strings.HasPrefix(got, "Step 1 of 2 (round 1 of 2) paged bob at ") {
			t.Errorf("current %q", got)
		}
		if got := p.text(t, "#escalation .esc-next-step"); got != "Step 2 of 2 (round 1 of 2) pages user alice and user bob" {
			t.Errorf("next %q", got)
		}
		if got := p.text(t, "#escalation .esc-next"); !strings.Contains(got, "in 4m — unless someone acknowledges.") ||
			!strings.Contains(got, "Unreachable then: alice: no contact method.") {
			t.Errorf("next line %q", got)
		}

		bob := e.browser()
		bob.login("bob")
		wantStatus(t, bob.submit(bob.get("/incidents/"+inc.Reference), "form.ack-form", nil), http.StatusSeeOther)
		p = vera.get("/incidents/" + inc.Reference)
		if state := p.find(t, "#escalation").AttrOr("data-state", ""); state != "stopped" || p.find(t, "#escalation .esc-next").Length() != 0 {
			t.Fatalf("after the acknowledgement: state %q, %s", state, p.text(t, "#escalation"))
		}
		if got := p.text(t, "#escalation .esc-ended"); !strings.HasPrefix(got,
			"Escalation stopped (policy api-paging): acknowledged by bob at ") {
			t.Errorf("ended %q", got)
		}

		quiet, err := st.DeclareIncident(as("bob", firebreak.RoleResponder), firebreak.DeclareInput{
			Title: "Slow queries", Severity: firebreak.SEV3, Services: []string{"db"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := vera.get("/incidents/"+quiet.Reference).text(t, "#escalation .esc-none"); got !=
			"No escalation policy: none of the affected services has one." {
			t.Errorf("no policy: %q", got)
		}
	})
}
