package analysis

import (
	"math"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/firebreak/firebreak"
)

func tp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// fixture is the worked example of docs/METRICS.md §6, window [2026-03-01, 2026-03-31).
func fixture() []firebreak.MetricsIncident {
	return []firebreak.MetricsIncident{
		{Reference: "INC-1", Severity: firebreak.SEV1, Status: firebreak.StatusClosed, Services: []string{"api"},
			Teams: []string{"core"}, Milestones: firebreak.Milestones{ImpactStartedAt: tp("2026-03-02T10:00:00Z"),
				DetectedAt: tp("2026-03-02T10:10:00Z"), DeclaredAt: tp("2026-03-02T10:12:00Z"),
				AcknowledgedAt: tp("2026-03-02T10:15:00Z"), MitigatedAt: tp("2026-03-02T11:00:00Z"),
				ResolvedAt: tp("2026-03-02T12:00:00Z")}},
		{Reference: "INC-2", Severity: firebreak.SEV2, Status: firebreak.StatusResolved, Services: []string{"api"},
			Teams: []string{"core"}, Milestones: firebreak.Milestones{ImpactStartedAt: tp("2026-03-02T10:30:00Z"),
				DetectedAt: tp("2026-03-02T10:30:00Z"), AcknowledgedAt: tp("2026-03-02T10:40:00Z"),
				MitigatedAt: tp("2026-03-02T11:30:00Z"), ResolvedAt: tp("2026-03-02T13:00:00Z")}},
		{Reference: "INC-3", Severity: firebreak.SEV3, Status: firebreak.StatusResolved, Services: []string{"web"},
			Milestones: firebreak.Milestones{DetectedAt: tp("2026-03-10T00:00:00Z"),
				DeclaredAt: tp("2026-03-10T00:00:00Z"), AcknowledgedAt: tp("2026-03-10T00:05:00Z"),
				MitigatedAt: tp("2026-03-10T01:00:00Z"), ResolvedAt: tp("2026-03-10T02:00:00Z")}},
		{Reference: "INC-4", Severity: firebreak.SEV1, Status: firebreak.StatusInvestigating, Services: []string{"db"},
			Teams: []string{"data"}, Milestones: firebreak.Milestones{ImpactStartedAt: tp("2026-03-30T00:00:00Z"),
				DetectedAt: tp("2026-03-30T00:00:00Z")}},
		{Reference: "INC-5", Severity: firebreak.SEV1, Status: firebreak.StatusCancelled, Services: []string{"api"},
			Milestones: firebreak.Milestones{DetectedAt: tp("2026-03-05T00:00:00Z")}},
		{Reference: "INC-6", Severity: firebreak.SEV1, Status: firebreak.StatusClosed, Services: []string{"api"},
			Teams: []string{"core"}, Milestones: firebreak.Milestones{ImpactStartedAt: tp("2026-02-28T23:00:00Z"),
				DetectedAt: tp("2026-02-28T23:00:00Z"), AcknowledgedAt: tp("2026-02-28T23:05:00Z"),
				MitigatedAt: tp("2026-03-01T01:00:00Z"), ResolvedAt: tp("2026-03-01T02:00:00Z")}},
	}
}

var (
	from = *tp("2026-03-01T00:00:00Z")
	to   = *tp("2026-03-31T00:00:00Z")
	now  = *tp("2026-04-10T00:00:00Z")
)

func eqp(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 1e-9 {
		t.Errorf("%s = %v, want %v", what, deref(got), want)
	}
}

func deref(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}

