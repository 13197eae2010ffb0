package sqlstore_test

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// BenchmarkAppendNoteParallel appends notes to one incident from ~64 goroutines (the benchmark goal: 5,000
// durable appends/s with p99 < 50 ms from 64 concurrent clients on 2 cores). It reports appends/s, latency
// percentiles and, on SQLite, how many appends shared each COMMIT.
func BenchmarkAppendNoteParallel(b *testing.B) {
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			s := sqltest.Open(b, d)
			ctx := firebreak.WithActor(context.Background(), firebreak.Actor{Username: "bench", Role: firebreak.RoleResponder})
			inc, err := s.DeclareIncident(ctx, firebreak.DeclareInput{Title: "bench", Severity: firebreak.SEV1})
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			var mu sync.Mutex
			var lat []time.Duration
			b0, w0 := sqlstore.WriterStats(s)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					start := time.Now()
					if _, err := s.AddTimelineEvent(ctx, inc.ID, firebreak.TimelineInput{Message: "benchmark note"}); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			if n, err := sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM timeline_events WHERE kind = 'note'`); err != nil ||
				n != int64(b.N) {
				b.Fatalf("%d notes stored (%v), want %d", n, err, b.N)
			}
			reportLatency(b, lat)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			if b1, w1 := sqlstore.WriterStats(s); b1 > b0 {
				b.ReportMetric(float64(w1-w0)/float64(b1-b0), "writes/commit")
			}
		})
	}
}

// BenchmarkAppendNoteManyIncidents is BenchmarkAppendNoteParallel spread over 64 incidents (no row contention on
// PostgreSQL; one writer either way on SQLite).
func BenchmarkAppendNoteManyIncidents(b *testing.B) {
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			s := sqltest.Open(b, d)
			ctx := firebreak.WithActor(context.Background(), firebreak.Actor{Username: "bench", Role: firebreak.RoleResponder})
			var ids []string
			for range 64 {
				inc, err := s.DeclareIncident(ctx, firebreak.DeclareInput{Title: "bench", Severity: firebreak.SEV1})
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, inc.ID)
			}
			var next atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				id := ids[next.Add(1)%int64(len(ids))]
				var mine []time.Duration
				for pb.Next() {
					start := time.Now()
					if _, err := s.AddTimelineEvent(ctx, id, firebreak.TimelineInput{Message: "benchmark note"}); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			reportLatency(b, lat)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		})
	}
}

// BenchmarkGetIncident reads one incident (with its services) from parallel goroutines.
func BenchmarkGetIncident(b *testing.B) {
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			s := sqltest.Open(b, d)
			ctx := context.Background()
			for _, slug := range []string{"api", "db"} {
				if _, err := s.CreateService(ctx, firebreak.ServiceInput{Slug: slug}); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := s.DeclareIncident(ctx, firebreak.DeclareInput{Title: "read me", Severity: firebreak.SEV2,
				Services: []string{"api", "db"}, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.GetIncident(ctx, "INC-1"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
