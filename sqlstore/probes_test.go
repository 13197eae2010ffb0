package sqlstore_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

func probeIn(svc, name, url string) firebreak.ProbeInput {
	return firebreak.ProbeInput{Service: svc, Name: name, URL: url}
}

func newProbe(t testing.TB, s *sqlstore.Store, in firebreak.ProbeInput) *firebreak.Probe {
	t.Helper()
	return must(s.CreateProbe(context.Background(), in))
}

func fail(id string, at time.Time) firebreak.ProbeRun {
	return firebreak.ProbeRun{ProbeID: id, Result: firebreak.ProbeResult{At: at, LatencyMS: 12, StatusCode: 503,
		FailedConditions: []string{"[STATUS] (503) == 200"}}}
}

func okRun(id string, at time.Time) firebreak.ProbeRun {
	return firebreak.ProbeRun{ProbeID: id, Result: firebreak.ProbeResult{At: at, Success: true, LatencyMS: 12,
		StatusCode: 200}}
}

func record(t testing.TB, s *sqlstore.Store, runs ...firebreak.ProbeRun) {
	t.Helper()
	if err := s.RecordProbeResults(context.Background(), runs); err != nil {
		t.Fatalf("record: %v", err)
	}
}

func probeStatus(t testing.TB, s *sqlstore.Store, id string) *firebreak.ProbeStatus {
	t.Helper()
	return must(s.GetProbe(context.Background(), id))
}

func probeAlerts(t testing.TB, s *sqlstore.Store, svc string) []firebreak.Alert {
	t.Helper()
	return must(s.ListAlerts(context.Background(), firebreak.AlertFilter{Service: svc, Limit: firebreak.MaxLimit})).Items
}

func ids(ps []firebreak.Probe) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Service+"/"+p.Name)
	}
	return out
}

