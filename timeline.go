package firebreak

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// EventKind says what a timeline event records.
type EventKind string

const (
	EventDeclared          EventKind = "declared"
	EventStatusChanged     EventKind = "status_changed"
	EventSeverityChanged   EventKind = "severity_changed"
	EventRoleAssigned      EventKind = "role_assigned"
	EventNote              EventKind = "note"
	EventUpdatePosted      EventKind = "update_posted"
	EventMilestoneChanged  EventKind = "milestone_changed"
	EventTitleChanged      EventKind = "title_changed"
	EventSummaryChanged    EventKind = "summary_changed"
	EventServicesChanged   EventKind = "services_changed"
	EventActionItemAdded   EventKind = "action_item_added"
	EventActionItemChanged EventKind = "action_item_changed"
	EventAlertAttached     EventKind = "alert_attached"  // an alert joined the incident (alert routing)
	EventAlertsResolved    EventKind = "alerts_resolved" // every alert attached to the incident has resolved
)

// TimelineEvent is one append-only entry of an incident's timeline, the incident's single source of truth.
type TimelineEvent struct {
	ID         int64     `json:"id"`
	IncidentID string    `json:"incident_id"`
	Kind       EventKind `json:"kind"`
	Message    string    `json:"message"`
	Actor      string    `json:"actor"`
	OccurredAt time.Time `json:"occurred_at"`
	RecordedAt time.Time `json:"recorded_at"`
	Starred    bool      `json:"starred"`
	// Data holds the structured facts of the event (from/to status, role and user, …).
	Data map[string]string `json:"data,omitempty"`
}

// TimelineInput is what a person adds to a timeline by hand: a note, possibly backdated.
type TimelineInput struct {
	Kind       EventKind  `json:"kind"`
	Message    string     `json:"message"`
	OccurredAt *time.Time `json:"occurred_at,omitempty"`
	Starred    bool       `json:"starred,omitempty"`
}

// Validate checks a timeline input against the current time (a note may be backdated, not dated in the future).
func (in *TimelineInput) Validate(now time.Time) error {
	var v Validation
	if in.Kind == "" {
		in.Kind = EventNote
	}
	if in.Kind != EventNote {
		v.Add("kind", "only notes can be added by hand (kind must be \"note\")")
	}
	in.Message = strings.TrimSpace(in.Message)
	if in.Message == "" {
		v.Add("message", "is required")
	} else {
		v.Text("message", in.Message, MaxTextLen)
	}
	if in.OccurredAt != nil && in.OccurredAt.After(now.Add(time.Minute)) {
		v.Add("occurred_at", "must not be in the future")
	}
	return v.Err()
}

