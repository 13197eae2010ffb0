package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// BenchmarkRecordProbeResults records batches of 1,000 results (one per probe of 1,000, as the runner reports
// them each second when 10,000 probes run every 10 s; the goal is that under half a core on SQLite). Each op is
// one batch 10 s after the previous one, so rollup rows are updated and, every 360 ops, a new hour begins. About
// 1% of the results fail (never three in a row, so no alert fires: the cost measured is the steady state).
// It reports results/s.
func BenchmarkRecordProbeResults(b *testing.B) {
	const probes = 1000
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			var mu sync.Mutex
			now := t0
			o := sqltest.Options(b, d)
			o.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			s := openStore(b, o)
			ctx := context.Background()
			if _, err := s.CreateService(alice, firebreak.ServiceInput{Slug: "bench", OwnerTeam: "perf"}); err != nil {
				b.Fatal(err)
			}
			ins := make([]firebreak.ProbeInput, probes)
			for i := range ins {
				ins[i] = firebreak.ProbeInput{Service: "bench", Name: fmt.Sprintf("probe %04d", i),
					URL: fmt.Sprintf("https://host%d.example/health", i), Interval: firebreak.Duration(10 * time.Second)}
			}
			ps, err := s.ApplyProbes(ctx, ins)
			if err != nil {
				b.Fatal(err)
			}
			runs := make([]firebreak.ProbeRun, probes)
			batch := func(n int) []firebreak.ProbeRun {
				at := t0.Add(time.Duration(n) * 10 * time.Second)
				mu.Lock()
				now = at.Add(time.Second)
				mu.Unlock()
				for i, p := range ps {
					ok := (n+i)%100 != 0
					r := firebreak.ProbeResult{At: at, Success: ok, LatencyMS: float64(20 + (n*7+i*13)%400),
						StatusCode: 200}
					if !ok {
						r.StatusCode, r.FailedConditions = 503, []string{"[STATUS] (503) == 200"}
					}
					runs[i] = firebreak.ProbeRun{ProbeID: p.ID, Result: r}
				}
				return runs
			}
			b.ResetTimer()
			for n := range b.N {
				b.StopTimer()
				rs := batch(n)
				b.StartTimer()
				if err := s.RecordProbeResults(ctx, rs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*probes)/b.Elapsed().Seconds(), "results/s")
			if n, err := sqlstore.QueryInt(ctx, s, `SELECT COALESCE(SUM(checks), 0) FROM probe_rollups`); err != nil ||
				n != int64(b.N*probes) {
				b.Fatalf("%d checks in rollups (%v), want %d", n, err, b.N*probes)
			}
		})
	}
}