func TestProbeCRUD(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		service(t, s, "search", "discovery")

		// Validation names the field; an unknown service is EInvalid on "service".
		_, err := s.CreateProbe(ctx, probeIn("checkout", "api", ""))
		wantField(t, err, "url", "required")
		_, err = s.CreateProbe(ctx, probeIn("checkout", "", "ftp://x"))
		wantField(t, err, "name", "required")
		wantField(t, err, "url", "scheme")
		bad := probeIn("checkout", "api", "https://api.example/health")
		bad.Interval, bad.FailureThreshold = firebreak.Duration(time.Millisecond), 101
		_, err = s.CreateProbe(ctx, bad)
		wantField(t, err, "interval", "")
		wantField(t, err, "failure_threshold", "")
		_, err = s.CreateProbe(ctx, probeIn("nope", "api", "https://api.example/health"))
		wantField(t, err, "service", "nope")

		// Defaults.
		in := probeIn("checkout", "api", "https://api.example/health")
		in.Headers = map[string]string{"Authorization": "Bearer x"}
		in.Conditions = []string{" [STATUS] == 200 ", "[RESPONSE_TIME] < 500"}
		p := newProbe(t, s, in)
		if p.ID == "" || p.Kind != firebreak.ProbeHTTP || p.Method != "GET" ||
			p.Interval != firebreak.Duration(time.Minute) || p.Timeout != firebreak.Duration(10*time.Second) ||
			p.FailureThreshold != 3 || p.SuccessThreshold != 2 || p.Severity != firebreak.AlertCritical || !p.Enabled ||
			p.State != firebreak.ProbeUnknown || p.LastResult != nil || !p.CreatedAt.Equal(t0) ||
			p.Headers["Authorization"] != "Bearer x" || !slices.Equal(p.Conditions, []string{"[STATUS] == 200",
			"[RESPONSE_TIME] < 500"}) || p.Service != "checkout" {
			t.Fatalf("created %+v", p)
		}
		if in.Conditions[0] != " [STATUS] == 200 " {
			t.Fatal("CreateProbe changed the caller's conditions")
		}
		st := probeStatus(t, s, p.ID)
		if st.Probe.ID != p.ID || !slices.Equal(st.Probe.Conditions, p.Conditions) || st.Probe.Headers["Authorization"] != "Bearer x" ||
			st.Probe.Interval != p.Interval || !st.Probe.UpdatedAt.Equal(t0) || len(st.Recent) != 0 || len(st.Windows) != 2 ||
			st.Windows[0].Window != "24h" || st.Windows[1].Window != "7d" || st.Windows[0].UptimePercent != nil ||
			st.Windows[0].P50MS != nil || st.Windows[1].Checks != 0 {
			t.Fatalf("get %+v", st)
		}
		if due := must(s.NextProbeDue(ctx)); !due.Equal(t0) {
			t.Fatalf("next due %v, want now", due)
		}

		// Names are unique per service.
		_, err = s.CreateProbe(ctx, probeIn("checkout", "api", "tcp://db:5432"))
		wantCode(t, err, firebreak.EConflict)
		tcp := newProbe(t, s, probeIn("search", "api", "tcp://search:9200"))
		if tcp.Kind != firebreak.ProbeTCP || tcp.Method != "" {
			t.Fatalf("tcp probe %+v", tcp)
		}
		newProbe(t, s, probeIn("checkout", "db", "tcp://db:5432"))

		if got := ids(must(s.ListProbes(ctx, firebreak.ProbeFilter{}))); !slices.Equal(got,
			[]string{"checkout/api", "checkout/db", "search/api"}) {
			t.Fatalf("list %v", got)
		}
		if got := ids(must(s.ListProbes(ctx, firebreak.ProbeFilter{Service: "search"}))); !slices.Equal(got,
			[]string{"search/api"}) {
			t.Fatalf("list search %v", got)
		}
		_, err = s.ListProbes(ctx, firebreak.ProbeFilter{Service: "nope"})
		wantCode(t, err, firebreak.ENotFound)

		// Update replaces the configuration and reschedules it now.
		c.Advance(time.Minute)
		claimed := must(s.ClaimDueProbes(ctx, c.Now(), 10))
		if len(claimed) != 3 {
			t.Fatalf("claimed %d", len(claimed))
		}
		c.Advance(5 * time.Second)
		up := probeIn("checkout", "api v2", "https://api.example/v2/health")
		up.Interval, up.Severity = firebreak.Duration(30*time.Second), firebreak.AlertWarning
		p2 := must(s.UpdateProbe(ctx, p.ID, up))
		if p2.ID != p.ID || p2.Name != "api v2" || p2.Interval != firebreak.Duration(30*time.Second) ||
			p2.Severity != firebreak.AlertWarning || len(p2.Headers) != 0 || len(p2.Conditions) != 0 ||
			!p2.CreatedAt.Equal(t0) || !p2.UpdatedAt.Equal(c.Now()) {
			t.Fatalf("updated %+v", p2)
		}
		if due := must(s.NextProbeDue(ctx)); !due.Equal(c.Now()) {
			t.Fatalf("next due %v after update, want %v", due, c.Now())
		}
		if got := probeStatus(t, s, p.ID).Probe; got.Name != "api v2" || got.URL != up.URL || len(got.Headers) != 0 {
			t.Fatalf("stored %+v", got)
		}
		_, err = s.UpdateProbe(ctx, p.ID, probeIn("checkout", "db", "https://x.example"))
		wantCode(t, err, firebreak.EConflict)
		_, err = s.UpdateProbe(ctx, p.ID, probeIn("nope", "db", "https://x.example"))
		wantField(t, err, "service", "")
		_, err = s.UpdateProbe(ctx, p.ID, probeIn("checkout", "db", "https://x.example:bad"))
		wantField(t, err, "url", "")
		_, err = s.UpdateProbe(ctx, "00000000-0000-7000-8000-000000000000", probeIn("checkout", "x", "https://x.example"))
		wantCode(t, err, firebreak.ENotFound)

		// Delete.
		if err := s.DeleteProbe(ctx, tcp.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetProbe(ctx, tcp.ID)
		wantCode(t, err, firebreak.ENotFound)
		wantCode(t, s.DeleteProbe(ctx, tcp.ID), firebreak.ENotFound)
		if got := ids(must(s.ListProbes(ctx, firebreak.ProbeFilter{}))); !slices.Equal(got,
			[]string{"checkout/api v2", "checkout/db"}) {
			t.Fatalf("list after delete %v", got)
		}
	})
}

