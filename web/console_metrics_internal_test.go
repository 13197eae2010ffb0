package web

import (
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

// sampleDashboardPage is the dashboard's data for a few incidents around now, one still open (for the template
// render test).
func sampleDashboardPage(now time.Time) dashboardPage {
	at := func(h int) *time.Time { t := now.Add(time.Duration(h) * time.Hour); return &t }
	incs := []firebreak.MetricsIncident{
		{Reference: "INC-1", Severity: firebreak.SEV1, Status: firebreak.StatusResolved, Services: []string{"api <x>"},
			Teams: []string{"core"}, Milestones: firebreak.Milestones{ImpactStartedAt: at(-30), DetectedAt: at(-29),
				AcknowledgedAt: at(-29), MitigatedAt: at(-28), ResolvedAt: at(-27)}},
		{Reference: "INC-2", Severity: firebreak.SEV3, Status: firebreak.StatusInvestigating,
			Milestones: firebreak.Milestones{DetectedAt: at(-5)}},
	}
	from := now.AddDate(0, 0, -90)
	rep := analysis.Build(incs, firebreak.MetricsQuery{From: from, To: now, GroupBy: analysis.ByService}, now)
	p := dashboardPage{GroupBy: analysis.ByService, From: from, To: now, Excluded: 1, CSVURL: "/api/v1/metrics.csv",
		Metrics: []string{"TTD", "TTA", "TTM", "TTR"},
		Periods: []dashOption{{Value: "90d", Label: "Last 90 days", Selected: true}},
		Groups:  []dashOption{{Value: "service", Label: "Service", Selected: true}}}
	p.Rows = append(p.Rows, dashRowOf(rep.Total, true))
	for _, g := range rep.Groups {
		p.Rows = append(p.Rows, dashRowOf(g, false))
	}
	p.Trend = trendChart(analysis.Build(incs, firebreak.MetricsQuery{From: from, To: now, GroupBy: analysis.ByMonth}, now))
	p.Weekly = weeklyChart(analysis.Build(incs, firebreak.MetricsQuery{From: from, To: now, GroupBy: analysis.ByWeek}, now))
	p.Hist = histChart(rep.Total.TTR)
	return p
}

func TestShortDuration(t *testing.T) {
	for sec, want := range map[float64]string{0: "0s", 59: "59s", 600: "10m", 5700: "1h 35m", 47 * 3600: "47h 00m",
		3 * 86400: "3.0d", 36 * 3600 * 3: "4.5d"} {
		if got := shortDuration(sec); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", sec, got, want)
		}
	}
}

// TestDashboardChartsEmpty: with no incidents every chart says so and draws no bars or points.
func TestDashboardChartsEmpty(t *testing.T) {
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	rep := analysis.Build(nil, firebreak.MetricsQuery{From: now.AddDate(0, -3, 0), To: now, GroupBy: analysis.ByWeek}, now)
	for _, ch := range []svgChart{weeklyChart(rep), histChart(rep.Total.TTR), trendChart(rep)} {
		if !ch.Empty || len(ch.Bars) != 0 || (len(ch.Lines) > 0 && len(ch.Lines[0].Points) != 0) {
			t.Errorf("%s: empty %v, %d bars", ch.ID, ch.Empty, len(ch.Bars))
		}
		if len(ch.XLabels) > 11 || !strings.HasPrefix(ch.ID, "chart-") {
			t.Errorf("%s: %d x labels", ch.ID, len(ch.XLabels))
		}
	}
}