func TestBuildTotal(t *testing.T) {
	rep := Build(fixture(), firebreak.MetricsQuery{From: from, To: to}, now)
	g := rep.Total
	if !rep.AsOf.Equal(to) || rep.Excluded != 1 || g.Count != 4 || g.OpenCount != 1 {
		t.Fatalf("as_of %v excluded %d count %d open %d", rep.AsOf, rep.Excluded, g.Count, g.OpenCount)
	}
	if g.BySeverity[firebreak.SEV1] != 2 || g.BySeverity[firebreak.SEV2] != 1 || g.BySeverity[firebreak.SEV3] != 1 {
		t.Errorf("by severity %v", g.BySeverity)
	}
	// TTR: 7200, 9000, 7200 completed; INC-4 open for one day at as_of.
	if g.TTR.N != 3 || g.TTR.Open != 1 || g.TTR.P95 != nil {
		t.Fatalf("ttr n %d open %d p95 %v", g.TTR.N, g.TTR.Open, deref(g.TTR.P95))
	}
	eqp(t, "ttr p50", g.TTR.P50, 7200)
	eqp(t, "ttr p90", g.TTR.P90, 8640)
	eqp(t, "ttr max", g.TTR.Max, 9000)
	eqp(t, "ttr mean", g.TTR.Mean, 7800)
	eqp(t, "ttr open max age", g.TTR.OpenMaxAge, 86400)
	if g.TTR.Histogram[4].Label != "≤2h" || g.TTR.Histogram[4].Count != 2 || g.TTR.Histogram[5].Count != 1 {
		t.Errorf("ttr histogram %+v", g.TTR.Histogram)
	}
	// TTD: INC-3 has no impact start (undefined); 600, 0, 0.
	if g.TTD.N != 3 || g.TTD.Open != 0 {
		t.Errorf("ttd n %d open %d", g.TTD.N, g.TTD.Open)
	}
	eqp(t, "ttd p50", g.TTD.P50, 0)
	eqp(t, "ttd p90", g.TTD.P90, 480)
	// TTA: 300, 600, 300; INC-4 unacknowledged and open.
	if g.TTA.N != 3 || g.TTA.Open != 1 {
		t.Errorf("tta n %d open %d", g.TTA.N, g.TTA.Open)
	}
	eqp(t, "tta p50", g.TTA.P50, 300)
	eqp(t, "tta mean", g.TTA.Mean, 400)

	// Reliability (SEV1/SEV2): episodes [02-28 23:00, 03-01 01:00] (started before the window),
	// [03-02 10:00, 11:30] (INC-1 ∪ INC-2) and [03-30, as_of]. Downtime 1h + 1.5h + 24h.
	r := g.Reliability
	if r == nil || r.Failures != 2 || r.Ongoing != 1 || !r.LowN {
		t.Fatalf("reliability %+v", r)
	}
	if r.DowntimeSeconds != 95400 || r.UptimeSeconds != 2592000-95400 {
		t.Errorf("downtime %v uptime %v", r.DowntimeSeconds, r.UptimeSeconds)
	}
	eqp(t, "mtbf", r.MTBFSeconds, 1296000)
	eqp(t, "mttf", r.MTTFSeconds, 1248300)
	if math.Abs(r.Availability-(2592000-95400)/2592000.0) > 1e-12 {
		t.Errorf("availability %v", r.Availability)
	}
}

func TestBuildGroups(t *testing.T) {
	rep := Build(fixture(), firebreak.MetricsQuery{From: from, To: to, GroupBy: ByService}, now)
	var keys []string
	for _, g := range rep.Groups {
		keys = append(keys, g.Key)
	}
	if !slices.Equal(keys, []string{"api", "db", "web"}) {
		t.Fatalf("service groups %v", keys)
	}
	api := rep.Groups[0]
	if api.Count != 2 || api.Reliability.Failures != 1 || api.Reliability.DowntimeSeconds != 9000 {
		t.Errorf("api: count %d reliability %+v", api.Count, api.Reliability)
	}
	if web := rep.Groups[2]; web.Reliability.Failures != 0 || web.Reliability.MTBFSeconds != nil ||
		web.Reliability.Availability != 1 {
		t.Errorf("web reliability %+v", web.Reliability)
	}

	rep = Build(fixture(), firebreak.MetricsQuery{From: from, To: to, GroupBy: ByTeam}, now)
	keys = nil
	for _, g := range rep.Groups {
		keys = append(keys, g.Key+":"+string(rune('0'+g.Count)))
	}
	if !slices.Equal(keys, []string{"core:2", "data:1", NoneKey + ":1"}) {
		t.Errorf("team groups %v", keys)
	}

	rep = Build(fixture(), firebreak.MetricsQuery{From: from, To: to, GroupBy: ByWeek}, now)
	keys = nil
	for _, g := range rep.Groups {
		keys = append(keys, g.Key+":"+string(rune('0'+g.Count)))
	}
	want := []string{"2026-02-23:0", "2026-03-02:2", "2026-03-09:1", "2026-03-16:0", "2026-03-23:0", "2026-03-30:1"}
	if !slices.Equal(keys, want) {
		t.Errorf("week groups %v, want %v", keys, want)
	}

	rep = Build(fixture(), firebreak.MetricsQuery{From: from, To: to, GroupBy: BySeverity,
		Service: "api"}, now)
	if len(rep.Groups) != 3 || rep.Groups[0].Count != 1 || rep.Groups[1].Count != 1 || rep.Groups[2].Count != 0 ||
		rep.Excluded != 1 {
		t.Errorf("severity groups of api: %+v excluded %d", rep.Groups, rep.Excluded)
	}
}

