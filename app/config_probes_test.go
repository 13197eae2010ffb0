package app_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
)

// allProbeKeys is a probe in YAML with every key firebreak.ProbeInput has.
const allProbeKeys = `
probes:
  - name: health
    service: payments
    url: https://payments.example.com/healthz
    method: POST
    headers: {Authorization: Bearer x, X-Probe: firebreak}
    body: '{"ping":true}'
    interval: 30s
    timeout: 5s
    conditions:
      - "[STATUS] == 200"
      - "[BODY].status == ok"
    failure_threshold: 4
    success_threshold: 3
    severity: warning
    insecure_skip_verify: true
    enabled: false
  - service: payments
    name: port
    url: tcp://db.internal:5432
`

func TestConfigFileProbes(t *testing.T) {
	c := app.Config{Addr: "127.0.0.1:0", DataDir: "x"}
	if err := c.LoadFile(writeFile(t, allProbeKeys)); err != nil {
		t.Fatal(err)
	}
	if len(c.Probes) != 2 {
		t.Fatalf("%d probes", len(c.Probes))
	}
	p := c.Probes[0]
	want := firebreak.ProbeInput{Name: "health", Service: "payments", URL: "https://payments.example.com/healthz",
		Method: "POST", Headers: map[string]string{"Authorization": "Bearer x", "X-Probe": "firebreak"},
		Body: `{"ping":true}`, Interval: firebreak.Duration(30 * time.Second), Timeout: firebreak.Duration(5 * time.Second),
		Conditions: []string{"[STATUS] == 200", "[BODY].status == ok"}, FailureThreshold: 4, SuccessThreshold: 3,
		Severity: firebreak.AlertWarning, InsecureSkipVerify: true, Enabled: new(false)}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("probe from the file:\n got %+v\nwant %+v", p, want)
	}
	// Absent keys stay zero for the store to default; enabled absent is nil (true).
	if q := c.Probes[1]; q.Name != "port" || q.Interval != 0 || q.Enabled != nil || q.Method != "" {
		t.Fatalf("second probe %+v", q)
	}
	// The test's YAML names every key of ProbeInput, so a key added there and not readable from the file fails
	// here (the file refuses unknown keys, and DeepEqual compares every field).
	var keys []string
	for f := range reflect.TypeFor[firebreak.ProbeInput]().Fields() {
		keys = append(keys, strings.Split(f.Tag.Get("yaml"), ",")[0])
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.Contains(allProbeKeys, "\n    "+k+":") && !strings.Contains(allProbeKeys, "- "+k+":") {
			t.Errorf("the test YAML lacks ProbeInput key %q", k)
		}
	}
}

func TestConfigFileRefusesBadProbes(t *testing.T) {
	for name, c := range map[string]struct{ body, want string }{
		"unknown key":       {"probes:\n  - {service: a, name: b, url: 'http://x', every: 1m}\n", "every"},
		"no url":            {"probes:\n  - {service: a, name: b}\n", "probes[0] (a/b): url is required"},
		"bad interval":      {"probes:\n  - {service: a, name: b, url: 'http://x', interval: often}\n", "often"},
		"interval too long": {"probes:\n  - {service: a, name: b, url: 'http://x', interval: 48h}\n", "interval"},
		"bad condition":     {"probes:\n  - {service: a, name: b, url: 'http://x', conditions: ['[STATUS] =']}\n", "conditions[0]"},
		"second probe bad":  {"probes:\n  - {service: a, name: b, url: 'http://x'}\n  - {service: a, name: c, url: 'ftp://x'}\n", "probes[1] (a/c): url"},
		"same name twice":   {"probes:\n  - {service: a, name: b, url: 'http://x'}\n  - {service: a, name: b, url: 'http://y'}\n", "probes[0]"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := app.Defaults()
			err := cfg.LoadFile(writeFile(t, c.body))
			if err == nil {
				t.Fatalf("accepted %q", c.body)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not mention %q", err, c.want)
			}
			if len(cfg.Probes) != 0 {
				t.Fatalf("a refused file set probes: %+v", cfg.Probes)
			}
		})
	}
	// Several problems are reported together.
	cfg := app.Defaults()
	err := cfg.LoadFile(writeFile(t, "probes:\n  - {service: a, name: b}\n  - {service: a, name: c, url: 'http://x', severity: loud}\n"))
	if err == nil || !strings.Contains(err.Error(), "probes[0]") || !strings.Contains(err.Error(), "probes[1]") ||
		!slices.ContainsFunc(strings.Split(err.Error(), "\n"), func(l string) bool { return strings.Contains(l, "severity") }) {
		t.Fatalf("two bad probes: %v", err)
	}
}
