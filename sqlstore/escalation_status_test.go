package sqlstore_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

// Where an incident's escalation stands, step by step: the current step and whom it paged, the next one with
// whom it will page and when (the rotation's person on call then), the wrap to the next round, and after the
// acknowledgement who stopped it.
func TestIncidentEscalationStatus(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		escWorld(t, s)
		s.SetEscalationSettings(firebreak.DefaultEscalationCriteria(), firebreak.DefaultSeverityPolicies())
		policy(t, s, "checkout", 1, step(5*time.Minute, "user:bob"),
			step(10*time.Minute, "schedule:primary", "user:carol"))
		must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new("checkout")}, 0))
		service(t, s, "quiet", "")

		// A service without a policy: nothing pages.
		q := declare(t, s, "Quiet", firebreak.SEV3, "quiet")
		st := must(s.IncidentEscalation(ctx0, q.Reference))
		if st.State != firebreak.EscalationNone || len(st.Running) != 0 || len(st.Policies) != 0 ||
			len(st.Ended) != 0 {
			t.Fatalf("no policy: %+v", st)
		}

		declaredAt := c.Now()
		inc := declare(t, s, "Checkout down", firebreak.SEV1, "api")
		st = must(s.IncidentEscalation(ctx0, inc.Reference))
		if st.State != firebreak.EscalationRunning || !slices.Equal(st.Policies, []string{"checkout"}) ||
			len(st.Running) != 1 || !st.AsOf.Equal(c.Now()) {
			t.Fatalf("running: %+v", st)
		}
		run := st.Running[0]
		if run.Policy != "checkout" || run.Steps != 2 || run.Rounds != 2 || !run.NextAt.Equal(declaredAt.Add(5*time.Minute)) {
			t.Fatalf("run %+v", run)
		}
		cur, next := run.Current, run.Next
		if cur == nil || cur.Step != 1 || cur.Round != 1 || !slices.Equal(cur.Paged, []string{"bob"}) ||
			cur.PagedAt == nil || !cur.PagedAt.Equal(declaredAt) || cur.TargetsText() != "user bob" {
			t.Fatalf("current %+v", cur)
		}
		if next == nil || next.Step != 2 || next.Round != 1 || time.Duration(next.Delay) != 10*time.Minute ||
			next.PagedAt != nil || !slices.Equal(next.Paged, []string{"bob (on call on primary)"}) ||
			len(next.Unreachable) != 1 || !strings.Contains(next.Unreachable[0], "carol: no contact method") {
			t.Fatalf("next %+v", next)
		}
		if got := next.TargetsText(); got != "schedule primary (on call: bob) and user carol" {
			t.Errorf("next targets %q", got)
		}
		// The severity criteria armed for a SEV1 are listed with their due times.
		if len(st.Criteria) == 0 || st.Criteria[0].Criterion != firebreak.CriterionUnacknowledged ||
			st.Criteria[0].DueAt == nil || !st.Criteria[0].DueAt.Equal(declaredAt.Add(5*time.Minute)) ||
			st.Criteria[0].Description == "" {
			t.Fatalf("criteria %+v", st.Criteria)
		}

		// Step 2 fires: it is current; next is round 2's first step.
		c.Advance(5 * time.Minute)
		runDue(t, s, c)
		run = must(s.IncidentEscalation(ctx0, inc.Reference)).Running[0]
		if run.Current.Step != 2 || run.Current.Round != 1 || !slices.Equal(run.Current.Paged,
			[]string{"bob (on call on primary)"}) || len(run.Current.Unreachable) != 1 ||
			!slices.Equal(run.Current.Targets[0].OnCall, []string{"bob"}) {
			t.Fatalf("current after step 2 %+v", run.Current)
		}
		if run.Next == nil || run.Next.Step != 1 || run.Next.Round != 2 || !run.NextAt.Equal(c.Now().Add(10*time.Minute)) {
			t.Fatalf("next after step 2 %+v at %v", run.Next, run.NextAt)
		}

		// The last step of the last round: nothing pages next, the escalation is exhausted at NextAt.
		c.Advance(10 * time.Minute)
		runDue(t, s, c)
		c.Advance(5 * time.Minute)
		runDue(t, s, c)
		run = must(s.IncidentEscalation(ctx0, inc.Reference)).Running[0]
		if run.Current.Step != 2 || run.Current.Round != 2 || run.Next != nil ||
			!run.NextAt.Equal(c.Now().Add(10*time.Minute)) {
			t.Fatalf("last step: %+v next %+v", run.Current, run.Next)
		}

		// Acknowledged: stopped, by whom.
		c.Advance(time.Minute)
		must(s.AcknowledgeIncident(alice, inc.Reference, 0))
		st = must(s.IncidentEscalation(ctx0, inc.Reference))
		if st.State != firebreak.EscalationStopped || len(st.Running) != 0 || len(st.Ended) != 1 ||
			st.AcknowledgedAt == nil || !st.AcknowledgedAt.Equal(c.Now()) {
			t.Fatalf("acknowledged: %+v", st)
		}
		if e := st.Ended[0]; e.Policy != "checkout" || e.By != "alice" || e.Reason != "acknowledged by alice" ||
			!e.At.Equal(c.Now()) || !strings.Contains(e.Message, "stopped after step 2 of round 2") {
			t.Fatalf("ended %+v", e)
		}
		for _, cr := range st.Criteria {
			if cr.Criterion == firebreak.CriterionUnacknowledged && (cr.FiredAt == nil || cr.DueAt != nil) {
				t.Errorf("the unacknowledged criterion fired and is done: %+v", cr)
			}
		}

		// Nobody acknowledges: exhausted.
		s.SetEscalationSettings(firebreak.EscalationCriteria{}, firebreak.DefaultSeverityPolicies())
		inc2 := declare(t, s, "Again", firebreak.SEV2, "api")
		for range 4 {
			c.Advance(10 * time.Minute)
			runDue(t, s, c)
		}
		st = must(s.IncidentEscalation(ctx0, inc2.Reference))
		if st.State != firebreak.EscalationExhausted || len(st.Ended) != 1 || st.Ended[0].State !=
			firebreak.EscalationExhausted || st.Ended[0].By != "" || st.AcknowledgedAt != nil {
			t.Fatalf("exhausted: %+v", st)
		}

		// Declared already acknowledged: the policy never starts, and says why.
		inc3 := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Handled", Severity: firebreak.SEV1,
			Services: []string{"api"}, Status: firebreak.StatusInvestigating}))
		st = must(s.IncidentEscalation(ctx0, inc3.Reference))
		if st.State != firebreak.EscalationStopped || len(st.Ended) != 1 ||
			st.Ended[0].Reason != "acknowledged at declaration" || st.Ended[0].Policy != "checkout" {
			t.Fatalf("not started: %+v", st)
		}
		_, err := s.IncidentEscalation(ctx0, "INC-99")
		wantCode(t, err, firebreak.ENotFound)
	})
}
