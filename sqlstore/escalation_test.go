package sqlstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
)

var escAdmin = as("admin", firebreak.RoleAdmin)

// escWorld creates users with and without contact methods, a schedule bob is on, one nobody is on, an enabled
// and a disabled channel, and service "api".
func escWorld(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	for _, u := range []string{"bob", "carol", "ic", "cto"} {
		must(s.CreateUser(escAdmin, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}))
	}
	for _, u := range []string{"bob", "ic", "cto"} { // carol has no contact method
		must(s.CreateChannel(escAdmin, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: u + "-mail",
			Address: u + "@example.com", User: u}))
	}
	must(s.CreateChannel(escAdmin, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: "ops-pager",
		URL: "http://127.0.0.1:9/hook", Secret: "0123456789abcdef"}))
	must(s.CreateChannel(escAdmin, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: "old-pager",
		URL: "http://127.0.0.1:9/old", Secret: "0123456789abcdef", Enabled: new(false)}))
	must(s.CreateSchedule(escAdmin, firebreak.ScheduleInput{Name: "primary", TimeZone: "UTC",
		Layers: []firebreak.Layer{{Name: "l", Rotation: firebreak.RotationWeekly, Start: "2025-01-06",
			HandoffTime: "09:00", Participants: []string{"bob"}}}}))
	must(s.CreateSchedule(escAdmin, firebreak.ScheduleInput{Name: "carol-only", TimeZone: "UTC",
		Layers: []firebreak.Layer{{Name: "l", Rotation: firebreak.RotationWeekly, Start: "2025-01-06",
			HandoffTime: "09:00", Participants: []string{"carol"}}}}))
	service(t, s, "api", "payments")
}

func step(delay time.Duration, targets ...string) firebreak.EscalationStep {
	st := firebreak.EscalationStep{Delay: firebreak.Duration(delay)}
	for _, x := range targets {
		tg, err := firebreak.ParseEscalationTarget(x)
		if err != nil {
			panic(err)
		}
		st.Targets = append(st.Targets, tg)
	}
	return st
}

func policy(t *testing.T, s *sqlstore.Store, name string, repeat int, steps ...firebreak.EscalationStep) *firebreak.EscalationPolicy {
	t.Helper()
	return must(s.CreateEscalationPolicy(escAdmin, firebreak.EscalationPolicyInput{Name: name, Repeat: repeat,
		Steps: steps}))
}

// runDue claims and fires every escalation step and criterion due at the clock's time, like one engine round.
func runDue(t *testing.T, s *sqlstore.Store, c *fakeClock) int {
	t.Helper()
	n := 0
	for {
		cs := must(s.ClaimEscalations(context.Background(), c.Now(), 30*time.Second, 100))
		if len(cs) == 0 {
			return n
		}
		for _, cl := range cs {
			if err := s.FireEscalation(context.Background(), cl, c.Now()); err != nil {
				t.Fatal(err)
			}
		}
		n += len(cs)
	}
}

