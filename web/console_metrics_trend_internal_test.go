package web

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

type trendClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *trendClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *trendClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// TestDashboardTrendFromLightReads: the dashboard's trend built from the light reads of the months before the
// window plus the window's incidents is the trend built from every incident read in full (counts, open counts,
// times to resolve), with incidents that straddle the window's start, backdated impact, cancelled and open ones.
func TestDashboardTrendFromLightReads(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := firebreak.WithActor(context.Background(), firebreak.Actor{Username: "alice", Role: firebreak.RoleAdmin})
			clock := &trendClock{t: time.Date(2025, 1, 3, 9, 0, 0, 0, time.UTC)}
			o := sqltest.Options(t, d)
			o.Now = clock.Now
			st, err := sqlstore.Open(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if _, err := st.CreateService(ctx, firebreak.ServiceInput{Slug: "api", Name: "API"}); err != nil {
				t.Fatal(err)
			}
			start := clock.Now()
			for i := range 80 {
				at := start.Add(time.Duration(i) * 115 * time.Hour)
				clock.Set(at)
				in := firebreak.DeclareInput{Title: fmt.Sprintf("incident %d", i), Severity: firebreak.SEV2,
					Services: []string{"api"}}
				if i%7 == 0 { // impact began two days before the declaration (across a month's end, sometimes)
					imp := at.Add(-49 * time.Hour)
					in.ImpactStartedAt = &imp
				}
				inc, err := st.DeclareIncident(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case i%11 == 0:
					_, err = st.ChangeStatus(ctx, inc.ID, firebreak.StatusCancelled, "", 0)
				case i%13 == 0: // still open
				default:
					clock.Set(at.Add(time.Duration(1+i%9) * 7 * time.Hour))
					_, err = st.ChangeStatus(ctx, inc.ID, firebreak.StatusResolved, "", 0)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			now := start.Add(80 * 115 * time.Hour)
			clock.Set(now)
			srv, err := New(Config{Incidents: st, Catalog: st, Users: st, Sessions: st, Live: st, Ready: st.Ping,
				IncidentCounts: st.IncidentCounts, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			c := &console{s: srv}
			trendFrom := analysis.PeriodStart(analysis.ByMonth, now).AddDate(0, 1-dashTrendMonths, 0)
			for _, days := range []int{30, 90, 365} {
				from := now.AddDate(0, 0, -days)
				dr, err := c.dashboardReports(ctx, from, trendFrom, now, analysis.ByService)
				if err != nil {
					t.Fatal(err)
				}
				full, err := st.IncidentsForMetrics(ctx, trendFrom, now)
				if err != nil {
					t.Fatal(err)
				}
				q := firebreak.MetricsQuery{From: trendFrom, To: now, GroupBy: analysis.ByMonth}
				got, want := dr.months, analysis.Build(full, q, now)
				// The window's reports are those of a plain read of the window.
				window, err := st.IncidentsForMetrics(ctx, from, now)
				if err != nil {
					t.Fatal(err)
				}
				wq := firebreak.MetricsQuery{From: from, To: now, GroupBy: analysis.ByService}
				if wr := analysis.Build(window, wq, now); wr.Total.Count != dr.rep.Total.Count ||
					len(wr.Groups) != len(dr.rep.Groups) || len(dr.incs) != len(window) ||
					dr.weeks.Total.Count != wr.Total.Count {
					t.Errorf("%dd: window report %d incidents, dashboard's %d (weeks %d)", days, wr.Total.Count,
						dr.rep.Total.Count, dr.weeks.Total.Count)
				}
				if len(got.Groups) != len(want.Groups) || got.Excluded != want.Excluded || len(want.Groups) != 12 {
					t.Fatalf("%dd: %d groups (excluded %d), want %d (%d)", days, len(got.Groups), got.Excluded,
						len(want.Groups), want.Excluded)
				}
				counted := 0
				for i, g := range got.Groups {
					w := want.Groups[i]
					if g.Key != w.Key || g.Count != w.Count || g.OpenCount != w.OpenCount || g.TTR.N != w.TTR.N ||
						g.TTR.Open != w.TTR.Open || fmt.Sprint(deref(g.TTR.P50), deref(g.TTR.P90), deref(g.TTR.Max)) !=
						fmt.Sprint(deref(w.TTR.P50), deref(w.TTR.P90), deref(w.TTR.Max)) {
						t.Errorf("%dd, %s: light n=%d open=%d p50=%v p90=%v; full n=%d open=%d p50=%v p90=%v", days,
							g.Key, g.TTR.N, g.TTR.Open, deref(g.TTR.P50), deref(g.TTR.P90), w.TTR.N, w.TTR.Open,
							deref(w.TTR.P50), deref(w.TTR.P90))
					}
					counted += g.Count
				}
				if counted < 60 {
					t.Fatalf("only %d incidents in the trend", counted)
				}
			}
		})
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
