package web

// The metrics dashboard (/dashboard): distributions per group as tables, and three charts drawn on the server as
// inline SVG (no script, no inline style: colours come from app.css classes): the monthly p50/p90 time to
// resolve, incidents per week stacked by severity, and the histogram of times to resolve. Every chart has a
// title, a description and a data table. Definitions: docs/METRICS.md.

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

// routesMetrics registers the dashboard (when the store can read metrics).
func (c *console) routesMetrics() {
	if c.s.metricsSource() == nil {
		return
	}
	c.s.mux.HandleFunc("GET /dashboard", c.page(c.authed(firebreak.RoleViewer, c.dashboard)))
}

type dashOption struct {
	Value, Label string
	Selected     bool
}

var dashPeriods = []struct {
	value, label string
	days         int
}{{"30d", "Last 30 days", 30}, {"90d", "Last 90 days", 90}, {"180d", "Last 180 days", 180},
	{"365d", "Last 365 days", 365}}

var dashGroups = []struct{ value, label string }{{analysis.ByService, "Service"}, {analysis.ByTeam, "Team"},
	{analysis.BySeverity, "Severity"}}

// dashCell is one duration metric of one group, formatted.
type dashCell struct {
	N, Open                  int
	P50, P90, P95, Max, Mean string
	HasValues, HasOpen       bool
	OpenMaxAge               string
}

type dashRow struct {
	Key        string
	Total      bool
	Count      int
	OpenCount  int
	Cells      []dashCell // in analysis.Metrics order
	Rel        *analysis.Reliability
	MTBF, MTTF string
	Downtime   string
	Avail      string
}

type dashboardPage struct {
	Periods  []dashOption
	Groups   []dashOption
	GroupBy  string
	From, To time.Time
	Excluded int
	Rows     []dashRow
	Metrics  []string // column heads
	CSVURL   string
	Trend    svgChart
	Weekly   svgChart
	Hist     svgChart
	// Follow is the follow-through of the period (docs/METRICS.md §9).
	Follow *dashFollow
}

// dashFollow is the follow-through section: post-mortems and action items on time, overdue items now.
type dashFollow struct {
	analysis.FollowThrough
	PostmortemRate, ActionRate string
}

func dashRate(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(*r*100, 'f', 0, 64) + "%"
}

// svgChart is a chart ready to print: every coordinate computed here.
type svgChart struct {
	ID, Title, Desc string
	W, H            int
	PlotX, PlotY    float64 // top-left of the plot area
	PlotW, PlotH    float64
	PlotR           float64 // right edge of the plot area
	YTicks          []svgTick
	XLabels         []svgLabel
	Bars            []svgBar
	Lines           []svgLine
	Legend          []svgLegend
	Empty           bool
	TableHead       []string
	TableRows       [][]string
}

type svgTick struct {
	Y    float64
	Text string
}

type svgLabel struct {
	X    float64
	Text string
}

type svgBar struct {
	X, Y, W, H   float64
	Class, Title string
	Key, Series  string // data-key, data-series: what the bar shows
	Count        int
}

type svgPoint struct {
	X, Y  float64
	Title string
	Key   string
}

type svgLine struct {
	Class, Name string
	Paths       []string // polyline points, one per unbroken run
	Points      []svgPoint
}

type svgLegend struct{ Class, Text string }

const (
	chartW, chartH      = 640, 260
	plotLeft, plotRight = 64.0, 12.0
	plotTop, plotBottom = 14.0, 44.0
	maxXLabels          = 8
	dashTrendMonths     = 12
	dashDefaultPeriod   = "90d"
	dashDefaultGroup    = analysis.ByService
)

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// shortDuration formats seconds compactly: 45s, 12m, 2h 05m, 3.5d.
func shortDuration(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return strconv.FormatFloat(d.Hours()/24, 'f', 1, 64) + "d"
}

