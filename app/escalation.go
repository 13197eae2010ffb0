package app

import (
	"context"
	"fmt"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/engine"
	"github.com/firebreak/firebreak/sqlstore"
)

// fileEscalation is the escalation: section of the config file: the severity escalation criteria of the runbook
// and whom they page. Every key is optional; what is left out keeps its default
// (firebreak.DefaultEscalationCriteria).
//
//	escalation:
//	  commander: [schedule:incident-commanders]   # paged when a watched incident is not acknowledged in time
//	  leadership: [user:cto, user:vp-eng]          # paged when it still is not; told by the others without a commander
//	  unacknowledged: {severities: [SEV1, SEV2], leadership_after: 10m}
//	  stale_status: {after: 30m}
//	  mitigation_stalled: {after: 15m}
//	  long_running: {after: 1h, severities: [SEV1]}
//	  # any criterion: enabled: false turns it off
//	  lease: 30s   # a replica's claim on a due step or criterion (Config.EscalationLease)
type fileEscalation struct {
	Lease             *time.Duration `yaml:"lease"`
	Commander         []string       `yaml:"commander"`
	Leadership        []string       `yaml:"leadership"`
	Unacknowledged    fileUnacked    `yaml:"unacknowledged"`
	StaleStatus       fileCriterion  `yaml:"stale_status"`
	MitigationStalled fileCriterion  `yaml:"mitigation_stalled"`
	LongRunning       fileCriterion  `yaml:"long_running"`
}

type fileCriterion struct {
	Enabled    *bool                 `yaml:"enabled"`
	After      *time.Duration        `yaml:"after"`
	Severities *[]firebreak.Severity `yaml:"severities"`
}

type fileUnacked struct {
	Enabled    *bool                 `yaml:"enabled"`
	Severities *[]firebreak.Severity `yaml:"severities"`
	// LeadershipAfter is the wait between paging the commander and paging leadership (default: the response
	// target again).
	LeadershipAfter *time.Duration `yaml:"leadership_after"`
}

func (f fileCriterion) apply(c *firebreak.EscalationCriterion) {
	if f.Enabled != nil {
		c.Enabled = *f.Enabled
	}
	if f.After != nil {
		c.After = *f.After
	}
	if f.Severities != nil {
		c.Severities = *f.Severities
	}
}

func parseTargets(key string, refs []string) ([]firebreak.EscalationTarget, error) {
	out := make([]firebreak.EscalationTarget, 0, len(refs))
	for _, r := range refs {
		t, err := firebreak.ParseEscalationTarget(r)
		if err != nil {
			return nil, fmt.Errorf("escalation.%s: %w", key, err)
		}
		out = append(out, t)
	}
	return out, nil
}

// apply overlays the file's escalation section on c.Escalation (the defaults when unset).
func (f fileEscalation) apply(c *Config) error {
	if f.Lease != nil {
		if *f.Lease <= 0 {
			return fmt.Errorf("escalation.lease must be a positive duration (e.g. 30s), not %s", *f.Lease)
		}
		c.EscalationLease = *f.Lease
	}
	e := c.escalationCriteria()
	var err error
	if f.Commander != nil {
		if e.Commander, err = parseTargets("commander", f.Commander); err != nil {
			return err
		}
	}
	if f.Leadership != nil {
		if e.Leadership, err = parseTargets("leadership", f.Leadership); err != nil {
			return err
		}
	}
	fileCriterion{Enabled: f.Unacknowledged.Enabled, After: f.Unacknowledged.LeadershipAfter,
		Severities: f.Unacknowledged.Severities}.apply(&e.Unacknowledged)
	f.StaleStatus.apply(&e.StaleStatus)
	f.MitigationStalled.apply(&e.MitigationStalled)
	f.LongRunning.apply(&e.LongRunning)
	if err := e.Validate(); err != nil {
		return err
	}
	c.Escalation = &e
	return nil
}

// escalationCriteria is the configured criteria, or the defaults.
func (c *Config) escalationCriteria() firebreak.EscalationCriteria {
	if c.Escalation != nil {
		return *c.Escalation
	}
	return firebreak.DefaultEscalationCriteria()
}

// runEscalations fires escalation steps and criteria until ctx ends. It is an engine of its own, so that paging
// never waits for the outbox's handlers (a slow receiver holds one for up to its attempt timeout).
func (a *App) runEscalations(ctx context.Context) {
	wake, stop := a.Store.Subscribe(sqlstore.JobsTopic)
	defer stop()
	esc := &engine.Escalations{Store: a.Store, Logger: a.Logger, Clock: a.engineClock(),
		Lease: a.Config.EscalationLease}
	engine.New(engine.Options{Clock: esc.Clock, Wake: wake, Logger: a.Logger}, esc.Queues()...).Run(ctx)
}
