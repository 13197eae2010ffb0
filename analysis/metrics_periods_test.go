package analysis

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/firebreak/firebreak"
)

// drawMonth draws up to 40 incidents that started in March 2026 (UTC), with any mix of statuses, missing or
// out-of-order milestones and resolutions up to two months later (so some are still open at an as_of in April).
func drawMonth(t *rapid.T) []firebreak.MetricsIncident {
	month := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	minutes := func(label string, lo, hi int) time.Duration {
		return time.Duration(rapid.IntRange(lo, hi).Draw(t, label)) * time.Minute
	}
	statuses := []firebreak.Status{firebreak.StatusInvestigating, firebreak.StatusMitigating,
		firebreak.StatusResolved, firebreak.StatusClosed, firebreak.StatusCancelled}
	n := rapid.IntRange(0, 40).Draw(t, "n")
	incs := make([]firebreak.MetricsIncident, n)
	for i := range incs {
		declared := month.Add(minutes("declared", 60, 31*24*60-60))
		inc := &incs[i]
		inc.Status = rapid.SampledFrom(statuses).Draw(t, "status")
		inc.Severity = rapid.SampledFrom(firebreak.Severities).Draw(t, "severity")
		inc.CreatedAt = declared
		inc.Milestones.DeclaredAt = &declared
		if rapid.Bool().Draw(t, "impact") {
			imp := declared.Add(-minutes("impact", 0, 50))
			inc.Milestones.ImpactStartedAt = &imp
		}
		if rapid.IntRange(0, 3).Draw(t, "resolved") > 0 {
			r := declared.Add(minutes("ttr", -30, 60*24*60)) // before the start, sometimes (clamped to 0)
			inc.Milestones.ResolvedAt = &r
		}
	}
	return incs
}

// TestResolveTimesIsBuildsGroup: ResolveTimes gives the time to resolve of Build's group for the month (the
// dashboard's trend), and At gives at every later moment before Until what ResolveTimes and Build give then;
// Until is the first moment it would not.
func TestResolveTimesIsBuildsGroup(t *testing.T) {
	month := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	trend := func(incs []firebreak.MetricsIncident, asOf time.Time) Distribution {
		rep := Build(incs, firebreak.MetricsQuery{From: month.AddDate(0, -1, 0), To: asOf, GroupBy: ByMonth}, asOf)
		return rep.Groups[1].TTR
	}
	rapid.Check(t, func(t *rapid.T) {
		incs := drawMonth(t)
		asOf := month.AddDate(0, 1, 0).Add(time.Duration(rapid.IntRange(0, 40*24*60).Draw(t, "asOf")) * time.Minute)
		p := ResolveTimes(incs, asOf)
		if want := trend(incs, asOf); !reflect.DeepEqual(p.TTR, want) || !reflect.DeepEqual(p.At(asOf), want) {
			t.Fatalf("as of %s: %s, Build's %s", asOf, js(p.TTR), js(want))
		}
		later := asOf.Add(time.Duration(rapid.IntRange(0, 60*24*60).Draw(t, "later")) * time.Minute)
		if !p.ValidAt(later) {
			if p.Until == nil || later.Before(*p.Until) {
				t.Fatalf("not valid at %s (until %v)", later, p.Until)
			}
			later = p.Until.Add(-time.Microsecond)
		}
		if got, want := p.At(later), trend(incs, later); !reflect.DeepEqual(got, want) {
			t.Fatalf("as of %s, computed at %s (until %v): %s, Build's %s", later, asOf, p.Until, js(got), js(want))
		}
		if p.ValidAt(asOf.Add(-time.Microsecond)) {
			t.Fatal("valid before the moment it was computed at")
		}
		if p.Until != nil && reflect.DeepEqual(p.At(*p.Until), trend(incs, *p.Until)) {
			t.Fatalf("at %s it changes, yet At gives Build's figures", *p.Until)
		}
	})
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCountsIsBuild: Counts gives every group's counts exactly as Build does, without distributions.
func TestCountsIsBuild(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		incs := drawMonth(t)
		now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rapid.IntRange(0, 60).Draw(t, "days")) *
			24 * time.Hour)
		by := rapid.SampledFrom(GroupBys).Draw(t, "by")
		q := firebreak.MetricsQuery{From: now.AddDate(0, 0, -30), To: now, GroupBy: by}
		full, counts := Build(incs, q, now), Counts(incs, q, now)
		if len(full.Groups) != len(counts.Groups) || full.Excluded != counts.Excluded {
			t.Fatalf("%d groups (excluded %d), Build %d (%d)", len(counts.Groups), counts.Excluded,
				len(full.Groups), full.Excluded)
		}
		for i, g := range append([]Group{counts.Total}, counts.Groups...) {
			w := full.Total
			if i > 0 {
				w = full.Groups[i-1]
			}
			if g.Key != w.Key || g.Count != w.Count || g.OpenCount != w.OpenCount ||
				!reflect.DeepEqual(g.BySeverity, w.BySeverity) || g.TTR.Histogram != nil || g.Reliability != nil {
				t.Fatalf("group %s: %+v, Build's %+v", g.Key, g, w)
			}
		}
	})
}
