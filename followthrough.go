package firebreak

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Follow-through: what keeps the learning from an incident from dying in a backlog. Overdue action items are
// reminded to their owner and then to the owner's team on a cadence; a published post-mortem's follow-up review
// is reminded when it is due; and, by policy per severity, an incident cannot be closed while its post-mortem is
// unpublished or its action items are unresolved.

// FollowThroughPolicy configures reminders, the close policy and the on-time target of post-mortems. The zero
// value of a field means its default (see DefaultFollowThroughPolicy and WithDefaults).
type FollowThroughPolicy struct {
	// OverdueFirst is how long after an action item becomes overdue (00:00 UTC the day after its due date) its
	// owner gets the first reminder (default 9h: 09:00 UTC on the day after the due date).
	OverdueFirst time.Duration
	// OverdueEvery is the time between reminders while the item stays overdue (default 7 days).
	OverdueEvery time.Duration
	// TeamAfter is how long an item must have been overdue before its reminders also go to the owner's teams
	// (default 7 days).
	TeamAfter time.Duration
	// ReviewEvery is the time between follow-up review reminders while a published post-mortem's review is due
	// and the post-mortem is not closed (default 7 days).
	ReviewEvery time.Duration
	// CloseRequires lists the severities whose incidents close only with a published post-mortem and every
	// action item verified or not_doing (nil: SEV1 and SEV2; an empty, non-nil list: none).
	CloseRequires []Severity
	// PostmortemDueBusinessDays is the on-time target of a post-mortem: published within this many business days
	// (Monday to Friday, UTC) of the incident's resolution (default 5).
	PostmortemDueBusinessDays int
}

// Defaults of FollowThroughPolicy.
const (
	DefaultOverdueFirst              = 9 * time.Hour
	DefaultOverdueEvery              = 7 * 24 * time.Hour
	DefaultTeamAfter                 = 7 * 24 * time.Hour
	DefaultReviewEvery               = 7 * 24 * time.Hour
	DefaultPostmortemDueBusinessDays = 5
)

// DefaultFollowThroughPolicy returns the defaults: the owner is reminded at 09:00 UTC the day after the due date
// and weekly after, the owner's teams from 7 days overdue; follow-up reviews weekly while due; SEV1 and SEV2
// close only when followed through; post-mortems are on time within 5 business days of resolution.
func DefaultFollowThroughPolicy() FollowThroughPolicy {
	return FollowThroughPolicy{}.WithDefaults()
}

// WithDefaults fills the zero fields with the defaults.
func (p FollowThroughPolicy) WithDefaults() FollowThroughPolicy {
	if p.OverdueFirst <= 0 {
		p.OverdueFirst = DefaultOverdueFirst
	}
	if p.OverdueEvery <= 0 {
		p.OverdueEvery = DefaultOverdueEvery
	}
	if p.TeamAfter <= 0 {
		p.TeamAfter = DefaultTeamAfter
	}
	if p.ReviewEvery <= 0 {
		p.ReviewEvery = DefaultReviewEvery
	}
	if p.CloseRequires == nil {
		p.CloseRequires = []Severity{SEV1, SEV2}
	}
	if p.PostmortemDueBusinessDays <= 0 {
		p.PostmortemDueBusinessDays = DefaultPostmortemDueBusinessDays
	}
	return p
}

// Validate checks the policy: no negative durations, a cadence of at least an hour, known severities, and an
// on-time target of at most 60 business days.
func (p FollowThroughPolicy) Validate() error {
	var v Validation
	for _, d := range []struct {
		field string
		val   time.Duration
	}{{"overdue_reminders.first", p.OverdueFirst}, {"overdue_reminders.team_after", p.TeamAfter}} {
		if d.val < 0 {
			v.Add(d.field, "must not be negative")
		}
	}
	for _, d := range []struct {
		field string
		val   time.Duration
	}{{"overdue_reminders.every", p.OverdueEvery}, {"follow_up_review_reminders.every", p.ReviewEvery}} {
		if d.val != 0 && d.val < time.Hour {
			v.Add(d.field, "must be at least 1h")
		}
	}
	for _, s := range p.CloseRequires {
		if !s.Valid() {
			v.Add("close_requires", "unknown severity %q (one of SEV1, SEV2, SEV3)", s)
		}
	}
	if p.PostmortemDueBusinessDays < 0 || p.PostmortemDueBusinessDays > 60 {
		v.Add("postmortem_due_business_days", "must be between 1 and 60")
	}
	return v.Err()
}

