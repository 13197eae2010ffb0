package firebreak_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/firebreak/firebreak"
)

var t0 = time.Date(2026, 5, 15, 14, 30, 0, 0, time.UTC)

func declare(t *testing.T, in firebreak.DeclareInput) (firebreak.Incident, []firebreak.TimelineEvent) {
	t.Helper()
	if err := in.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return firebreak.NewIncident(in, "alice", t0)
}

func TestDeclareDefaultsAndMilestones(t *testing.T) {
	impact := t0.Add(-15 * time.Minute)
	inc, evs := declare(t, firebreak.DeclareInput{Title: " Checkout failing ", Severity: firebreak.SEV1,
		ImpactStartedAt: &impact, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "bob"}})
	if inc.Status != firebreak.StatusDetected {
		t.Errorf("status = %s, want detected", inc.Status)
	}
	if inc.Title != "Checkout failing" {
		t.Errorf("title not trimmed: %q", inc.Title)
	}
	m := inc.Milestones
	if !m.DeclaredAt.Equal(t0) || !m.DetectedAt.Equal(t0) || !m.ImpactStartedAt.Equal(impact) {
		t.Errorf("milestones = %+v", m)
	}
	// Assigning a commander counts as acknowledgement.
	if m.AcknowledgedAt == nil || !m.AcknowledgedAt.Equal(t0) {
		t.Errorf("acknowledged_at = %v, want %v", m.AcknowledgedAt, t0)
	}
	if len(evs) != 2 || evs[0].Kind != firebreak.EventDeclared || evs[1].Kind != firebreak.EventRoleAssigned {
		t.Fatalf("events = %+v", evs)
	}
	if inc.Roles[firebreak.RoleCommander] != "bob" {
		t.Errorf("roles = %v", inc.Roles)
	}
}

func TestDeclareValidation(t *testing.T) {
	cases := []struct {
		name  string
		in    firebreak.DeclareInput
		field string
	}{
		{"missing title", firebreak.DeclareInput{Severity: firebreak.SEV2}, "title"},
		{"10 KB title", firebreak.DeclareInput{Title: strings.Repeat("x", 10240), Severity: firebreak.SEV2}, "title"},
		{"two-line title", firebreak.DeclareInput{Title: "a\nb", Severity: firebreak.SEV2}, "title"},
		{"bad severity", firebreak.DeclareInput{Title: "x", Severity: "SEV9"}, "severity"},
		{"resolved start", firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3, Status: firebreak.StatusResolved}, "status"},
		{"duplicate service", firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3, Services: []string{"a", "a"}}, "services"},
		{"unknown role", firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3, Roles: map[firebreak.Role]string{"boss": "x"}}, "roles"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.in.Validate()
			var e *firebreak.Error
			if err == nil || firebreak.ErrorCode(err) != firebreak.EInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			e = err.(*firebreak.Error)
			if !slices.ContainsFunc(e.Fields, func(f firebreak.FieldError) bool { return f.Field == c.field }) {
				t.Errorf("fields %+v do not name %q", e.Fields, c.field)
			}
		})
	}
}

func TestInvalidTransitionListsAllowed(t *testing.T) {
	inc, _ := declare(t, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV2})
	if _, err := inc.Transition(firebreak.StatusResolved, "", "a", t0); err != nil {
		t.Fatal(err)
	}
	_, err := inc.Transition(firebreak.StatusMitigating, "", "a", t0)
	e, ok := err.(*firebreak.Error)
	if !ok || e.Code != firebreak.EConflict {
		t.Fatalf("err = %v, want conflict", err)
	}
	if !slices.Equal(e.Allowed, []string{"closed", "investigating"}) {
		t.Errorf("allowed = %v", e.Allowed)
	}
	if inc.Status != firebreak.StatusResolved {
		t.Errorf("a refused transition changed the status to %s", inc.Status)
	}
}

