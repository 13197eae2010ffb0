package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/firebreak/firebreak/web"
)

// TestConsoleDashboard renders the dashboard for the incidents of seedMetrics (March 2026) on 1 April 2026 and
// checks the drawn charts: bar heights follow the counts, the trend points sit where p50 and p90 are, and the
// tables carry the same figures.
// cells joins the whitespace-normalized texts of the selection's elements with "|".
func cells(s *goquery.Selection) string {
	var out []string
	s.Each(func(_ int, c *goquery.Selection) { out = append(out, strings.Join(strings.Fields(c.Text()), " ")) })
	return strings.Join(out, "|")
}

func TestConsoleDashboard(t *testing.T) {
	st, clk := openMetricsStore(t)
	now := mustTime("2026-04-01T00:00:00Z")
	e := newConsoleEnvWith(t, st, func(c *web.Config) { c.Now = func() time.Time { return now } })
	seedMetrics(t, st, clk)
	b := e.browser()
	b.login("vera") // a viewer
	p := b.get("/dashboard?period=90d&group_by=service")
	wantStatus(t, p, http.StatusOK)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	if p.find(t, "nav a[href='/dashboard'][aria-current='page']").Length() != 1 {
		t.Error("the nav does not mark Metrics as the current page")
	}
	if strings.Contains(p.body, "style=") || strings.Contains(p.body, "<script>") {
		t.Error("inline style or script on the dashboard (the CSP forbids them)")
	}

	// Plot area: y from 14 to 216 (height 202).
	const plotTop, plotH = 14.0, 202.0
	weekly := p.find(t, "#chart-weekly svg rect.bar")
	if weekly.Length() != 3 {
		t.Fatalf("%d weekly bars, want 3", weekly.Length())
	}
	for key, sev := range map[string]string{"2026-03-02": "SEV1", "2026-03-09": "SEV2", "2026-03-16": "SEV3"} {
		sel := "#chart-weekly rect[data-key='" + key + "'][data-series='" + sev + "']"
		if got := p.attr(t, sel, "data-count"); got != "1" {
			t.Errorf("%s count %s", sel, got)
		}
		// One incident is the tallest week: the bar fills the plot.
		if h, y := p.attr(t, sel, "height"), p.attr(t, sel, "y"); h != "202" || y != "14" {
			t.Errorf("%s: y %s height %s, want 14 and 202", sel, y, h)
		}
		if !strings.Contains(p.find(t, sel+" title").Text(), sev) {
			t.Errorf("%s has no title naming %s", sel, sev)
		}
	}
	if n := p.find(t, "#chart-weekly .chart-data tbody tr").Length(); n != 14 {
		t.Errorf("weekly data table has %d weeks, want 14 (29 Dec to 30 Mar)", n)
	}

	// Trend: only March has resolved incidents: p50 5700 s, p90 6900 s (the axis maximum).
	if n := p.find(t, "#chart-trend circle").Length(); n != 2 {
		t.Fatalf("%d trend points, want 2", n)
	}
	p90y := p.attr(t, "#chart-trend circle[data-key='2026-03'][data-series='p90']", "cy")
	p50y := p.attr(t, "#chart-trend circle[data-key='2026-03'][data-series='p50']", "cy")
	if p90y != "14" || p50y != "49.1" { // 14 + 202 × (1 − 5700/6900)
		t.Errorf("trend points at y %s (p90) and %s (p50)", p90y, p50y)
	}
	if got := cells(p.find(t, "#chart-trend .chart-data tbody tr:last-child").Children()); got != "Mar 26|2|1|1h 35m|1h 55m" {
		t.Errorf("trend table last row %q", got)
	}

	// Histogram: both resolved incidents took ≤2h (70 and 120 minutes).
	hist := p.find(t, "#chart-hist rect.bar")
	if hist.Length() != 1 || hist.AttrOr("data-key", "") != "≤2h" || hist.AttrOr("data-count", "") != "2" {
		t.Errorf("histogram bars: %d, %s=%s", hist.Length(), hist.AttrOr("data-key", ""), hist.AttrOr("data-count", ""))
	}
	for _, id := range []string{"chart-trend", "chart-weekly", "chart-hist"} {
		svg := p.find(t, "#"+id+" svg")
		if svg.AttrOr("role", "") != "img" || svg.Find("title").First().Text() == "" || svg.Find("desc").Text() == "" {
			t.Errorf("%s lacks role, title or desc", id)
		}
	}

	rows := map[string]string{}
	p.find(t, "#dash-summary tbody tr").Each(func(_ int, s *goquery.Selection) {
		rows[strings.TrimSpace(s.Find("th").Text())] = cells(s.Find("td"))
	})
	// Incidents, open, TTD, TTA, TTM, TTR (p50 / p90), MTBF, MTTF, availability.
	if rows["All incidents"] != "3|1|10m / 10m n=1|7m / 9m n=2 +1 open|1h 30m / 1h 54m n=2 +1 open|"+
		"1h 35m / 1h 55m n=2 +1 open|45.0d low n|44.9d|99.861%" || !strings.HasPrefix(rows["api"], "2|1|") ||
		!strings.HasPrefix(rows["web"], "1|0|—|") || len(rows) != 3 {
		t.Errorf("summary rows %q", rows)
	}
	if href := p.attr(t, "a[href^='/api/v1/metrics.csv']", "href"); !strings.Contains(href, "group_by=service") ||
		!strings.Contains(href, "from=2026-01-01T00%3A00%3A00Z") {
		t.Errorf("CSV link %s", href)
	}

	team := b.get("/dashboard?period=30d&group_by=team")
	wantStatus(t, team, http.StatusOK)
	if got := cells(team.find(t, "#dash-summary tbody th")); got != "All incidents|core|frontend" {
		t.Errorf("team rows %q", got)
	}
	if team.attr(t, "select[name=period] option[selected]", "value") != "30d" {
		t.Error("period selector does not keep the choice")
	}
}