// RequiresFollowThrough reports whether incidents of severity s close only when followed through.
func (p FollowThroughPolicy) RequiresFollowThrough(s Severity) bool {
	return slices.Contains(p.WithDefaults().CloseRequires, s)
}

// OverdueSince is the moment an action item due on the date due (YYYY-MM-DD) becomes overdue: 00:00 UTC the day
// after. ok is false when due is empty or not a date.
func OverdueSince(due string) (time.Time, bool) {
	if due == "" {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, due)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, 1), true
}

// Pending reports whether the item still needs work (open or in progress).
func (a *ActionItem) Pending() bool { return a.Status == ActionOpen || a.Status == ActionInProgress }

// Resolved reports whether the item needs nothing more: verified, or not being done (with a reason).
func (a *ActionItem) Resolved() bool { return a.Status == ActionVerified || a.Status == ActionNotDoing }

// OverdueAt reports whether the item is overdue at t: open or in progress, and t is on or after the day after its
// due date (UTC).
func (a *ActionItem) OverdueAt(t time.Time) bool {
	since, ok := OverdueSince(a.DueDate)
	return ok && a.Pending() && !t.Before(since)
}

// NextOverdueReminder is when the item's next overdue reminder is due, or nil when it gets none (not open or in
// progress, or no due date). The first comes OverdueFirst after the item becomes overdue; the next ones
// OverdueEvery after the last one sent for the current due date (a reminder sent before the due date was moved
// later does not count).
func (p FollowThroughPolicy) NextOverdueReminder(a *ActionItem) *time.Time {
	p = p.WithDefaults()
	since, ok := OverdueSince(a.DueDate)
	if !ok || !a.Pending() {
		return nil
	}
	next := since.Add(p.OverdueFirst)
	if r := a.RemindedAt; r != nil && !r.Before(since) {
		if n := r.Add(p.OverdueEvery); n.After(next) {
			next = n
		}
	}
	return &next
}

// EscalatesAt reports whether a reminder of item a sent at t also goes to the owner's teams: the item has been
// overdue for at least TeamAfter.
func (p FollowThroughPolicy) EscalatesAt(a *ActionItem, t time.Time) bool {
	p = p.WithDefaults()
	since, ok := OverdueSince(a.DueDate)
	return ok && t.Sub(since) >= p.TeamAfter
}

// NextReviewReminder is when the next follow-up review reminder of a post-mortem is due, or nil when none (not
// published, or no review date): at the review date, then ReviewEvery after the last reminder sent for it.
func (p FollowThroughPolicy) NextReviewReminder(pm *Postmortem) *time.Time {
	p = p.WithDefaults()
	if pm.Status != PostmortemPublished || pm.FollowUpAt == nil {
		return nil
	}
	next := *pm.FollowUpAt
	if r := pm.FollowUpRemindedAt; r != nil && !r.Before(next) {
		next = r.Add(p.ReviewEvery)
	}
	return &next
}

// AddBusinessDays returns t moved n business days later: each step goes to the next day, and Saturdays and
// Sundays (UTC) are not counted; the time of day is kept. A start on a weekend counts from that day.
func AddBusinessDays(t time.Time, n int) time.Time {
	t = t.UTC()
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}

