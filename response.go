package firebreak

import (
	"net/url"
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
	// VerifiedBy and VerifiedAt say who checked that the done work has its effect (never the owner).
	VerifiedBy string     `json:"verified_by,omitempty"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
	// TrackerURL links the item in an external tracker (Jira, GitHub, Linear ...).
	TrackerURL string `json:"tracker_url,omitempty"`
	// DoneAt is when the item was last marked done (kept when it is verified; cleared when it is reopened).
	DoneAt *time.Time `json:"done_at,omitempty"`
	// RemindedAt is when the last overdue reminder was sent (to the owner's contact methods and, later, the
	// owner's teams; with none, the follow-up list shows it); Reminders counts them; TeamRemindedAt is when one
	// last went to the owner's teams too.
	RemindedAt     *time.Time `json:"reminded_at,omitempty"`
	Reminders      int        `json:"reminders,omitempty"`
	TeamRemindedAt *time.Time `json:"team_reminded_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Version        int64      `json:"version"`
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
	// TrackerURL links the item in an external tracker.
	TrackerURL string `json:"tracker_url,omitempty"`
}

// ActionItemFilter selects action items across incidents: the follow-up list. Overdue items are open or in
// progress with a due date before today (UTC).
type ActionItemFilter struct {
	Owner   string
	Status  []ActionItemStatus
	Overdue bool
	Limit   int
	Cursor  string
}

// FollowUp is an action item with its incident, as the follow-up list shows it.
type FollowUp struct {
	ActionItem
	IncidentRef   string   `json:"incident_ref"`
	IncidentTitle string   `json:"incident_title"`
	Severity      Severity `json:"severity"`
	Overdue       bool     `json:"overdue"`
}

// ActionItemDefaultDue is how long after it is added an action item of an incident of this severity is due
// when no due date is given (SEV1 15 days, SEV2 30 days; SEV3 none).
func ActionItemDefaultDue(sev Severity) time.Duration {
	switch sev {
	case SEV1:
		return 15 * 24 * time.Hour
	case SEV2:
		return 30 * 24 * time.Hour
	}
	return 0
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
	if in.Status == ActionVerified {
		v.Add("status", "a new item cannot be verified: it is verified once done, by someone other than its owner")
	}
	in.TrackerURL = strings.TrimSpace(in.TrackerURL)
	validateTrackerURL(&v, in.TrackerURL)
	return v.Err()
}

func validateTrackerURL(v *Validation, u string) {
	if u == "" {
		return
	}
	v.Text("tracker_url", u, 2048)
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		v.Add("tracker_url", "must be an http or https URL")
	}
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
	// TrackerURL links the item in an external tracker ("" removes the link).
	TrackerURL *string `json:"tracker_url,omitempty"`
}

// Apply validates the patch against the item and applies it, as actor (a username). An item is verified only
// once it is done, and only by someone other than its owner: the person who did the work does not sign it off.
func (p ActionItemPatch) Apply(a *ActionItem, now time.Time, actor string) error {
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
	if p.TrackerURL != nil {
		n.TrackerURL = strings.TrimSpace(*p.TrackerURL)
		validateTrackerURL(&v, n.TrackerURL)
	}
	switch {
	case n.Status == ActionVerified && a.Status != ActionVerified:
		switch {
		case a.Status != ActionDone:
			v.Add("status", "only a done item can be verified (it is %s)", a.Status)
		case strings.EqualFold(strings.TrimSpace(actor), strings.TrimSpace(n.Owner)) || actor == "":
			v.Add("status", "must be verified by someone other than the owner (%s)", n.Owner)
		default:
			at := now.UTC()
			n.VerifiedBy, n.VerifiedAt = actor, &at
		}
	case n.Status != ActionVerified:
		n.VerifiedBy, n.VerifiedAt = "", nil
	}
	switch {
	case n.Status == ActionDone && a.Status != ActionDone && a.Status != ActionVerified:
		at := now.UTC()
		n.DoneAt = &at
	case n.Status != ActionDone && n.Status != ActionVerified:
		n.DoneAt = nil
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
