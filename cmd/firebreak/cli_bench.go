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
		Short: "Load-test a Firebreak server on this machine: durable appends and incident reads",
		Long: `Load-test a Firebreak server on this machine (loopback addresses only). Scenarios:

  append  concurrent clients POST notes to incident timelines, spread over --incidents incidents, then all on
          one hot incident; every 201 means the note is committed
  read    GET /api/v1/incidents/{id} and GET /api/v1/incidents/{id}/timeline?limit=200 of an incident with 200
          timeline events
  all     both (default)

Each phase runs --warmup unmeasured, then --duration (or --max-requests), and prints throughput and
p50/p90/p99/max latency. The bench declares its own incidents (titled "Bench …") on the server.

--local sqlite|postgres starts an in-process server on 127.0.0.1:0 with a fresh database (a temporary data
directory, or a new PostgreSQL database created through --database-url and dropped afterwards), so a whole
benchmark is one command. Note that the load generator then shares the CPUs with the server.`,
		Example: `  firebreak bench --local sqlite --clients 64 --duration 10s
  firebreak bench --local postgres --database-url 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable'
  firebreak bench --url http://127.0.0.1:8080 --token "$FIREBREAK_TOKEN" --scenario read`,
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
	fl.StringVar(&o.Scenario, "scenario", bench.ScenarioAll, "append, read or all")
	fl.IntVar(&o.Incidents, "incidents", 8, "incidents the spread appends go to")
	fl.IntVar(&o.ReadEvents, "read-events", 200, "timeline events of the incident the read scenario reads")
	fl.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of this process (with --local: server and load) to this file")
	fl.BoolVar(&quiet, "quiet", false, "no progress messages")
	return cmd
}
