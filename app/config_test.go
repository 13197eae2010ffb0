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
