package web

import (
	"context"
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

// trendIncidents returns the incidents the trend is built from: those of window (read in full from from to now)
// that started at or after from, and those that started in [trendFrom, from), read lightly when the store can.
func (c *console) trendIncidents(ctx context.Context, window []firebreak.MetricsIncident, trendFrom, from,
	now time.Time) ([]firebreak.MetricsIncident, error) {
	if !trendFrom.Before(from) {
		return window, nil // the window reaches back further than the trend
	}
	ms, ok := c.s.metricsSource().(metricsStarts)
	if !ok {
		return c.s.metricsSource().IncidentsForMetrics(ctx, trendFrom, now)
	}
	earlier, err := ms.IncidentStartsForMetrics(ctx, trendFrom, from)
	if err != nil {
		return nil, err
	}
	for i := range window {
		if !analysis.StartOf(&window[i]).Before(from) {
			earlier = append(earlier, window[i])
		}
	}
	return earlier, nil
}