func optDuration(p *float64) string {
	if p == nil {
		return "—"
	}
	return shortDuration(*p)
}

func newChart(id, title, desc string) svgChart {
	return svgChart{ID: id, Title: title, Desc: desc, W: chartW, H: chartH, PlotX: plotLeft, PlotY: plotTop,
		PlotW: chartW - plotLeft - plotRight, PlotH: chartH - plotTop - plotBottom, PlotR: chartW - plotRight}
}

// yScale returns a rounded maximum for the axis and its ticks (0, half, max).
func (ch *svgChart) yAxis(max float64, format func(float64) string) float64 {
	if max <= 0 {
		max = 1
	}
	for _, f := range []float64{0, 0.5, 1} {
		ch.YTicks = append(ch.YTicks, svgTick{Y: round1(ch.PlotY + ch.PlotH*(1-f)), Text: format(max * f)})
	}
	return max
}

// xLabels labels at most maxXLabels of n slots (centres at x(i)).
func (ch *svgChart) xLabels(keys []string, x func(i int) float64, label func(string) string) {
	step := (len(keys) + maxXLabels - 1) / maxXLabels
	if step < 1 {
		step = 1
	}
	for i := 0; i < len(keys); i += step {
		ch.XLabels = append(ch.XLabels, svgLabel{X: round1(x(i)), Text: label(keys[i])})
	}
}

func monthLabel(key string) string {
	t, err := time.Parse("2006-01", key)
	if err != nil {
		return key
	}
	return t.Format("Jan 06")
}

func weekLabel(key string) string {
	t, err := time.Parse(time.DateOnly, key)
	if err != nil {
		return key
	}
	return t.Format("2 Jan")
}

