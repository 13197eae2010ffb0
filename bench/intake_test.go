package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/intake"
)

// The bench's Alertmanager body has Alertmanager's fields in Alertmanager's order and encoding: the sample
// payload decoded into it encodes back to the same bytes.
func TestAlertmanagerBodyMatchesSample(t *testing.T) {
	sample, err := os.ReadFile("../intake/testdata/alertmanager-v4-firing.json")
	if err != nil {
		t.Fatal(err)
	}
	var w amWebhook
	dec := json.NewDecoder(bytes.NewReader(sample))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.TrimSpace(sample); !bytes.Equal(got, want) {
		t.Fatalf("re-encoded sample differs:\n%s\nwant:\n%s", got, want)
	}
}

func TestAlertmanagerGroups(t *testing.T) {
	a, err := json.Marshal(amGroup("run1", 7, 100, "critical", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(amGroup("run1", 7, 100, "critical", time.Time{}))
	if !bytes.Equal(a, again) {
		t.Fatal("the same group is not the same bytes twice (redeliveries would change alerts)")
	}
	evs, err := intake.ParseAlertmanagerV4(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 100 {
		t.Fatalf("%d events, want 100", len(evs))
	}
	keys := map[string]bool{}
	for _, e := range evs {
		if e.Action != intake.ActionTrigger || e.Severity != "critical" || keys[e.DedupKey] {
			t.Fatalf("event %+v: want a critical trigger with a dedup key of its own", e)
		}
		if e.DedupKey != intake.LabelsFingerprint(e.Labels) {
			t.Fatalf("fingerprint %s is not the label hash", e.DedupKey)
		}
		keys[e.DedupKey] = true
	}
	b, _ := json.Marshal(amGroup("run1", 8, 100, "critical", time.Time{}))
	other, err := intake.ParseAlertmanagerV4(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range other {
		if keys[e.DedupKey] {
			t.Fatalf("groups 7 and 8 share the alert %s", e.DedupKey)
		}
	}
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC)
	c, _ := json.Marshal(amGroup("run1", 9, 1, "critical", at))
	one, err := intake.ParseAlertmanagerV4(c)
	if err != nil || len(one) != 1 || !one[0].StartsAt.Equal(at) {
		t.Fatalf("startsAt: %v %+v", err, one)
	}
}

func TestPagerDutyTrigger(t *testing.T) {
	key := strings.Repeat("ab", 16)
	body, err := json.Marshal(pdTrigger(key, "run1", 42, "critical"))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := intake.ParsePagerDutyV2(body)
	if err != nil {
		t.Fatal(err)
	}
	if ev.RoutingKey != key || ev.DedupKey != "bench-run1-42" || ev.Action != intake.ActionTrigger ||
		ev.Severity != "critical" || ev.Summary == "" {
		t.Fatalf("parsed %+v", ev)
	}
	other, _ := json.Marshal(pdTrigger(key, "run1", 43, "critical"))
	if ev2, _ := intake.ParsePagerDutyV2(other); ev2.DedupKey == ev.DedupKey {
		t.Fatal("two events share a dedup key")
	}
}

func TestStatusKB(t *testing.T) {
	status := []byte("Name:\tfirebreak\nVmPeak:\t  200000 kB\nVmRSS:\t   51234 kB\nThreads:\t9\n")
	if n, err := statusKB(status, "VmRSS"); err != nil || n != 51234*1024 {
		t.Fatalf("VmRSS = %d, %v", n, err)
	}
	if _, err := statusKB(status, "VmSwap"); err == nil {
		t.Fatal("a missing line was read")
	}
	if n, _, err := SelfRSS(); err == nil && n <= 0 {
		t.Fatalf("SelfRSS = %d", n)
	}
}

// TestIntakeScenarios runs every intake scenario briefly against an in-process SQLite server and checks, through
// the API, that every alert answered 2xx is stored exactly once and that redeliveries stored nothing new.
func TestIntakeScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := StartLocal(ctx, "sqlite", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Stop()
	const per, groups, rssAlerts = 10, 6, 300
	o := Options{BaseURL: l.URL, Token: l.Token, Clients: 4, Duration: 300 * time.Millisecond,
		Scenario: ScenarioIntake, Intake: IntakeOptions{AlertsPerRequest: per, Integrations: 2,
			RedeliverGroups: groups, RSSAlerts: rssAlerts, RSS: SelfRSS}}
	results, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Result{}
	for _, r := range results {
		if r.Errors > 0 || r.Requests == 0 {
			t.Fatalf("%s: %d requests, %d errors (%s)", r.Name, r.Requests, r.Errors, r.FirstError)
		}
		byName[strings.Fields(r.Name)[0]] = r
	}
	for _, name := range []string{"pagerduty,", "alertmanager,", "redeliver,", "alert-to-incident", "alerts-rss"} {
		if _, ok := byName[name]; !ok {
			t.Fatalf("no %q phase in %+v", name, results)
		}
	}
	pd, am, rd, a2i, rss := byName["pagerduty,"], byName["alertmanager,"], byName["redeliver,"],
		byName["alert-to-incident"], byName["alerts-rss"]
	if pd.Alerts != pd.Requests || am.Alerts != per*am.Requests || rd.Alerts != per*rd.Requests ||
		a2i.Alerts != a2i.Requests || rss.Alerts != rssAlerts {
		t.Fatalf("alert counts: %+v", results)
	}
	if rss.RSSBytes <= 0 || !strings.Contains(rss.Note, "RSS") {
		t.Fatalf("alerts-rss: %+v", rss)
	}
	if !strings.Contains(a2i.Note, "each with its own incident") {
		t.Fatalf("alert-to-incident note: %q", a2i.Note)
	}
	// Every answered alert is stored once; the redeliveries added none (no warm-up ran).
	want := pd.Alerts + am.Alerts + groups*per + a2i.Alerts + rss.Alerts
	api := client.New(l.URL, l.Token)
	got := 0
	for cursor := ""; ; {
		page, err := api.ListAlerts(ctx, firebreak.AlertFilter{Limit: firebreak.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		got += len(page.Items)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if got != want {
		t.Fatalf("%d alerts stored, want %d", got, want)
	}
	var buf bytes.Buffer
	Print(&buf, results)
	if !strings.Contains(buf.String(), "alerts/s") {
		t.Fatalf("Print shows no alert throughput:\n%s", buf.String())
	}
}

func TestUnknownIntakeSeverity(t *testing.T) {
	r := &runner{o: Options{Scenario: ScenarioPagerDuty, Intake: IntakeOptions{Severity: "fatal"}}}
	if _, err := r.runIntake(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "fatal") {
		t.Fatalf("severity fatal: %v", err)
	}
}
