package analysis

import (
	"cmp"
	"slices"
	"time"

	"github.com/firebreak/firebreak"
)

// Interval is a closed span of time [Start, End].
type Interval struct {
	Start, End time.Time
}

// Union merges intervals into the disjoint, sorted intervals covering the same time. Intervals that overlap or
// touch (one ends when the next starts) become one. Intervals with End before Start are ignored.
func Union(in []Interval) []Interval {
	var xs []Interval
	for _, iv := range in {
		if !iv.End.Before(iv.Start) {
			xs = append(xs, iv)
		}
	}
	slices.SortFunc(xs, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	var out []Interval
	for _, iv := range xs {
		if n := len(out); n > 0 && !iv.Start.After(out[n-1].End) {
			if iv.End.After(out[n-1].End) {
				out[n-1].End = iv.End
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Total is the summed length of disjoint intervals.
func Total(ivs []Interval) time.Duration {
	var d time.Duration
	for _, iv := range ivs {
		d += iv.End.Sub(iv.Start)
	}
	return d
}

// clip returns the part of iv inside [from, to] (ok false when none).
func clip(iv Interval, from, to time.Time) (Interval, bool) {
	if iv.Start.Before(from) {
		iv.Start = from
	}
	if iv.End.After(to) {
		iv.End = to
	}
	return iv, !iv.End.Before(iv.Start)
}

// Reliability holds the failure-interval metrics of a scope over the window [from, as_of].
type Reliability struct {
	// Failures counts failure episodes (connected components of overlapping impact intervals of SEV1/SEV2
	// incidents) that started in the window; Ongoing the failing incidents still open at as_of.
	Failures int `json:"failures"`
	Ongoing  int `json:"ongoing"`
	// DowntimeSeconds is the length of the union of impact intervals inside the window (overlaps counted once);
	// UptimeSeconds the rest of the window.
	DowntimeSeconds float64 `json:"downtime_seconds"`
	UptimeSeconds   float64 `json:"uptime_seconds"`
	// MTBFSeconds = window / Failures (mean time between failure starts); MTTFSeconds = uptime / Failures (mean
	// time to failure; what Atlassian calls MTBF). Null when Failures is 0.
	MTBFSeconds  *float64 `json:"mtbf_seconds"`
	MTTFSeconds  *float64 `json:"mttf_seconds"`
	Availability float64  `json:"availability"` // uptime / window
	// LowN is set when Failures < 3: too few to mean much.
	LowN bool `json:"low_n"`
}

// impactInterval is the incident's customer-impact interval as of asOf: from its start to mitigated_at (or
// resolved_at when mitigated_at is missing), or to asOf while neither has happened.
func impactInterval(inc *firebreak.MetricsIncident, asOf time.Time) Interval {
	start, _ := startOf(inc)
	m := &inc.Milestones
	end := asOf
	if t := at(m.MitigatedAt, asOf); t != nil {
		end = *t
	} else if t := at(m.ResolvedAt, asOf); t != nil {
		end = *t
	}
	if end.Before(start) {
		end = start
	}
	return Interval{Start: start, End: end}
}

// ReliabilityOf computes the failure-interval metrics of incidents over [from, asOf] (docs/METRICS.md §4). Only
// FailureSeverities count; cancelled incidents must already be left out.
func ReliabilityOf(incs []*firebreak.MetricsIncident, from, asOf time.Time) Reliability {
	var ivs []Interval
	var r Reliability
	for _, inc := range incs {
		if !slices.Contains(FailureSeverities, inc.Severity) {
			continue
		}
		iv := impactInterval(inc, asOf)
		if iv.Start.After(asOf) {
			continue
		}
		ivs = append(ivs, iv)
		if openAt(inc, asOf) {
			r.Ongoing++
		}
	}
	var down time.Duration
	for _, ep := range Union(ivs) {
		if !ep.Start.Before(from) {
			r.Failures++
		}
		if c, ok := clip(ep, from, asOf); ok {
			down += c.End.Sub(c.Start)
		}
	}
	window := asOf.Sub(from)
	if window < 0 {
		window = 0
	}
	r.DowntimeSeconds = down.Seconds()
	r.UptimeSeconds = (window - down).Seconds()
	if window > 0 {
		r.Availability = r.UptimeSeconds / window.Seconds()
	}
	if r.Failures > 0 {
		r.MTBFSeconds = ptr(window.Seconds() / float64(r.Failures))
		r.MTTFSeconds = ptr(r.UptimeSeconds / float64(r.Failures))
	}
	r.LowN = r.Failures < 3
	return r
}

// Group is the metrics of one group of incidents.
type Group struct {
	Key string `json:"key"`
	// Count is the incidents that started in the window (and, for periods, in the period); OpenCount those of
	// them still open at as_of; BySeverity splits Count.
	Count      int                        `json:"count"`
	OpenCount  int                        `json:"open_count"`
	BySeverity map[firebreak.Severity]int `json:"by_severity"`
	TTD        Distribution               `json:"ttd"`
	TTA        Distribution               `json:"tta"`
	TTM        Distribution               `json:"ttm"`
	TTR        Distribution               `json:"ttr"`
	// Reliability is set for the total and for service and team groups.
	Reliability *Reliability `json:"reliability,omitempty"`
}

// Get returns the distribution of a metric name.
func (g *Group) Get(metric string) Distribution {
	switch metric {
	case MetricTTD:
		return g.TTD
	case MetricTTA:
		return g.TTA
	case MetricTTM:
		return g.TTM
	case MetricTTR:
		return g.TTR
	}
	return Distribution{}
}

// Report is the metrics of the incidents of a window.
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// AsOf = min(to, now): open incidents are measured (censored) and impact runs until then.
	AsOf     time.Time          `json:"as_of"`
	GroupBy  string             `json:"group_by"`
	Service  string             `json:"service,omitempty"`
	Severity firebreak.Severity `json:"severity,omitempty"`
	// Excluded counts the cancelled incidents that started in the window and were left out.
	Excluded int     `json:"excluded"`
	Total    Group   `json:"total"`
	Groups   []Group `json:"groups"`
	// FollowThrough is set by callers that read action items too (FollowThroughOf).
	FollowThrough *FollowThrough `json:"follow_through,omitempty"`
}

// PeriodStart is the start of the UTC week (Monday) or month containing t.
func PeriodStart(by string, t time.Time) time.Time {
	t = t.UTC()
	y, mo, d := t.Date()
	if by == ByMonth {
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	}
	day := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	return day.AddDate(0, 0, -back)
}

func nextPeriod(by string, t time.Time) time.Time {
	if by == ByMonth {
		return t.AddDate(0, 1, 0)
	}
	return t.AddDate(0, 0, 7)
}

// PeriodKey names a period: "2026-03" for a month, the Monday's date "2026-03-02" for a week.
func PeriodKey(by string, start time.Time) string {
	if by == ByMonth {
		return start.Format("2006-01")
	}
	return start.Format(time.DateOnly)
}

// member is an incident of a group with its durations; groups share the durations (an incident may be in several
// groups), so members stay small to copy.
type member struct {
	inc *firebreak.MetricsIncident
	m   *IncidentMetrics
}

func groupOf(key string, ms []member, metrics []string) Group {
	g := Group{Key: key, BySeverity: map[firebreak.Severity]int{}}
	for _, s := range firebreak.Severities {
		g.BySeverity[s] = 0
	}
	for _, x := range ms {
		g.Count++
		g.BySeverity[x.inc.Severity]++
		if x.m.Open {
			g.OpenCount++
		}
	}
	if len(metrics) == 0 {
		return g
	}
	measures := make([]Measure, len(ms))
	for _, name := range metrics {
		for i, x := range ms {
			measures[i] = x.m.Get(name)
		}
		d := Summarize(measures)
		switch name {
		case MetricTTD:
			g.TTD = d
		case MetricTTA:
			g.TTA = d
		case MetricTTM:
			g.TTM = d
		case MetricTTR:
			g.TTR = d
		}
	}
	return g
}

// Build computes the report of q from incidents (as IncidentsForMetrics returns them) at now (docs/METRICS.md).
// q.GroupBy must be empty or one of GroupBys.
func Build(incs []firebreak.MetricsIncident, q firebreak.MetricsQuery, now time.Time) Report {
	return build(incs, q, now, Metrics, true)
}

// Counts is Build without the duration distributions and the reliability: every group has its counts (Count,
// OpenCount, BySeverity) exactly as Build gives them and nothing else, for a chart that shows only those.
func Counts(incs []firebreak.MetricsIncident, q firebreak.MetricsQuery, now time.Time) Report {
	return build(incs, q, now, nil, false)
}

// build is Build with only the distributions of metrics, and the reliability metrics only if reliability.
func build(incs []firebreak.MetricsIncident, q firebreak.MetricsQuery, now time.Time, metrics []string,
	reliability bool) Report {
	from, to := q.From.UTC(), q.To.UTC()
	asOf := to
	if now.Before(asOf) {
		asOf = now.UTC()
	}
	if asOf.Before(from) {
		asOf = from
	}
	rep := Report{From: from, To: to, AsOf: asOf, GroupBy: q.GroupBy, Service: q.Service, Severity: q.Severity}
	var all []member                                    // started in the window
	var live []*firebreak.MetricsIncident               // every eligible incident, for reliability
	scopes := map[string][]*firebreak.MetricsIncident{} // group key → eligible incidents, for reliability
	keys := map[string][]member{}
	var lastPeriod time.Time
	var lastKey []string
	for i := range incs {
		inc := &incs[i]
		if q.Service != "" && !slices.Contains(inc.Services, q.Service) {
			continue
		}
		if q.Severity != "" && inc.Severity != q.Severity {
			continue
		}
		start, _ := startOf(inc)
		inWindow := !start.Before(from) && start.Before(to) && !start.After(asOf)
		if inc.Status == firebreak.StatusCancelled {
			if inWindow {
				rep.Excluded++
			}
			continue
		}
		live = append(live, inc)
		var gk []string
		switch q.GroupBy {
		case ByService:
			gk = orNone(inc.Services)
		case ByTeam:
			gk = orNone(inc.Teams)
		case BySeverity:
			gk = []string{string(inc.Severity)}
		case ByMonth, ByWeek:
			p := PeriodStart(q.GroupBy, start)
			if !p.Equal(lastPeriod) || lastKey == nil { // incidents come in time order: format each period once
				lastPeriod, lastKey = p, []string{PeriodKey(q.GroupBy, p)}
			}
			gk = lastKey
		}
		if q.GroupBy == ByService || q.GroupBy == ByTeam {
			for _, k := range gk {
				scopes[k] = append(scopes[k], inc)
			}
		}
		if !inWindow {
			continue
		}
		var m IncidentMetrics
		if len(metrics) > 0 {
			m = Durations(inc, asOf)
		} else {
			m.Open = openAt(inc, asOf)
		}
		x := member{inc: inc, m: &m}
		all = append(all, x)
		for _, k := range gk {
			keys[k] = append(keys[k], x)
		}
	}
	rep.Total = groupOf("total", all, metrics)
	if reliability {
		rel := ReliabilityOf(live, from, asOf)
		rep.Total.Reliability = &rel
	}
	var order []string
	switch q.GroupBy {
	case BySeverity:
		for _, s := range firebreak.Severities {
			order = append(order, string(s))
		}
	case ByMonth, ByWeek:
		for p := PeriodStart(q.GroupBy, from); p.Before(to); p = nextPeriod(q.GroupBy, p) {
			order = append(order, PeriodKey(q.GroupBy, p))
		}
	case ByService, ByTeam:
		for k := range scopes {
			order = append(order, k)
		}
		slices.SortFunc(order, func(a, b string) int {
			if (a == NoneKey) != (b == NoneKey) { // (none) last
				if a == NoneKey {
					return 1
				}
				return -1
			}
			return cmp.Compare(a, b)
		})
	}
	rep.Groups = []Group{}
	for _, k := range order {
		g := groupOf(k, keys[k], metrics)
		if reliability && (q.GroupBy == ByService || q.GroupBy == ByTeam) {
			r := ReliabilityOf(scopes[k], from, asOf)
			g.Reliability = &r
		}
		rep.Groups = append(rep.Groups, g)
	}
	return rep
}

func orNone(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return []string{NoneKey}
	}
	return out
}