func TestApplyProbes(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		manual := newProbe(t, s, probeIn("checkout", "manual", "https://m.example"))
		file := []firebreak.ProbeInput{probeIn("checkout", "api", "https://api.example/health"),
			probeIn("checkout", "db", "tcp://db:5432")}
		first := must(s.ApplyProbes(ctx, file))
		if len(first) != 2 || first[0].Name != "api" || first[1].Name != "db" || first[1].Kind != firebreak.ProbeTCP {
			t.Fatalf("applied %+v", first)
		}
		// Applying the same file again writes nothing (not even updated_at).
		c.Advance(time.Hour)
		again := must(s.ApplyProbes(ctx, file))
		if again[0].ID != first[0].ID || !again[0].UpdatedAt.Equal(t0) || !again[1].UpdatedAt.Equal(t0) {
			t.Fatalf("reapplied %+v", again)
		}
		// A change replaces the matching probe only.
		file[1].Interval = firebreak.Duration(10 * time.Second)
		third := must(s.ApplyProbes(ctx, file))
		if third[1].ID != first[1].ID || third[1].Interval != firebreak.Duration(10*time.Second) ||
			!third[1].UpdatedAt.Equal(c.Now()) || !third[0].UpdatedAt.Equal(t0) {
			t.Fatalf("changed %+v", third)
		}
		if got := ids(must(s.ListProbes(ctx, firebreak.ProbeFilter{}))); !slices.Equal(got,
			[]string{"checkout/api", "checkout/db", "checkout/manual"}) {
			t.Fatalf("list %v (the manual probe %s must stay)", got, manual.ID)
		}
		// Errors name the entry; nothing is written when one fails.
		_, err := s.ApplyProbes(ctx, []firebreak.ProbeInput{probeIn("checkout", "new", "https://n.example"),
			probeIn("checkout", "broken", "")})
		wantField(t, err, "probes[1].url", "required")
		_, err = s.ApplyProbes(ctx, []firebreak.ProbeInput{probeIn("checkout", "new", "https://n.example"),
			probeIn("nope", "x", "https://n.example")})
		wantField(t, err, "probes[1].service", "nope")
		_, err = s.ApplyProbes(ctx, []firebreak.ProbeInput{probeIn("checkout", "new", "https://n.example"),
			probeIn("checkout", "new", "https://o.example")})
		wantField(t, err, "probes[1].name", "twice")
		if n := len(must(s.ListProbes(ctx, firebreak.ProbeFilter{}))); n != 3 {
			t.Fatalf("%d probes after failed applies", n)
		}
	})
}

