package firebreak

import (
	"slices"
	"strings"
	"time"
)

// Audience says who may read a status update.
type Audience string

const (
	AudienceInternal Audience = "internal"
	AudienceExternal Audience = "external"
	AudienceAll      Audience = "all" // both internal and external; "both" is accepted as a synonym on input
)

// Valid reports whether a is a known audience.
func (a Audience) Valid() bool {
	return a == AudienceInternal || a == AudienceExternal || a == AudienceAll
}

// External reports whether the public (the status page) may read it.
func (a Audience) External() bool { return a == AudienceExternal || a == AudienceAll }

// StatusUpdate is a message to stakeholders, linked to the incident's status when it was posted.
type StatusUpdate struct {
	ID         string    `json:"id"`
	IncidentID string    `json:"incident_id"`
	Message    string    `json:"message"`
	Audience   Audience  `json:"audience"`
	Status     Status    `json:"status"`
	Author     string    `json:"author"`
	CreatedAt  time.Time `json:"created_at"`
}

// UpdateInput is a new status update.
type UpdateInput struct {
	Message  string   `json:"message"`
	Audience Audience `json:"audience"`
}

// Validate checks the input; an empty audience means internal.
func (in *UpdateInput) Validate() error {
	var v Validation
	in.Message = strings.TrimSpace(in.Message)
	if in.Message == "" {
		v.Add("message", "is required")
	} else {
		v.Text("message", in.Message, MaxTextLen)
	}
	switch in.Audience {
	case "":
		in.Audience = AudienceInternal
	case "both":
		in.Audience = AudienceAll
	}
	if !in.Audience.Valid() {
		v.Add("audience", "must be internal, external or all (both)")
	}
	return v.Err()
}

// ActionItemKind says what an action item does against recurrence.
type ActionItemKind string

const (
	KindPrevent  ActionItemKind = "prevent"
	KindDetect   ActionItemKind = "detect"
	KindMitigate ActionItemKind = "mitigate"
	KindProcess  ActionItemKind = "process"
)

// ActionItemKinds lists every kind.
var ActionItemKinds = []ActionItemKind{KindPrevent, KindDetect, KindMitigate, KindProcess}

// ActionItemStatus tracks an action item until it is verified done.
type ActionItemStatus string

const (
	ActionOpen       ActionItemStatus = "open"
	ActionInProgress ActionItemStatus = "in_progress"
	ActionDone       ActionItemStatus = "done"
	ActionVerified   ActionItemStatus = "verified"
	ActionNotDoing   ActionItemStatus = "not_doing"
)

// ActionItemStatuses lists every action item status.
var ActionItemStatuses = []ActionItemStatus{ActionOpen, ActionInProgress, ActionDone, ActionVerified, ActionNotDoing}

// Priority of an action item.
type Priority string

const (
	PriorityHigh   Priority = "high"
	PriorityMedium Priority = "medium"
	PriorityLow    Priority = "low"
)

// Priorities lists every priority, most urgent first.
var Priorities = []Priority{PriorityHigh, PriorityMedium, PriorityLow}

// ActionItem is work that keeps an incident from happening again, tracked until verified.
type ActionItem struct {
	ID         string           `json:"id"`
	IncidentID string           `json:"incident_id"`
	Title      string           `json:"title"`
	Owner      string           `json:"owner"`
	DueDate    string           `json:"due_date,omitempty"` // YYYY-MM-DD
	Priority   Priority         `json:"priority"`
	Kind       ActionItemKind   `json:"kind"`
	Status     ActionItemStatus `json:"status"`
	Reason     string           `json:"reason,omitempty"` // why not doing
	CreatedAt  time.Time        `json:"created_at"`
	UpdatedAt  time.Time        `json:"updated_at"`
	Version    int64            `json:"version"`
}

// ActionItemInput creates an action item; ActionItemPatch changes one.
type ActionItemInput struct {
	Title    string           `json:"title"`
	Owner    string           `json:"owner,omitempty"`
	DueDate  string           `json:"due_date,omitempty"`
	Priority Priority         `json:"priority,omitempty"`
	Kind     ActionItemKind   `json:"kind,omitempty"`
	Status   ActionItemStatus `json:"status,omitempty"`
	Reason   string           `json:"reason,omitempty"`
}

// Validate checks the input and fills defaults (medium priority, prevent, open).
func (in *ActionItemInput) Validate() error {
	var v Validation
	in.Title = strings.TrimSpace(in.Title)
	validateTitle(&v, "title", in.Title)
	if in.Priority == "" {
		in.Priority = PriorityMedium
	}
	if in.Kind == "" {
		in.Kind = KindPrevent
	}
	if in.Status == "" {
		in.Status = ActionOpen
	}
	validateActionFields(&v, in.Owner, in.DueDate, in.Priority, in.Kind, in.Status, in.Reason)
	return v.Err()
}

// ActionItemPatch changes some fields of an action item.
type ActionItemPatch struct {
	Title    *string           `json:"title,omitempty"`
	Owner    *string           `json:"owner,omitempty"`
	DueDate  *string           `json:"due_date,omitempty"`
	Priority *Priority         `json:"priority,omitempty"`
	Kind     *ActionItemKind   `json:"kind,omitempty"`
	Status   *ActionItemStatus `json:"status,omitempty"`
	Reason   *string           `json:"reason,omitempty"`
}

// Apply validates the patch against the item and applies it.
func (p ActionItemPatch) Apply(a *ActionItem, now time.Time) error {
	n := *a
	var v Validation
	if p.Title != nil {
		n.Title = strings.TrimSpace(*p.Title)
		validateTitle(&v, "title", n.Title)
	}
	if p.Owner != nil {
		n.Owner = *p.Owner
	}
	if p.DueDate != nil {
		n.DueDate = *p.DueDate
	}
	if p.Priority != nil {
		n.Priority = *p.Priority
	}
	if p.Kind != nil {
		n.Kind = *p.Kind
	}
	if p.Status != nil {
		n.Status = *p.Status
		if n.Status != ActionNotDoing && p.Reason == nil {
			n.Reason = ""
		}
	}
	if p.Reason != nil {
		n.Reason = *p.Reason
	}
	validateActionFields(&v, n.Owner, n.DueDate, n.Priority, n.Kind, n.Status, n.Reason)
	if err := v.Err(); err != nil {
		return err
	}
	n.UpdatedAt = now.UTC()
	n.Version++
	*a = n
	return nil
}

func validateActionFields(v *Validation, owner, due string, pr Priority, kind ActionItemKind, st ActionItemStatus,
	reason string) {
	v.Text("owner", owner, MaxNameLen)
	if due != "" {
		if _, err := time.Parse(time.DateOnly, due); err != nil {
			v.Add("due_date", "must be a date as YYYY-MM-DD")
		}
	}
	if !slices.Contains(Priorities, pr) {
		v.Add("priority", "must be high, medium or low")
	}
	if !slices.Contains(ActionItemKinds, kind) {
		v.Add("kind", "must be prevent, detect, mitigate or process")
	}
	if !slices.Contains(ActionItemStatuses, st) {
		v.Add("status", "must be open, in_progress, done, verified or not_doing")
	}
	if st == ActionNotDoing && strings.TrimSpace(reason) == "" {
		v.Add("reason", "is required when status is not_doing")
	}
	v.Text("reason", reason, MaxTextLen)
}
