package web

import (
	"context"
	"sync"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

// The dashboard reads the incidents of its window (25,000 in 90 days at 274 a day) and shows the time to resolve
// of each of the twelve months of its trend (100,000 incidents). A store that keeps the months that have ended
// (sqlstore: metrics_months, kept exact by the writes) gives the window's incidents of those months from their
// copies and the trend's months from their summaries; only the current month is read from the incidents and
// computed here.

// monthStore is what the dashboard uses of a store that keeps months (sqlstore.Store).
type monthStore interface {
	// IncidentsForDashboard is IncidentsForMetrics without the titles.
	IncidentsForDashboard(ctx context.Context, from, to time.Time) ([]firebreak.MetricsIncident, error)
	// MonthlyResolveTimes returns the time to resolve as of asOf of the incidents that started in each of n
	// months from `from`, every one of which has ended by asOf.
	MonthlyResolveTimes(ctx context.Context, from time.Time, n int, asOf time.Time) ([]analysis.Distribution, error)
	// IncidentStartsForMetrics reads what the time to resolve needs of the incidents that started in [from, to).
	IncidentStartsForMetrics(ctx context.Context, from, to time.Time) ([]firebreak.MetricsIncident, error)
}

// dashboardData is what the dashboard shows: the window's incidents and action items, and the reports built from
// them. months has, for each month of the trend, only its key and its time to resolve (all the trend shows);
// weeks has only the counts of each week (all the weekly chart shows).
type dashboardData struct {
	incs               []firebreak.MetricsIncident // the window's (without titles from a monthStore)
	items              []firebreak.MetricsActionItem
	rep, weeks, months analysis.Report
}

// dashboardReports reads the window (from to now), the action items and the trend's months (trendFrom, the start
// of a month, to now) at once, then builds the grouped report while it counts the weeks and finishes the trend:
// the page's time is the longest read plus the longest build rather than their sum.
func (c *console) dashboardReports(ctx context.Context, from, trendFrom, now time.Time, groupBy string) (
	dashboardData, error) {
	var d dashboardData
	ms := c.s.metricsSource()
	kept, keeps := ms.(monthStore)
	month := analysis.PeriodStart(analysis.ByMonth, now) // the current month: not summarized, it still changes
	ended := 0                                           // the trend's months that have ended
	for m := trendFrom; m.Before(month); m = m.AddDate(0, 1, 0) {
		ended++
	}
	var past []analysis.Distribution
	var current, trend []firebreak.MetricsIncident
	var errs [5]error
	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	run(func() { d.items, errs[0] = ms.ActionItemsForMetrics(ctx, now) })
	switch {
	case keeps:
		run(func() { past, errs[1] = kept.MonthlyResolveTimes(ctx, trendFrom, ended, now) })
		if from.After(month) { // a window shorter than the month so far (30 days on the 31st)
			run(func() { current, errs[2] = kept.IncidentStartsForMetrics(ctx, month, now) })
		}
	case trendFrom.Before(from): // a store that keeps no months: the trend's incidents in full
		run(func() { trend, errs[3] = ms.IncidentsForMetrics(ctx, trendFrom, now) })
	}
	if keeps {
		d.incs, errs[4] = kept.IncidentsForDashboard(ctx, from, now)
	} else {
		d.incs, errs[4] = ms.IncidentsForMetrics(ctx, from, now)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return d, err
		}
	}
	run(func() {
		d.weeks = analysis.Counts(d.incs, firebreak.MetricsQuery{From: from, To: now, GroupBy: analysis.ByWeek}, now)
		mq := firebreak.MetricsQuery{From: trendFrom, To: now, GroupBy: analysis.ByMonth}
		if !keeps {
			if trend == nil {
				trend = d.incs
			}
			d.months = analysis.Build(trend, mq, now)
			return
		}
		if current == nil {
			for i := range d.incs {
				if !analysis.StartOf(&d.incs[i]).Before(month) {
					current = append(current, d.incs[i])
				}
			}
		}
		d.months = analysis.Report{From: trendFrom, To: now, AsOf: now, GroupBy: analysis.ByMonth,
			Groups: make([]analysis.Group, 0, ended+1)}
		for i, ttr := range past {
			d.months.Groups = append(d.months.Groups,
				analysis.Group{Key: analysis.PeriodKey(analysis.ByMonth, trendFrom.AddDate(0, i, 0)), TTR: ttr})
		}
		if month.Before(now) { // (at the very first instant of a month, Build has no group for it either)
			cur := analysis.ResolveTimes(current, now)
			d.months.Groups = append(d.months.Groups,
				analysis.Group{Key: analysis.PeriodKey(analysis.ByMonth, month), TTR: cur.At(now)})
		}
	})
	d.rep = analysis.Build(d.incs, firebreak.MetricsQuery{From: from, To: now, GroupBy: groupBy}, now)
	wg.Wait()
	return d, nil
}
