package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

func TestProbeCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "payments", "--name", "Payment Gateway")

	// add: every flag reaches the probe; disabled so the test does not depend on the runner.
	var p firebreak.Probe
	s.jsonOut(t, &p, "probe", "add", "--service", "payments", "--name", "health",
		"--target", "https://127.0.0.1:9/healthz", "--interval", "30s", "--timeout", "5s",
		"--condition", "[STATUS] == 200", "--condition", "[RESPONSE_TIME] < 500", "--failure-threshold", "4",
		"--success-threshold", "3", "--severity", "warning", "--method", "POST", "--header", "X-Probe=firebreak",
		"--body", `{"ping":true}`, "--insecure", "--disabled")
	if p.ID == "" || p.Service != "payments" || p.URL != "https://127.0.0.1:9/healthz" ||
		time.Duration(p.Interval) != 30*time.Second || time.Duration(p.Timeout) != 5*time.Second ||
		len(p.Conditions) != 2 || p.FailureThreshold != 4 || p.SuccessThreshold != 3 ||
		p.Severity != firebreak.AlertWarning || p.Method != "POST" || p.Headers["X-Probe"] != "firebreak" ||
		p.Body != `{"ping":true}` || !p.InsecureSkipVerify || p.Enabled {
		t.Fatalf("probe add --json = %+v", p)
	}
	out := s.ok(t, "probe", "add", "--service", "payments", "--name", "port", "--target", "tcp://127.0.0.1:9",
		"--disabled")
	matches(t, out, `^Added probe [0-9a-f-]+: payments/port checks tcp://127.0.0.1:9 every 1m\n$`)

	// Refusals name the field.
	_, err := s.cli(t, "probe", "add", "--service", "payments", "--name", "x", "--target", "http://x",
		"--condition", "[STATUS] ==")
	if err == nil || !strings.Contains(err.Error(), "conditions[0]") {
		t.Fatalf("bad condition: %v", err)
	}
	if _, err := s.cli(t, "probe", "add", "--service", "payments", "--name", "x", "--target", "http://x",
		"--header", "nonsense"); err == nil || !strings.Contains(err.Error(), "Name=Value") {
		t.Fatalf("bad header: %v", err)
	}

	// list: table and JSON, filtered by service.
	out = s.ok(t, "probe", "list")
	contains(t, out, "ID", "SERVICE", "STATE", "health", "port", "unknown (disabled)", "https://127.0.0.1:9/healthz")
	var pg firebreak.Page[firebreak.Probe]
	s.jsonOut(t, &pg, "probe", "list", "--service", "payments")
	if len(pg.Items) != 2 || pg.Items[0].Name != "health" {
		t.Fatalf("probe list --json = %+v", pg)
	}
	s.ok(t, "service", "add", "--slug", "search")
	if out := s.ok(t, "probe", "list", "--service", "search"); !strings.Contains(out, "No probes") {
		t.Fatalf("empty list: %q", out)
	}

	// show: state, uptime and latency, recent results with the failed conditions.
	now := time.Now().UTC()
	if err := s.app.Store.RecordProbeResults(context.Background(), []firebreak.ProbeRun{
		{ProbeID: p.ID, Result: firebreak.ProbeResult{At: now.Add(-time.Second), Success: true, LatencyMS: 42, StatusCode: 200}},
		{ProbeID: p.ID, Result: firebreak.ProbeResult{At: now, LatencyMS: 1500, StatusCode: 503,
			FailedConditions: []string{"[STATUS] (503) == 200"}}},
	}); err != nil {
		t.Fatal(err)
	}
	out = s.ok(t, "probe", "show", p.ID)
	contains(t, out, "payments/health", "https://127.0.0.1:9/healthz", "[STATUS] == 200; [RESPONSE_TIME] < 500",
		"warning after 4 failures", "WINDOW", "UPTIME", "P50", "P90", "P99", "24h", "7d", "50.00%",
		"Recent results:", "fail", "1.50s", "503", "[STATUS] (503) == 200", "42ms")
	var st firebreak.ProbeStatus
	s.jsonOut(t, &st, "probe", "show", p.ID)
	if st.Probe.ID != p.ID || len(st.Recent) != 2 || len(st.Windows) != 2 {
		t.Fatalf("probe show --json = %+v", st)
	}

	// rm.
	if out := s.ok(t, "probe", "rm", p.ID); out != "Deleted probe "+p.ID+"\n" {
		t.Fatalf("rm printed %q", out)
	}
	if _, err := s.cli(t, "probe", "show", p.ID); err == nil {
		t.Fatal("show of a deleted probe succeeded")
	}
	if _, err := s.cli(t, "probe", "rm"); err == nil || !strings.Contains(err.Error(), "expected ID") {
		t.Fatalf("rm without an id: %v", err)
	}
}
