package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
	"github.com/firebreak/firebreak/sqlstore"
)

// TestIncidentsForMetrics: the window selects incidents by their life overlapping it, with milestones, services
// and the services' teams, the same on both databases.
func TestIncidentsForMetrics(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		must(s.CreateService(alice, firebreak.ServiceInput{Slug: "api", OwnerTeam: "core"}))
		must(s.CreateService(alice, firebreak.ServiceInput{Slug: "db", OwnerTeam: "data"}))
		must(s.CreateService(alice, firebreak.ServiceInput{Slug: "web"}))
		at := func(h int) *time.Time { v := t0.Add(time.Duration(h) * time.Hour); return &v }

		// INC-1: impact 2 h before t0, resolved at t0+1h.
		i1 := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "a", Severity: firebreak.SEV1,
			Services: []string{"api", "db", "web"}, ImpactStartedAt: at(-2), DetectedAt: at(-1)}))
		c.Advance(30 * time.Minute)
		must(s.ChangeStatus(alice, i1.Reference, firebreak.StatusMitigating, "", 0))
		c.Advance(30 * time.Minute)
		must(s.ChangeStatus(alice, i1.Reference, firebreak.StatusResolved, "", 0))
		// INC-2: a false alarm, cancelled at once.
		i2 := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "b", Severity: firebreak.SEV3}))
		must(s.ChangeStatus(alice, i2.Reference, firebreak.StatusCancelled, "", 0))
		// INC-3: declared at t0+10h and still open.
		c.Advance(9 * time.Hour)
		i3 := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "c", Severity: firebreak.SEV2,
			Services: []string{"web"}}))

		refs := func(from, to *time.Time) []string {
			got := must(s.IncidentsForMetrics(context.Background(), *from, *to))
			var out []string
			for _, inc := range got {
				out = append(out, inc.Reference)
			}
			return out
		}
		if got := refs(at(-24), at(24)); !slices.Equal(got, []string{"INC-1", "INC-2", "INC-3"}) {
			t.Fatalf("whole day: %v", got)
		}
		// Before INC-1's start nothing; after its resolution only the open one (and nothing cancelled).
		if got := refs(at(-24), at(-2)); len(got) != 0 {
			t.Errorf("before everything: %v", got)
		}
		if got := refs(at(5), at(9)); len(got) != 0 {
			t.Errorf("gap with nothing running: %v", got)
		}
		if got := refs(at(20), at(30)); !slices.Equal(got, []string{"INC-3"}) {
			t.Errorf("later: %v", got)
		}
		// INC-1 overlaps a window starting inside it.
		if got := refs(at(0), at(2)); !slices.Equal(got, []string{"INC-1", "INC-2"}) {
			t.Errorf("window in INC-1: %v", got)
		}

		all := must(s.IncidentsForMetrics(context.Background(), *at(-24), *at(24)))
		m := all[0]
		if !slices.Equal(m.Services, []string{"api", "db", "web"}) || !slices.Equal(m.Teams, []string{"core", "data"}) {
			t.Errorf("services %v teams %v", m.Services, m.Teams)
		}
		if m.Severity != firebreak.SEV1 || m.Status != firebreak.StatusResolved || m.ID != i1.ID {
			t.Errorf("incident %+v", m)
		}
		ms := m.Milestones
		if !ms.ImpactStartedAt.Equal(*at(-2)) || !ms.DetectedAt.Equal(*at(-1)) || !ms.MitigatedAt.Equal(t0.Add(30*time.Minute)) ||
			!ms.ResolvedAt.Equal(*at(1)) || ms.ClosedAt != nil {
			t.Errorf("milestones %+v", ms)
		}
		if all[1].Status != firebreak.StatusCancelled || len(all[1].Services) != 0 || len(all[1].Teams) != 0 {
			t.Errorf("cancelled incident %+v", all[1])
		}
		if all[2].ID != i3.ID || all[2].Milestones.ResolvedAt != nil || !slices.Equal(all[2].Teams, []string{}) {
			t.Errorf("open incident %+v", all[2])
		}
		if _, err := s.IncidentsForMetrics(context.Background(), *at(1), *at(1)); firebreak.ErrorCode(err) != firebreak.EInvalid {
			t.Errorf("empty window: %v", err)
		}
	})
}

func TestOverdueActionItems(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "a", Severity: firebreak.SEV1}))
		add := func(due string, p firebreak.Priority, st firebreak.ActionItemStatus) {
			must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "x", DueDate: due,
				Priority: p, Status: st, Reason: "r"}))
		}
		add("2025-02-28", firebreak.PriorityHigh, firebreak.ActionOpen)       // overdue
		add("2025-02-01", firebreak.PriorityHigh, firebreak.ActionInProgress) // overdue
		add("2025-02-01", firebreak.PriorityLow, firebreak.ActionOpen)        // overdue
		add("2025-03-01", firebreak.PriorityHigh, firebreak.ActionOpen)       // due today: not yet
		add("", firebreak.PriorityHigh, firebreak.ActionOpen)                 // no due date
		add("2025-02-01", firebreak.PriorityHigh, firebreak.ActionDone)       // done
		add("2025-02-01", firebreak.PriorityMedium, firebreak.ActionNotDoing) // not doing
		got := must(s.OverdueActionItems(context.Background(), t0))
		want := map[firebreak.Priority]int{firebreak.PriorityHigh: 2, firebreak.PriorityMedium: 0,
			firebreak.PriorityLow: 1}
		for p, n := range want {
			if got[p] != n {
				t.Errorf("%s: %d overdue, want %d (all: %v)", p, got[p], n, got)
			}
		}
	})
}

// TestIncidentsForMetricsWindows: for windows of every length across nine months of incidents (backdated,
// cancelled, open, resolved, some corrected), the window's three index ranges return exactly the incidents a
// scan of every incident selects by the rule: started before the window's end, and ended at or after its start
// (the end being the first of resolved_at, closed_at, mitigated_at, updated_at) or still unresolved and not
// cancelled.
func TestIncidentsForMetricsWindows(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		incs := seedMonths(t, s, c)
		// Open incidents that were last touched long ago, and one mitigated but never resolved.
		must(s.ChangeStatus(alice, incs[13].Reference, firebreak.StatusMitigating, "", 0))
		now := c.Now()
		var all []*firebreak.Incident
		for _, inc := range incs {
			all = append(all, must(s.GetIncident(ctx, inc.Reference)))
		}
		for i, from := 0, t0.AddDate(0, 0, -10); from.Before(now.AddDate(0, 0, 10)); i++ {
			to := from.Add(time.Duration(1+i%7*i%11) * 31 * time.Hour)
			var want []string
			for _, inc := range all {
				m := inc.Milestones
				start := analysis.StartOf(&firebreak.MetricsIncident{Milestones: m, CreatedAt: inc.CreatedAt})
				end := inc.UpdatedAt
				for _, e := range []*time.Time{m.MitigatedAt, m.ClosedAt, m.ResolvedAt} {
					if e != nil {
						end = *e
					}
				}
				unresolved := m.ResolvedAt == nil && m.ClosedAt == nil && inc.Status != firebreak.StatusCancelled
				if start.Before(to) && (!end.Before(from) || unresolved) {
					want = append(want, inc.Reference)
				}
			}
			var got []string
			for _, inc := range must(s.IncidentsForMetrics(ctx, from, to)) {
				got = append(got, inc.Reference)
			}
			if !slices.Equal(got, want) {
				t.Errorf("[%s, %s): %v, want %v", from.Format(time.RFC3339), to.Format(time.RFC3339), got, want)
			}
			from = from.Add(53 * time.Hour)
		}
	})
}
