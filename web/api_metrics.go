package web

// Incident metrics over HTTP (docs/METRICS.md): the report as JSON and CSV, one incident's durations, and the
// Prometheus gauges computed at scrape time. The routes exist when the IncidentService is also a
// firebreak.MetricsService (the SQL store is).

import (
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

// Metrics windows: the default when from is not given, and the longest allowed.
const (
	metricsDefaultWindow = 90 * 24 * time.Hour
	metricsMaxWindow     = 5 * 366 * 24 * time.Hour
)

// metricsSource returns the metrics reader, or nil when the configured IncidentService is not one.
func (s *Server) metricsSource() firebreak.MetricsService {
	ms, _ := s.cfg.Incidents.(firebreak.MetricsService)
	return ms
}

// routesMetrics registers the metrics API and the Prometheus collector of open incidents and overdue action
// items.
func (s *Server) routesMetrics() error {
	ms := s.metricsSource()
	mc := &metricsCollector{counts: s.cfg.IncidentCounts, now: s.cfg.Now}
	if ms != nil {
		mc.overdue = ms.OverdueActionItems
	}
	if err := s.cfg.Registry.Register(mc); err != nil {
		return err
	}
	if ms == nil {
		return nil
	}
	s.api("GET /metrics", firebreak.RoleViewer, s.metricsReport)
	s.api("GET /metrics.csv", firebreak.RoleViewer, s.metricsCSV)
	s.api("GET /incidents/{id}/metrics", firebreak.RoleViewer, s.incidentMetrics)
	return nil
}

// parseMetricsQuery reads from, to, group_by, service and severity; errors name the parameter.
func parseMetricsQuery(r *http.Request, now time.Time) (firebreak.MetricsQuery, error) {
	q := newAPIQuery(r, "from", "to", "group_by", "service", "severity")
	var mq firebreak.MetricsQuery
	mq.To = now.UTC()
	if t := q.time("to"); t != nil {
		mq.To = t.UTC()
	}
	mq.From = mq.To.Add(-metricsDefaultWindow)
	if t := q.time("from"); t != nil {
		mq.From = t.UTC()
	}
	if q.v.Err() == nil {
		if !mq.From.Before(mq.To) {
			q.v.Add("from", "must be before to")
		} else if mq.To.Sub(mq.From) > metricsMaxWindow {
			q.v.Add("from", "the window may be at most 5 years long")
		}
	}
	mq.GroupBy = strings.ToLower(q.str("group_by"))
	if mq.GroupBy != "" && !slices.Contains(analysis.GroupBys, mq.GroupBy) {
		q.v.Add("group_by", "must be one of %s", strings.Join(analysis.GroupBys, ", "))
	}
	mq.Service = q.str("service")
	if mq.Service != "" && !firebreak.ValidSlug(mq.Service) {
		q.v.Add("service", "must be a service slug")
	}
	if v := q.str("severity"); v != "" {
		mq.Severity = firebreak.Severity(strings.ToUpper(v))
		if !mq.Severity.Valid() {
			q.v.Add("severity", "unknown severity %q (one of %s)", v, apiJoin(firebreak.Severities))
		}
	}
	return mq, q.err()
}

// buildMetrics reads the incidents and action items of the window and computes the report with its
// follow-through figures.
func (s *Server) buildMetrics(ctx context.Context, mq firebreak.MetricsQuery) (analysis.Report, error) {
	incs, err := s.metricsSource().IncidentsForMetrics(ctx, mq.From, mq.To)
	if err != nil {
		return analysis.Report{}, err
	}
	items, err := s.metricsSource().ActionItemsForMetrics(ctx, mq.To)
	if err != nil {
		return analysis.Report{}, err
	}
	now := s.cfg.Now()
	rep := analysis.Build(incs, mq, now)
	ft := analysis.FollowThroughOf(incs, items, mq, now, s.followThroughPolicy().PostmortemDueBusinessDays)
	rep.FollowThrough = &ft
	return rep, nil
}

func (s *Server) metricsReport(w http.ResponseWriter, r *http.Request) {
	mq, err := parseMetricsQuery(r, s.cfg.Now())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	rep, err := s.buildMetrics(r.Context(), mq)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// MetricsCSVHeader is the header row of GET /api/v1/metrics.csv.
var MetricsCSVHeader = []string{"group_by", "group", "metric", "count", "open", "p50_seconds", "p90_seconds",
	"p95_seconds", "max_seconds", "mean_seconds", "value"}

func csvNum(p *float64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', -1, 64)
}

// metricsCSVRows flattens a report: per group (the total first), one row of incident counts, one per duration
// metric, and for scopes with reliability one each for failures, downtime, MTBF, MTTF and availability.
func metricsCSVRows(rep *analysis.Report) [][]string {
	groupBy := rep.GroupBy
	if groupBy == "" {
		groupBy = "total"
	}
	rows := [][]string{MetricsCSVHeader}
	add := func(by string, g *analysis.Group) {
		row := func(metric string, count, open int, p50, p90, p95, max, mean *float64, value string) {
			rows = append(rows, []string{by, g.Key, metric, strconv.Itoa(count), strconv.Itoa(open), csvNum(p50),
				csvNum(p90), csvNum(p95), csvNum(max), csvNum(mean), value})
		}
		row("incidents", g.Count, g.OpenCount, nil, nil, nil, nil, nil, "")
		for _, name := range analysis.Metrics {
			d := g.Get(name)
			row(name, d.N, d.Open, d.P50, d.P90, d.P95, d.Max, d.Mean, "")
		}
		if rl := g.Reliability; rl != nil {
			row("failures", rl.Failures, rl.Ongoing, nil, nil, nil, nil, nil, strconv.Itoa(rl.Failures))
			row("downtime_seconds", rl.Failures, rl.Ongoing, nil, nil, nil, nil, nil, csvNum(&rl.DowntimeSeconds))
			row("mtbf_seconds", rl.Failures, rl.Ongoing, nil, nil, nil, nil, nil, csvNum(rl.MTBFSeconds))
			row("mttf_seconds", rl.Failures, rl.Ongoing, nil, nil, nil, nil, nil, csvNum(rl.MTTFSeconds))
			row("availability", rl.Failures, rl.Ongoing, nil, nil, nil, nil, nil, csvNum(&rl.Availability))
		}
	}
	add("total", &rep.Total)
	for i := range rep.Groups {
		add(groupBy, &rep.Groups[i])
	}
	if ft := rep.FollowThrough; ft != nil {
		// Follow-through (docs/METRICS.md §9): count = decided (on time + late), open = pending, value = rate.
		row := func(metric string, count, open int, value string) {
			rows = append(rows, []string{"total", "total", metric, strconv.Itoa(count), strconv.Itoa(open), "", "",
				"", "", "", value})
		}
		pm, ai := ft.Postmortems, ft.ActionItems
		row("postmortems_on_time", pm.OnTime+pm.Late, pm.Pending, csvNum(pm.Rate))
		row("action_items_on_time", ai.OnTime+ai.Late, ai.Pending, csvNum(ai.Rate))
		row("overdue_action_items", ft.OverdueActionItems, 0, strconv.Itoa(ft.OverdueActionItems))
	}
	return rows
}

func (s *Server) metricsCSV(w http.ResponseWriter, r *http.Request) {
	mq, err := parseMetricsQuery(r, s.cfg.Now())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	rep, err := s.buildMetrics(r.Context(), mq)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", `attachment; filename="firebreak-metrics.csv"`)
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	_ = cw.WriteAll(metricsCSVRows(&rep))
}

func (s *Server) incidentMetrics(w http.ResponseWriter, r *http.Request) {
	inc, err := s.cfg.Incidents.GetIncident(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	mi := firebreak.MetricsIncidentOf(inc)
	writeJSON(w, http.StatusOK, analysis.Durations(&mi, s.cfg.Now().UTC()))
}

// metricsCollector computes the incident gauges at scrape time from the database, so every replica reports the
// same truth: firebreak_open_incidents{severity} and firebreak_overdue_action_items{priority}.
type metricsCollector struct {
	counts func(context.Context) (map[firebreak.Status]map[firebreak.Severity]int, error)
	// overdue is the hook for overdue action items (nil: the gauge is not reported).
	overdue func(ctx context.Context, asOf time.Time) (map[firebreak.Priority]int, error)
	now     func() time.Time
}

var (
	openIncidentsDesc = prometheus.NewDesc("firebreak_open_incidents",
		"Open incidents (detected, investigating, identified or mitigating) by severity.", []string{"severity"}, nil)
	overdueActionItemsDesc = prometheus.NewDesc("firebreak_overdue_action_items",
		"Action items open or in progress whose due date (UTC) has passed, by priority.", []string{"priority"}, nil)
)

// metricsScrapeTimeout bounds each database read of a scrape.
const metricsScrapeTimeout = 2 * time.Second

func (c *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- openIncidentsDesc
	ch <- overdueActionItemsDesc
}

func (c *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), metricsScrapeTimeout)
	defer cancel()
	if counts, err := c.counts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(openIncidentsDesc, err)
	} else {
		for _, sev := range firebreak.Severities {
			n := 0
			for _, st := range firebreak.Statuses {
				if st.Open() {
					n += counts[st][sev]
				}
			}
			ch <- prometheus.MustNewConstMetric(openIncidentsDesc, prometheus.GaugeValue, float64(n), string(sev))
		}
	}
	if c.overdue == nil {
		return
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), metricsScrapeTimeout)
	defer cancel2()
	byPriority, err := c.overdue(ctx2, c.now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(overdueActionItemsDesc, err)
		return
	}
	for _, p := range firebreak.Priorities {
		ch <- prometheus.MustNewConstMetric(overdueActionItemsDesc, prometheus.GaugeValue, float64(byPriority[p]),
			string(p))
	}
}
