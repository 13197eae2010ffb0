package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// BenchmarkIngestChangedAlerts: one delivery that changes 5,000 known alerts (a new summary each time). On
// PostgreSQL, "before" is one UPDATE per alert and IN-list lookups; "updates" adds the batched UPDATE … FROM
// (VALUES …); "after" also looks the alerts up with one text[] parameter. SQLite writes one prepared UPDATE per
// alert.
func BenchmarkIngestChangedAlerts(b *testing.B) {
	const n = 5000
	for _, d := range sqltest.Dialects(b) {
		for _, v := range []struct {
			name             string
			updates, lookups bool
		}{{"before", false, false}, {"updates", true, false}, {"after", true, true}} {
			if d != "postgres" && v.name != "after" {
				continue
			}
			b.Run(d+"/"+v.name, func(b *testing.B) {
				defer sqlstore.SetPGAlertBatching(v.updates, v.lookups)()
				s := sqltest.Open(b, d)
				ctx := firebreak.WithActor(context.Background(), firebreak.Actor{Username: "bench", Role: firebreak.RoleResponder})
				if _, err := s.CreateService(ctx, firebreak.ServiceInput{Slug: "bench"}); err != nil {
					b.Fatal(err)
				}
				g, err := s.CreateIntegration(ctx, firebreak.IntegrationInput{Service: "bench", Kind: firebreak.IntegrationAlertmanager})
				if err != nil {
					b.Fatal(err)
				}
				evs := make([]firebreak.AlertEvent, n)
				for i := range evs {
					evs[i] = trigger(fmt.Sprintf("c-%05d", i), "v0")
					evs[i].Severity = firebreak.AlertWarning // recorded only: the benchmark measures the updates
				}
				if _, err := s.IngestAlerts(ctx, g.ID, evs); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for it := range b.N {
					for i := range evs {
						evs[i].Summary = fmt.Sprintf("v%d", it+1)
					}
					out, err := s.IngestAlerts(ctx, g.ID, evs)
					if err != nil {
						b.Fatal(err)
					}
					if out[n-1].Summary != evs[n-1].Summary {
						b.Fatalf("not updated: %+v", out[n-1])
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "alerts/s")
			})
		}
	}
}
