package sqlstore_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

func integration(t testing.TB, s *sqlstore.Store, svc string, kind firebreak.IntegrationKind) *firebreak.Integration {
	t.Helper()
	return must(s.CreateIntegration(alice, firebreak.IntegrationInput{Service: svc, Kind: kind}))
}

func trigger(key, summary string) firebreak.AlertEvent {
	return firebreak.AlertEvent{Action: "trigger", DedupKey: key, Summary: summary, Severity: firebreak.AlertCritical,
		Source: "db-1", Labels: map[string]string{"alertname": key, "env": "prod"},
		Annotations: map[string]string{"runbook": "r"}, Details: `{"a":1}`,
		Links: []firebreak.AlertLink{{Href: "https://grafana.example/d/1", Text: "dashboard"}}}
}

// allAlerts lists every alert, page by page.
func allAlerts(t testing.TB, s *sqlstore.Store) []firebreak.Alert {
	t.Helper()
	var out []firebreak.Alert
	for cursor := ""; ; {
		p := must(s.ListAlerts(context.Background(), firebreak.AlertFilter{Limit: firebreak.MaxLimit, Cursor: cursor}))
		out = append(out, p.Items...)
		if cursor = p.NextCursor; cursor == "" {
			return out
		}
	}
}

func ingest(t testing.TB, s *sqlstore.Store, id string, evs ...firebreak.AlertEvent) []firebreak.Alert {
	t.Helper()
	return must(s.IngestAlerts(context.Background(), id, evs))
}