func TestBuildCensorsAtWindowEnd(t *testing.T) {
	// INC-1 resolved at 12:00; a window ending at 11:30 sees it mitigated but still open.
	end := *tp("2026-03-02T11:30:00Z")
	rep := Build(fixture()[:1], firebreak.MetricsQuery{From: from, To: end}, now)
	g := rep.Total
	if g.OpenCount != 1 || g.TTR.N != 0 || g.TTR.Open != 1 || g.TTM.N != 1 {
		t.Fatalf("open %d ttr %+v ttm n %d", g.OpenCount, g.TTR, g.TTM.N)
	}
	eqp(t, "open age", g.TTR.OpenMaxAge, 5400)
	// A window ending in the future is measured now.
	rep = Build(fixture()[3:4], firebreak.MetricsQuery{From: from, To: *tp("2026-05-01T00:00:00Z")},
		*tp("2026-03-30T06:00:00Z"))
	eqp(t, "age now", rep.Total.TTM.OpenMaxAge, 6*3600)
}

func TestDurationsFallbacksAndClamp(t *testing.T) {
	inc := firebreak.MetricsIncident{Severity: firebreak.SEV2, Status: firebreak.StatusResolved,
		Milestones: firebreak.Milestones{DeclaredAt: tp("2026-03-02T10:00:00Z"),
			AcknowledgedAt: tp("2026-03-02T09:59:00Z"), MitigatedAt: tp("2026-03-02T10:20:00Z"),
			ResolvedAt: tp("2026-03-02T10:30:00Z")}}
	m := Durations(&inc, now)
	if m.StartSource != "declared_at" || m.TTD.Seconds != nil {
		t.Errorf("start %s ttd %v", m.StartSource, deref(m.TTD.Seconds))
	}
	if m.TTA.From != "declared_at" || !m.TTA.Clamped || *m.TTA.Seconds != 0 {
		t.Errorf("tta %+v", m.TTA)
	}
	eqp(t, "ttm", m.TTM.Seconds, 1200)
	eqp(t, "ttr", m.TTR.Seconds, 1800)
	if m.Open {
		t.Error("resolved incident reported open")
	}
	// Resolved without an acknowledgement: TTA undefined, not censored.
	inc.Milestones.AcknowledgedAt = nil
	if m := Durations(&inc, now); m.TTA.Seconds != nil || m.TTA.Censored {
		t.Errorf("tta of unacknowledged resolved incident %+v", m.TTA)
	}
}

