package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak/bench"
)

func newBenchCmd() *cobra.Command {
	var (
		f           apiFlags
		o           bench.Options
		local       string
		databaseURL string
		cpuProfile  string
		quiet       bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a Firebreak server on this machine: durable appends, incident reads and alert intake",
		Long: `Load-test a Firebreak server on this machine (loopback addresses only). Scenarios:

  append  concurrent clients POST notes to incident timelines, spread over --incidents incidents, then all on
          one hot incident; every 201 means the note is committed
  read    GET /api/v1/incidents/{id} and GET /api/v1/incidents/{id}/timeline?limit=200 of an incident with 200
          timeline events
  all     both (default)

Alert intake scenarios (the bench creates its services and integrations through the API; --local lifts the
per-integration intake rate limit; against a server started otherwise, spread the load with --integrations):

  pagerduty          POST /v2/enqueue, one trigger event per request, a new dedup key each
  alertmanager       POST /api/v1/intake/alertmanager/{key}, --alerts-per-request new alerts per request
  redeliver          the same Alertmanager groups again, unchanged (a redelivery writes nothing)
  alert-to-incident  one critical alert of a new group per request: latency until the answer, which comes once
                     the alert and its incident are committed; each is then checked through GET /api/v1/alerts
  alerts-rss         stores --rss-alerts firing alerts, then reports the resident memory (with --local: of
                     this process, which holds the server and the load generator, after a GC)
  intake             all five

Every 2xx answer of the intake means the delivery is durable (committed).

Notification latency:

  notify-under-load  a webhook receiver in this process, probe services announcing to it, and --probe-rate
                     probes/s (declarations and alerts that open an incident, alternately): the time from the 2xx
                     answer to the incident's first notification at the receiver, first idle, then while
                     --background-rate PagerDuty alerts/s arrive on another service (open loop; half critical,
                     joining that service's incident, half warnings)

Each phase runs --warmup unmeasured, then --duration (or --max-requests), and prints throughput and
p50/p90/p99/max latency. The bench declares its own incidents (titled "Bench …") on the server.

--local sqlite|postgres starts an in-process server on 127.0.0.1:0 with a fresh database (a temporary data
directory, or a new PostgreSQL database created through --database-url and dropped afterwards), so a whole
benchmark is one command. Note that the load generator then shares the CPUs with the server.`,
		Example: `  firebreak bench --local sqlite --clients 64 --duration 10s
  firebreak bench --local postgres --database-url 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
  firebreak bench --url http://127.0.0.1:8080 --token "$FIREBREAK_TOKEN" --scenario read
  firebreak bench --local sqlite --scenario intake
  firebreak bench --local sqlite --scenario alerts-rss --rss-alerts 100000
  firebreak bench --local sqlite --scenario notify-under-load --duration 30s`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			logf := func(format string, args ...any) {
				if !quiet && !f.json {
					fmt.Fprintf(cmd.ErrOrStderr(), "bench: "+format+"\n", args...)
				}
			}
			o.Logf = logf
			o.BaseURL, o.Token = f.baseURL(), f.apiToken()
			target := "server at " + o.BaseURL
			if local != "" {
				if cmd.Flags().Changed("url") {
					return usageError(cmd, fmt.Errorf("--local and --url exclude each other"))
				}
				l, err := bench.StartLocal(ctx, local, databaseURL, nil)
				if err != nil {
					return err
				}
				defer func() {
					if err := l.Stop(); err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "bench: cleaning up:", err)
					}
				}()
				o.BaseURL, o.Token = l.URL, l.Token
				o.Intake.RSS = bench.SelfRSS
				target = "in-process server at " + l.URL + ", " + l.Database
			} else if databaseURL != "" {
				return usageError(cmd, fmt.Errorf("--database-url is for --local postgres"))
			} else if o.Token == "" {
				return bench.ErrNoToken
			}
			if err := bench.CheckLoopback(o.BaseURL); err != nil {
				return err
			}
			if cpuProfile != "" {
				pf, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			logf("%s; %d clients, %s per phase, %s, %s/%s, %d CPUs", target, o.Clients, o.Duration,
				runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
			results, err := bench.Run(ctx, o)
			if f.json {
				if jerr := printJSON(out, map[string]any{"target": target, "clients": o.Clients,
					"duration_seconds": o.Duration.Seconds(), "go": runtime.Version(), "cpus": runtime.NumCPU(),
					"results": results}); jerr != nil {
					return jerr
				}
			} else if len(results) > 0 {
				fmt.Fprintf(out, "Firebreak bench: %s\n%d clients, %s per phase, %s %s/%s, %d CPUs\n\n", target,
					o.Clients, o.Duration, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
				bench.Print(out, results)
			}
			if err != nil {
				return apiError(err)
			}
			for _, r := range results {
				if r.Errors > 0 {
					return fmt.Errorf("%d of %d requests failed in %q", r.Errors, r.Requests, r.Name)
				}
			}
			return nil
		},
	}
	f.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&local, "local", "", "start an in-process server: sqlite or postgres")
	fl.StringVar(&databaseURL, "database-url", "", "with --local postgres: a PostgreSQL URL allowed to CREATE DATABASE")
	fl.IntVar(&o.Clients, "clients", 64, "concurrent clients")
	fl.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time of each phase")
	fl.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured warm-up before each phase")
	fl.IntVar(&o.MaxRequests, "max-requests", 1_000_000, "at most this many requests per phase")
	fl.StringVar(&o.Scenario, "scenario", bench.ScenarioAll, "append, read, all, pagerduty, alertmanager, redeliver, alert-to-incident, alerts-rss, intake or notify-under-load")
	fl.IntVar(&o.Intake.AlertsPerRequest, "alerts-per-request", 100, "alerts in each Alertmanager delivery")
	fl.IntVar(&o.Intake.Integrations, "integrations", 8, "integrations of each kind the intake load is spread over")
	fl.StringVar(&o.Intake.Severity, "alert-severity", "critical", "severity of the intake scenarios' alerts (critical and error open incidents by default routing; warning and info are only recorded)")
	fl.IntVar(&o.Intake.RedeliverGroups, "redeliver-groups", 256, "Alertmanager groups the redeliver scenario stores and sends again")
	fl.IntVar(&o.Intake.RSSAlerts, "rss-alerts", 100_000, "firing alerts alerts-rss stores before reading the memory")
	fl.IntVar(&o.Notify.BackgroundRate, "background-rate", 1000, "notify-under-load: alerts per second arriving during the loaded phase")
	fl.Float64Var(&o.Notify.ProbeRate, "probe-rate", 10, "notify-under-load: measured declarations and alerts per second")
	fl.IntVar(&o.Incidents, "incidents", 8, "incidents the spread appends go to")
	fl.IntVar(&o.ReadEvents, "read-events", 200, "timeline events of the incident the read scenario reads")
	fl.DurationVar(&o.RequestTimeout, "request-timeout", 30*time.Second, "give up on a request after this long (an error)")
	fl.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process (with --local: server and load) to this file")
	fl.BoolVar(&quiet, "quiet", false, "no progress messages")
	return cmd
}