func TestIntegrations(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		service(t, s, "search", "discovery")

		_, err := s.CreateIntegration(alice, firebreak.IntegrationInput{Service: "nope", Kind: firebreak.IntegrationGeneric})
		wantField(t, err, "service", "")
		_, err = s.CreateIntegration(alice, firebreak.IntegrationInput{Service: "checkout", Kind: "nagios"})
		wantField(t, err, "kind", "")
		_, err = s.CreateIntegration(alice, firebreak.IntegrationInput{Service: "checkout",
			Kind: firebreak.IntegrationPagerDuty, SignatureSecret: "x"})
		wantField(t, err, "signature_secret", "")

		pd := integration(t, s, "checkout", firebreak.IntegrationPagerDuty)
		if len(pd.Key) != 32 || strings.Trim(pd.Key, "0123456789abcdef") != "" || pd.Name != "pagerduty" || pd.Signed ||
			pd.Service != "checkout" || !pd.CreatedAt.Equal(t0) {
			t.Fatalf("created %+v", pd)
		}
		c.Advance(time.Second)
		gr := must(s.CreateIntegration(alice, firebreak.IntegrationInput{Service: "checkout",
			Kind: firebreak.IntegrationGrafana, Name: "grafana prod", SignatureSecret: "hmac-key"}))
		if !gr.Signed || gr.Key == "" || gr.Key == pd.Key {
			t.Fatalf("created %+v", gr)
		}
		c.Advance(time.Second)
		am := integration(t, s, "search", firebreak.IntegrationAlertmanager)

		// Authentication.
		got := must(s.AuthenticateIntegration(ctx, gr.Key))
		if got.ID != gr.ID || got.SignatureSecret != "hmac-key" || !got.Signed || got.Kind != firebreak.IntegrationGrafana ||
			got.Service != "checkout" || got.Key != "" {
			t.Fatalf("authenticated %+v", got)
		}
		got = must(s.AuthenticateIntegration(ctx, gr.Key)) // cached
		if got.ID != gr.ID || got.SignatureSecret != "hmac-key" {
			t.Fatalf("cached %+v", got)
		}
		if got := must(s.AuthenticateIntegration(ctx, pd.Key)); got.ID != pd.ID || got.SignatureSecret != "" {
			t.Fatalf("authenticated %+v", got)
		}
		for _, k := range []string{"", "0123456789abcdef0123456789abcdef", pd.Key + "x"} {
			_, err := s.AuthenticateIntegration(ctx, k)
			wantCode(t, err, firebreak.EUnauthorized)
		}
		// Only the hash is stored.
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM integrations WHERE secret_hash = ?`, pd.Key)); n != 0 {
			t.Fatal("key stored in the clear")
		}

		// Lists: no keys, no secrets, oldest first.
		all := must(s.ListIntegrations(ctx, ""))
		if len(all) != 3 || all[0].ID != pd.ID || all[1].ID != gr.ID || all[2].ID != am.ID {
			t.Fatalf("list %+v", all)
		}
		for _, g := range all {
			if g.Key != "" || g.SignatureSecret != "" {
				t.Fatalf("list shows secrets: %+v", g)
			}
		}
		if !all[1].Signed {
			t.Fatal("signed flag lost")
		}
		if l := must(s.ListIntegrations(ctx, "search")); len(l) != 1 || l[0].ID != am.ID {
			t.Fatalf("list search %+v", l)
		}
		_, err = s.ListIntegrations(ctx, "nope")
		wantCode(t, err, firebreak.ENotFound)
	})
}

func TestIngestAlerts(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)

		_, err := s.IngestAlerts(ctx, "00000000-0000-7000-8000-000000000000", []firebreak.AlertEvent{trigger("a", "x")})
		wantCode(t, err, firebreak.ENotFound)
		bad := []firebreak.AlertEvent{trigger("ok", "x"), {Action: "fire", DedupKey: "", Severity: "major"},
			{Action: "resolve", DedupKey: strings.Repeat("k", 256), Severity: firebreak.AlertInfo}}
		_, err = s.IngestAlerts(ctx, am.ID, bad)
		wantField(t, err, "events[1].action", "")
		wantField(t, err, "events[1].dedup_key", "")
		wantField(t, err, "events[1].severity", "")
		wantField(t, err, "events[2].dedup_key", "")
		noSev := trigger("x", "x")
		noSev.Severity = ""
		_, err = s.IngestAlerts(ctx, am.ID, []firebreak.AlertEvent{noSev})
		wantField(t, err, "events[0].severity", "")

		// New alert.
		started := t0.Add(-time.Minute)
		ev := trigger("disk", "disk full")
		ev.StartsAt = started
		a := ingest(t, s, am.ID, ev)[0]
		if a.Status != firebreak.AlertFiring || a.Occurrences != 1 || !a.FirstSeenAt.Equal(started) ||
			!a.LastSeenAt.Equal(started) || a.ResolvedAt != nil || a.Service != "checkout" ||
			a.Source != firebreak.IntegrationAlertmanager || a.IntegrationID != am.ID || a.Labels["env"] != "prod" ||
			a.Annotations["runbook"] != "r" || a.Details != `{"a":1}` || len(a.Links) != 1 || a.Summary != "disk full" {
			t.Fatalf("new alert %+v", a)
		}

		// Redelivery with nothing changed: nothing written.
		c.Advance(time.Minute)
		xmin := func() string {
			if s.Dialect() != "postgres" {
				return ""
			}
			return fmt.Sprint(must(sqlstore.QueryInt(ctx, s, `SELECT xmin::text::bigint + xmax::text::bigint * 1000000000000 FROM alerts WHERE id = ?`, a.ID)))
		}
		x0 := xmin()
		again := ingest(t, s, am.ID, ev)[0]
		if again.ID != a.ID || !again.LastSeenAt.Equal(a.LastSeenAt) || again.Occurrences != 1 {
			t.Fatalf("redelivery changed the alert: %+v", again)
		}
		if x1 := xmin(); x1 != x0 {
			t.Fatalf("redelivery touched the row: %s → %s", x0, x1)
		}
		stored := must(s.ListAlerts(ctx, firebreak.AlertFilter{})).Items
		if len(stored) != 1 || !stored[0].LastSeenAt.Equal(started) || stored[0].Occurrences != 1 {
			t.Fatalf("stored %+v", stored)
		}

		// Changed payload: updated, still one occurrence.
		c.Advance(time.Minute)
		ev2 := ev
		ev2.Labels = map[string]string{"alertname": "disk", "env": "prod", "mount": "/var"}
		ev2.Severity = firebreak.AlertWarning
		b := ingest(t, s, am.ID, ev2)[0]
		if b.ID != a.ID || b.Occurrences != 1 || !b.LastSeenAt.Equal(c.Now()) || b.Severity != firebreak.AlertWarning ||
			b.Labels["mount"] != "/var" || !b.FirstSeenAt.Equal(started) {
			t.Fatalf("changed %+v", b)
		}

		// Resolve, re-fire, acknowledge.
		c.Advance(time.Minute)
		res := ev2
		res.Action, res.EndsAt = "resolve", c.Now().Add(-time.Second)
		r := ingest(t, s, am.ID, res)[0]
		if r.Status != firebreak.AlertResolved || r.ResolvedAt == nil || !r.ResolvedAt.Equal(res.EndsAt) {
			t.Fatalf("resolved %+v", r)
		}
		if r2 := ingest(t, s, am.ID, res)[0]; r2.Status != firebreak.AlertResolved || !r2.LastSeenAt.Equal(r.LastSeenAt) {
			t.Fatalf("resolved twice %+v", r2)
		}
		c.Advance(time.Minute)
		f := ingest(t, s, am.ID, ev2)[0]
		if f.Status != firebreak.AlertFiring || f.Occurrences != 2 || f.ResolvedAt != nil || !f.LastSeenAt.Equal(c.Now()) {
			t.Fatalf("re-fired %+v", f)
		}
		ack := firebreak.AlertEvent{Action: "acknowledge", DedupKey: "disk", Severity: firebreak.AlertWarning}
		if k := ingest(t, s, am.ID, ack)[0]; k.Status != firebreak.AlertAcknowledged || k.Summary != "disk full" {
			t.Fatalf("acknowledged %+v", k)
		}
		// A trigger redelivery keeps the acknowledgement.
		if k := ingest(t, s, am.ID, ev2)[0]; k.Status != firebreak.AlertAcknowledged || k.Occurrences != 2 {
			t.Fatalf("after trigger %+v", k)
		}

		// Unknown keys: resolve and acknowledge are recorded as they are; several events of a key in one delivery
		// apply in order.
		out := ingest(t, s, am.ID,
			firebreak.AlertEvent{Action: "resolve", DedupKey: "gone", Severity: firebreak.AlertInfo},
			firebreak.AlertEvent{Action: "acknowledge", DedupKey: "seen", Severity: firebreak.AlertError},
			trigger("flap", "flapping"),
			firebreak.AlertEvent{Action: "resolve", DedupKey: "flap", Severity: firebreak.AlertCritical},
			trigger("flap", "flapping"))
		if out[0].Status != firebreak.AlertResolved || out[0].ResolvedAt == nil || out[0].Occurrences != 1 ||
			out[1].Status != firebreak.AlertAcknowledged || out[2].Status != firebreak.AlertFiring ||
			out[3].Status != firebreak.AlertResolved || out[4].Status != firebreak.AlertFiring ||
			out[4].Occurrences != 2 || out[2].ID != out[4].ID {
			t.Fatalf("mixed delivery %+v", out)
		}
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM alerts`)); n != 4 {
			t.Fatalf("%d alerts", n)
		}
		// Dedup keys are per integration.
		pd := integration(t, s, "checkout", firebreak.IntegrationPagerDuty)
		if o := ingest(t, s, pd.ID, trigger("disk", "other"))[0]; o.ID == a.ID || o.Source != firebreak.IntegrationPagerDuty {
			t.Fatalf("other integration %+v", o)
		}
	})
}

