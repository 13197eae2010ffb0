package web

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
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

// TestDashboardFiguresAreTheRawOnes: every figure the dashboard shows — the grouped table and the histogram, the
// weekly chart, the twelve-month trend and the follow-through, computed from the store's copies of the months
// that have ended and its monthly summaries — is exactly what analysis.Build and FollowThroughOf give from the
// raw incidents read in full, and the incidents are the same:
// for every period and grouping, when the summaries are first computed and when they are read back, after
// retroactive changes to old incidents (milestones corrected, impact moved to another month, severity and
// services changed, an old incident cancelled, another resolved late, a new one backdated months), on the 31st
// of a month (a 30-day window that starts after the month) and at the first instant of a month.
func TestDashboardFiguresAreTheRawOnes(t *testing.T) {
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
			for _, s := range []firebreak.ServiceInput{{Slug: "api", Name: "API", OwnerTeam: "core"},
				{Slug: "db", Name: "DB", OwnerTeam: "data"}, {Slug: "web", Name: "Web"}} {
				if _, err := st.CreateService(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			must := func(inc *firebreak.Incident, err error) *firebreak.Incident {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				return inc
			}
			services := [][]string{{"api"}, {"db", "api"}, {"web"}, nil}
			var incs []*firebreak.Incident
			start := clock.Now()
			for i := range 80 {
				at := start.Add(time.Duration(i) * 115 * time.Hour)
				clock.Set(at)
				in := firebreak.DeclareInput{Title: fmt.Sprintf("incident %d", i),
					Severity: firebreak.Severities[i%3], Services: services[i%4]}
				if i%7 == 0 { // impact began two days before the declaration (across a month's end, sometimes)
					imp := at.Add(-49 * time.Hour)
					in.ImpactStartedAt = &imp
				}
				inc := must(st.DeclareIncident(ctx, in))
				if i%5 == 0 {
					if _, err := st.AddActionItem(ctx, inc.ID, firebreak.ActionItemInput{Title: "fix it",
						DueDate: at.AddDate(0, 0, 10).Format(time.DateOnly), Priority: firebreak.PriorityHigh,
						Status: firebreak.ActionOpen, Reason: "r"}); err != nil {
						t.Fatal(err)
					}
				}
				switch {
				case i%11 == 0:
					inc = must(st.ChangeStatus(ctx, inc.ID, firebreak.StatusCancelled, "", 0))
				case i%13 == 0: // still open
				default:
					clock.Set(at.Add(time.Duration(1+i%9) * 7 * time.Hour))
					inc = must(st.ChangeStatus(ctx, inc.ID, firebreak.StatusResolved, "", 0))
				}
				incs = append(incs, inc)
			}
			srv, err := New(Config{Incidents: st, Catalog: st, Users: st, Sessions: st, Live: st, Ready: st.Ping,
				IncidentCounts: st.IncidentCounts, Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			c := &console{s: srv}

			js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
			check := func(when string, now time.Time) {
				t.Helper()
				clock.Set(now)
				trendFrom := analysis.PeriodStart(analysis.ByMonth, now).AddDate(0, 1-dashTrendMonths, 0)
				full, err := st.IncidentsForMetrics(ctx, trendFrom, now)
				if err != nil {
					t.Fatal(err)
				}
				months := analysis.Build(full, firebreak.MetricsQuery{From: trendFrom, To: now, GroupBy: analysis.ByMonth}, now)
				items, err := st.ActionItemsForMetrics(ctx, now)
				if err != nil {
					t.Fatal(err)
				}
				for _, days := range []int{30, 90, 365} {
					for _, groupBy := range []string{analysis.ByService, analysis.ByTeam, analysis.BySeverity} {
						from := now.AddDate(0, 0, -days)
						what := fmt.Sprintf("%s, %dd by %s", when, days, groupBy)
						dr, err := c.dashboardReports(ctx, from, trendFrom, now, groupBy)
						if err != nil {
							t.Fatal(err)
						}
						window, err := st.IncidentsForMetrics(ctx, from, now)
						if err != nil {
							t.Fatal(err)
						}
						untitled := slices.Clone(window)
						for i := range untitled {
							untitled[i].Title = ""
						}
						if !reflect.DeepEqual(dr.incs, untitled) {
							t.Errorf("%s: %d incidents, want %d (their titles aside)", what, len(dr.incs), len(window))
						}
						rep := analysis.Build(window, firebreak.MetricsQuery{From: from, To: now, GroupBy: groupBy}, now)
						weeks := analysis.Build(window, firebreak.MetricsQuery{From: from, To: now, GroupBy: analysis.ByWeek}, now)
						if !reflect.DeepEqual(dr.rep, rep) {
							t.Errorf("%s: report\n%s\nwant\n%s", what, js(dr.rep), js(rep))
						}
						if got, want := weeklyChart(dr.weeks), weeklyChart(weeks); !reflect.DeepEqual(got, want) {
							t.Errorf("%s: weekly chart\n%s\nwant\n%s", what, js(got), js(want))
						}
						if got, want := trendChart(dr.months), trendChart(months); !reflect.DeepEqual(got, want) {
							t.Errorf("%s: trend chart\n%s\nwant\n%s", what, js(got), js(want))
						}
						if len(dr.months.Groups) != len(months.Groups) {
							t.Fatalf("%s: %d months, want %d", what, len(dr.months.Groups), len(months.Groups))
						}
						for i, g := range dr.months.Groups {
							if w := months.Groups[i]; g.Key != w.Key || !reflect.DeepEqual(g.TTR, w.TTR) {
								t.Errorf("%s, %s: time to resolve %s, want (%s) %s", what, g.Key, js(g.TTR), w.Key, js(w.TTR))
							}
						}
						q := firebreak.MetricsQuery{From: from, To: now}
						if got, want := analysis.FollowThroughOf(dr.incs, dr.items, q, now, 5),
							analysis.FollowThroughOf(window, items, q, now, 5); !reflect.DeepEqual(got, want) {
							t.Errorf("%s: follow-through %s, want %s", what, js(got), js(want))
						}
					}
				}
				if counted := months.Total.Count; counted < 40 {
					t.Fatalf("%s: only %d incidents in the trend", when, counted)
				}
			}

			now := start.Add(80 * 115 * time.Hour)
			check("first view", now)
			check("second view", now.Add(time.Minute))

			// Retroactive changes to old incidents.
			ts := func(t time.Time) *time.Time { return &t }
			edit := func(inc *firebreak.Incident, p firebreak.IncidentPatch) {
				t.Helper()
				if _, err := st.UpdateIncident(ctx, inc.ID, p, 0); err != nil {
					t.Fatal(err)
				}
			}
			clock.Set(now.Add(time.Hour))
			edit(incs[50], firebreak.IncidentPatch{Milestones: map[string]*time.Time{
				"resolved_at": ts(incs[50].Milestones.ResolvedAt.Add(30 * time.Hour))}})
			edit(incs[55], firebreak.IncidentPatch{Milestones: map[string]*time.Time{
				"impact_started_at": ts(incs[55].Milestones.DeclaredAt.AddDate(0, -1, 0))}})
			sev := firebreak.SEV1
			edit(incs[60], firebreak.IncidentPatch{Severity: &sev, Services: &[]string{"web", "db"}})
			var open []*firebreak.Incident
			for _, inc := range incs[:75] {
				if inc.Status.Open() {
					open = append(open, inc)
				}
			}
			must(st.ChangeStatus(ctx, open[len(open)-1].ID, firebreak.StatusCancelled, "", 0))
			must(st.ChangeStatus(ctx, open[len(open)-2].ID, firebreak.StatusResolved, "", 0))
			must(st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "found late", Severity: firebreak.SEV2,
				Services: []string{"api"}, ImpactStartedAt: ts(now.AddDate(0, -4, 0))}))
			// Early in the current month and over within hours: before the start of a 30-day window on the
			// month's last day.
			early := analysis.PeriodStart(analysis.ByMonth, now).Add(3 * time.Hour)
			inc := must(st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "new year", Severity: firebreak.SEV3,
				ImpactStartedAt: &early, DetectedAt: ts(early.Add(5 * time.Minute))}))
			must(st.ChangeStatus(ctx, inc.ID, firebreak.StatusResolved, "", 0))
			edit(inc, firebreak.IncidentPatch{Milestones: map[string]*time.Time{"declared_at": ts(early.Add(10 * time.Minute)),
				"acknowledged_at": ts(early.Add(20 * time.Minute)), "mitigated_at": ts(early.Add(time.Hour)),
				"resolved_at": ts(early.Add(2 * time.Hour))}})
			check("after retroactive changes", now.Add(2*time.Hour))

			last := analysis.PeriodStart(analysis.ByMonth, now).AddDate(0, 1, 0).Add(-4 * time.Hour) // the 31st
			check("on the last day of a month", last)
			check("at the first instant of a month", last.Add(4*time.Hour))
		})
	}
}