func TestClaimDueProbes(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		in := probeIn("checkout", "a", "https://a.example")
		in.Interval = firebreak.Duration(10 * time.Second)
		newProbe(t, s, in)
		c.Advance(time.Millisecond)
		newProbe(t, s, probeIn("checkout", "b", "https://b.example")) // 1m
		off := probeIn("checkout", "off", "https://off.example")
		no := false
		off.Enabled = &no
		newProbe(t, s, off)

		claim := func(at time.Time, limit int) []string {
			t.Helper()
			var names []string
			for _, p := range must(s.ClaimDueProbes(ctx, at, limit)) {
				names = append(names, p.Name)
			}
			return names
		}
		_, err := s.ClaimDueProbes(ctx, t0, 0)
		wantField(t, err, "limit", "")

		if got := claim(t0, 10); !slices.Equal(got, []string{"a"}) { // b is due 1 ms later
			t.Fatalf("claimed %v", got)
		}
		now := t0.Add(time.Millisecond)
		if got := claim(now, 10); !slices.Equal(got, []string{"b"}) {
			t.Fatalf("claimed %v", got)
		}
		if got := claim(now, 10); len(got) != 0 {
			t.Fatalf("claimed again %v", got)
		}
		if due := must(s.NextProbeDue(ctx)); !due.Equal(t0.Add(10 * time.Second)) {
			t.Fatalf("next due %v", due)
		}
		if got := claim(t0.Add(10*time.Second), 10); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("claimed %v", got)
		}
		// A runner that falls behind runs each probe once, and the schedule keeps its phase.
		late := t0.Add(95 * time.Second)
		if got := claim(late, 10); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("claimed late %v", got)
		}
		if got := claim(t0.Add(99*time.Second), 10); len(got) != 0 {
			t.Fatalf("claimed %v before the next interval", got)
		}
		if due := must(s.NextProbeDue(ctx)); !due.Equal(t0.Add(100 * time.Second)) {
			t.Fatalf("next due %v, want phase kept at +100s", due)
		}
		if got := claim(t0.Add(100*time.Second), 10); !slices.Equal(got, []string{"a"}) {
			t.Fatalf("claimed %v", got)
		}
		if got := claim(t0.Add(2*time.Minute+time.Millisecond), 10); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("claimed %v", got)
		}

		// The limit takes the earliest due.
		for i := range 5 {
			c.Advance(time.Second)
			newProbe(t, s, probeIn("checkout", fmt.Sprintf("n%d", i), "https://n.example"))
		}
		if got := claim(c.Now(), 2); !slices.Equal(got, []string{"n0", "n1"}) {
			t.Fatalf("claimed %v", got)
		}

		// Disabled probes are never due.
		for _, p := range must(s.ListProbes(ctx, firebreak.ProbeFilter{})) {
			if p.Name != "off" {
				must(0, s.DeleteProbe(ctx, p.ID))
			}
		}
		if due := must(s.NextProbeDue(ctx)); !due.IsZero() {
			t.Fatalf("next due %v with only a disabled probe", due)
		}
		if got := claim(t0.Add(time.Hour), 10); len(got) != 0 {
			t.Fatalf("claimed disabled %v", got)
		}
	})
}

// Two runners (replicas, on PostgreSQL two stores on one database) claiming at once never get the same probe.
func TestClaimDueProbesConcurrent(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			defer recoverMust(t)
			o := sqltest.Options(t, d)
			s1 := openStore(t, o)
			s2 := s1
			if d == "postgres" {
				s2 = openStore(t, o)
			}
			ctx := context.Background()
			service(t, s1, "checkout", "payments")
			const n = 300
			for i := range n {
				in := probeIn("checkout", fmt.Sprintf("p%03d", i), "https://x.example")
				in.Interval = firebreak.Duration(time.Hour)
				newProbe(t, s1, in)
			}
			at := time.Now().Add(time.Minute)
			var mu sync.Mutex
			seen := map[string]int{}
			var wg sync.WaitGroup
			for w := range 4 {
				s := s1
				if w%2 == 1 {
					s = s2
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						ps, err := s.ClaimDueProbes(ctx, at, 7)
						if err != nil {
							t.Error(err)
							return
						}
						if len(ps) == 0 {
							return
						}
						mu.Lock()
						for _, p := range ps {
							seen[p.ID]++
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if len(seen) != n {
				t.Fatalf("%d probes claimed, want %d", len(seen), n)
			}
			for id, k := range seen {
				if k != 1 {
					t.Fatalf("probe %s claimed %d times", id, k)
				}
			}
		})
	}
}

