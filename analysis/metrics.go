// Metrics: per-incident durations (time to detect, acknowledge, mitigate, resolve), their distributions per
// service, team, severity and period, and failure-interval metrics (MTBF, MTTF, availability) per service and team.
// The exact definitions are in docs/METRICS.md, which this code must match.

package analysis

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/firebreak/firebreak"
)

// Metric names, as used in JSON, CSV and docs/METRICS.md.
const (
	MetricTTD = "ttd" // time to detect: detected_at − impact_started_at
	MetricTTA = "tta" // time to acknowledge: acknowledged_at − detected_at (fallback declared_at)
	MetricTTM = "ttm" // time to mitigate: mitigated_at − start
	MetricTTR = "ttr" // time to resolve: resolved_at − start
)

// Metrics lists the duration metrics in lifecycle order.
var Metrics = []string{MetricTTD, MetricTTA, MetricTTM, MetricTTR}

// Group-by values.
const (
	ByService  = "service"
	ByTeam     = "team"
	BySeverity = "severity"
	ByMonth    = "month"
	ByWeek     = "week"
)

// GroupBys lists the accepted group-by values.
var GroupBys = []string{ByService, ByTeam, BySeverity, ByMonth, ByWeek}

// NoneKey is the group of incidents with no service (or no team).
const NoneKey = "(none)"

// P95MinN is the smallest number of completed values for which p95 is reported.
const P95MinN = 20

// FailureSeverities are the severities that count as failures for MTBF, MTTF and availability.
var FailureSeverities = []firebreak.Severity{firebreak.SEV1, firebreak.SEV2}

// Measure is one duration of one incident.
type Measure struct {
	// Seconds is the duration; null when it is undefined (a milestone it needs is missing on a finished
	// incident, or impact_started_at is unknown for TTD).
	Seconds *float64 `json:"seconds"`
	// Censored: the end milestone had not happened at as_of and the incident was still open, so Seconds is the
	// time elapsed so far (a lower bound). Censored values are not in percentiles, means or histograms.
	Censored bool `json:"censored"`
	// Clamped: the end milestone is before the start milestone (bad data); Seconds is 0.
	Clamped bool `json:"clamped"`
	// From and To name the milestones the clock ran between ("" when undefined).
	From string `json:"from"`
	To   string `json:"to"`
}

// completed reports whether the measure is a finished duration.
func (m Measure) completed() bool { return m.Seconds != nil && !m.Censored }

// IncidentMetrics are the durations of one incident as of a moment.
type IncidentMetrics struct {
	ID        string             `json:"id"`
	Reference string             `json:"reference"`
	Severity  firebreak.Severity `json:"severity"`
	Status    firebreak.Status   `json:"status"`
	// Start is when the incident began for TTM and TTR: the first set of impact_started_at, detected_at,
	// declared_at, created_at; StartSource names which.
	Start       time.Time `json:"start"`
	StartSource string    `json:"start_source"`
	// AsOf is the moment the durations are measured at: milestones after it are treated as not yet reached.
	AsOf time.Time `json:"as_of"`
	// Open: not resolved at AsOf.
	Open bool    `json:"open"`
	TTD  Measure `json:"ttd"`
	TTA  Measure `json:"tta"`
	TTM  Measure `json:"ttm"`
	TTR  Measure `json:"ttr"`
}

// Get returns the measure named by a metric name.
func (m *IncidentMetrics) Get(metric string) Measure {
	switch metric {
	case MetricTTD:
		return m.TTD
	case MetricTTA:
		return m.TTA
	case MetricTTM:
		return m.TTM
	case MetricTTR:
		return m.TTR
	}
	return Measure{}
}

// at returns t if it is set and not after asOf, else nil.
func at(t *time.Time, asOf time.Time) *time.Time {
	if t == nil || t.After(asOf) {
		return nil
	}
	return t
}

// startOf is the incident's start and the milestone it came from.
func startOf(inc *firebreak.MetricsIncident) (time.Time, string) {
	m := &inc.Milestones
	switch {
	case m.ImpactStartedAt != nil:
		return *m.ImpactStartedAt, "impact_started_at"
	case m.DetectedAt != nil:
		return *m.DetectedAt, "detected_at"
	case m.DeclaredAt != nil:
		return *m.DeclaredAt, "declared_at"
	}
	return inc.CreatedAt, "created_at"
}

// StartOf is when the incident began, for TTM, TTR and the period it counts in: the first set of
// impact_started_at, detected_at, declared_at, created_at.
func StartOf(inc *firebreak.MetricsIncident) time.Time {
	t, _ := startOf(inc)
	return t
}

// openAt reports whether the incident was still unresolved at asOf. A resolved_at after asOf means it was open
// then; without resolved_at, the status decides.
func openAt(inc *firebreak.MetricsIncident, asOf time.Time) bool {
	if r := inc.Milestones.ResolvedAt; r != nil {
		return r.After(asOf)
	}
	return inc.Status.Open()
}