func countText(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// trendChart draws the monthly p50 and p90 time to resolve as two lines; months without resolved incidents
// break the lines.
func trendChart(rep analysis.Report) svgChart {
	ch := newChart("chart-trend", "Time to resolve by month (p50 and p90)",
		"Median and 90th percentile time to resolve of the incidents that started in each month; months without "+
			"resolved incidents have no point.")
	ch.TableHead = []string{"Month", "Resolved (n)", "Open", "p50", "p90"}
	max := 0.0
	for _, g := range rep.Groups {
		if g.TTR.P90 != nil && *g.TTR.P90 > max {
			max = *g.TTR.P90
		}
		ch.TableRows = append(ch.TableRows, []string{monthLabel(g.Key), strconv.Itoa(g.TTR.N),
			strconv.Itoa(g.TTR.Open), optDuration(g.TTR.P50), optDuration(g.TTR.P90)})
	}
	ch.Empty = max == 0
	max = ch.yAxis(max, shortDuration)
	n := len(rep.Groups)
	x := func(i int) float64 { return ch.PlotX + ch.PlotW*(float64(i)+0.5)/float64(max1(n)) }
	keys := make([]string, n)
	for i, g := range rep.Groups {
		keys[i] = g.Key
	}
	ch.xLabels(keys, x, monthLabel)
	for _, s := range []struct {
		name, class string
		get         func(analysis.Distribution) *float64
	}{{"p50", "line-p50", func(d analysis.Distribution) *float64 { return d.P50 }},
		{"p90", "line-p90", func(d analysis.Distribution) *float64 { return d.P90 }}} {
		ln := svgLine{Class: s.class, Name: s.name}
		var run []string
		flush := func() {
			if len(run) > 1 {
				ln.Paths = append(ln.Paths, strings.Join(run, " "))
			}
			run = nil
		}
		for i, g := range rep.Groups {
			v := s.get(g.TTR)
			if v == nil {
				flush()
				continue
			}
			px, py := round1(x(i)), round1(ch.PlotY+ch.PlotH*(1-*v/max))
			run = append(run, countText(px)+","+countText(py))
			ln.Points = append(ln.Points, svgPoint{X: px, Y: py, Key: g.Key,
				Title: fmt.Sprintf("%s %s: %s (n=%d)", monthLabel(g.Key), s.name, shortDuration(*v), g.TTR.N)})
		}
		flush()
		ch.Lines = append(ch.Lines, ln)
		ch.Legend = append(ch.Legend, svgLegend{Class: s.class, Text: s.name})
	}
	return ch
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// weeklyChart draws incidents per week as bars stacked by severity (SEV1 at the bottom).
func weeklyChart(rep analysis.Report) svgChart {
	ch := newChart("chart-weekly", "Incidents per week by severity",
		"Number of incidents that started in each week (weeks start on Monday, UTC), stacked by severity.")
	ch.TableHead = []string{"Week of"}
	for _, s := range firebreak.Severities {
		ch.TableHead = append(ch.TableHead, string(s))
		ch.Legend = append(ch.Legend, svgLegend{Class: "bar-" + strings.ToLower(string(s)), Text: string(s)})
	}
	ch.TableHead = append(ch.TableHead, "Total")
	max := 0
	for _, g := range rep.Groups {
		max = maxInt(max, g.Count)
		row := []string{g.Key}
		for _, s := range firebreak.Severities {
			row = append(row, strconv.Itoa(g.BySeverity[s]))
		}
		ch.TableRows = append(ch.TableRows, append(row, strconv.Itoa(g.Count)))
	}
	ch.Empty = max == 0
	top := ch.yAxis(float64(max), countText)
	n := len(rep.Groups)
	slot := ch.PlotW / float64(max1(n))
	x := func(i int) float64 { return ch.PlotX + slot*(float64(i)+0.5) }
	keys := make([]string, n)
	for i, g := range rep.Groups {
		keys[i] = g.Key
		base := ch.PlotY + ch.PlotH
		for _, s := range firebreak.Severities {
			c := g.BySeverity[s]
			if c == 0 {
				continue
			}
			h := ch.PlotH * float64(c) / top
			base -= h
			ch.Bars = append(ch.Bars, svgBar{X: round1(ch.PlotX + slot*float64(i) + slot*0.15), Y: round1(base),
				W: round1(slot * 0.7), H: round1(h), Class: "bar-" + strings.ToLower(string(s)), Key: g.Key,
				Series: string(s), Count: c, Title: fmt.Sprintf("Week of %s: %d %s", weekLabel(g.Key), c, s)})
		}
	}
	ch.xLabels(keys, x, weekLabel)
	return ch
}

// histChart draws the histogram of times to resolve.
func histChart(d analysis.Distribution) svgChart {
	ch := newChart("chart-hist", "Time to resolve: histogram",
		fmt.Sprintf("How many resolved incidents took each length of time to resolve (n=%d; %d still open are not "+
			"included).", d.N, d.Open))
	ch.TableHead = []string{"Time to resolve", "Incidents"}
	max := 0
	for _, b := range d.Histogram {
		max = maxInt(max, b.Count)
		ch.TableRows = append(ch.TableRows, []string{b.Label, strconv.Itoa(b.Count)})
	}
	ch.Empty = max == 0
	top := ch.yAxis(float64(max), countText)
	n := len(d.Histogram)
	slot := ch.PlotW / float64(max1(n))
	keys := make([]string, n)
	for i, b := range d.Histogram {
		keys[i] = b.Label
		if b.Count == 0 {
			continue
		}
		h := ch.PlotH * float64(b.Count) / top
		ch.Bars = append(ch.Bars, svgBar{X: round1(ch.PlotX + slot*float64(i) + slot*0.1),
			Y: round1(ch.PlotY + ch.PlotH - h), W: round1(slot * 0.8), H: round1(h), Class: "bar-hist", Key: b.Label,
			Series: "ttr", Count: b.Count, Title: fmt.Sprintf("%s: %d incidents", b.Label, b.Count)})
	}
	// Every bucket is labelled: there are eleven and they are short.
	for i, k := range keys {
		ch.XLabels = append(ch.XLabels, svgLabel{X: round1(ch.PlotX + slot*(float64(i)+0.5)), Text: k})
	}
	return ch
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func dashCellOf(d analysis.Distribution) dashCell {
	c := dashCell{N: d.N, Open: d.Open, P50: optDuration(d.P50), P90: optDuration(d.P90), P95: optDuration(d.P95),
		Max: optDuration(d.Max), Mean: optDuration(d.Mean), HasValues: d.N > 0, HasOpen: d.Open > 0,
		OpenMaxAge: optDuration(d.OpenMaxAge)}
	return c
}

func dashRowOf(g analysis.Group, total bool) dashRow {
	r := dashRow{Key: g.Key, Total: total, Count: g.Count, OpenCount: g.OpenCount, Rel: g.Reliability}
	for _, name := range analysis.Metrics {
		r.Cells = append(r.Cells, dashCellOf(g.Get(name)))
	}
	if rel := g.Reliability; rel != nil {
		r.MTBF, r.MTTF = optDuration(rel.MTBFSeconds), optDuration(rel.MTTFSeconds)
		r.Downtime = shortDuration(rel.DowntimeSeconds)
		r.Avail = strconv.FormatFloat(rel.Availability*100, 'f', 3, 64) + "%"
	}
	return r
}

func (c *console) dashboard(w http.ResponseWriter, r *http.Request, v viewer) {
	now := c.s.cfg.Now().UTC()
	period, days := dashDefaultPeriod, 90
	for _, p := range dashPeriods {
		if p.value == r.URL.Query().Get("period") {
			period, days = p.value, p.days
		}
	}
	groupBy := dashDefaultGroup
	for _, g := range dashGroups {
		if g.value == r.URL.Query().Get("group_by") {
			groupBy = g.value
		}
	}
	from := now.AddDate(0, 0, -days)
	trendFrom := analysis.PeriodStart(analysis.ByMonth, now).AddDate(0, 1-dashTrendMonths, 0)
	dr, err := c.dashboardReports(r.Context(), from, trendFrom, now, groupBy) // console_metrics_trend.go
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	incs, items, rep, weeks, months := dr.incs, dr.items, dr.rep, dr.weeks, dr.months

	p := dashboardPage{GroupBy: groupBy, From: from, To: now, Excluded: rep.Excluded, Metrics: []string{
		"Time to detect", "Time to acknowledge", "Time to mitigate", "Time to resolve"}}
	for _, o := range dashPeriods {
		p.Periods = append(p.Periods, dashOption{Value: o.value, Label: o.label, Selected: o.value == period})
	}
	for _, o := range dashGroups {
		p.Groups = append(p.Groups, dashOption{Value: o.value, Label: o.label, Selected: o.value == groupBy})
	}
	p.Rows = append(p.Rows, dashRowOf(rep.Total, true))
	for _, g := range rep.Groups {
		p.Rows = append(p.Rows, dashRowOf(g, false))
	}
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {now.Format(time.RFC3339)}, "group_by": {groupBy}}
	p.CSVURL = APIPrefix + "/metrics.csv?" + q.Encode()
	p.Trend = trendChart(months)
	p.Weekly = weeklyChart(weeks)
	p.Hist = histChart(rep.Total.TTR)
	ft := analysis.FollowThroughOf(incs, items, firebreak.MetricsQuery{From: from, To: now}, now,
		c.s.followThroughPolicy().PostmortemDueBusinessDays)
	p.Follow = &dashFollow{FollowThrough: ft, PostmortemRate: dashRate(ft.Postmortems.Rate),
		ActionRate: dashRate(ft.ActionItems.Rate)}
	c.render(w, r, http.StatusOK, "metrics", layoutData{Title: "Metrics", Nav: "metrics", Viewer: v, Page: p})
}