func TestProbeThresholdsRaiseAndResolveAlerts(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		in := probeIn("checkout", "api health", "https://api.example/health")
		in.Interval = firebreak.Duration(10 * time.Second)
		p := newProbe(t, s, in)
		step := func() time.Time { c.Advance(10 * time.Second); return c.Now() }

		// Two failures: counted, no alert yet.
		record(t, s, fail(p.ID, step()))
		record(t, s, fail(p.ID, step()))
		if st := probeStatus(t, s, p.ID).Probe; st.State != firebreak.ProbeUnknown || st.ConsecutiveFailures != 2 ||
			st.ConsecutiveSuccesses != 0 || st.LastResult == nil || st.LastResult.StatusCode != 503 {
			t.Fatalf("after 2 failures %+v", st)
		}
		if a := probeAlerts(t, s, "checkout"); len(a) != 0 {
			t.Fatalf("alerts after 2 failures: %+v", a)
		}
		// The third raises exactly one alert, routed like any other: critical → a SEV2 incident.
		third := step()
		record(t, s, fail(p.ID, third))
		if st := probeStatus(t, s, p.ID).Probe; st.State != firebreak.ProbeDown || st.ConsecutiveFailures != 3 {
			t.Fatalf("after 3 failures %+v", st)
		}
		alerts := probeAlerts(t, s, "checkout")
		if len(alerts) != 1 {
			t.Fatalf("%d alerts", len(alerts))
		}
		a := alerts[0]
		if a.Source != firebreak.IntegrationProbe || a.Status != firebreak.AlertFiring || a.DedupKey != "probe:"+p.ID ||
			a.Summary != "api health is down: [STATUS] (503) == 200" || a.Severity != firebreak.AlertCritical ||
			a.Labels["probe"] != "api health" || a.Labels["service"] != "checkout" || a.Labels["alertname"] != "api health" ||
			len(a.Links) != 1 || a.Links[0].Href != in.URL || !a.FirstSeenAt.Equal(third) || a.IncidentID == "" {
			t.Fatalf("alert %+v", a)
		}
		incs := openIncidents(t, s)
		if len(incs) != 1 || incs[0].ID != a.IncidentID || incs[0].Severity != firebreak.SEV2 ||
			incs[0].CreatedBy != "probe" || !slices.Equal(incs[0].Services, []string{"checkout"}) {
			t.Fatalf("incidents %+v", incs)
		}
		if n := countKind(timeline(t, s, a.IncidentID), firebreak.EventAlertAttached); n != 1 {
			t.Fatalf("%d alert_attached events", n)
		}
		// The hidden integration is neither listed nor usable by users.
		if gs := must(s.ListIntegrations(ctx, "checkout")); len(gs) != 0 {
			t.Fatalf("integrations listed: %+v", gs)
		}
		if gs := must(s.ListIntegrations(ctx, "")); len(gs) != 0 {
			t.Fatalf("integrations listed: %+v", gs)
		}
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM integrations WHERE kind = 'probe'`)); n != 1 {
			t.Fatalf("%d probe integrations", n)
		}

		// A fourth failure raises nothing new; one success is not enough.
		record(t, s, fail(p.ID, step()))
		record(t, s, okRun(p.ID, step()))
		alerts = probeAlerts(t, s, "checkout")
		if len(alerts) != 1 || alerts[0].Status != firebreak.AlertFiring || alerts[0].Occurrences != 1 {
			t.Fatalf("alerts %+v", alerts)
		}
		if st := probeStatus(t, s, p.ID).Probe; st.State != firebreak.ProbeDown || st.ConsecutiveSuccesses != 1 ||
			st.ConsecutiveFailures != 0 {
			t.Fatalf("after 1 success %+v", st)
		}
		// The second success resolves it and the incident's timeline says so.
		record(t, s, okRun(p.ID, step()))
		alerts = probeAlerts(t, s, "checkout")
		if len(alerts) != 1 || alerts[0].Status != firebreak.AlertResolved || alerts[0].ResolvedAt == nil {
			t.Fatalf("alerts after recovery %+v", alerts)
		}
		if st := probeStatus(t, s, p.ID).Probe; st.State != firebreak.ProbeUp || st.ConsecutiveSuccesses != 2 {
			t.Fatalf("after 2 successes %+v", st)
		}
		tl := timeline(t, s, a.IncidentID)
		if countKind(tl, firebreak.EventAlertsResolved) != 1 || tl[len(tl)-1].Message != "All 1 alert resolved" {
			t.Fatalf("timeline %v", kinds(tl))
		}
		if n := len(openIncidents(t, s)); n != 1 {
			t.Fatalf("%d incidents", n)
		}

		// One delivery may carry several results of a probe, in any order: they apply in time order.
		// Here: fail, fail, fail (down), ok, ok (up) → one re-fire and one resolve.
		base := step()
		record(t, s, okRun(p.ID, base.Add(4*time.Second)), fail(p.ID, base), okRun(p.ID, base.Add(3*time.Second)),
			fail(p.ID, base.Add(2*time.Second)), fail(p.ID, base.Add(time.Second)))
		st := probeStatus(t, s, p.ID)
		if st.Probe.State != firebreak.ProbeUp || st.Probe.LastResult == nil || !st.Probe.LastResult.Success ||
			!st.Probe.LastResult.At.Equal(base.Add(4*time.Second)) || !st.Recent[0].At.Equal(base.Add(4*time.Second)) {
			t.Fatalf("after a mixed batch %+v", st.Probe)
		}
		alerts = probeAlerts(t, s, "checkout")
		if len(alerts) != 1 || alerts[0].Status != firebreak.AlertResolved || alerts[0].Occurrences != 2 {
			t.Fatalf("alerts after a mixed batch %+v", alerts)
		}

		// Results of probes that do not exist are dropped; unknown → up takes SuccessThreshold successes.
		q := newProbe(t, s, probeIn("checkout", "fresh", "https://fresh.example"))
		record(t, s, okRun(q.ID, step()), okRun("00000000-0000-7000-8000-000000000000", c.Now()))
		if st := probeStatus(t, s, q.ID).Probe; st.State != firebreak.ProbeUnknown {
			t.Fatalf("after 1 success %+v", st)
		}
		record(t, s, okRun(q.ID, step()))
		if st := probeStatus(t, s, q.ID).Probe; st.State != firebreak.ProbeUp {
			t.Fatalf("after 2 successes %+v", st)
		}
		if a := probeAlerts(t, s, "checkout"); len(a) != 1 {
			t.Fatalf("%d alerts", len(a))
		}
	})
}

func TestProbeRecentResultsRing(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		p := newProbe(t, s, probeIn("checkout", "api", "https://api.example"))
		other := newProbe(t, s, probeIn("checkout", "other", "https://other.example"))
		var all []firebreak.ProbeRun
		for i := range 250 {
			r := okRun(p.ID, t0.Add(time.Duration(i)*time.Second))
			r.Result.LatencyMS = float64(i)
			if i%7 == 0 {
				r = fail(p.ID, r.Result.At)
				r.Result.Error = fmt.Sprintf("timeout %d", i)
			}
			all = append(all, r)
		}
		// Batches of 120 (more than the ring holds), 80 and 50.
		record(t, s, append(all[:120:120], okRun(other.ID, t0))...)
		record(t, s, all[120:200]...)
		record(t, s, all[200:]...)
		st := probeStatus(t, s, p.ID)
		if len(st.Recent) != firebreak.ProbeRecentResults {
			t.Fatalf("%d recent results", len(st.Recent))
		}
		for i, r := range st.Recent {
			want := all[len(all)-1-i].Result
			if !r.At.Equal(want.At) || r.Success != want.Success || r.LatencyMS != want.LatencyMS ||
				r.Error != want.Error || r.StatusCode != want.StatusCode ||
				!slices.Equal(r.FailedConditions, want.FailedConditions) {
				t.Fatalf("recent[%d] = %+v, want %+v", i, r, want)
			}
		}
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM probe_results`)); n != 101 {
			t.Fatalf("%d result rows stored, want 100 + 1", n)
		}
		if o := probeStatus(t, s, other.ID); len(o.Recent) != 1 {
			t.Fatalf("other probe has %d results", len(o.Recent))
		}
		// A certificate expiry survives the round trip.
		exp := t0.Add(30 * 24 * time.Hour)
		r := okRun(p.ID, t0.Add(time.Hour))
		r.Result.CertExpiresAt = &exp
		record(t, s, r)
		if got := probeStatus(t, s, p.ID).Recent[0]; got.CertExpiresAt == nil || !got.CertExpiresAt.Equal(exp) {
			t.Fatalf("cert expiry %v", got.CertExpiresAt)
		}
		// What a target answers may be anything: it is stored as bounded, valid text (PostgreSQL too).
		r = fail(p.ID, t0.Add(2*time.Hour))
		r.Result.Error = "bad\x00byte \xff" + strings.Repeat("é", 3000)
		r.Result.FailedConditions = []string{"[BODY] (\x00) == ok"}
		record(t, s, r)
		got := probeStatus(t, s, p.ID).Recent[0]
		if !strings.HasPrefix(got.Error, "bad\uFFFDbyte \uFFFDéé") || len(got.Error) > 1024 || !utf8.ValidString(got.Error) ||
			strings.Contains(got.FailedConditions[0], "\x00") {
			t.Fatalf("stored error %q, conditions %q", got.Error, got.FailedConditions)
		}
	})
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > want*0.1 {
		if got == nil {
			t.Fatalf("%s = nil, want ~%v", what, want)
		}
		t.Fatalf("%s = %v, want %v ± 10%%", what, *got, want)
	}
}

