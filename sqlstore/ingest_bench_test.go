package sqlstore_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// The intake paths of the store without HTTP: what `firebreak bench --scenario pagerduty|alertmanager` sends,
// from 64 concurrent callers, critical alerts of one service (each joins the service's open incident).
//
//	go test ./sqlstore -run XXX -bench IngestParallel -benchtime 20000x -cpuprofile ingest.prof

// benchIntakeSetup creates a service with n integrations of kind.
func benchIntakeSetup(b *testing.B, s *sqlstore.Store, kind firebreak.IntegrationKind, n int) []string {
	ctx := context.Background()
	if _, err := s.CreateService(ctx, firebreak.ServiceInput{Slug: "bench"}); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for i := range n {
		g, err := s.CreateIntegration(ctx, firebreak.IntegrationInput{Service: "bench", Kind: kind,
			Name: fmt.Sprint("bench ", i)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	return ids
}

// pdBenchEvent is what the PagerDuty intake makes of the bench's trigger n (web.toAlertEvents).
func pdBenchEvent(run string, n int) firebreak.AlertEvent {
	host := fmt.Sprintf("host%d.example.com", n%500)
	return firebreak.AlertEvent{Action: "trigger", DedupKey: fmt.Sprintf("bench-%s-%d", run, n),
		Summary: "High error rate on " + host, Severity: firebreak.AlertCritical,
		Source:  "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/" + host,
		Labels:  map[string]string{"component": "postgres", "group": "prod-datapipe", "class": "deploy"},
		Details: `{"load avg":0.75,"ping time":"1500ms"}`,
		Links: []firebreak.AlertLink{{Href: "https://example.com/", Text: "Link text"},
			{Href: "https://monitoring.example.com", Text: "Sample Monitoring Service"}}}
}

// amBenchDelivery is an Alertmanager delivery of n new critical alerts of group g.
func amBenchDelivery(run string, g, n int) []firebreak.AlertEvent {
	name := fmt.Sprintf("HighErrorRate-%s-%d", run, g)
	out := make([]firebreak.AlertEvent, n)
	for i := range out {
		instance := fmt.Sprintf("api-%d:8080", i)
		out[i] = firebreak.AlertEvent{Action: "trigger", DedupKey: fmt.Sprintf("%s-%d", name, i),
			Summary: "5xx ratio above 5% on " + instance, Severity: firebreak.AlertCritical, Source: instance,
			Labels: map[string]string{"alertname": name, "cluster": "prod-eu-1", "instance": instance, "job": "api",
				"severity": "critical"},
			Annotations: map[string]string{"runbook_url": "https://runbooks.example.com/HighErrorRate",
				"summary": "5xx ratio above 5% on " + instance},
			Links: []firebreak.AlertLink{{Href: "http://prometheus.example.com:9090/graph?g0.expr=x", Text: "Source"}}}
	}
	return out
}

func runIngestParallel(b *testing.B, s *sqlstore.Store, ids []string, perOp int,
	events func(n int) []firebreak.AlertEvent) {
	ctx := context.Background()
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b0, w0 := sqlstore.WriterStats(s)
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			n := int(next.Add(1))
			start := time.Now()
			if err := s.RecordAlerts(ctx, ids[n%len(ids)], events(n)); err != nil {
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
	b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "alerts/s")
	if b1, w1 := sqlstore.WriterStats(s); b1 > b0 {
		b.ReportMetric(float64(w1-w0)/float64(b1-b0), "writes/commit")
	}
}

// BenchmarkIngestParallelPagerDuty: one critical PagerDuty event per call, a new dedup key each, 8 integrations.
func BenchmarkIngestParallelPagerDuty(b *testing.B) {
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			s := sqltest.Open(b, d)
			ids := benchIntakeSetup(b, s, firebreak.IntegrationPagerDuty, 8)
			runIngestParallel(b, s, ids, 1, func(n int) []firebreak.AlertEvent {
				return []firebreak.AlertEvent{pdBenchEvent("r", n)}
			})
		})
	}
}

// BenchmarkIngestParallelAlertmanager: 100 new critical alerts (a new group) per call, 8 integrations.
func BenchmarkIngestParallelAlertmanager(b *testing.B) {
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			s := sqltest.Open(b, d)
			ids := benchIntakeSetup(b, s, firebreak.IntegrationAlertmanager, 8)
			runIngestParallel(b, s, ids, 100, func(n int) []firebreak.AlertEvent {
				return amBenchDelivery("r", n, 100)
			})
		})
	}
}