func TestReopenClearsResolution(t *testing.T) {
	inc, _ := declare(t, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV2})
	for _, s := range []firebreak.Status{firebreak.StatusMitigating, firebreak.StatusResolved} {
		if _, err := inc.Transition(s, "", "a", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := inc.Transition(firebreak.StatusInvestigating, "errors are back", "a", t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if inc.Milestones.ResolvedAt != nil || inc.Milestones.MitigatedAt != nil {
		t.Errorf("reopen kept resolution milestones: %+v", inc.Milestones)
	}
	if !strings.Contains(ev.Message, "reopened") || !strings.Contains(ev.Message, "errors are back") {
		t.Errorf("message = %q", ev.Message)
	}
}

func TestPatchRecordsEachChange(t *testing.T) {
	inc, _ := declare(t, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3})
	sev := firebreak.SEV1
	title := "Checkout down"
	corrected := t0.Add(-time.Hour)
	p := firebreak.IncidentPatch{Severity: &sev, Title: &title,
		Milestones: map[string]*time.Time{"impact_started_at": &corrected}, Reason: "scope grew"}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	v := inc.Version
	evs, err := inc.Apply(p, "bob", t0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []firebreak.EventKind{}
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	want := []firebreak.EventKind{firebreak.EventTitleChanged, firebreak.EventSeverityChanged, firebreak.EventMilestoneChanged}
	if !slices.Equal(kinds, want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
	if inc.Version != v+1 || inc.Severity != firebreak.SEV1 || !inc.Milestones.ImpactStartedAt.Equal(corrected) {
		t.Errorf("incident = %+v", inc)
	}
	if !strings.HasSuffix(evs[1].Message, ": scope grew") {
		t.Errorf("reason missing: %q", evs[1].Message)
	}
	if again, err := inc.Apply(p, "bob", t0); err != nil || len(again) != 0 {
		t.Errorf("re-applying the same patch made events: %+v %v", again, err)
	}
	bad := firebreak.IncidentPatch{Milestones: map[string]*time.Time{"lunch_at": nil}}
	if err := bad.Validate(); firebreak.ErrorCode(err) != firebreak.EInvalid {
		t.Errorf("unknown milestone accepted: %v", err)
	}
}

func TestRoleHandover(t *testing.T) {
	inc, _ := declare(t, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV2})
	if _, err := inc.AssignRole(firebreak.RoleCommander, "alice", "alice", t0); err != nil {
		t.Fatal(err)
	}
	evs, err := inc.AssignRole(firebreak.RoleCommander, "bob", "alice", t0.Add(time.Hour))
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	ev := evs[0]
	if ev.Data["previous"] != "alice" || !strings.Contains(ev.Message, "handed over from alice to bob") {
		t.Errorf("event = %+v", ev)
	}
	if _, err := inc.AssignRole("janitor", "x", "a", t0); firebreak.ErrorCode(err) != firebreak.EInvalid {
		t.Errorf("unknown role accepted: %v", err)
	}
	v := inc.Version
	if evs, err := inc.AssignRole(firebreak.RoleCommander, "bob", "bob", t0.Add(2*time.Hour)); err != nil || len(evs) != 0 || inc.Version != v {
		t.Errorf("re-assigning the holder changed the incident: %v %v version %d→%d", evs, err, v, inc.Version)
	}
}

func TestMilestoneCorrectionsKeepOrder(t *testing.T) {
	inc, _ := declare(t, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV2})
	for _, s := range []firebreak.Status{firebreak.StatusMitigating, firebreak.StatusResolved} {
		if _, err := inc.Transition(s, "", "a", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	late := t0.Add(2 * time.Hour)
	early := t0.Add(-2 * time.Hour)
	cases := map[string]map[string]*time.Time{
		"impact after detection":   {"impact_started_at": &late},
		"resolved before detected": {"resolved_at": &early},
		"declared cleared":         {"declared_at": nil},
	}
	for name, ms := range cases {
		before := inc
		_, err := inc.Apply(firebreak.IncidentPatch{Milestones: ms}, "a", t0)
		if firebreak.ErrorCode(err) != firebreak.EInvalid {
			t.Errorf("%s: err = %v", name, err)
		}
		if inc.Version != before.Version || inc.Milestones != before.Milestones {
			t.Errorf("%s: refused correction changed the incident", name)
		}
	}
	if _, err := inc.Apply(firebreak.IncidentPatch{Milestones: map[string]*time.Time{"impact_started_at": &early}}, "a", t0); err != nil {
		t.Errorf("a valid correction was refused: %v", err)
	}
}

func TestActionItemNotDoingNeedsReason(t *testing.T) {
	in := firebreak.ActionItemInput{Title: "Add circuit breakers", Status: firebreak.ActionNotDoing}
	if err := in.Validate(); firebreak.ErrorCode(err) != firebreak.EInvalid || !strings.Contains(err.Error(), "reason") {
		t.Fatalf("err = %v", err)
	}
	in = firebreak.ActionItemInput{Title: "Add circuit breakers", DueDate: "2026-02-30"}
	if err := in.Validate(); err == nil || !strings.Contains(err.Error(), "due_date") {
		t.Fatalf("impossible date accepted: %v", err)
	}
	a := firebreak.ActionItem{Title: "x", Priority: firebreak.PriorityHigh, Kind: firebreak.KindPrevent, Status: firebreak.ActionOpen}
	st := firebreak.ActionNotDoing
	if err := (firebreak.ActionItemPatch{Status: &st}).Apply(&a, t0, "alice"); err == nil {
		t.Fatal("not_doing without reason accepted")
	}
	if a.Status != firebreak.ActionOpen {
		t.Fatal("a refused patch changed the item")
	}
	r := "superseded by the platform migration"
	if err := (firebreak.ActionItemPatch{Status: &st, Reason: &r}).Apply(&a, t0, "alice"); err != nil {
		t.Fatal(err)
	}
	done := firebreak.ActionDone
	if err := (firebreak.ActionItemPatch{Status: &done}).Apply(&a, t0, "alice"); err != nil || a.Reason != "" {
		t.Fatalf("reason kept after leaving not_doing: %q %v", a.Reason, err)
	}
}

// Done work is verified by someone other than its owner, and only once done; leaving verified forgets who verified.
func TestActionItemVerification(t *testing.T) {
	a := firebreak.ActionItem{Title: "Add a floor to the consumer count", Owner: "dave", Priority: firebreak.PriorityHigh,
		Kind: firebreak.KindPrevent, Status: firebreak.ActionInProgress}
	verified, done, open := firebreak.ActionVerified, firebreak.ActionDone, firebreak.ActionOpen
	if err := (firebreak.ActionItemPatch{Status: &verified}).Apply(&a, t0, "erin"); err == nil ||
		!strings.Contains(err.Error(), "only a done item") {
		t.Fatalf("an item in progress was verified: %v", err)
	}
	if err := (firebreak.ActionItemPatch{Status: &done}).Apply(&a, t0, "dave"); err != nil {
		t.Fatal(err)
	}
	if err := (firebreak.ActionItemPatch{Status: &verified}).Apply(&a, t0, "Dave"); err == nil ||
		!strings.Contains(err.Error(), "other than the owner") || a.Status != firebreak.ActionDone {
		t.Fatalf("the owner verified their own work: %v (status %s)", err, a.Status)
	}
	if err := (firebreak.ActionItemPatch{Status: &verified}).Apply(&a, t0, "erin"); err != nil {
		t.Fatal(err)
	}
	if a.VerifiedBy != "erin" || a.VerifiedAt == nil || !a.VerifiedAt.Equal(t0) {
		t.Fatalf("verified by %q at %v", a.VerifiedBy, a.VerifiedAt)
	}
	if err := (firebreak.ActionItemPatch{Status: &open}).Apply(&a, t0, "erin"); err != nil || a.VerifiedBy != "" ||
		a.VerifiedAt != nil {
		t.Fatalf("reopened item keeps its verification: %+v %v", a, err)
	}
	in := firebreak.ActionItemInput{Title: "x", Status: firebreak.ActionVerified}
	if err := in.Validate(); err == nil {
		t.Fatal("a new item was created verified")
	}
	bad := "ftp://tracker"
	if err := (firebreak.ActionItemPatch{TrackerURL: &bad}).Apply(&a, t0, "erin"); err == nil ||
		!strings.Contains(err.Error(), "tracker_url") {
		t.Fatalf("bad tracker URL accepted: %v", err)
	}
	if firebreak.ActionItemDefaultDue(firebreak.SEV1) != 15*24*time.Hour ||
		firebreak.ActionItemDefaultDue(firebreak.SEV2) != 30*24*time.Hour || firebreak.ActionItemDefaultDue(firebreak.SEV3) != 0 {
		t.Fatal("default due dates by severity")
	}
}

func TestParseIncidentNumber(t *testing.T) {
	for in, want := range map[string]int64{"INC-42": 42, "inc-7": 7, "12": 12} {
		if n, ok := firebreak.ParseIncidentNumber(in); !ok || n != want {
			t.Errorf("%q → %d %v", in, n, ok)
		}
	}
	for _, in := range []string{"", "INC-", "INC-0", "-3", "0190f3a2-7c1e-7d2a-9d0e-1f2a3b4c5d6e", "INC-x"} {
		if _, ok := firebreak.ParseIncidentNumber(in); ok {
			t.Errorf("%q parsed as a number", in)
		}
	}
}

func TestSeverityPolicies(t *testing.T) {
	ps := firebreak.DefaultSeverityPolicies()
	if err := firebreak.ValidateSeverityPolicies(ps); err != nil {
		t.Fatal(err)
	}
	want := map[firebreak.Severity]time.Duration{firebreak.SEV1: 5 * time.Minute, firebreak.SEV2: 15 * time.Minute,
		firebreak.SEV3: 30 * time.Minute}
	for _, p := range ps {
		if p.ResponseTarget != want[p.Severity] || p.EscalationPath == "" {
			t.Errorf("%s: %+v", p.Severity, p)
		}
	}
	if err := firebreak.ValidateSeverityPolicies(ps[:2]); err == nil {
		t.Error("policies without SEV3 accepted")
	}
}

// TestLifecycleStateMachine drives an incident through random sequences of transitions, role changes and
// patches and checks the lifecycle's invariants after every step.
func TestLifecycleStateMachine(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sev := rapid.SampledFrom(firebreak.Severities).Draw(rt, "severity")
		start := rapid.SampledFrom([]firebreak.Status{firebreak.StatusDetected, firebreak.StatusInvestigating,
			firebreak.StatusIdentified, firebreak.StatusMitigating}).Draw(rt, "start")
		in := firebreak.DeclareInput{Title: "incident", Severity: sev, Status: start}
		if err := in.Validate(); err != nil {
			rt.Fatal(err)
		}
		now := t0
		inc, _ := firebreak.NewIncident(in, "alice", now)
		everResolved := false
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			now = now.Add(time.Duration(rapid.IntRange(1, 3600).Draw(rt, "dt")) * time.Second)
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0:
				to := rapid.SampledFrom(firebreak.Statuses).Draw(rt, "to")
				before := inc
				beforeM := inc.Milestones
				ev, err := inc.Transition(to, "", "bob", now)
				allowed := firebreak.CanTransition(before.Status, to)
				if allowed != (err == nil) {
					rt.Fatalf("%s→%s: allowed=%v err=%v", before.Status, to, allowed, err)
				}
				if err != nil {
					if inc.Status != before.Status || inc.Version != before.Version || inc.Milestones != beforeM {
						rt.Fatalf("refused transition changed the incident")
					}
					e := err.(*firebreak.Error)
					if e.Code != firebreak.EConflict && to.Valid() {
						rt.Fatalf("code %s", e.Code)
					}
					continue
				}
				if inc.Version != before.Version+1 || ev.Data["from"] != string(before.Status) || ev.Data["to"] != string(to) {
					rt.Fatalf("event %+v after %s→%s", ev, before.Status, to)
				}
				if to == firebreak.StatusResolved {
					everResolved = true
				}
			case 1:
				role := rapid.SampledFrom(firebreak.Roles).Draw(rt, "role")
				user := rapid.SampledFrom([]string{"alice", "bob", "carol"}).Draw(rt, "user")
				if _, err := inc.AssignRole(role, user, "alice", now); err != nil {
					rt.Fatal(err)
				}
			case 2:
				s := rapid.SampledFrom(firebreak.Severities).Draw(rt, "sev")
				if _, err := inc.Apply(firebreak.IncidentPatch{Severity: &s}, "alice", now); err != nil {
					rt.Fatal(err)
				}
				if inc.Severity != s {
					rt.Fatal("severity not applied")
				}
			}
			checkInvariants(rt, &inc, everResolved)
		}
	})
}