// NewIncident builds a declared incident and the timeline events that record its declaration. The store gives it
// an ID and a number.
func NewIncident(in DeclareInput, actor string, now time.Time) (Incident, []TimelineEvent) {
	now = now.UTC()
	declared := now
	if in.DeclaredAt != nil {
		declared = in.DeclaredAt.UTC()
	}
	inc := Incident{
		Title: in.Title, Summary: in.Summary, Severity: in.Severity, Status: in.Status,
		Services: slices.Clone(in.Services), Roles: map[Role]string{},
		CreatedBy: actor, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if inc.Services == nil {
		inc.Services = []string{}
	}
	inc.Tags = slices.Clone(in.Tags)
	if inc.Tags == nil {
		inc.Tags = []string{}
	}
	inc.Milestones.DeclaredAt = &declared
	detected := declared
	if in.DetectedAt != nil {
		detected = in.DetectedAt.UTC()
	}
	inc.Milestones.DetectedAt = &detected
	if in.ImpactStartedAt != nil {
		t := in.ImpactStartedAt.UTC()
		inc.Milestones.ImpactStartedAt = &t
	}
	ev := TimelineEvent{Kind: EventDeclared, Actor: actor, OccurredAt: declared, RecordedAt: now,
		Message: fmt.Sprintf("Incident declared as %s: %s", in.Severity, in.Title),
		Data:    map[string]string{"severity": string(in.Severity), "status": string(in.Status)}}
	events := []TimelineEvent{ev}
	if in.Status != StatusDetected {
		applyStatusMilestones(&inc, StatusDetected, in.Status, declared)
	}
	for _, r := range Roles {
		if u, ok := in.Roles[r]; ok {
			events = append(events, inc.assignRole(r, u, actor, declared, now))
		}
	}
	return inc, events
}

// Transition moves the incident to status to, setting the milestones the move implies, and returns the timeline
// event recording it. An invalid move is an EConflict error listing the allowed statuses.
func (inc *Incident) Transition(to Status, message, actor string, now time.Time) (TimelineEvent, error) {
	now = now.UTC()
	if !to.Valid() {
		return TimelineEvent{}, &Error{Code: EInvalid, Message: "unknown status " + fmt.Sprintf("%q", to),
			Fields: []FieldError{{Field: "status", Message: "must be one of " + joinStatuses(Statuses)}}}
	}
	if !CanTransition(inc.Status, to) {
		allowed := AllowedTransitions(inc.Status)
		e := &Error{Code: EConflict, Allowed: statusStrings(allowed)}
		if len(allowed) == 0 {
			e.Message = fmt.Sprintf("%s is %s: no further status change is possible", inc.Ref(), inc.Status)
		} else {
			e.Message = fmt.Sprintf("cannot move %s from %s to %s; allowed: %s", inc.Ref(), inc.Status, to,
				joinStatuses(allowed))
		}
		return TimelineEvent{}, e
	}
	var v Validation
	v.Text("message", message, MaxTextLen)
	if err := v.Err(); err != nil {
		return TimelineEvent{}, err
	}
	from := inc.Status
	applyStatusMilestones(inc, from, to, now)
	inc.Status = to
	inc.touch(now)
	text := fmt.Sprintf("Status changed from %s to %s", from, to)
	if from == StatusResolved && to == StatusInvestigating {
		text = "Incident reopened: status changed from resolved to investigating"
	}
	if m := strings.TrimSpace(message); m != "" {
		text += ": " + m
	}
	return TimelineEvent{Kind: EventStatusChanged, Actor: actor, OccurredAt: now, RecordedAt: now, Message: text,
		Data: map[string]string{"from": string(from), "to": string(to)}}, nil
}

func applyStatusMilestones(inc *Incident, from, to Status, at time.Time) {
	m := &inc.Milestones
	set := func(p **time.Time) {
		if *p == nil {
			t := at
			*p = &t
		}
	}
	if from == StatusResolved && to == StatusInvestigating { // reopened: impact is back
		m.MitigatedAt, m.ResolvedAt = nil, nil
		return
	}
	switch to {
	case StatusInvestigating, StatusIdentified:
		set(&m.AcknowledgedAt)
		if from == StatusMitigating { // the mitigation did not end the impact
			m.MitigatedAt = nil
		}
	case StatusMitigating:
		set(&m.AcknowledgedAt)
		set(&m.MitigatedAt)
	case StatusResolved:
		set(&m.AcknowledgedAt)
		set(&m.MitigatedAt)
		set(&m.ResolvedAt)
	case StatusClosed:
		set(&m.ClosedAt)
	}
}

// AssignRole gives role to user (assign, reassign or hand over) and returns the events recording it: none when
// the user already holds the role (the incident is then unchanged).
func (inc *Incident) AssignRole(role Role, user, actor string, now time.Time) ([]TimelineEvent, error) {
	var v Validation
	if !role.Valid() {
		v.Add("role", "must be one of commander, tech_lead, comms_lead")
	}
	user = strings.TrimSpace(user)
	if user == "" {
		v.Add("user", "is required")
	} else {
		v.Text("user", user, MaxNameLen)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if inc.Roles[role] == user {
		return nil, nil
	}
	now = now.UTC()
	ev := inc.assignRole(role, user, actor, now, now)
	inc.touch(now)
	return []TimelineEvent{ev}, nil
}

func (inc *Incident) assignRole(role Role, user, actor string, at, now time.Time) TimelineEvent {
	prev := inc.Roles[role]
	inc.Roles[role] = user
	if role == RoleCommander && inc.Milestones.AcknowledgedAt == nil {
		t := at
		inc.Milestones.AcknowledgedAt = &t
	}
	text := fmt.Sprintf("%s assigned to %s", role.Title(), user)
	if prev != "" && prev != user {
		text = fmt.Sprintf("%s handed over from %s to %s", role.Title(), prev, user)
	}
	return TimelineEvent{Kind: EventRoleAssigned, Actor: actor, OccurredAt: at, RecordedAt: now, Message: text,
		Data: map[string]string{"role": string(role), "user": user, "previous": prev}}
}

// Apply applies a validated patch and returns one event per changed aspect. Unchanged values make no event.
// Milestone corrections that would put them out of order (impact after detection, resolution before mitigation,
// closing before resolution) or clear declared_at or detected_at are refused with EInvalid and change nothing.
func (inc *Incident) Apply(p IncidentPatch, actor string, now time.Time) ([]TimelineEvent, error) {
	if len(p.Milestones) > 0 {
		m := inc.Milestones
		for name, val := range p.Milestones {
			*m.Field(name) = val
		}
		if err := m.check(); err != nil {
			return nil, err
		}
	}
	now = now.UTC()
	var evs []TimelineEvent
	add := func(kind EventKind, msg string, data map[string]string) {
		if r := strings.TrimSpace(p.Reason); r != "" {
			msg += ": " + r
		}
		evs = append(evs, TimelineEvent{Kind: kind, Actor: actor, OccurredAt: now, RecordedAt: now, Message: msg,
			Data: data})
	}
	if p.Title != nil && *p.Title != inc.Title {
		add(EventTitleChanged, fmt.Sprintf("Title changed to %q", *p.Title),
			map[string]string{"from": inc.Title, "to": *p.Title})
		inc.Title = *p.Title
	}
	if p.Summary != nil && *p.Summary != inc.Summary {
		add(EventSummaryChanged, "Summary updated", nil)
		inc.Summary = *p.Summary
	}
	if p.Severity != nil && *p.Severity != inc.Severity {
		add(EventSeverityChanged, fmt.Sprintf("Severity changed from %s to %s", inc.Severity, *p.Severity),
			map[string]string{"from": string(inc.Severity), "to": string(*p.Severity)})
		inc.Severity = *p.Severity
	}
	if p.Services != nil && !slices.Equal(*p.Services, inc.Services) {
		add(EventServicesChanged, "Affected services: "+strings.Join(*p.Services, ", "),
			map[string]string{"from": strings.Join(inc.Services, ","), "to": strings.Join(*p.Services, ",")})
		inc.Services = slices.Clone(*p.Services)
	}
	if p.Tags != nil && !slices.Equal(*p.Tags, inc.Tags) {
		msg := "Tags: " + strings.Join(*p.Tags, ", ")
		if len(*p.Tags) == 0 {
			msg = "Tags removed"
		}
		add(EventTagsChanged, msg, map[string]string{"from": strings.Join(inc.Tags, ","),
			"to": strings.Join(*p.Tags, ",")})
		inc.Tags = slices.Clone(*p.Tags)
	}
	for _, name := range MilestoneNames {
		val, ok := p.Milestones[name]
		if !ok {
			continue
		}
		f := inc.Milestones.Field(name)
		old := *f
		if timesEqual(old, val) {
			continue
		}
		var msg string
		if val == nil {
			msg = fmt.Sprintf("Milestone %s cleared", name)
			*f = nil
		} else {
			t := val.UTC()
			*f = &t
			msg = fmt.Sprintf("Milestone %s set to %s", name, t.Format(time.RFC3339))
		}
		add(EventMilestoneChanged, msg, map[string]string{"milestone": name, "from": fmtTime(old), "to": fmtTime(*f)})
	}
	if len(evs) > 0 {
		inc.touch(now)
	}
	return evs, nil
}

// check refuses milestones that cannot all be true at once.
func (m Milestones) check() error {
	var v Validation
	if m.DeclaredAt == nil {
		v.Add("milestones.declared_at", "cannot be cleared")
	}
	if m.DetectedAt == nil {
		v.Add("milestones.detected_at", "cannot be cleared")
	}
	order := []struct {
		early, late string
		a, b        *time.Time
	}{
		{"impact_started_at", "detected_at", m.ImpactStartedAt, m.DetectedAt},
		{"detected_at", "mitigated_at", m.DetectedAt, m.MitigatedAt},
		{"mitigated_at", "resolved_at", m.MitigatedAt, m.ResolvedAt},
		{"detected_at", "resolved_at", m.DetectedAt, m.ResolvedAt},
		{"resolved_at", "closed_at", m.ResolvedAt, m.ClosedAt},
	}
	for _, o := range order {
		if o.a != nil && o.b != nil && o.b.Before(*o.a) {
			v.Add("milestones."+o.late, "must not be before %s (%s)", o.early, o.a.UTC().Format(time.RFC3339))
		}
	}
	return v.Err()
}

func (inc *Incident) touch(now time.Time) {
	inc.UpdatedAt = now
	inc.Version++
}

// Ref is the human reference of the incident, e.g. "INC-42".
func (inc *Incident) Ref() string { return IncidentRef(inc.Number) }

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func statusStrings(ss []Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

func joinStatuses(ss []Status) string { return strings.Join(statusStrings(ss), ", ") }