func TestProbeWindowStats(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		p := newProbe(t, s, probeIn("checkout", "api", "https://api.example"))
		run := func(at time.Time, ok bool, ms float64) firebreak.ProbeRun {
			r := firebreak.ProbeRun{ProbeID: p.ID, Result: firebreak.ProbeResult{At: at, Success: ok, LatencyMS: ms}}
			return r
		}
		// Within the last 24 h: 90 successes at 10…99 ms (in two deliveries of one hour) and 10 failures at 500 ms.
		var recent []firebreak.ProbeRun
		for i := range 90 {
			recent = append(recent, run(t0.Add(-2*time.Hour+time.Duration(i)*time.Second), true, float64(10+i)))
		}
		record(t, s, recent[:40]...)
		record(t, s, recent[40:]...)
		var fails []firebreak.ProbeRun
		for i := range 10 {
			fails = append(fails, run(t0.Add(-20*time.Hour+time.Duration(i)*time.Minute), false, 500))
		}
		record(t, s, fails...)
		// Three days ago: 100 failures at 2 s. Nine days ago: 50 more, outside both windows.
		var old, older []firebreak.ProbeRun
		for i := range 100 {
			old = append(old, run(t0.Add(-72*time.Hour+time.Duration(i)*time.Second), false, 2000))
		}
		for i := range 50 {
			older = append(older, run(t0.Add(-9*24*time.Hour+time.Duration(i)*time.Second), true, 1))
		}
		record(t, s, old...)
		record(t, s, older...)

		w := probeStatus(t, s, p.ID).Windows
		d, wk := w[0], w[1]
		if d.Window != "24h" || d.Checks != 100 || d.Successes != 90 || d.UptimePercent == nil || *d.UptimePercent != 90 {
			t.Fatalf("24h %+v", d)
		}
		near(t, "24h p50", d.P50MS, 59)
		near(t, "24h p90", d.P90MS, 99)
		near(t, "24h p99", d.P99MS, 500)
		if wk.Window != "7d" || wk.Checks != 200 || wk.Successes != 90 || wk.UptimePercent == nil || *wk.UptimePercent != 45 {
			t.Fatalf("7d %+v", wk)
		}
		near(t, "7d p50", wk.P50MS, 500)
		near(t, "7d p90", wk.P90MS, 2000)
		near(t, "7d p99", wk.P99MS, 2000)

		// A day later the 24-hour window has only the failures... of nothing: all of it is older than 24 h.
		c.Advance(24 * time.Hour)
		w = probeStatus(t, s, p.ID).Windows
		if w[0].Checks != 0 || w[0].UptimePercent != nil || w[0].P50MS != nil || w[1].Checks != 200 {
			t.Fatalf("a day later %+v", w)
		}

		// Prune removes rollups older than 8 days, and only those.
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM probe_rollups`)); n != 4 {
			t.Fatalf("%d rollups before prune", n)
		}
		if _, _, err := s.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM probe_rollups`)); n != 3 {
			t.Fatalf("%d rollups after prune, want 3", n)
		}
		if w := probeStatus(t, s, p.ID).Windows; w[1].Checks != 200 {
			t.Fatalf("7d after prune %+v", w[1])
		}
	})
}