func escEvents(t *testing.T, s *sqlstore.Store, ref string, k firebreak.EventKind) []firebreak.TimelineEvent {
	t.Helper()
	var out []firebreak.TimelineEvent
	for _, e := range timeline(t, s, ref) {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func pagesTo(t *testing.T, s *sqlstore.Store, ref string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, n := range must(s.ListNotifications(escAdmin, firebreak.NotificationFilter{Incident: ref, Limit: 500})) {
		if n.Kind == string(notify.KindPage) {
			out[n.Channel]++
		}
	}
	return out
}

func TestEscalationPolicyCRUD(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		escWorld(t, s)
		sched := must(s.ListSchedules(escAdmin, firebreak.ScheduleFilter{}))[1] // carol-only, primary
		p := policy(t, s, "checkout", 2, step(5*time.Minute, "schedule:primary", "user:carol"),
			step(10*time.Minute, "channel:ops-pager", "user:IC"))
		if p.ID == "" || p.Version != 1 || p.Repeat != 2 || len(p.Steps) != 2 || len(p.Services) != 0 {
			t.Fatalf("created %+v", p)
		}
		t0 := p.Steps[0].Targets[0]
		if t0.Type != firebreak.TargetSchedule || t0.Ref != "primary" || t0.ID == "" {
			t.Errorf("schedule target %+v", t0)
		}
		if u := p.Steps[1].Targets[1]; u.Ref != "ic" || u.ID != "" {
			t.Errorf("user target %+v (usernames are read lower-case, without an id)", u)
		}
		if d := time.Duration(p.Steps[1].Delay); d != 10*time.Minute {
			t.Errorf("delay %v", d)
		}
		// A schedule may be named by its id; the id wins over the ref.
		byID := policy(t, s, "by-id", 0, firebreak.EscalationStep{Delay: firebreak.Duration(time.Minute),
			Targets: []firebreak.EscalationTarget{{Type: firebreak.TargetSchedule, Ref: "whatever", ID: sched.ID}}})
		if byID.Steps[0].Targets[0].ID != sched.ID || byID.Steps[0].Targets[0].Ref != "primary" {
			t.Errorf("by id: %+v", byID.Steps[0].Targets)
		}

		got := must(s.GetEscalationPolicy(ctx0, "checkout"))
		if got.ID != p.ID || len(got.Steps[1].Targets) != 2 {
			t.Fatalf("get by name %+v", got)
		}
		if all := must(s.ListEscalationPolicies(ctx0)); len(all) != 2 || all[0].Name != "by-id" {
			t.Fatalf("list %+v", all)
		}
		_, err := s.CreateEscalationPolicy(escAdmin, firebreak.EscalationPolicyInput{Name: "checkout",
			Steps: []firebreak.EscalationStep{step(time.Minute, "user:bob")}})
		wantCode(t, err, firebreak.EConflict)

		c.Advance(time.Minute)
		up := must(s.UpdateEscalationPolicy(escAdmin, p.ID, firebreak.EscalationPolicyPatch{
			Steps: &[]firebreak.EscalationStep{step(time.Minute, "user:bob")}, Description: new("pages bob")}, 1))
		if up.Version != 2 || len(up.Steps) != 1 || up.Description != "pages bob" || up.Repeat != 2 ||
			!up.UpdatedAt.After(p.UpdatedAt) {
			t.Fatalf("updated %+v", up)
		}
		_, err = s.UpdateEscalationPolicy(escAdmin, p.ID, firebreak.EscalationPolicyPatch{Repeat: new(0)}, 1)
		wantCode(t, err, firebreak.EPreconditionFailed)
		_, err = s.UpdateEscalationPolicy(escAdmin, p.ID, firebreak.EscalationPolicyPatch{Name: new("by-id")}, 0)
		wantCode(t, err, firebreak.EConflict)
		_, err = s.GetEscalationPolicy(ctx0, "nope")
		wantCode(t, err, firebreak.ENotFound)

		// Attached to a service: shown on it, counted on the policy, not deletable.
		before := must(s.GetService(ctx0, "api"))
		sv := must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new(p.ID)}, before.Version))
		if sv.EscalationPolicy != "checkout" || sv.Version != before.Version+1 {
			t.Fatalf("service after attaching: %+v", sv)
		}
		if again := must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new("checkout")},
			0)); again.Version != sv.Version {
			t.Errorf("re-attaching the same policy bumped the version")
		}
		if l := must(s.ListServices(ctx0, firebreak.ServiceFilter{})); l.Items[0].EscalationPolicy != "checkout" {
			t.Errorf("list services %+v", l.Items[0])
		}
		if got := must(s.GetEscalationPolicy(ctx0, "checkout")); len(got.Services) != 1 || got.Services[0] != "api" {
			t.Errorf("policy services %v", got.Services)
		}
		_, err = s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new("nope")}, 0)
		wantField(t, err, "escalation_policy", "unknown escalation policy")
		wantCode(t, s.DeleteEscalationPolicy(escAdmin, "checkout"), firebreak.EConflict)
		sv = must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new("")}, 0))
		if sv.EscalationPolicy != "" {
			t.Fatalf("detached: %+v", sv)
		}
		must(0, s.DeleteEscalationPolicy(escAdmin, "checkout"))
		_, err = s.GetEscalationPolicy(ctx0, p.ID)
		wantCode(t, err, firebreak.ENotFound)

		// Deleting a channel or schedule a step names takes it out of the step.
		two := policy(t, s, "two", 0, step(time.Minute, "channel:ops-pager", "user:bob"))
		must(0, s.DeleteChannel(escAdmin, "ops-pager"))
		if got := must(s.GetEscalationPolicy(ctx0, two.ID)); len(got.Steps[0].Targets) != 1 ||
			got.Steps[0].Targets[0].Ref != "bob" {
			t.Errorf("after deleting the channel: %+v", got.Steps[0].Targets)
		}
	})
}