func TestIngestLargeDelivery(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)
		const n = 10000
		evs := make([]firebreak.AlertEvent, n)
		for i := range evs {
			evs[i] = trigger(fmt.Sprintf("alert-%05d", i), "summary")
		}
		start := time.Now()
		out := ingest(t, s, am.ID, evs...)
		t.Logf("%s: 10,000 new alerts in %v", s.Dialect(), time.Since(start))
		if len(out) != n || out[n-1].DedupKey != "alert-09999" || out[0].DedupKey != "alert-00000" {
			t.Fatalf("answer has %d alerts", len(out))
		}
		if got := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM alerts`)); got != n {
			t.Fatalf("%d alerts stored", got)
		}
		// Half resolved, half redelivered unchanged.
		c.Advance(time.Minute)
		for i := 0; i < n; i += 2 {
			evs[i].Action = "resolve"
		}
		start = time.Now()
		out = ingest(t, s, am.ID, evs...)
		t.Logf("%s: 10,000 known alerts (half resolved) in %v", s.Dialect(), time.Since(start))
		for i, a := range out {
			want := firebreak.AlertFiring
			if i%2 == 0 {
				want = firebreak.AlertResolved
			}
			if a.Status != want || a.ID == "" {
				t.Fatalf("alert %d: %+v", i, a)
			}
		}
		if got := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM alerts WHERE status = 'resolved'`)); got != n/2 {
			t.Fatalf("%d resolved", got)
		}
		if got := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM alerts WHERE last_seen_at > first_seen_at`)); got != n/2 {
			t.Fatalf("%d alerts touched, want %d", got, n/2)
		}
	})
}

func TestIngestConcurrentSameKey(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)
		for round := range 5 {
			key := fmt.Sprintf("same-%d", round)
			var wg sync.WaitGroup
			ids := make([]string, 16)
			for g := range 16 {
				wg.Go(func() {
					ev := trigger(key, fmt.Sprintf("from %d", g%2)) // two payloads: updates race too
					out, err := s.IngestAlerts(ctx, am.ID, []firebreak.AlertEvent{trigger("other", "x"), ev})
					if err != nil {
						t.Error(err)
						return
					}
					ids[g] = out[1].ID
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			for _, id := range ids {
				if id != ids[0] {
					t.Fatalf("round %d: different alerts %v", round, ids)
				}
			}
			if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM alerts WHERE dedup_key = ?`, key)); n != 1 {
				t.Fatalf("round %d: %d alerts", round, n)
			}
		}
	})
}