func measure(from *time.Time, fromName string, to *time.Time, toName string, open bool, asOf time.Time) Measure {
	if from == nil {
		return Measure{}
	}
	m := Measure{From: fromName, To: toName}
	var end time.Time
	switch {
	case to != nil:
		end = *to
	case open:
		end, m.Censored = asOf, true
	default:
		return Measure{}
	}
	d := end.Sub(*from).Seconds()
	if d < 0 {
		d, m.Clamped = 0, true
	}
	m.Seconds = &d
	return m
}

// Durations measures one incident as of asOf (docs/METRICS.md §1).
func Durations(inc *firebreak.MetricsIncident, asOf time.Time) IncidentMetrics {
	m := &inc.Milestones
	start, src := startOf(inc)
	open := openAt(inc, asOf)
	out := IncidentMetrics{ID: inc.ID, Reference: inc.Reference, Severity: inc.Severity, Status: inc.Status,
		Start: start, StartSource: src, AsOf: asOf, Open: open}
	s := &start
	d := at(m.DetectedAt, asOf)
	out.TTD = measure(at(m.ImpactStartedAt, asOf), "impact_started_at", d, "detected_at", open, asOf)
	ackFrom, ackName := d, "detected_at"
	if ackFrom == nil {
		ackFrom, ackName = at(m.DeclaredAt, asOf), "declared_at"
	}
	out.TTA = measure(ackFrom, ackName, at(m.AcknowledgedAt, asOf), "acknowledged_at", open, asOf)
	if !start.After(asOf) {
		out.TTM = measure(s, src, at(m.MitigatedAt, asOf), "mitigated_at", open, asOf)
		out.TTR = measure(s, src, at(m.ResolvedAt, asOf), "resolved_at", open, asOf)
	}
	return out
}

// Bucket is one bar of a duration histogram: the values v with previous bound < v ≤ LeSeconds (the last bucket
// has no upper bound: LeSeconds is null).
type Bucket struct {
	Label     string   `json:"label"`
	LeSeconds *float64 `json:"le_seconds"`
	Count     int      `json:"count"`
}

// bucketBounds are the histogram's upper bounds (log-like, per the research notes); a last bucket takes the rest.
var bucketBounds = []struct {
	label string
	le    time.Duration
}{
	{"≤5m", 5 * time.Minute}, {"≤15m", 15 * time.Minute}, {"≤30m", 30 * time.Minute}, {"≤1h", time.Hour},
	{"≤2h", 2 * time.Hour}, {"≤4h", 4 * time.Hour}, {"≤8h", 8 * time.Hour}, {"≤24h", 24 * time.Hour},
	{"≤3d", 72 * time.Hour}, {"≤7d", 168 * time.Hour},
}

// Histogram counts values (seconds) into the fixed buckets.
func Histogram(values []float64) []Bucket {
	out := make([]Bucket, len(bucketBounds)+1)
	for i, b := range bucketBounds {
		le := b.le.Seconds()
		out[i] = Bucket{Label: b.label, LeSeconds: &le}
	}
	out[len(bucketBounds)] = Bucket{Label: ">7d"}
	for _, v := range values {
		i := sort.Search(len(bucketBounds), func(i int) bool { return v <= bucketBounds[i].le.Seconds() })
		out[i].Count++
	}
	return out
}

// Distribution summarizes one duration metric over a group of incidents.
type Distribution struct {
	// N counts the incidents with a completed value; Open those still running at as_of (censored).
	N    int `json:"n"`
	Open int `json:"open"`
	// Percentiles (Hyndman–Fan type 7), max and mean of the completed values, in seconds; null when N is 0.
	// P95 is null unless N ≥ 20.
	P50  *float64 `json:"p50_seconds"`
	P90  *float64 `json:"p90_seconds"`
	P95  *float64 `json:"p95_seconds"`
	Max  *float64 `json:"max_seconds"`
	Mean *float64 `json:"mean_seconds"`
	// OpenMaxAge is the longest time so far among the open (censored) incidents; null when Open is 0.
	OpenMaxAge *float64 `json:"open_max_age_seconds"`
	Histogram  []Bucket `json:"histogram"`
}

func ptr(v float64) *float64 { return &v }

// Quantile is the type 7 quantile (linear interpolation between closest ranks; NumPy's and R's default, Excel's
// PERCENTILE.INC) of sorted, non-empty values at p in [0, 1].
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	h := float64(n-1) * p // 0-based position
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Summarize builds the distribution of measures.
func Summarize(ms []Measure) Distribution {
	var vals []float64
	var d Distribution
	for _, m := range ms {
		switch {
		case m.Seconds == nil:
		case m.Censored:
			d.Open++
			if d.OpenMaxAge == nil || *m.Seconds > *d.OpenMaxAge {
				d.OpenMaxAge = ptr(*m.Seconds)
			}
		default:
			vals = append(vals, *m.Seconds)
		}
	}
	d.N = len(vals)
	d.Histogram = Histogram(vals)
	if d.N == 0 {
		return d
	}
	slices.Sort(vals)
	d.P50 = ptr(Quantile(vals, 0.5))
	d.P90 = ptr(Quantile(vals, 0.9))
	if d.N >= P95MinN {
		d.P95 = ptr(Quantile(vals, 0.95))
	}
	d.Max = ptr(vals[d.N-1])
	sum := 0.0
	for _, v := range vals {
		sum += v
	}
	d.Mean = ptr(sum / float64(d.N))
	return d
}
