package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/probe"
)

// fileProbe is a probe in the configuration file: firebreak.ProbeInput with its durations read as YAML
// durations ("30s"). TestFileProbeMatchesProbeInput keeps the two in step.
type fileProbe struct {
	Name               string            `yaml:"name"`
	Service            string            `yaml:"service"`
	URL                string            `yaml:"url"`
	Method             string            `yaml:"method"`
	Headers            map[string]string `yaml:"headers"`
	Body               string            `yaml:"body"`
	Interval           time.Duration     `yaml:"interval"`
	Timeout            time.Duration     `yaml:"timeout"`
	Conditions         []string          `yaml:"conditions"`
	FailureThreshold   int               `yaml:"failure_threshold"`
	SuccessThreshold   int               `yaml:"success_threshold"`
	Severity           string            `yaml:"severity"`
	InsecureSkipVerify bool              `yaml:"insecure_skip_verify"`
	Enabled            *bool             `yaml:"enabled"`
}

func (p fileProbe) input() firebreak.ProbeInput {
	return firebreak.ProbeInput{Name: p.Name, Service: p.Service, URL: p.URL, Method: p.Method, Headers: p.Headers,
		Body: p.Body, Interval: firebreak.Duration(p.Interval), Timeout: firebreak.Duration(p.Timeout),
		Conditions: p.Conditions, FailureThreshold: p.FailureThreshold, SuccessThreshold: p.SuccessThreshold,
		Severity: firebreak.AlertSeverity(p.Severity), InsecureSkipVerify: p.InsecureSkipVerify, Enabled: p.Enabled}
}

// probesFromFile converts and validates the file's probes, so that a mistake is reported with the file rather
// than when the server starts. Whether each probe's service exists is checked when they are applied.
func probesFromFile(fps []fileProbe) ([]firebreak.ProbeInput, error) {
	out := make([]firebreak.ProbeInput, 0, len(fps))
	seen := map[[2]string]int{}
	var errs []error
	for i, fp := range fps {
		in := fp.input()
		check := in // Validate fills defaults; keep the file's values for the store to default
		check.Conditions = append([]string(nil), in.Conditions...)
		where := fmt.Sprintf("probes[%d]", i)
		if in.Service != "" || in.Name != "" {
			where += fmt.Sprintf(" (%s/%s)", in.Service, in.Name)
		}
		if _, err := check.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", where, probeErrorText(err)))
		}
		key := [2]string{check.Service, check.Name}
		if j, dup := seen[key]; dup && check.Name != "" {
			errs = append(errs, fmt.Errorf("%s: the same service and name as probes[%d]", where, j))
		}
		seen[key] = i
		out = append(out, in)
	}
	return out, errors.Join(errs...)
}

// probeErrorText lists a validation error's fields: "url is required; interval must be between 1s and 24h".
func probeErrorText(err error) string {
	var e *firebreak.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return firebreak.ErrorMessage(err)
	}
	s := ""
	for i, f := range e.Fields {
		if i > 0 {
			s += "; "
		}
		s += f.Field + " " + f.Message
	}
	return s
}

// probeStore is what the app needs of the store for health probes.
type probeStore interface {
	firebreak.ProbeService
	probe.Store
}

// openProbes applies the configuration's probes and builds the probe runner, when the store keeps probes. It
// returns the runner's wake-up (nil without a runner).
func (a *App) openProbes(ctx context.Context) (func(), error) {
	ps, ok := any(a.Store).(probeStore)
	if !ok {
		if len(a.Config.Probes) > 0 {
			return nil, errors.New("this store does not support health probes")
		}
		return nil, nil
	}
	if len(a.Config.Probes) > 0 {
		applied, err := ps.ApplyProbes(ctx, a.Config.Probes)
		if err != nil {
			return nil, fmt.Errorf("applying the configuration's probes: %s", probeErrorText(err))
		}
		a.Logger.Info("applied the configuration's probes", "probes", len(applied))
	}
	a.probes = probe.NewRunner(ps, probe.Options{Now: a.Clock.Now, Logger: a.Logger})
	if err := registerProbeMetrics(a.Registry, a.probes); err != nil {
		return nil, err
	}
	return a.probes.Wake, nil
}

// registerProbeMetrics exports the runner's counters.
func registerProbeMetrics(reg prometheus.Registerer, r *probe.Runner) error {
	counter := func(name, help string, v func(probe.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(r.Stats())) })
	}
	gauge := func(name, help string, v func(probe.Stats) float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help},
			func() float64 { return v(r.Stats()) })
	}
	for _, c := range []prometheus.Collector{
		counter("firebreak_probe_checks_total", "Health probe checks finished.",
			func(s probe.Stats) uint64 { return s.ChecksRun }),
		counter("firebreak_probe_check_failures_total", "Health probe checks that did not succeed.",
			func(s probe.Stats) uint64 { return s.Failures }),
		gauge("firebreak_probe_checks_in_flight", "Health probe checks running now.",
			func(s probe.Stats) float64 { return float64(s.InFlight) }),
		counter("firebreak_probe_results_recorded_total", "Health probe results stored.",
			func(s probe.Stats) uint64 { return s.Recorded }),
		gauge("firebreak_probe_results_pending", "Health probe results waiting to be stored.",
			func(s probe.Stats) float64 { return float64(s.Pending) }),
		counter("firebreak_probe_results_dropped_total", "Health probe results dropped because too many were pending.",
			func(s probe.Stats) uint64 { return s.Dropped }),
		counter("firebreak_probe_flush_errors_total", "Failed attempts to store health probe results.",
			func(s probe.Stats) uint64 { return s.FlushErrors }),
		counter("firebreak_probe_claim_errors_total", "Failed attempts to claim due health probes.",
			func(s probe.Stats) uint64 { return s.ClaimErrors }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering probe metrics: %w", err)
		}
	}
	return nil
}

// runProbes runs the probe runner until ctx ends.
func (a *App) runProbes(ctx context.Context) {
	if a.probes == nil {
		return
	}
	if err := a.probes.Run(ctx); err != nil && ctx.Err() == nil {
		a.Logger.Error("the probe runner stopped", "err", err)
	}
}
