package web

import (
	"context"
	"sync"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

// The dashboard's twelve-month trend (time to resolve per month) covers far more incidents than its default
// 90-day window. Reading all of them in full (milestones, services, teams) made the page's time grow with the
// history; the store can instead give the months before the window through a light read (the start, resolved_at
// and status of each incident, through the start index), which is all the time to resolve needs.

// metricsStarts is the light read (sqlstore.Store.IncidentStartsForMetrics).
type metricsStarts interface {
	IncidentStartsForMetrics(ctx context.Context, from, to time.Time) ([]firebreak.MetricsIncident, error)
}

// withLaterOf returns earlier (the light reads of the incidents that started before from) followed by the
// incidents of window that started at or after from: the trend's incidents, each once.
func withLaterOf(earlier, window []firebreak.MetricsIncident, from time.Time) []firebreak.MetricsIncident {
	late := 0
	for i := range window {
		if !analysis.StartOf(&window[i]).Before(from) {
			late++
		}
	}
	out := make([]firebreak.MetricsIncident, 0, len(earlier)+late) // one copy: these slices are large
	out = append(out, earlier...)
	for i := range window {
		if !analysis.StartOf(&window[i]).Before(from) {
			out = append(out, window[i])
		}
	}
	return out
}

// dashboardData is what the dashboard shows: the window's incidents and the three reports built from them.
type dashboardData struct {
	incs               []firebreak.MetricsIncident // the window's, read in full
	rep, weeks, months analysis.Report
}

// dashboardReports reads the window (from to now) and the trend (trendFrom to now), the two reads at once, then
// builds the grouped report, the weekly counts and the monthly trend, the three at once: the page is rare and
// heavy, and its time is the longest read plus the longest build rather than their sum.
func (c *console) dashboardReports(ctx context.Context, from, trendFrom, now time.Time, groupBy string) (
	dashboardData, error) {
	var d dashboardData
	var earlier []firebreak.MetricsIncident
	var errWindow, errEarlier error
	ms, light := c.s.metricsSource().(metricsStarts)
	light = light && trendFrom.Before(from)
	var wg sync.WaitGroup
	if light {
		wg.Add(1)
		go func() {
			defer wg.Done()
			earlier, errEarlier = ms.IncidentStartsForMetrics(ctx, trendFrom, from)
		}()
	}
	d.incs, errWindow = c.s.metricsSource().IncidentsForMetrics(ctx, from, now)
	wg.Wait()
	if errWindow != nil {
		return d, errWindow
	}
	if errEarlier != nil {
		return d, errEarlier
	}
	trend := d.incs
	switch {
	case light:
		trend = withLaterOf(earlier, d.incs, from)
	case trendFrom.Before(from): // a store without the light read: the trend's incidents in full
		var err error
		if trend, err = c.s.metricsSource().IncidentsForMetrics(ctx, trendFrom, now); err != nil {
			return d, err
		}
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		d.weeks = analysis.Build(d.incs, firebreak.MetricsQuery{From: from, To: now, GroupBy: analysis.ByWeek}, now)
	}()
	go func() {
		defer wg.Done()
		d.months = analysis.Build(trend, firebreak.MetricsQuery{From: trendFrom, To: now, GroupBy: analysis.ByMonth}, now)
	}()
	d.rep = analysis.Build(d.incs, firebreak.MetricsQuery{From: from, To: now, GroupBy: groupBy}, now)
	wg.Wait()
	return d, nil
}