func checkInvariants(rt *rapid.T, inc *firebreak.Incident, everResolved bool) {
	m := inc.Milestones
	if m.DeclaredAt == nil || m.DetectedAt == nil {
		rt.Fatal("declared_at and detected_at are always set")
	}
	switch inc.Status {
	case firebreak.StatusResolved:
		if m.ResolvedAt == nil || m.MitigatedAt == nil || m.AcknowledgedAt == nil {
			rt.Fatalf("resolved without milestones: %+v", m)
		}
	case firebreak.StatusClosed:
		if m.ClosedAt == nil || m.ResolvedAt == nil {
			rt.Fatalf("closed without closed_at/resolved_at: %+v", m)
		}
	case firebreak.StatusMitigating:
		if m.MitigatedAt == nil {
			rt.Fatal("mitigating without mitigated_at")
		}
	}
	if (inc.Status == firebreak.StatusInvestigating || inc.Status == firebreak.StatusIdentified) && m.MitigatedAt != nil {
		rt.Fatalf("%s (impact ongoing) has mitigated_at", inc.Status)
	}
	if inc.Status.Open() && m.ResolvedAt != nil {
		rt.Fatalf("open incident (%s) has resolved_at", inc.Status)
	}
	if inc.Status != firebreak.StatusDetected && inc.Status != firebreak.StatusCancelled && m.AcknowledgedAt == nil {
		rt.Fatalf("%s without acknowledged_at", inc.Status)
	}
	if m.AcknowledgedAt != nil && m.AcknowledgedAt.Before(*m.DeclaredAt) {
		rt.Fatal("acknowledged before declared")
	}
	if m.ResolvedAt != nil && m.MitigatedAt != nil && m.ResolvedAt.Before(*m.MitigatedAt) {
		rt.Fatal("resolved before mitigated")
	}
	if inc.Status == firebreak.StatusClosed && !everResolved {
		rt.Fatal("closed without ever being resolved")
	}
	if (inc.Status == firebreak.StatusClosed || inc.Status == firebreak.StatusCancelled) &&
		len(firebreak.AllowedTransitions(inc.Status)) != 0 {
		rt.Fatal("final statuses allow transitions")
	}
}

func TestSeverityPolicyJSON(t *testing.T) {
	b, err := json.Marshal(firebreak.DefaultSeverityPolicies()[1])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["severity"] != "SEV2" || got["response_target_seconds"] != float64(900) || got["response_target"] != "15m0s" ||
		got["escalation_path"] == "" {
		t.Fatalf("json = %s", b)
	}
}

func TestUpdateAudience(t *testing.T) {
	for in, want := range map[firebreak.Audience]firebreak.Audience{"": firebreak.AudienceInternal,
		"external": firebreak.AudienceExternal, "all": firebreak.AudienceAll, "both": firebreak.AudienceAll} {
		u := firebreak.UpdateInput{Message: "We are investigating", Audience: in}
		if err := u.Validate(); err != nil || u.Audience != want {
			t.Errorf("audience %q → %q, %v; want %q", in, u.Audience, err, want)
		}
	}
	u := firebreak.UpdateInput{Message: "x", Audience: "public"}
	if err := u.Validate(); firebreak.ErrorCode(err) != firebreak.EInvalid {
		t.Errorf("audience public accepted: %v", err)
	}
}