var ctx0 = context.Background()

func TestEscalationPolicyRefusesBadInput(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		escWorld(t, s)
		create := func(steps ...firebreak.EscalationStep) error {
			_, err := s.CreateEscalationPolicy(escAdmin, firebreak.EscalationPolicyInput{Name: "p", Steps: steps})
			return err
		}
		// Unknown targets are named by field.
		wantField(t, create(step(time.Minute, "user:bob", "user:zed")), "steps[0].targets[1].ref", `unknown user "zed"`)
		wantField(t, create(step(time.Minute, "user:bob"), step(time.Minute, "schedule:nights")),
			"steps[1].targets[0].ref", `unknown schedule "nights"`)
		wantField(t, create(step(time.Minute, "channel:nope")), "steps[0].targets[0].ref", `unknown channel "nope"`)
		// A step nobody can be reached by is refused, naming the step and why.
		err := create(step(time.Minute, "user:bob"), step(time.Minute, "user:carol", "schedule:carol-only",
			"channel:old-pager"))
		wantField(t, err, "steps[1].targets", "step 2 has no reachable target")
		for _, why := range []string{"carol has no contact method", "nobody on call on schedule carol-only has a " +
			"contact method", "channel old-pager is disabled"} {
			wantField(t, err, "steps[1].targets", why)
		}
		must(s.UpdateSchedule(escAdmin, must(s.ListSchedules(ctx0, firebreak.ScheduleFilter{}))[0].ID,
			firebreak.ScheduleInput{Name: "carol-only", TimeZone: "UTC", Layers: []firebreak.Layer{{Name: "l",
				Rotation: firebreak.RotationWeekly, Start: "2030-01-07", HandoffTime: "09:00",
				Participants: []string{"bob"}}}}, 0))
		wantField(t, create(step(time.Minute, "schedule:carol-only")), "steps[0].targets",
			"nobody is on call on schedule carol-only in the next 7 days")
		// One reachable target is enough.
		must(s.CreateEscalationPolicy(escAdmin, firebreak.EscalationPolicyInput{Name: "ok",
			Steps: []firebreak.EscalationStep{step(time.Minute, "user:carol", "channel:ops-pager")}}))
		// Plain validation.
		wantField(t, create(), "steps", "at least one step")
		wantField(t, create(step(0, "user:bob")), "steps[0].delay", "between")
		wantField(t, create(firebreak.EscalationStep{Delay: firebreak.Duration(time.Minute),
			Targets: []firebreak.EscalationTarget{{Type: "team", Ref: "x"}}}), "steps[0].targets[0].type", "user, schedule, channel")
		wantField(t, create(step(time.Minute)), "steps[0].targets", "at least one target")
		wantField(t, create(step(time.Minute, "user:bob", "user:bob")), "steps[0].targets[1]", "twice")
		_, err = s.CreateEscalationPolicy(escAdmin, firebreak.EscalationPolicyInput{Name: " ", Repeat: 10,
			Steps: []firebreak.EscalationStep{step(time.Minute, "user:bob")}})
		wantField(t, err, "name", "required")
		wantField(t, err, "repeat", "0 to 9")
		if ps := must(s.ListEscalationPolicies(ctx0)); len(ps) != 1 {
			t.Errorf("refused policies were stored: %d", len(ps))
		}
	})
}