func TestDeleteProbeResolvesItsAlert(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		p := newProbe(t, s, probeIn("checkout", "api", "https://api.example"))
		q := newProbe(t, s, probeIn("checkout", "db", "tcp://db:5432"))
		for range 3 {
			c.Advance(time.Minute)
			record(t, s, fail(p.ID, c.Now()), fail(q.ID, c.Now()))
		}
		alerts := probeAlerts(t, s, "checkout")
		if len(alerts) != 2 || alerts[0].Status != firebreak.AlertFiring || alerts[1].Status != firebreak.AlertFiring {
			t.Fatalf("alerts %+v", alerts)
		}
		inc := alerts[0].IncidentID

		c.Advance(time.Minute)
		if err := s.DeleteProbe(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		byKey := func() map[string]firebreak.Alert {
			m := map[string]firebreak.Alert{}
			for _, a := range probeAlerts(t, s, "checkout") {
				m[a.DedupKey] = a
			}
			return m
		}
		m := byKey()
		if a := m["probe:"+p.ID]; a.Status != firebreak.AlertResolved || a.ResolvedAt == nil || !a.ResolvedAt.Equal(c.Now()) {
			t.Fatalf("deleted probe's alert %+v", a)
		}
		if m["probe:"+q.ID].Status != firebreak.AlertFiring {
			t.Fatal("the other probe's alert resolved too")
		}
		for _, table := range []string{"probe_results", "probe_rollups"} {
			if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM `+table+` WHERE probe_id = ?`, p.ID)); n != 0 {
				t.Fatalf("%d %s rows left", n, table)
			}
		}
		// Late results of the deleted probe are dropped.
		record(t, s, fail(p.ID, c.Now()))
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM probe_results WHERE probe_id = ?`, p.ID)); n != 0 {
			t.Fatalf("%d results of a deleted probe", n)
		}

		// Disabling a probe that is down resolves its alert too; the incident then has all alerts resolved.
		off := probeIn("checkout", "db", "tcp://db:5432")
		no := false
		off.Enabled = &no
		got := must(s.UpdateProbe(ctx, q.ID, off))
		if got.State != firebreak.ProbeUnknown || got.ConsecutiveFailures != 0 || got.Enabled {
			t.Fatalf("disabled %+v", got)
		}
		if a := byKey()["probe:"+q.ID]; a.Status != firebreak.AlertResolved {
			t.Fatalf("disabled probe's alert %+v", a)
		}
		if n := countKind(timeline(t, s, inc), firebreak.EventAlertsResolved); n != 1 {
			t.Fatalf("%d alerts_resolved events", n)
		}
		// A probe that is not down deletes without any alert.
		if err := s.DeleteProbe(ctx, q.ID); err != nil {
			t.Fatal(err)
		}
		if n := len(probeAlerts(t, s, "checkout")); n != 2 {
			t.Fatalf("%d alerts", n)
		}
	})
}