// A service's alerts come from all its integrations, newest first, paged exactly like the whole list (the store
// reads each integration's alerts in order and merges them), filters included; an unknown service has none.
func TestListAlertsOfService(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		service(t, s, "search", "discovery")
		ints := []string{integration(t, s, "checkout", firebreak.IntegrationAlertmanager).ID,
			integration(t, s, "checkout", firebreak.IntegrationPagerDuty).ID,
			integration(t, s, "search", firebreak.IntegrationGeneric).ID,
			integration(t, s, "checkout", firebreak.IntegrationGeneric).ID}
		for i := range 23 {
			if i%5 != 0 { // every fifth delivery shares the previous one's time
				c.Advance(time.Second)
			}
			ingest(t, s, ints[(i*7)%len(ints)], trigger(fmt.Sprintf("k%d", i), "x"))
		}
		c.Advance(time.Second)
		ingest(t, s, ints[1], firebreak.AlertEvent{Action: "resolve", DedupKey: "k1", Severity: firebreak.AlertInfo})
		list := func(f firebreak.AlertFilter) []string {
			t.Helper()
			var got []string
			for pages := 0; ; pages++ {
				p := must(s.ListAlerts(ctx, f))
				for _, a := range p.Items {
					got = append(got, a.Service+"/"+a.DedupKey)
				}
				if p.NextCursor == "" {
					return got
				}
				f.Cursor = p.NextCursor
				if pages > 30 {
					t.Fatal("endless pages")
				}
			}
		}
		check := func(when string) {
			t.Helper()
			for _, st := range [][]firebreak.AlertStatus{nil, {firebreak.AlertFiring}, {firebreak.AlertResolved}} {
				var want []string
				for _, k := range list(firebreak.AlertFilter{Status: st, Limit: 100}) {
					if strings.HasPrefix(k, "checkout/") {
						want = append(want, k)
					}
				}
				if len(want) == 0 {
					t.Fatalf("%s, status %v: no checkout alerts", when, st)
				}
				for _, limit := range []int{1, 3, 100} {
					if got := list(firebreak.AlertFilter{Service: "checkout", Status: st, Limit: limit}); strings.Join(got, ",") !=
						strings.Join(want, ",") {
						t.Fatalf("%s, status %v, pages of %d:\n%v\nwant\n%v", when, st, limit, got, want)
					}
				}
			}
		}
		check("new alerts")
		// Alerts stored before migration 00024 get their service from their integration.
		if err := sqlstore.Remigrate(ctx, s, 23); err != nil {
			t.Fatal(err)
		}
		check("after the upgrade to 00024")
		if got := list(firebreak.AlertFilter{Service: "nosuch"}); len(got) != 0 {
			t.Fatalf("an unknown service lists %v", got)
		}
	})
}