// CloseBlockers lists what keeps an incident of severity sev from closing under the policy: its post-mortem
// (pm, nil when there is none) must be published or closed, and every action item verified or not_doing. Each
// blocker is a field error: "postmortem" or "action_items[i]" (i: the item's index in items). None when the
// severity does not require follow-through.
func (p FollowThroughPolicy) CloseBlockers(sev Severity, pm *Postmortem, items []ActionItem) []FieldError {
	if !p.RequiresFollowThrough(sev) {
		return nil
	}
	var out []FieldError
	switch {
	case pm == nil:
		out = append(out, FieldError{Field: "postmortem",
			Message: fmt.Sprintf("a %s incident needs a published post-mortem before it closes; none exists yet", sev)})
	case pm.Status != PostmortemPublished && pm.Status != PostmortemClosed:
		out = append(out, FieldError{Field: "postmortem",
			Message: fmt.Sprintf("is %s; a %s incident closes only once its post-mortem is published", pm.Status, sev)})
	}
	out = append(out, UnresolvedItems(items)...)
	return out
}

// UnresolvedItems names the action items that are neither verified nor not_doing, as field errors
// "action_items[i]".
func UnresolvedItems(items []ActionItem) []FieldError {
	var out []FieldError
	for i := range items {
		a := &items[i]
		if a.Resolved() {
			continue
		}
		owner := ""
		if a.Owner != "" {
			owner = ", owner " + a.Owner
		}
		msg := fmt.Sprintf("%q is %s%s: it must be verified (or not_doing with a reason)", a.Title, a.Status, owner)
		out = append(out, FieldError{Field: fmt.Sprintf("action_items[%d]", i), Message: msg})
	}
	return out
}

// CloseBlockedError is the refusal to close: a conflict (409) naming every blocker.
func CloseBlockedError(what string, blockers []FieldError) error {
	var parts []string
	pmBlocks, items := false, 0
	for _, b := range blockers {
		if b.Field == "postmortem" {
			pmBlocks = true
		} else {
			items++
		}
	}
	if pmBlocks {
		parts = append(parts, "its post-mortem is not published")
	}
	if items == 1 {
		parts = append(parts, "1 action item is unresolved")
	} else if items > 1 {
		parts = append(parts, fmt.Sprintf("%d action items are unresolved", items))
	}
	return &Error{Code: EConflict, Fields: blockers,
		Message: fmt.Sprintf("%s cannot be closed yet: %s", what, strings.Join(parts, " and "))}
}

// FollowUpReview is a published post-mortem's follow-up review, as the follow-up list shows it.
type FollowUpReview struct {
	IncidentRef   string           `json:"incident_ref"`
	IncidentTitle string           `json:"incident_title"`
	Severity      Severity         `json:"severity"`
	PostmortemID  string           `json:"postmortem_id"`
	Status        PostmortemStatus `json:"status"`
	PublishedAt   *time.Time       `json:"published_at"`
	FollowUpAt    time.Time        `json:"follow_up_at"`
	// RemindedAt is when the last reminder of this review was sent (to the approvers and the commander, or
	// shown here when they have no contact method).
	RemindedAt *time.Time `json:"reminded_at"`
	// Due is set once the review date has passed.
	Due       bool     `json:"due"`
	Approvers []string `json:"approvers"`
	Commander string   `json:"commander,omitempty"`
	// OpenItems counts the incident's action items that are neither verified nor not_doing.
	OpenItems int `json:"open_items"`
}

// FollowUpReviewFilter selects follow-up reviews: every published post-mortem's, or (Due) only those whose date
// has passed.
type FollowUpReviewFilter struct {
	Due    bool
	Limit  int
	Cursor string
}

// FollowThroughService lists the follow-up reviews of published post-mortems and verifies action items by id.
//
// Errors: EInvalid for a bad limit or cursor, and for a verification of an item that is not done or by its owner
// (field "status"); ENotFound for an unknown item; EPreconditionFailed when ifVersion is non-zero and stale.
type FollowThroughService interface {
	// ListFollowUpReviews lists published post-mortems' reviews, review date soonest first.
	ListFollowUpReviews(ctx context.Context, f FollowUpReviewFilter) (*Page[FollowUpReview], error)
	// VerifyActionItem marks a done action item verified, as the caller (never its owner).
	VerifyActionItem(ctx context.Context, itemID string, ifVersion int64) (*ActionItem, error)
}