// Probes created together from a configuration file are spread over their first interval, so that thousands of
// them do not all run in the same instant every interval; a probe created alone is due at once.
func TestApplyProbesSpreadsFirstRuns(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		var file []firebreak.ProbeInput
		for i := range 40 {
			in := probeIn("checkout", fmt.Sprintf("p%d", i), fmt.Sprintf("https://p%d.example", i))
			in.Interval = firebreak.Duration(10 * time.Second)
			file = append(file, in)
		}
		must(s.ApplyProbes(ctx, file))
		now := c.Now()
		dueNow := must(s.ClaimDueProbes(ctx, now, 100))
		if len(dueNow) > 10 {
			t.Fatalf("%d of 40 probes due the instant they were created, want them spread over 10s", len(dueNow))
		}
		later := must(s.ClaimDueProbes(ctx, now.Add(5*time.Second), 100))
		if len(later) == 0 || len(later) == 40-len(dueNow) {
			t.Fatalf("%d probes due in the first half of the interval (after %d at once): not spread", len(later),
				len(dueNow))
		}
		// A first run is at most one interval after creation (an offset below it, which PostgreSQL may round up to
		// the microsecond: claiming at 10 s - 1 ms missed one in about 250 runs).
		rest := must(s.ClaimDueProbes(ctx, now.Add(10*time.Second), 100))
		if got := len(dueNow) + len(later) + len(rest); got != 40 {
			t.Fatalf("%d probes ran in their first interval, want all 40", got)
		}
		single := newProbe(t, s, probeIn("checkout", "alone", "https://alone.example"))
		if got := must(s.ClaimDueProbes(ctx, c.Now(), 100)); len(got) != 1 || got[0].ID != single.ID {
			t.Fatalf("a probe created alone is not due at once: %v", ids(got))
		}
	})
}