// Declaring starts the service's policy in the same transaction (the first step is paged at once); the steps
// follow their delays; acknowledging stops it there and then.
func TestEscalationStartsAndStopsWithTheIncident(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		escWorld(t, s)
		s.SetEscalationSettings(firebreak.EscalationCriteria{}, firebreak.DefaultSeverityPolicies())
		policy(t, s, "checkout", 0, step(5*time.Minute, "schedule:primary", "user:carol"),
			step(5*time.Minute, "user:ic"))
		must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new("checkout")}, 0))

		inc := declare(t, s, "Checkout down", firebreak.SEV1, "api")
		paged := escEvents(t, s, inc.Reference, firebreak.EventEscalationPaged)
		if len(paged) != 1 || paged[0].Data["paged"] != "bob (on call on primary)" ||
			!strings.Contains(paged[0].Data["unreachable"], "carol") {
			t.Fatalf("declaration paged %+v", paged)
		}
		if p := pagesTo(t, s, inc.Reference); p["bob-mail"] != 1 || len(p) != 1 {
			t.Fatalf("pages queued %v", p)
		}
		if runDue(t, s, c) != 0 {
			t.Fatal("something was due at once")
		}
		c.Advance(5 * time.Minute)
		runDue(t, s, c)
		if p := pagesTo(t, s, inc.Reference); p["ic-mail"] != 1 {
			t.Fatalf("step 2 pages %v", p)
		}
		must(s.AcknowledgeIncident(alice, inc.Reference, 0))
		stopped := escEvents(t, s, inc.Reference, firebreak.EventEscalationStopped)
		if len(stopped) != 1 || !strings.Contains(stopped[0].Message, "acknowledged by alice") {
			t.Fatalf("stop events %+v", stopped)
		}
		c.Advance(time.Hour)
		if runDue(t, s, c) != 0 || len(escEvents(t, s, inc.Reference, firebreak.EventEscalationExhausted)) != 0 {
			t.Fatal("the escalation went on after the acknowledgement")
		}

		// Resolving stops it too; so does assigning a commander (which acknowledges).
		inc2 := declare(t, s, "Again", firebreak.SEV2, "api")
		must(s.ChangeStatus(alice, inc2.Reference, firebreak.StatusCancelled, "false alarm", 0))
		if st := escEvents(t, s, inc2.Reference, firebreak.EventEscalationStopped); len(st) != 1 ||
			!strings.Contains(st[0].Message, "the incident is cancelled") {
			t.Fatalf("cancel: %+v", st)
		}
		inc3 := declare(t, s, "Third", firebreak.SEV2, "api")
		must(s.AssignRole(alice, inc3.Reference, firebreak.RoleCommander, "ic", 0))
		if st := escEvents(t, s, inc3.Reference, firebreak.EventEscalationStopped); len(st) != 1 ||
			!strings.Contains(st[0].Message, "ic is the incident commander") {
			t.Fatalf("commander: %+v", st)
		}

		// An incident declared already acknowledged (working on it) pages nobody, and says so.
		inc4 := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Handled", Severity: firebreak.SEV1,
			Services: []string{"api"}, Status: firebreak.StatusInvestigating}))
		if len(escEvents(t, s, inc4.Reference, firebreak.EventEscalationPaged)) != 0 ||
			len(escEvents(t, s, inc4.Reference, firebreak.EventEscalationStopped)) != 1 {
			t.Fatalf("declared investigating: %v", kinds(timeline(t, s, inc4.Reference)))
		}
		// A service without a policy pages nobody.
		service(t, s, "quiet", "")
		q := declare(t, s, "Quiet", firebreak.SEV1, "quiet")
		if len(escEvents(t, s, q.Reference, firebreak.EventEscalationPaged)) != 0 {
			t.Fatal("a service without a policy paged")
		}
		// Adding a service with a policy to an unacknowledged incident starts that policy; a later edit of the
		// services does not start it again.
		must(s.UpdateIncident(alice, q.Reference, firebreak.IncidentPatch{Services: &[]string{"quiet", "api"}}, 0))
		must(s.UpdateIncident(alice, q.Reference, firebreak.IncidentPatch{Services: &[]string{"api"}}, 0))
		if p := escEvents(t, s, q.Reference, firebreak.EventEscalationPaged); len(p) != 1 {
			t.Fatalf("after adding api: %d paged events", len(p))
		}
		// Deleting a policy stops what runs with it.
		inc5 := declare(t, s, "Fifth", firebreak.SEV1, "api")
		must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new("")}, 0))
		must(0, s.DeleteEscalationPolicy(escAdmin, "checkout"))
		if st := escEvents(t, s, inc5.Reference, firebreak.EventEscalationStopped); len(st) != 1 ||
			!strings.Contains(st[0].Message, "deleted") {
			t.Fatalf("policy deleted: %+v", st)
		}
	})
}

