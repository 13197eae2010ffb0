//go:build unix

package sqlstore_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// Learning benchmarks (issue 6 speed goals; figures in docs/BENCHMARKS.md, "Learning"): knowledge-base search
// over N post-mortems and related incidents of one incident among N, on generated data (sqltest.GenerateLearning,
// written in one bulk transaction). N is FIREBREAK_BENCH_POSTMORTEMS (default 2,000, so that -bench . stays
// quick; the goals are stated for 100,000):
//
//	FIREBREAK_BENCH_POSTMORTEMS=100000 go test ./sqlstore -run '^$' -bench Learning -benchtime 400x -timeout 60m
//
// Each iteration is one call (a query of the corpus's list, or the related incidents of a pseudo-random
// incident); p50/p95/p99 are over the iterations.
func BenchmarkLearning(b *testing.B) {
	n := sqltest.Size(b, "FIREBREAK_BENCH_POSTMORTEMS", 2000)
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			now := time.Now().UTC()
			o := sqltest.Options(b, d)
			s := openStore(b, o)
			start := time.Now()
			corpus := sqltest.GenerateLearning(b, o, n, now)
			b.Logf("%s: generated %d incidents with post-mortems in %s", d, n, time.Since(start).Round(time.Second))
			ctx := context.Background()
			// The store's background indexer tokenizes new pieces (SQLite); the bulk load bypassed it.
			start = time.Now()
			for {
				k, err := s.IndexSearchTerms(ctx, 2000)
				if err != nil {
					b.Fatal(err)
				}
				if k == 0 {
					break
				}
			}
			tokenized := time.Since(start)
			start = time.Now()
			if err := s.RefreshSearchStats(ctx); err != nil { // as the indexer does every five minutes
				b.Fatal(err)
			}
			b.Logf("%s: tokenized the search pieces in %s, read the common words' counts in %s", d,
				tokenized.Round(time.Second), time.Since(start).Round(time.Millisecond))

			// searchRun times b.N calls cycling through the corpus's queries and reports CPU and latency.
			searchRun := func(b *testing.B) {
				var lat []time.Duration
				found := 0
				cpu0 := processCPU()
				b.ResetTimer()
				for i := range b.N {
					q := corpus.Queries[i%len(corpus.Queries)]
					t0 := time.Now()
					p, err := s.Search(ctx, firebreak.SearchQuery{Q: q, Limit: 20})
					el := time.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, el)
					found += len(p.Items)
				}
				b.StopTimer()
				if found == 0 {
					b.Fatal("no query found anything")
				}
				reportCPU(b, cpu0)
				reportLatencyP95(b, lat)
			}

			b.Run("search", func(b *testing.B) {
				// One call of each query first, reported on its own (first-max-ms): a new process maps the
				// database's pages in as it first touches them, and compiles its statements.
				var first time.Duration
				for _, q := range corpus.Queries {
					t0 := time.Now()
					if _, err := s.Search(ctx, firebreak.SearchQuery{Q: q, Limit: 20}); err != nil {
						b.Fatal(err)
					}
					first = max(first, time.Since(t0))
				}
				searchRun(b)
				b.ReportMetric(float64(first)/float64(time.Millisecond), "first-max-ms")
			})

			b.Run("search-cold", func(b *testing.B) {
				// The same queries with nothing kept between them: every call reads each word's document count
				// from FTS5 again (as before the indexer's first pass over the vocabulary), and looks up every
				// scored piece's counts (as for pieces no search has read lately).
				defer sqlstore.SetSearchStatsTTL(0)()
				defer sqlstore.SetSearchTermsCacheBytes(0)()
				searchRun(b)
			})

			b.Run("search-uncached", func(b *testing.B) {
				// Only the pieces' counts looked up on every call; the words' document counts are kept.
				defer sqlstore.SetSearchTermsCacheBytes(0)()
				searchRun(b)
			})

			b.Run("related", func(b *testing.B) {
				var lat []time.Duration
				items := 0
				cpu0 := processCPU()
				b.ResetTimer()
				for i := range b.N {
					ref := firebreak.IncidentRef(int64(1 + (i*7919)%n))
					t0 := time.Now()
					rel, err := s.RelatedIncidents(ctx, ref, firebreak.DefaultRelatedLimit)
					el := time.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
					lat = append(lat, el)
					items += len(rel.Items)
				}
				b.StopTimer()
				if items == 0 {
					b.Fatal("no incident had related incidents")
				}
				b.ReportMetric(float64(items)/float64(b.N), "related/op")
				reportCPU(b, cpu0)
				reportLatencyP95(b, lat)
			})

			b.Run("recurrence-check", func(b *testing.B) {
				// The background check of a new incident: related incidents plus the (usually empty) write.
				var lat []time.Duration
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					inc, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout 5xx errors after deploy",
						Severity: firebreak.SEV2, Services: []string{"checkout"}})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.ClaimRecurrenceChecks(ctx, time.Now().Add(sqlstore.RecurrenceCheckDelay), time.Minute,
						100); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					t0 := time.Now()
					if err := s.CheckRecurrence(ctx, inc.ID, time.Now()); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				b.StopTimer()
				reportLatencyP95(b, lat)
			})
		})
	}
}

// reportLatencyP95 reports p50, p95 and p99 in milliseconds.
func reportLatencyP95(b *testing.B, lat []time.Duration) {
	reportLatency(b, lat)
	if len(lat) == 0 {
		return
	}
	// reportLatency sorted lat.
	b.ReportMetric(float64(lat[min(len(lat)-1, int(0.95*float64(len(lat))))])/float64(time.Millisecond), "p95-ms")
}

// processCPU is the CPU time this process has used (user and system). On SQLite the database runs in the process,
// so the CPU per operation measures the work itself, whatever else loads the machine; on PostgreSQL it is only the
// client's part.
func processCPU() time.Duration {
	var r syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &r); err != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

// reportCPU reports the process CPU time per operation since cpu0, in milliseconds.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
