package firebreak

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Escalation: who is paged when an incident opens, and who next when nobody acknowledges.
//
// An escalation policy is ordered steps; each step pages its targets (users, the people on call on a schedule,
// channels) and waits its delay for an acknowledgement before the next step. After the last step the steps run
// again Repeat times, then the escalation is exhausted. Services carry a policy; an incident of such a service
// starts it when it opens, and acknowledging (or resolving, closing, cancelling) the incident stops it. The
// store runs escalations as rows with due times (package engine fires them).
//
// Independently of policies, the severity escalation criteria of the runbook (EscalationCriteria) watch every
// incident of the listed severities: not acknowledged within the severity's response target (page the
// incident commander, then leadership), no status change for a while, mitigation running too long without
// resolution, and an incident open too long. Each fires once per incident.

// EscalationTargetType is what a target pages.
type EscalationTargetType string

const (
	// TargetUser pages a user through their contact methods (the channels they own).
	TargetUser EscalationTargetType = "user"
	// TargetSchedule pages whoever is on call on the schedule when the step fires.
	TargetSchedule EscalationTargetType = "schedule"
	// TargetChannel posts the page to a channel.
	TargetChannel EscalationTargetType = "channel"
)

// EscalationTargetTypes lists every target type.
var EscalationTargetTypes = []EscalationTargetType{TargetUser, TargetSchedule, TargetChannel}

// Valid reports whether t is a known target type.
func (t EscalationTargetType) Valid() bool { return slices.Contains(EscalationTargetTypes, t) }

// EscalationTarget is one target of a step: a user (Ref is the username), a schedule (its ID or name) or a
// channel (its name or ID). Reads return the username, the schedule's name or the channel's name in Ref, and the
// schedule's or channel's ID in ID; on input a non-empty ID wins over Ref.
type EscalationTarget struct {
	Type EscalationTargetType `json:"type"`
	Ref  string               `json:"ref"`
	ID   string               `json:"id,omitempty"`
}

// String is the target as "type:ref", the form the CLI, the console and the config file use.
func (t EscalationTarget) String() string { return string(t.Type) + ":" + t.Ref }

// EscalationStep pages its targets, then waits Delay for an acknowledgement before the next step.
type EscalationStep struct {
	Delay   Duration           `json:"delay"`
	Targets []EscalationTarget `json:"targets"`
}

