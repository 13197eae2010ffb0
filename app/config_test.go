package app_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "firebreak.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigFileSeverityPolicy(t *testing.T) {
	c := app.Config{Addr: "127.0.0.1:0", DataDir: "x", Severities: firebreak.DefaultSeverityPolicies()}
	err := c.LoadFile(writeFile(t, `
addr: 127.0.0.1:9999
severities:
  - {severity: SEV1, name: Critical, description: Everything is down, response_target: 2m, escalation_path: On-call → IC → CTO}
  - {severity: SEV2, name: High, description: Partial outage, response_target: 10m, escalation_path: On-call → IC}
  - {severity: SEV3, name: Low, description: Degraded, response_target: 1h, escalation_path: On-call}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" || c.Severities[0].ResponseTarget != 2*time.Minute ||
		c.Severities[2].ResponseTarget != time.Hour || c.Severities[0].Description != "Everything is down" {
		t.Fatalf("config = %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigFileRefusesUnknownKeysAndBadPolicies(t *testing.T) {
	for name, body := range map[string]string{
		"unknown key":      "adress: 1.2.3.4:80\n",
		"missing SEV3":     "severities:\n  - {severity: SEV1, response_target: 5m}\n  - {severity: SEV2, response_target: 5m}\n",
		"zero target":      "severities:\n  - {severity: SEV1}\n  - {severity: SEV2, response_target: 5m}\n  - {severity: SEV3, response_target: 5m}\n",
		"not a duration":   "shutdown_timeout: soon\n",
		"unknown severity": "severities:\n  - {severity: SEV0, response_target: 1m}\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := app.Defaults()
			if err := c.LoadFile(writeFile(t, body)); err == nil {
				t.Fatalf("accepted %q", body)
			}
		})
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := app.Config{Addr: "nope", AdminToken: "short", PublicURL: "ftp://x"}
	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"addr", "data dir", "admin token", "public URL", "SEV1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
}

// The claim leases of the escalation and notification engines are settable in the file: positive durations, the
// notification lease longer than one delivery attempt; a bad value is refused naming its key.
func TestConfigFileLeases(t *testing.T) {
	c := app.BuiltinDefaults()
	if err := c.LoadFile(writeFile(t, `
escalation:
  lease: 45s
notifications:
  attempt_timeout: 20s
  lease: 3m
`)); err != nil {
		t.Fatal(err)
	}
	if c.EscalationLease != 45*time.Second || c.Notifications.Lease != 3*time.Minute ||
		c.Notifications.AttemptTimeout != 20*time.Second {
		t.Fatalf("leases %v %v", c.EscalationLease, c.Notifications.Lease)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	// Unset, they keep their defaults (zero: the engines' 30 s and 2 min).
	d := app.BuiltinDefaults()
	if err := d.LoadFile(writeFile(t, "escalation: {stale_status: {after: 20m}}\n")); err != nil {
		t.Fatal(err)
	}
	if d.EscalationLease != 0 || d.Notifications.Lease != 0 {
		t.Fatalf("defaults changed: %v %v", d.EscalationLease, d.Notifications.Lease)
	}
	for body, want := range map[string]string{
		"escalation: {lease: 0s}\n":                           "escalation.lease must be a positive duration",
		"escalation: {lease: -5s}\n":                          "escalation.lease must be a positive duration",
		"escalation: {lease: soon}\n":                         "soon",
		"notifications: {lease: 0s}\n":                        "notifications.lease must be a positive duration",
		"notifications: {lease: -1m}\n":                       "notifications.lease must be a positive duration",
		"notifications: {lease: 5s}\n":                        "notifications.lease (5s) must be longer than notifications.attempt_timeout (10s)",
		"notifications: {attempt_timeout: 30s, lease: 30s}\n": "notifications.lease (30s) must be longer than notifications.attempt_timeout (30s)",
		"notifications: {attempt_timeout: 5m}\n":              "notifications.lease (2m0s, the default) must be longer than notifications.attempt_timeout (5m0s)",
		"notifications: {leese: 1m}\n":                        "leese",
	} {
		c := app.BuiltinDefaults()
		if err := c.LoadFile(writeFile(t, body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one saying %q", body, err, want)
		}
	}
	// Set in code, Validate says the same.
	bad := app.BuiltinDefaults()
	bad.EscalationLease = -time.Second
	bad.Notifications.Lease = time.Second
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "escalation.lease") || !strings.Contains(err.Error(), "notifications.lease (1s)") {
		t.Fatalf("Validate: %v", err)
	}
}
