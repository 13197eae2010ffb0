package analysis

import (
	"slices"
	"time"

	"github.com/firebreak/firebreak"
)

// FollowThrough is what became of the learning from incidents (docs/METRICS.md §9): post-mortems published on
// time, action items done on time, and action items overdue at as_of.
type FollowThrough struct {
	Postmortems PostmortemsOnTime `json:"postmortems"`
	ActionItems ActionItemsOnTime `json:"action_items"`
	// OverdueActionItems counts the action items of non-cancelled incidents (of the report's service and
	// severity) that were overdue at as_of: due before as_of's UTC date, not done by as_of, and not not_doing.
	OverdueActionItems int `json:"overdue_action_items"`
}

// PostmortemsOnTime: of the SEV1 and SEV2 incidents the report counts that were resolved by as_of, how many had
// their post-mortem published by the deadline (resolution plus TargetBusinessDays business days).
type PostmortemsOnTime struct {
	TargetBusinessDays int `json:"target_business_days"`
	// Due = OnTime + Late + Pending.
	Due     int `json:"due"`
	OnTime  int `json:"on_time"`
	Late    int `json:"late"`    // published after the deadline, or not published and the deadline has passed
	Pending int `json:"pending"` // not published yet, deadline still ahead
	// Rate = OnTime / (OnTime + Late); null when that is 0.
	Rate *float64 `json:"rate"`
}

// ActionItemsOnTime: of the action items (of non-cancelled incidents) due in the window, how many were done by
// the end of their due date.
type ActionItemsOnTime struct {
	// Due = OnTime + Late + Pending + NotDoing.
	Due      int `json:"due"`
	OnTime   int `json:"on_time"`   // done (or verified) by the end of the due date (UTC)
	Late     int `json:"late"`      // done later, or not done and the due date has passed
	Pending  int `json:"pending"`   // not done, due date not passed at as_of
	NotDoing int `json:"not_doing"` // decided against (with a reason): left out of the rate
	// Rate = OnTime / (OnTime + Late); null when that is 0.
	Rate *float64 `json:"rate"`
}

func rate(on, late int) *float64 {
	if on+late == 0 {
		return nil
	}
	return ptr(float64(on) / float64(on+late))
}

// FollowThroughOf computes the follow-through figures of the report's window and filters (q.From, q.To,
// q.Service, q.Severity) as of asOf = min(q.To, now), from the incidents (as IncidentsForMetrics returns them) and
// the action items (as ActionItemsForMetrics returns them). targetDays is the post-mortem on-time target in
// business days (0: the default, 5).
func FollowThroughOf(incs []firebreak.MetricsIncident, items []firebreak.MetricsActionItem, q firebreak.MetricsQuery,
	now time.Time, targetDays int) FollowThrough {
	if targetDays <= 0 {
		targetDays = firebreak.DefaultPostmortemDueBusinessDays
	}
	from, to := q.From.UTC(), q.To.UTC()
	asOf := to
	if now.Before(asOf) {
		asOf = now.UTC()
	}
	if asOf.Before(from) {
		asOf = from
	}
	var ft FollowThrough
	pm := &ft.Postmortems
	pm.TargetBusinessDays = targetDays
	for i := range incs {
		inc := &incs[i]
		if inc.Status == firebreak.StatusCancelled || !firebreak.NeedsPostmortem(inc.Severity) ||
			(q.Service != "" && !slices.Contains(inc.Services, q.Service)) ||
			(q.Severity != "" && inc.Severity != q.Severity) {
			continue
		}
		start, _ := startOf(inc)
		if start.Before(from) || !start.Before(to) || start.After(asOf) {
			continue
		}
		resolved := at(inc.Milestones.ResolvedAt, asOf)
		if resolved == nil {
			continue // still open at as_of: no post-mortem due yet
		}
		pm.Due++
		deadline := firebreak.AddBusinessDays(*resolved, targetDays)
		switch published := at(inc.PostmortemPublishedAt, asOf); {
		case published != nil && !published.After(deadline):
			pm.OnTime++
		case published != nil || deadline.Before(asOf):
			pm.Late++
		default:
			pm.Pending++
		}
	}
	pm.Rate = rate(pm.OnTime, pm.Late)

	ai := &ft.ActionItems
	for i := range items {
		a := &items[i]
		if a.IncidentStatus == firebreak.StatusCancelled ||
			(q.Service != "" && !slices.Contains(a.Services, q.Service)) ||
			(q.Severity != "" && a.Severity != q.Severity) {
			continue
		}
		end, ok := firebreak.OverdueSince(a.DueDate) // the end of the due date
		if !ok {
			continue
		}
		done := at(a.DoneAt, asOf)
		if a.Status != firebreak.ActionDone && a.Status != firebreak.ActionVerified {
			done = nil // reopened, or decided against: not done
		}
		if a.Status != firebreak.ActionNotDoing && done == nil && !end.After(asOf) {
			ft.OverdueActionItems++
		}
		dueStart := end.AddDate(0, 0, -1)
		if dueStart.Before(from) || !dueStart.Before(to) {
			continue
		}
		ai.Due++
		switch {
		case a.Status == firebreak.ActionNotDoing:
			ai.NotDoing++
		case done != nil && done.Before(end):
			ai.OnTime++
		case done != nil || !end.After(asOf):
			ai.Late++
		default:
			ai.Pending++
		}
	}
	ai.Rate = rate(ai.OnTime, ai.Late)
	return ft
}
