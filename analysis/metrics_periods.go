package analysis

import (
	"time"

	"github.com/firebreak/firebreak"
)

// PeriodTTR is the time to resolve of the incidents that started in one period (the dashboard's months),
// computed as of a moment in a form that a store can keep and that stays exact at later moments: until Until,
// and as long as none of the incidents changes, At gives exactly what ResolveTimes would compute from them then
// (docs/METRICS.md, "Pre-aggregated months").
type PeriodTTR struct {
	// TTR is the distribution as of AsOf (as Build gives it for a group of exactly these incidents).
	TTR Distribution `json:"ttr"`
	// OpenSince is the earliest start among the incidents still open at AsOf (nil when none is): an open
	// incident's time so far is as_of − start, so the longest one follows from it at any moment.
	OpenSince *time.Time `json:"open_since,omitempty"`
	// AsOf is the moment TTR was computed at.
	AsOf time.Time `json:"-"`
	// Until is the first moment after AsOf at which the summary changes by itself (nil: never): the earliest
	// resolved_at after AsOf, when an incident counted open becomes resolved, or the earliest start after AsOf,
	// when an incident starts counting.
	Until *time.Time `json:"-"`
}

// ResolveTimes summarizes the time to resolve of incidents as of asOf, exactly as Build does for the incidents
// of one group (cancelled incidents left out; open ones counted, not measured), with what At needs to give the
// same summary later.
func ResolveTimes(incs []firebreak.MetricsIncident, asOf time.Time) PeriodTTR {
	asOf = asOf.UTC()
	p := PeriodTTR{AsOf: asOf}
	ms := make([]Measure, 0, len(incs))
	later := func(t time.Time) {
		if t.After(asOf) && (p.Until == nil || t.Before(*p.Until)) {
			p.Until = &t
		}
	}
	for i := range incs {
		inc := &incs[i]
		if inc.Status == firebreak.StatusCancelled {
			continue
		}
		start, src := startOf(inc)
		later(start)
		if r := inc.Milestones.ResolvedAt; r != nil {
			later(*r)
		}
		if start.After(asOf) {
			continue // not started yet: no time to resolve (Durations leaves it undefined)
		}
		m := measure(&start, src, at(inc.Milestones.ResolvedAt, asOf), "resolved_at", openAt(inc, asOf), asOf)
		if m.Censored && (p.OpenSince == nil || start.Before(*p.OpenSince)) {
			p.OpenSince = &start
		}
		ms = append(ms, m)
	}
	p.TTR = Summarize(ms)
	return p
}

// ValidAt reports whether At(asOf) is exact: asOf is not before AsOf and before Until.
func (p *PeriodTTR) ValidAt(asOf time.Time) bool {
	return !asOf.Before(p.AsOf) && (p.Until == nil || asOf.Before(*p.Until))
}

// At returns the distribution as of asOf (ValidAt(asOf) must hold): TTR with the open incidents' longest time
// so far measured to asOf. Nothing else changes between AsOf and Until: the resolved incidents' durations are
// fixed, the open ones stay open and unmeasured.
func (p *PeriodTTR) At(asOf time.Time) Distribution {
	d := p.TTR
	if p.OpenSince != nil {
		d.OpenMaxAge = ptr(asOf.UTC().Sub(*p.OpenSince).Seconds())
	}
	return d
}
