package web_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// BenchmarkDashboard serves the metrics dashboard (GET /dashboard, default view: the last 90 days grouped by
// service, the weekly chart, and the 12-month trend) over N generated incidents declared over the last ten years
// (sqltest.GenerateMetrics). N is FIREBREAK_BENCH_METRICS_INCIDENTS (default 20,000; the goal, under 500 ms on
// SQLite, is stated for 1,000,000; figures in docs/BENCHMARKS.md, "Learning"):
//
//	FIREBREAK_BENCH_METRICS_INCIDENTS=1000000 go test ./web -run '^$' -bench Dashboard -benchtime 20x -timeout 60m
func BenchmarkDashboard(b *testing.B) {
	n := sqltest.Size(b, "FIREBREAK_BENCH_METRICS_INCIDENTS", 20000)
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			o := sqltest.Options(b, d)
			st, err := sqlstore.Open(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			e := newConsoleEnv(b, st)
			start := time.Now()
			sqltest.GenerateMetrics(b, o, n, time.Now().UTC(), 10*365*24*time.Hour)
			b.Logf("%s: generated %d incidents in %s", d, n, time.Since(start).Round(time.Second))
			br := e.browser()
			br.login("vera")
			var lat []time.Duration
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				resp, err := br.c.Get(br.base + "/dashboard")
				if err != nil {
					b.Fatal(err)
				}
				size, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat = append(lat, time.Since(t0))
				if resp.StatusCode != http.StatusOK || size < 10000 {
					b.Fatalf("GET /dashboard: %d, %d bytes", resp.StatusCode, size)
				}
			}
			b.StopTimer()
			reportMillis(b, lat)
		})
	}
}

// reportMillis reports the p50 and p95 of lat in milliseconds.
func reportMillis(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	s := append([]time.Duration(nil), lat...)
	for i := 1; i < len(s); i++ { // insertion sort: a few dozen values
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	q := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
}