func TestQuantileHandComputed(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 10}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {0.5, 3}, {0.9, 7.6}, {0.95, 8.8}, {1, 10}, {0.25, 2}} {
		if got := Quantile(xs, c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Q(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if Quantile([]float64{42}, 0.9) != 42 {
		t.Error("single value")
	}
	// p95 appears at n = 20 and not before.
	ms := make([]Measure, 19)
	for i := range ms {
		ms[i] = Measure{Seconds: ptr(float64(i + 1))}
	}
	if d := Summarize(ms); d.P95 != nil || d.N != 19 {
		t.Errorf("n=19: p95 %v", deref(d.P95))
	}
	ms = append(ms, Measure{Seconds: ptr(20)})
	d := Summarize(ms)
	eqp(t, "p95 of 1..20", d.P95, 19.05)
}

func TestHistogramBounds(t *testing.T) {
	h := Histogram([]float64{0, 300, 301, 7 * 86400, 7*86400 + 1})
	if h[0].Count != 2 || h[1].Count != 1 || h[9].Count != 1 || h[10].Count != 1 || h[10].LeSeconds != nil {
		t.Errorf("histogram %+v", h)
	}
}

// TestQuantileProperties: type 7 lies between the neighbouring order statistics, is monotone in p, ignores input
// order, and equals the 1-based formula of the research notes.
func TestQuantileProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		xs := rapid.SliceOfN(rapid.Float64Range(0, 1e6), 1, 60).Draw(t, "xs")
		p := rapid.Float64Range(0, 1).Draw(t, "p")
		p2 := rapid.Float64Range(p, 1).Draw(t, "p2")
		s := slices.Clone(xs)
		slices.Sort(s)
		q := Quantile(s, p)
		if q < s[0] || q > s[len(s)-1] {
			t.Fatalf("Q(%v) = %v outside [%v, %v]", p, q, s[0], s[len(s)-1])
		}
		if Quantile(s, p2) < q-1e-9 {
			t.Fatalf("not monotone: Q(%v)=%v > Q(%v)=%v", p, q, p2, Quantile(s, p2))
		}
		// Research formula, 1-based: h = (n−1)p + 1, Q = x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋]), x[n+1] := x[n].
		n := len(s)
		h := float64(n-1)*p + 1
		f := int(math.Floor(h))
		next := s[n-1]
		if f < n {
			next = s[f]
		}
		want := s[f-1] + (h-float64(f))*(next-s[f-1])
		if math.Abs(q-want) > 1e-6 {
			t.Fatalf("Q(%v) = %v, formula %v", p, q, want)
		}
		d := Summarize(measuresOf(rapid.Permutation(xs).Draw(t, "perm")))
		if math.Abs(*d.P50-Quantile(s, 0.5)) > 1e-9 || *d.Max != s[n-1] {
			t.Fatalf("summary depends on order")
		}
	})
}

func measuresOf(xs []float64) []Measure {
	out := make([]Measure, len(xs))
	for i, x := range xs {
		out[i] = Measure{Seconds: ptr(x)}
	}
	return out
}

// TestUnionProperties compares Union with a minute-by-minute brute force: the same minutes are covered, the
// result is sorted and disjoint (gaps between parts), and its length never exceeds the sum of the inputs.
func TestUnionProperties(t *testing.T) {
	base := *tp("2026-01-01T00:00:00Z")
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 12).Draw(t, "n")
		var ivs []Interval
		covered := map[int]bool{} // minute m covered means [m, m+1) inside some interval
		var sum time.Duration
		for i := range n {
			s := rapid.IntRange(0, 200).Draw(t, "s")
			l := rapid.IntRange(0, 40).Draw(t, "l")
			_ = i
			ivs = append(ivs, Interval{base.Add(time.Duration(s) * time.Minute), base.Add(time.Duration(s+l) * time.Minute)})
			sum += time.Duration(l) * time.Minute
			for m := s; m < s+l; m++ {
				covered[m] = true
			}
		}
		u := Union(ivs)
		for i := 1; i < len(u); i++ {
			if !u[i].Start.After(u[i-1].End) {
				t.Fatalf("parts %d and %d overlap or touch: %v", i-1, i, u)
			}
		}
		got := map[int]bool{}
		for _, iv := range u {
			for m := int(iv.Start.Sub(base) / time.Minute); m < int(iv.End.Sub(base)/time.Minute); m++ {
				got[m] = true
			}
		}
		if len(got) != len(covered) {
			t.Fatalf("union covers %d minutes, inputs %d", len(got), len(covered))
		}
		for m := range covered {
			if !got[m] {
				t.Fatalf("minute %d lost", m)
			}
		}
		if Total(u) != time.Duration(len(covered))*time.Minute || Total(u) > sum {
			t.Fatalf("total %v, covered %d min, sum %v", Total(u), len(covered), sum)
		}
	})
}
