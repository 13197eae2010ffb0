package analysis

import (
	"testing"

	"github.com/firebreak/firebreak"
)

// The worked example of docs/METRICS.md §9: window [2026-03-01, 2026-04-01), asked on 10 April, so
// as_of = 2026-04-01T00:00Z; target 5 business days.
func followFixture() ([]firebreak.MetricsIncident, []firebreak.MetricsActionItem) {
	inc := func(ref string, sev firebreak.Severity, st firebreak.Status, start, resolved, published string) firebreak.MetricsIncident {
		m := firebreak.MetricsIncident{Reference: ref, Severity: sev, Status: st, Services: []string{"api"},
			Milestones: firebreak.Milestones{DetectedAt: tp(start)}}
		if resolved != "" {
			m.Milestones.ResolvedAt = tp(resolved)
		}
		if published != "" {
			m.PostmortemPublishedAt = tp(published)
		}
		return m
	}
	incs := []firebreak.MetricsIncident{
		// Resolved Monday 12:00: deadline Monday 9 March 12:00; published Friday: on time.
		inc("P1", firebreak.SEV1, firebreak.StatusClosed, "2026-03-02T10:00:00Z", "2026-03-02T12:00:00Z", "2026-03-06T09:00:00Z"),
		// Resolved Friday 16:00: deadline Friday 13 March 16:00; published Monday 16th: late.
		inc("P2", firebreak.SEV2, firebreak.StatusResolved, "2026-03-05T08:00:00Z", "2026-03-06T16:00:00Z", "2026-03-16T09:00:00Z"),
		// Resolved Saturday: deadline Friday 27 March 10:00; never published: late.
		inc("P3", firebreak.SEV1, firebreak.StatusResolved, "2026-03-20T08:00:00Z", "2026-03-21T10:00:00Z", ""),
		// Resolved Monday 30 March: deadline 6 April, after as_of: pending.
		inc("P4", firebreak.SEV2, firebreak.StatusResolved, "2026-03-30T08:00:00Z", "2026-03-30T12:00:00Z", ""),
		// SEV3: no post-mortem required.
		inc("P5", firebreak.SEV3, firebreak.StatusResolved, "2026-03-03T08:00:00Z", "2026-03-03T12:00:00Z", ""),
		// Cancelled, and still open: not counted.
		inc("P6", firebreak.SEV1, firebreak.StatusCancelled, "2026-03-04T08:00:00Z", "", ""),
		inc("P7", firebreak.SEV1, firebreak.StatusInvestigating, "2026-03-25T08:00:00Z", "", ""),
		// Published after as_of does not count yet: deadline Tuesday 17 March passed: late.
		inc("P8", firebreak.SEV2, firebreak.StatusResolved, "2026-03-10T08:00:00Z", "2026-03-10T09:00:00Z", "2026-04-05T09:00:00Z"),
		// Started before the window.
		inc("P9", firebreak.SEV1, firebreak.StatusResolved, "2026-02-25T08:00:00Z", "2026-03-02T09:00:00Z", ""),
	}
	item := func(id string, st firebreak.ActionItemStatus, due, done string) firebreak.MetricsActionItem {
		a := firebreak.MetricsActionItem{ID: id, IncidentStatus: firebreak.StatusResolved, Severity: firebreak.SEV2,
			Services: []string{"api"}, Status: st, DueDate: due}
		if done != "" {
			a.DoneAt = tp(done)
		}
		return a
	}
	items := []firebreak.MetricsActionItem{
		item("A1", firebreak.ActionVerified, "2026-03-10", "2026-03-10T23:59:00Z"), // on time (by the day's end)
		item("A2", firebreak.ActionDone, "2026-03-10", "2026-03-11T00:00:00Z"),     // late by a minute
		item("A3", firebreak.ActionOpen, "2026-03-15", ""),                         // late, overdue
		item("A4", firebreak.ActionInProgress, "2026-03-31", ""),                   // late at as_of, overdue
		item("A5", firebreak.ActionNotDoing, "2026-03-20", ""),                     // not doing
		item("A6", firebreak.ActionOpen, "2026-04-05", ""),                         // due after the window
		item("A7", firebreak.ActionOpen, "2026-02-20", ""),                         // due before it: only overdue
		item("A8", firebreak.ActionDone, "2026-03-12", "2026-04-03T10:00:00Z"),     // done after as_of: late, overdue
	}
	items[2].Services = []string{"db"}
	cancelled := item("A9", firebreak.ActionOpen, "2026-03-25", "")
	cancelled.IncidentStatus = firebreak.StatusCancelled
	items = append(items, cancelled)
	return incs, items
}