// EscalationPolicy is an escalation policy as read.
type EscalationPolicy struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Steps       []EscalationStep `json:"steps"`
	// Repeat is how many times the steps run again after the first round (0: once).
	Repeat int `json:"repeat"`
	// Services are the slugs of the services that use the policy.
	Services  []string  `json:"services"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// EscalationPolicyInput creates a policy (or is the whole of one after a patch).
type EscalationPolicyInput struct {
	Name        string           `json:"name"`
	Description string           `json:"description,omitempty"`
	Steps       []EscalationStep `json:"steps"`
	Repeat      int              `json:"repeat,omitempty"`
}

// EscalationPolicyPatch changes some fields of a policy; Steps replaces all of them.
type EscalationPolicyPatch struct {
	Name        *string           `json:"name,omitempty"`
	Description *string           `json:"description,omitempty"`
	Steps       *[]EscalationStep `json:"steps,omitempty"`
	Repeat      *int              `json:"repeat,omitempty"`
}

// Limits of a policy.
const (
	MaxEscalationSteps   = 20
	MaxEscalationTargets = 20 // per step
	MaxEscalationRepeat  = 9
	MinEscalationDelay   = time.Second
	MaxEscalationDelay   = 24 * time.Hour
)

// Validate checks the input (trimming the name and the refs). Whether the targets exist and can be reached is the
// store's to check.
func (in *EscalationPolicyInput) Validate() error {
	var v Validation
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		v.Add("name", "is required")
	case strings.ContainsAny(in.Name, "\r\n"):
		v.Add("name", "must be one line")
	default:
		v.Text("name", in.Name, MaxNameLen)
	}
	v.Text("description", in.Description, MaxTextLen)
	if in.Repeat < 0 || in.Repeat > MaxEscalationRepeat {
		v.Add("repeat", "must be 0 to %d (how many times the steps run again after the first round)", MaxEscalationRepeat)
	}
	switch {
	case len(in.Steps) == 0:
		v.Add("steps", "at least one step is required")
	case len(in.Steps) > MaxEscalationSteps:
		v.Add("steps", "at most %d steps", MaxEscalationSteps)
	}
	for i := range in.Steps {
		st := &in.Steps[i]
		f := fmt.Sprintf("steps[%d]", i)
		if d := time.Duration(st.Delay); d < MinEscalationDelay || d > MaxEscalationDelay {
			v.Add(f+".delay", "must be between %s and %s (e.g. \"5m\")", ShortDuration(MinEscalationDelay),
				ShortDuration(MaxEscalationDelay))
		}
		switch {
		case len(st.Targets) == 0:
			v.Add(f+".targets", "step %d needs at least one target", i+1)
		case len(st.Targets) > MaxEscalationTargets:
			v.Add(f+".targets", "at most %d targets per step", MaxEscalationTargets)
		}
		seen := map[string]bool{}
		for j := range st.Targets {
			t := &st.Targets[j]
			tf := fmt.Sprintf("%s.targets[%d]", f, j)
			t.Ref, t.ID = strings.TrimSpace(t.Ref), strings.TrimSpace(t.ID)
			if !t.Type.Valid() {
				v.Add(tf+".type", "must be one of user, schedule, channel")
			}
			switch {
			case t.Ref == "" && t.ID == "":
				v.Add(tf+".ref", "is required (a username, a schedule's name or ID, a channel's name)")
			case len(t.Ref) > 200 || len(t.ID) > 200:
				v.Add(tf+".ref", "is too long")
			default:
				v.Text(tf+".ref", t.Ref, 200)
			}
			key := string(t.Type) + ":" + t.ID + ":" + t.Ref
			if seen[key] {
				v.Add(tf, "step %d lists %s twice", i+1, t)
			}
			seen[key] = true
		}
	}
	return v.Err()
}

// Apply returns the whole input that results from applying p to pol (to be validated by the caller).
func (p EscalationPolicyPatch) Apply(pol *EscalationPolicy) EscalationPolicyInput {
	in := EscalationPolicyInput{Name: pol.Name, Description: pol.Description, Repeat: pol.Repeat,
		Steps: cloneSteps(pol.Steps)}
	if p.Name != nil {
		in.Name = *p.Name
	}
	if p.Description != nil {
		in.Description = *p.Description
	}
	if p.Repeat != nil {
		in.Repeat = *p.Repeat
	}
	if p.Steps != nil {
		in.Steps = cloneSteps(*p.Steps)
	}
	return in
}

func cloneSteps(steps []EscalationStep) []EscalationStep {
	out := make([]EscalationStep, len(steps))
	for i, s := range steps {
		out[i] = EscalationStep{Delay: s.Delay, Targets: slices.Clone(s.Targets)}
	}
	return out
}

// ParseEscalationTarget reads "type:ref", e.g. "user:alice", "schedule:payments-primary", "channel:ops-pager".
func ParseEscalationTarget(s string) (EscalationTarget, error) {
	typ, ref, ok := strings.Cut(strings.TrimSpace(s), ":")
	t := EscalationTarget{Type: EscalationTargetType(strings.ToLower(strings.TrimSpace(typ))), Ref: strings.TrimSpace(ref)}
	if !ok || !t.Type.Valid() || t.Ref == "" {
		return EscalationTarget{}, fmt.Errorf("%q is not a target: write user:NAME, schedule:NAME or channel:NAME", s)
	}
	return t, nil
}

// ParseEscalationStep reads one step written as "DELAY TARGET, TARGET…", e.g.
// "5m schedule:payments-primary, user:alice": the delay before the next step, then the targets.
func ParseEscalationStep(s string) (EscalationStep, error) {
	s = strings.TrimSpace(s)
	delay, rest, _ := strings.Cut(s, " ")
	d, err := time.ParseDuration(strings.TrimSpace(delay))
	if err != nil {
		return EscalationStep{}, fmt.Errorf("%q: a step starts with its delay, e.g. \"5m schedule:primary, user:alice\"", s)
	}
	st := EscalationStep{Delay: Duration(d), Targets: []EscalationTarget{}}
	for _, part := range strings.Split(rest, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		t, err := ParseEscalationTarget(part)
		if err != nil {
			return EscalationStep{}, err
		}
		st.Targets = append(st.Targets, t)
	}
	if len(st.Targets) == 0 {
		return EscalationStep{}, fmt.Errorf("%q: a step needs at least one target after its delay", s)
	}
	return st, nil
}

// FormatEscalationStep writes a step the way ParseEscalationStep reads it.
func FormatEscalationStep(st EscalationStep) string {
	parts := make([]string, len(st.Targets))
	for i, t := range st.Targets {
		parts[i] = t.String()
	}
	return ShortDuration(time.Duration(st.Delay)) + " " + strings.Join(parts, ", ")
}

// Timeline event kinds of escalation.
const (
	// EventEscalationPaged: a step paged its targets (data: policy, round, step, paged, unreachable).
	EventEscalationPaged EventKind = "escalation_paged"
	// EventEscalationStopped: acknowledgement, resolution or a deleted policy ended an escalation; also written when
	// an incident opens already acknowledged and its policy therefore does not start.
	EventEscalationStopped EventKind = "escalation_stopped"
	// EventEscalationExhausted: every round ran and nobody acknowledged.
	EventEscalationExhausted EventKind = "escalation_exhausted"
	// EventEscalationCriterion: a severity escalation criterion fired (data: criterion, notified, unreachable).
	EventEscalationCriterion EventKind = "escalation_criterion"
)

// Criterion names one severity escalation criterion.
type Criterion string

const (
	// CriterionUnacknowledged: not acknowledged within the severity's response target — page the incident
	// commander.
	CriterionUnacknowledged Criterion = "unacknowledged"
	// CriterionUnacknowledgedLeadership: still not acknowledged a while later — page leadership.
	CriterionUnacknowledgedLeadership Criterion = "unacknowledged_leadership"
	// CriterionStaleStatus: no status change for a while (no progress in understanding the cause).
	CriterionStaleStatus Criterion = "stale_status"
	// CriterionMitigationStalled: mitigating for a while without resolution (the mitigation is not effective).
	CriterionMitigationStalled Criterion = "mitigation_stalled"
	// CriterionLongRunning: open for longer than a while.
	CriterionLongRunning Criterion = "long_running"
)

// Criteria lists every criterion, in the order they usually fire.
var Criteria = []Criterion{CriterionUnacknowledged, CriterionUnacknowledgedLeadership, CriterionStaleStatus,
	CriterionMitigationStalled, CriterionLongRunning}

// EscalationCriterion configures one criterion.
type EscalationCriterion struct {
	Enabled bool
	// After is how long the condition must hold: since the last status change (stale status), since the move to
	// mitigating (mitigation stalled), since the declaration (long running). For Unacknowledged it is the wait
	// between paging the commander and paging leadership (zero: the response target again).
	After time.Duration
	// Severities are the severities watched.
	Severities []Severity
}

// Watches reports whether the criterion is on for incidents of severity sev.
func (c EscalationCriterion) Watches(sev Severity) bool {
	return c.Enabled && slices.Contains(c.Severities, sev)
}

// EscalationCriteria are the severity escalation criteria of the runbook and whom they notify.
type EscalationCriteria struct {
	// Commander is paged when an incident is not acknowledged within its response target, with the incident's
	// commander if one is assigned (e.g. schedule:incident-commanders).
	Commander []EscalationTarget
	// Leadership is paged when it is still not acknowledged later, and notified by the other criteria when the
	// incident has no commander (e.g. user:cto).
	Leadership []EscalationTarget

	Unacknowledged    EscalationCriterion
	StaleStatus       EscalationCriterion
	MitigationStalled EscalationCriterion
	LongRunning       EscalationCriterion
}

// DefaultEscalationCriteria are the runbook's: for SEV1 and SEV2, no acknowledgement within the response target
// (then the commander, one response target later leadership), no status change for 30 minutes, mitigating for 15
// minutes without resolution, open for over an hour. Nobody is configured as commander or leadership: until
// someone is, those pages go to the incident's announcement channels.
func DefaultEscalationCriteria() EscalationCriteria {
	sevs := []Severity{SEV1, SEV2}
	return EscalationCriteria{
		Unacknowledged:    EscalationCriterion{Enabled: true, Severities: sevs},
		StaleStatus:       EscalationCriterion{Enabled: true, After: 30 * time.Minute, Severities: sevs},
		MitigationStalled: EscalationCriterion{Enabled: true, After: 15 * time.Minute, Severities: sevs},
		LongRunning:       EscalationCriterion{Enabled: true, After: time.Hour, Severities: sevs},
	}
}

// Validate checks the criteria: known severities, positive durations where one is needed, well-formed targets.
// Field names are those of the config file (escalation.…).
func (c EscalationCriteria) Validate() error {
	var v Validation
	for _, x := range []struct {
		name string
		c    EscalationCriterion
		zero bool // After may be zero
	}{{"unacknowledged", c.Unacknowledged, true}, {"stale_status", c.StaleStatus, false},
		{"mitigation_stalled", c.MitigationStalled, false}, {"long_running", c.LongRunning, false}} {
		f := "escalation." + x.name
		for _, s := range x.c.Severities {
			if !s.Valid() {
				v.Add(f+".severities", "unknown severity %q", s)
			}
		}
		if x.c.Enabled && (x.c.After < 0 || (!x.zero && x.c.After == 0)) {
			v.Add(f+".after", "must be a positive duration")
		}
	}
	for name, ts := range map[string][]EscalationTarget{"commander": c.Commander, "leadership": c.Leadership} {
		for i, t := range ts {
			if !t.Type.Valid() || strings.TrimSpace(t.Ref) == "" {
				v.Add(fmt.Sprintf("escalation.%s[%d]", name, i), "must be user:NAME, schedule:NAME or channel:NAME")
			}
		}
	}
	return v.Err()
}

// EscalationService keeps escalation policies. Policies are addressed by ID or name.
//
// Errors: EInvalid with fields for bad input, unknown users, schedules or channels (steps[i].targets[j].ref) and
// steps without a reachable target (steps[i].targets); ENotFound; EConflict for a name taken or for deleting a
// policy services still use; EPreconditionFailed on a stale version.
type EscalationService interface {
	CreateEscalationPolicy(ctx context.Context, in EscalationPolicyInput) (*EscalationPolicy, error)
	ListEscalationPolicies(ctx context.Context) ([]EscalationPolicy, error)
	GetEscalationPolicy(ctx context.Context, ref string) (*EscalationPolicy, error)
	UpdateEscalationPolicy(ctx context.Context, ref string, p EscalationPolicyPatch, ifVersion int64) (
		*EscalationPolicy, error)
	DeleteEscalationPolicy(ctx context.Context, ref string) error
}

// --- where an incident's escalation stands ---------------------------------------------------------------------

// EscalationState says where the paging of an incident stands.
type EscalationState string

const (
	// EscalationRunning: a policy is paging the incident and pages its next step unless someone acknowledges.
	EscalationRunning EscalationState = "running"
	// EscalationStopped: acknowledgement, resolution (or closing, cancelling, a deleted policy) stopped the paging,
	// or it never started because the incident was acknowledged when it was declared.
	EscalationStopped EscalationState = "stopped"
	// EscalationExhausted: every round ran and nobody acknowledged.
	EscalationExhausted EscalationState = "exhausted"
	// EscalationNone: no escalation policy paged the incident (its services have none).
	EscalationNone EscalationState = "none"
)

// IncidentEscalation is where an incident's escalation stands: the policies paging it now, with the step that
// paged last and the one that pages next and when; how the paging ended once it has; and the severity escalation
// criteria armed for it. It is read from the escalation rows the engine fires and from the timeline.
type IncidentEscalation struct {
	Incident string `json:"incident"` // the reference, e.g. INC-7
	// State is running while any policy pages; otherwise how the latest one ended (none: nothing paged).
	State EscalationState `json:"state"`
	// Policies are the names of the escalation policies of the incident's services.
	Policies []string `json:"policies"`
	// Running are the policies paging the incident now.
	Running []RunningEscalation `json:"running"`
	// Ended says how each policy that paged the incident (or was not started) ended, latest first.
	Ended []EscalationEnd `json:"ended"`
	// Criteria are the severity escalation criteria of the incident: armed (DueAt) or fired (FiredAt).
	Criteria       []CriterionStatus `json:"criteria"`
	AcknowledgedAt *time.Time        `json:"acknowledged_at,omitempty"`
	// AsOf is the server's time of the reading (what "in 3 min" is relative to).
	AsOf time.Time `json:"as_of"`
}

// RunningEscalation is one policy paging an incident.
type RunningEscalation struct {
	Policy    string    `json:"policy"`
	PolicyID  string    `json:"policy_id"`
	Steps     int       `json:"steps"`  // steps in the policy
	Rounds    int       `json:"rounds"` // 1 + the policy's repeat
	StartedAt time.Time `json:"started_at"`
	// Current is the step that paged last.
	Current *EscalationStepState `json:"current,omitempty"`
	// Next is the step that pages at NextAt unless the incident is acknowledged first; nil when the escalation is
	// exhausted at NextAt instead (the last step of the last round has paged).
	Next *EscalationStepState `json:"next,omitempty"`
	// NextAt is when the next step fires (or the escalation is exhausted). While an engine holds the step it is
	// the end of that engine's lease; a time in the past means the step is due now.
	NextAt time.Time `json:"next_at"`
}

// EscalationStepState is one step of a running escalation.
type EscalationStepState struct {
	Step  int      `json:"step"`  // from 1
	Round int      `json:"round"` // from 1
	Delay Duration `json:"delay"` // the wait for an acknowledgement before the step after it
	// Targets are the step's targets; a schedule's carries who is on call when the step fires (fired).
	Targets []EscalationTargetState `json:"targets"`
	// PagedAt is when the current step paged (absent for the next step).
	PagedAt *time.Time `json:"paged_at,omitempty"`
	// Paged is whom the step pages: for the current step whom it paged, as the timeline recorded it; for the next
	// step whom it will page at its time, as things stand now (contact methods and rotations may change).
	Paged []string `json:"paged"`
	// Unreachable lists targets the step cannot reach (no contact method, nobody on call, a disabled channel).
	Unreachable []string `json:"unreachable,omitempty"`
}

// EscalationTargetState is a target of a step and, for a schedule, who is on call when the step fires (fired).
type EscalationTargetState struct {
	EscalationTarget
	OnCall []string `json:"on_call,omitempty"`
}

// Label names the target for people: "schedule Primary (on call: alice)", "user carol", "channel ops-pager".
func (t EscalationTargetState) Label() string {
	s := string(t.Type) + " " + t.Ref
	if t.Type == TargetSchedule {
		if len(t.OnCall) > 0 {
			s += " (on call: " + strings.Join(t.OnCall, ", ") + ")"
		} else {
			s += " (nobody on call)"
		}
	}
	return s
}

// TargetsText lists the step's targets for people, e.g. "schedule Primary (on call: alice) and user carol".
func (s EscalationStepState) TargetsText() string {
	labels := make([]string, len(s.Targets))
	for i, t := range s.Targets {
		labels[i] = t.Label()
	}
	switch len(labels) {
	case 0:
		return "nobody"
	case 1:
		return labels[0]
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " and " + labels[len(labels)-1]
}

// EscalationEnd is how a policy's paging of an incident ended.
type EscalationEnd struct {
	Policy string `json:"policy"`
	// State is stopped or exhausted.
	State EscalationState `json:"state"`
	At    time.Time       `json:"at"`
	// By is who stopped it (acknowledged, resolved, deleted the policy); empty when nobody did.
	By string `json:"by,omitempty"`
	// Reason says why, e.g. "acknowledged by alice", "the incident is resolved", "exhausted".
	Reason string `json:"reason"`
	// Message is the timeline's entry.
	Message string `json:"message"`
}

// CriterionStatus is a severity escalation criterion of an incident: when it fires, or when it fired (once).
type CriterionStatus struct {
	Criterion Criterion  `json:"criterion"`
	DueAt     *time.Time `json:"due_at,omitempty"`
	FiredAt   *time.Time `json:"fired_at,omitempty"`
	// Description says what the criterion watches and whom it notifies.
	Description string `json:"description"`
}

// CriterionDescription says what a criterion does, e.g. "pages the incident commander if the incident is not
// acknowledged within its response target".
func CriterionDescription(c Criterion) string {
	switch c {
	case CriterionUnacknowledged:
		return "pages the incident commander if the incident is not acknowledged within its response target"
	case CriterionUnacknowledgedLeadership:
		return "pages leadership if the incident is still not acknowledged"
	case CriterionStaleStatus:
		return "notifies the incident commander (or leadership) if the status has not changed for a while"
	case CriterionMitigationStalled:
		return "notifies the incident commander (or leadership) if mitigation runs long without resolution"
	case CriterionLongRunning:
		return "notifies the incident commander (or leadership) if the incident stays open too long"
	}
	return string(c)
}

// EscalationStatusService reads where an incident's escalation stands.
//
// Errors: ENotFound for an unknown incident.
type EscalationStatusService interface {
	IncidentEscalation(ctx context.Context, incidentRef string) (*IncidentEscalation, error)
}