// An alert that opens an incident starts the policy in the ingest transaction; PagerDuty's acknowledge stops it.
func TestEscalationFromAlerts(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		escWorld(t, s)
		policy(t, s, "checkout", 0, step(5*time.Minute, "user:bob"), step(5*time.Minute, "user:ic"))
		must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new("checkout")}, 0))
		g := must(s.CreateIntegration(escAdmin, firebreak.IntegrationInput{Service: "api",
			Kind: firebreak.IntegrationPagerDuty}))
		a := must(s.IngestAlerts(ctx0, g.ID, []firebreak.AlertEvent{{Action: "trigger", DedupKey: "db",
			Summary: "db down", Severity: firebreak.AlertCritical}}))
		inc := must(s.GetIncident(ctx0, "INC-1"))
		if a[0].IncidentID != inc.ID {
			t.Fatalf("alert not routed: %+v", a[0])
		}
		if p := escEvents(t, s, inc.Reference, firebreak.EventEscalationPaged); len(p) != 1 || p[0].Data["paged"] != "bob" {
			t.Fatalf("paged %+v", p)
		}
		c.Advance(time.Minute)
		must(s.IngestAlerts(ctx0, g.ID, []firebreak.AlertEvent{{Action: "acknowledge", DedupKey: "db",
			Severity: firebreak.AlertCritical}}))
		if st := escEvents(t, s, inc.Reference, firebreak.EventEscalationStopped); len(st) != 1 {
			t.Fatalf("PagerDuty acknowledge did not stop the escalation: %v", kinds(timeline(t, s, inc.Reference)))
		}
		c.Advance(time.Hour)
		if n := runDue(t, s, c); len(pagesTo(t, s, inc.Reference)) != 1 {
			t.Fatalf("paged after the acknowledgement (%d fired): %v", n, pagesTo(t, s, inc.Reference))
		}
	})
}

// Two engines claim the same step (the first one's lease ran out while it was still working): it fires once.
func TestEscalationStepFiresOnce(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		escWorld(t, s)
		s.SetEscalationSettings(firebreak.EscalationCriteria{}, firebreak.DefaultSeverityPolicies())
		policy(t, s, "checkout", 0, step(time.Minute, "user:bob"), step(time.Minute, "user:ic"))
		must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{EscalationPolicy: new("checkout")}, 0))
		inc := declare(t, s, "Down", firebreak.SEV1, "api")
		c.Advance(time.Minute)
		first := must(s.ClaimEscalations(ctx0, c.Now(), 30*time.Second, 10))
		if len(first) != 1 || first[0].Step != 1 {
			t.Fatalf("claimed %+v", first)
		}
		if again := must(s.ClaimEscalations(ctx0, c.Now(), 30*time.Second, 10)); len(again) != 0 {
			t.Fatalf("a leased step was claimed again: %+v", again)
		}
		if next := must(s.NextEscalationDue(ctx0)); !next.Equal(c.Now().Add(30 * time.Second)) {
			t.Errorf("a leased step is due at %v, want the lease's end", next)
		}
		c.Advance(31 * time.Second) // the lease ran out: another engine takes it
		second := must(s.ClaimEscalations(ctx0, c.Now(), 30*time.Second, 10))
		if len(second) != 1 {
			t.Fatalf("the expired lease was not claimable: %+v", second)
		}
		must(0, s.FireEscalation(ctx0, second[0], c.Now()))
		must(0, s.FireEscalation(ctx0, first[0], c.Now()))
		if p := pagesTo(t, s, inc.Reference); p["ic-mail"] != 1 {
			t.Fatalf("step 2 paged %v, want ic once", p)
		}
		if n := len(escEvents(t, s, inc.Reference, firebreak.EventEscalationPaged)); n != 2 {
			t.Fatalf("%d paged events, want 2", n)
		}
	})
}