func TestFollowThroughWorkedExample(t *testing.T) {
	incs, items := followFixture()
	q := firebreak.MetricsQuery{From: *tp("2026-03-01T00:00:00Z"), To: *tp("2026-04-01T00:00:00Z")}
	ft := FollowThroughOf(incs, items, q, *tp("2026-04-10T00:00:00Z"), 5)

	pm := ft.Postmortems
	if pm.TargetBusinessDays != 5 || pm.Due != 5 || pm.OnTime != 1 || pm.Late != 3 || pm.Pending != 1 {
		t.Errorf("post-mortems %+v, want due 5 = on time 1 (P1) + late 3 (P2, P3, P8) + pending 1 (P4)", pm)
	}
	eqp(t, "post-mortem on-time rate", pm.Rate, 0.25)

	ai := ft.ActionItems
	if ai.Due != 6 || ai.OnTime != 1 || ai.Late != 4 || ai.Pending != 0 || ai.NotDoing != 1 {
		t.Errorf("action items %+v, want due 6 = on time 1 (A1) + late 4 (A2, A3, A4, A8) + not doing 1 (A5)", ai)
	}
	eqp(t, "action item on-time rate", ai.Rate, 0.2)
	if ft.OverdueActionItems != 4 {
		t.Errorf("overdue %d, want 4 (A3, A4, A7, A8)", ft.OverdueActionItems)
	}

	// A service filter keeps its incidents and items: only A3 is on db.
	db := FollowThroughOf(incs, items, firebreak.MetricsQuery{From: q.From, To: q.To, Service: "db"},
		*tp("2026-04-10T00:00:00Z"), 5)
	if db.ActionItems.Due != 1 || db.ActionItems.Late != 1 || db.OverdueActionItems != 1 || db.Postmortems.Due != 0 ||
		db.Postmortems.Rate != nil {
		t.Errorf("db %+v", db)
	}

	// A window still running: as_of is now (10 April 12:00); A6 (due 5 April) is late and overdue now, and an item
	// due 12 April is pending; P4's deadline (6 April 12:00) has passed.
	items = append(items, firebreak.MetricsActionItem{ID: "A10", IncidentStatus: firebreak.StatusResolved,
		Status: firebreak.ActionOpen, DueDate: "2026-04-12", Services: []string{"api"}})
	live := FollowThroughOf(incs, items, firebreak.MetricsQuery{From: q.From, To: *tp("2026-04-15T00:00:00Z")},
		*tp("2026-04-10T12:00:00Z"), 5)
	if live.ActionItems.Pending != 1 || live.ActionItems.Due != 8 || live.ActionItems.Late != 5 {
		t.Errorf("live action items %+v, want due 8 = 1 + late 5 + pending 1 + not doing 1", live.ActionItems)
	}
	// P8 is now published (5 April, after its deadline): late either way; P4 is late.
	if live.Postmortems.Late != 4 || live.Postmortems.Pending != 0 {
		t.Errorf("live post-mortems %+v", live.Postmortems)
	}
	if live.OverdueActionItems != 4 { // A3, A4, A6, A7; A8 was done on 3 April
		t.Errorf("live overdue %d, want 4", live.OverdueActionItems)
	}

	// Nothing due: null rates, never a division by zero.
	empty := FollowThroughOf(nil, nil, q, *tp("2026-04-10T00:00:00Z"), 0)
	if empty.Postmortems.Rate != nil || empty.ActionItems.Rate != nil || empty.Postmortems.TargetBusinessDays != 5 {
		t.Errorf("empty %+v", empty)
	}
}