func TestListAlerts(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		service(t, s, "search", "discovery")
		co := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)
		se := integration(t, s, "search", firebreak.IntegrationPagerDuty)
		var want []string // newest first
		for i := range 7 {
			c.Advance(time.Second)
			id := co.ID
			if i%2 == 1 {
				id = se.ID
			}
			a := ingest(t, s, id, trigger(fmt.Sprintf("k%d", i), "x"))[0]
			want = append([]string{a.ID}, want...)
		}
		// Same last_seen for two alerts: the cursor must still split them exactly.
		both := ingest(t, s, co.ID, trigger("t1", "x"), trigger("t2", "x"))
		want = append([]string{max(both[0].ID, both[1].ID), min(both[0].ID, both[1].ID)}, want...)
		c.Advance(time.Second)
		ingest(t, s, co.ID, firebreak.AlertEvent{Action: "resolve", DedupKey: "k0", Severity: firebreak.AlertInfo})
		k0 := want[len(want)-1]
		want = append([]string{k0}, want[:len(want)-1]...)

		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			p := must(s.ListAlerts(ctx, firebreak.AlertFilter{Limit: 2, Cursor: cursor}))
			for _, a := range p.Items {
				got = append(got, a.ID)
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
			if pages > 10 {
				t.Fatal("endless pages")
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("paged\n%v\nwant\n%v", got, want)
		}
		if p := must(s.ListAlerts(ctx, firebreak.AlertFilter{Service: "search"})); len(p.Items) != 3 ||
			p.Items[0].Service != "search" || p.Items[0].Source != firebreak.IntegrationPagerDuty {
			t.Fatalf("search %+v", p.Items)
		}
		p := must(s.ListAlerts(ctx, firebreak.AlertFilter{Status: []firebreak.AlertStatus{firebreak.AlertResolved}}))
		if len(p.Items) != 1 || p.Items[0].ID != k0 || p.Items[0].Labels == nil || p.Items[0].Links == nil {
			t.Fatalf("resolved %+v", p.Items)
		}
		if p := must(s.ListAlerts(ctx, firebreak.AlertFilter{Service: "checkout",
			Status: []firebreak.AlertStatus{firebreak.AlertFiring, firebreak.AlertAcknowledged}})); len(p.Items) != 5 {
			t.Fatalf("checkout firing %d", len(p.Items))
		}
		// Linked to an incident.
		inc := declare(t, s, "checkout down", firebreak.SEV2)
		must(0, sqlstore.Exec(ctx, s, `UPDATE alerts SET incident_id = ? WHERE id = ?`, inc.ID, want[0]))
		for _, ref := range []string{firebreak.IncidentRef(inc.Number), inc.ID} {
			p := must(s.ListAlerts(ctx, firebreak.AlertFilter{Incident: ref}))
			if len(p.Items) != 1 || p.Items[0].ID != want[0] || p.Items[0].IncidentID != inc.ID {
				t.Fatalf("incident %s: %+v", ref, p.Items)
			}
		}
		if p := must(s.ListAlerts(ctx, firebreak.AlertFilter{Incident: "INC-999"})); len(p.Items) != 0 {
			t.Fatalf("unknown incident %+v", p.Items)
		}
		_, err := s.ListAlerts(ctx, firebreak.AlertFilter{Incident: "nonsense"})
		wantField(t, err, "incident", "")
		_, err = s.ListAlerts(ctx, firebreak.AlertFilter{Status: []firebreak.AlertStatus{"open"}})
		wantField(t, err, "status", "")
		_, err = s.ListAlerts(ctx, firebreak.AlertFilter{Limit: -1})
		wantField(t, err, "limit", "")
		for _, cur := range []string{"!!", encodeCursor("n|5"), encodeCursor("a|yesterday|x")} {
			_, err = s.ListAlerts(ctx, firebreak.AlertFilter{Cursor: cur})
			wantField(t, err, "cursor", "")
		}
	})
}

// BenchmarkIngestAlertmanagerBatch: parallel deliveries of 100 new alerts each.
func BenchmarkIngestAlertmanagerBatch(b *testing.B) {
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			s := sqltest.Open(b, d)
			ctx := firebreak.WithActor(context.Background(), firebreak.Actor{Username: "bench", Role: firebreak.RoleResponder})
			if _, err := s.CreateService(ctx, firebreak.ServiceInput{Slug: "bench"}); err != nil {
				b.Fatal(err)
			}
			g, err := s.CreateIntegration(ctx, firebreak.IntegrationInput{Service: "bench", Kind: firebreak.IntegrationAlertmanager})
			if err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			var seq sync.Mutex
			next := 0
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				evs := make([]firebreak.AlertEvent, 100)
				for pb.Next() {
					seq.Lock()
					batch := next
					next++
					seq.Unlock()
					for i := range evs {
						evs[i] = trigger(fmt.Sprintf("b%d-%d", batch, i), "benchmark alert")
					}
					if _, err := s.IngestAlerts(ctx, g.ID, evs); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}
