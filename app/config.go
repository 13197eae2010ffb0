package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/firebreak/firebreak"
)

// FileConfig is the YAML configuration file (--config). Every key is optional; unknown keys are errors.
//
//	addr: 0.0.0.0:8080
//	data_dir: /var/lib/firebreak
//	database_url: postgres://firebreak@db/firebreak
//	public_url: https://firebreak.example.com
//	shutdown_timeout: 30s
//	severities:
//	  - severity: SEV1
//	    name: Critical
//	    description: Complete service outage affecting all users
//	    response_target: 5m
//	    escalation_path: On-call engineer → Incident Commander → CTO
//	probes:
//	  - service: payments
//	    name: health
//	    url: https://payments.example.com/healthz
//	    interval: 30s
//	    conditions: ["[STATUS] == 200", "[RESPONSE_TIME] < 500"]
type FileConfig struct {
	Addr            string                     `yaml:"addr"`
	DataDir         string                     `yaml:"data_dir"`
	DatabaseURL     string                     `yaml:"database_url"`
	PublicURL       string                     `yaml:"public_url"`
	ShutdownTimeout time.Duration              `yaml:"shutdown_timeout"`
	Severities      []firebreak.SeverityPolicy `yaml:"severities"`
	// Probes are health probes, created or replaced (matched by service and name) when the server starts.
	Probes []fileProbe `yaml:"probes"`
	// Notifications configures delivery: SMTP, the attempt timeout and update reminders (app/notifications.go).
	Notifications fileNotifications `yaml:"notifications"`
	// FollowThrough configures overdue and follow-up review reminders and the close policy (app/followthrough.go).
	FollowThrough fileFollowThrough `yaml:"follow_through"`
	// Escalation configures the severity escalation criteria and whom they page (app/escalation.go).
	Escalation fileEscalation `yaml:"escalation"`
}

// LoadFile reads a YAML configuration file into c. Values in the file override defaults; environment variables
// and flags are applied by the caller afterwards, so they override the file.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	var fc FileConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.Addr, fc.Addr)
	set(&c.DataDir, fc.DataDir)
	set(&c.DatabaseURL, fc.DatabaseURL)
	set(&c.PublicURL, fc.PublicURL)
	if fc.ShutdownTimeout > 0 {
		c.ShutdownTimeout = fc.ShutdownTimeout
	}
	if len(fc.Severities) > 0 {
		if err := firebreak.ValidateSeverityPolicies(fc.Severities); err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
		c.Severities = fc.Severities
	}
	if len(fc.Probes) > 0 {
		probes, err := probesFromFile(fc.Probes)
		if err != nil {
			return fmt.Errorf("config %s: %w", path, err)
		}
		c.Probes = probes
	}
	if err := fc.Notifications.apply(&c.Notifications); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := fc.FollowThrough.apply(&c.FollowThrough); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if err := fc.Escalation.apply(c); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	return nil
}
