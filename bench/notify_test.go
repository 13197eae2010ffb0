package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestNotifyScenario runs notify-under-load briefly against an in-process SQLite server: every probe's incident
// reaches the receiver, both phases report, and the background load is sent and answered.
func TestNotifyScenario(t *testing.T) {
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
	o := Options{BaseURL: l.URL, Token: l.Token, Clients: 4, Duration: 600 * time.Millisecond,
		Scenario: ScenarioNotify, Notify: NotifyOptions{BackgroundRate: 100, ProbeRate: 20, ProbeServices: 2}}
	results, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Result{}
	for _, r := range results {
		if r.Errors > 0 || r.Requests == 0 {
			t.Fatalf("%s: %d requests, %d errors (%s)", r.Name, r.Requests, r.Errors, r.FirstError)
		}
		byName[r.Name] = r
	}
	for _, name := range []string{"idle: declare → webhook", "idle: alert → webhook", "100/s: declare → webhook",
		"100/s: alert → webhook", "100/s: background alerts"} {
		if _, ok := byName[name]; !ok {
			t.Fatalf("no %q phase in %+v", name, results)
		}
	}
	if d := byName["idle: declare → webhook"]; d.Requests < 5 || !strings.Contains(d.Note, "accepted → first notification") {
		t.Fatalf("idle declarations: %+v", d)
	}
	if bg := byName["100/s: background alerts"]; bg.Alerts < 30 {
		t.Fatalf("background: %+v", bg)
	}
	// Every probe incident paged twice and was exhausted, 1 s apart: two due steps each, read on its timeline.
	for _, name := range []string{"idle: escalation lateness", "100/s: escalation lateness"} {
		if e, ok := byName[name]; !ok || !strings.Contains(e.Note, "due steps") {
			t.Fatalf("%s: %+v", name, e)
		}
	}
}

// The pagerduty scenario's bodies, encoded without encoding/json, are exactly what encoding/json makes of them.
func TestPagerDutyBodies(t *testing.T) {
	key := strings.Repeat("0f", 16)
	for _, sev := range []string{"critical", "warning"} {
		b, err := newPDBodies(sev)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 1, 42, 499, 500, 123456789} {
			want, err := json.Marshal(pdTrigger(key, "a1b2c3d4", n, sev))
			if err != nil {
				t.Fatal(err)
			}
			if got := b.body(key, "a1b2c3d4", n); !bytes.Equal(got, want) {
				t.Fatalf("event %d (%s):\n%s\nwant\n%s", n, sev, got, want)
			}
		}
	}
}