// The runbook's criteria: each fires once, tells the commander (or leadership when there is none), and follows
// the incident's state.
func TestEscalationCriteria(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		escWorld(t, s)
		crit := firebreak.DefaultEscalationCriteria()
		crit.Commander = []firebreak.EscalationTarget{{Type: firebreak.TargetSchedule, Ref: "primary"}}
		crit.Leadership = []firebreak.EscalationTarget{{Type: firebreak.TargetUser, Ref: "cto"},
			{Type: firebreak.TargetUser, Ref: "ghost"}}
		s.SetEscalationSettings(crit, firebreak.DefaultSeverityPolicies())
		criteria := func(ref string) []string {
			var out []string
			for _, e := range escEvents(t, s, ref, firebreak.EventEscalationCriterion) {
				out = append(out, e.Data["criterion"]+"→"+e.Data["paged"])
			}
			return out
		}

		// SEV1, nobody acknowledges: the commander (schedule) at 5 min, leadership at 10 min.
		a := declare(t, s, "Unanswered", firebreak.SEV1, "api")
		c.Advance(4 * time.Minute)
		runDue(t, s, c)
		if got := criteria(a.Reference); len(got) != 0 {
			t.Fatalf("fired early: %v", got)
		}
		c.Advance(time.Minute)
		runDue(t, s, c)
		c.Advance(5 * time.Minute)
		runDue(t, s, c)
		got := criteria(a.Reference)
		if len(got) != 2 || got[0] != "unacknowledged→bob (on call on primary)" ||
			got[1] != "unacknowledged_leadership→cto" {
			t.Fatalf("criteria %v", got)
		}
		lead := escEvents(t, s, a.Reference, firebreak.EventEscalationCriterion)[1]
		if !strings.Contains(lead.Data["unreachable"], "ghost") {
			t.Errorf("an unknown leadership target is not reported: %+v", lead.Data)
		}

		// Acknowledged in time (a commander assigned): no unacknowledged criterion; it goes stale after 30
		// minutes without a status change, and the commander hears of it.
		b := declare(t, s, "Slow", firebreak.SEV2, "api")
		must(s.AssignRole(alice, b.Reference, firebreak.RoleCommander, "ic", 0))
		c.Advance(20 * time.Minute)
		must(s.ChangeStatus(alice, b.Reference, firebreak.StatusIdentified, "", 0)) // progress re-arms it
		c.Advance(29 * time.Minute)
		runDue(t, s, c)
		if got := criteria(b.Reference); len(got) != 0 {
			t.Fatalf("fired before 30 min without a status change: %v", got)
		}
		c.Advance(time.Minute)
		runDue(t, s, c)
		// …and at 60 minutes after declaration, it has been running over an hour.
		c.Advance(11 * time.Minute)
		runDue(t, s, c)
		if got := criteria(b.Reference); strings.Join(got, " ") != "stale_status→ic long_running→ic" {
			t.Fatalf("criteria %v", got)
		}
		// Mitigating for 15 minutes without resolution; once only, even after another round of mitigating.
		must(s.ChangeStatus(alice, b.Reference, firebreak.StatusMitigating, "rolling back", 0))
		c.Advance(15 * time.Minute)
		runDue(t, s, c)
		must(s.ChangeStatus(alice, b.Reference, firebreak.StatusInvestigating, "did not help", 0))
		must(s.ChangeStatus(alice, b.Reference, firebreak.StatusMitigating, "failing over", 0))
		c.Advance(time.Hour)
		runDue(t, s, c)
		if got := criteria(b.Reference); strings.Join(got, " ") != "stale_status→ic long_running→ic mitigation_stalled→ic" {
			t.Fatalf("criteria %v", got)
		}

		// Resolved in time: nothing fires. A SEV3 is not watched by default.
		d := declare(t, s, "Quick", firebreak.SEV2, "api")
		e := declare(t, s, "Minor", firebreak.SEV3, "api")
		c.Advance(2 * time.Minute)
		must(s.ChangeStatus(alice, d.Reference, firebreak.StatusResolved, "", 0))
		c.Advance(3 * time.Hour)
		runDue(t, s, c)
		if len(criteria(d.Reference)) != 0 || len(criteria(e.Reference)) != 0 {
			t.Fatalf("fired for a resolved or a SEV3 incident: %v %v", criteria(d.Reference), criteria(e.Reference))
		}
		// Raised to SEV1, the SEV3 starts being watched from its declaration.
		must(s.UpdateIncident(alice, e.Reference, firebreak.IncidentPatch{Severity: ptr(firebreak.SEV1)}, 0))
		runDue(t, s, c)
		if got := criteria(e.Reference); len(got) != 4 { // unacknowledged (both), stale, long running
			t.Fatalf("after raising to SEV1: %v", got)
		}
		if next := must(s.NextEscalationDue(ctx0)); !next.IsZero() {
			t.Errorf("criteria left due at %v", next)
		}
	})
}

// With nobody configured and no commander, a criterion falls back to the incident's announcement channels.
func TestEscalationCriterionFallsBackToChannels(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		escWorld(t, s)
		must(s.UpdateService(escAdmin, "api", firebreak.ServicePatch{Channels: &[]string{"ops-pager"}}, 0))
		inc := declare(t, s, "Nobody home", firebreak.SEV1, "api") // default criteria, nobody configured
		c.Advance(5 * time.Minute)
		runDue(t, s, c)
		evs := escEvents(t, s, inc.Reference, firebreak.EventEscalationCriterion)
		if len(evs) != 1 || !strings.Contains(evs[0].Message, "announcement channel") {
			t.Fatalf("criterion events %+v", evs)
		}
		if p := pagesTo(t, s, inc.Reference); p["ops-pager"] != 1 {
			t.Fatalf("pages %v", p)
		}
	})
}
