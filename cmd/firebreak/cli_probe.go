package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

func newProbeCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("probe", "Manage health probes over the API")
	cmd.Aliases = []string{"probes"}
	f.bind(cmd)
	cmd.AddCommand(newProbeAddCmd(f), newProbeListCmd(f), newProbeShowCmd(f), newProbeRmCmd(f))
	return cmd
}

func newProbeAddCmd(f *apiFlags) *cobra.Command {
	var (
		in                firebreak.ProbeInput
		interval, timeout time.Duration
		headers           []string
		severity          string
		disabled          bool
	)
	cmd := &cobra.Command{
		Use:   "add --service SERVICE --name NAME --target URL",
		Short: "Add a health probe (responder)",
		Long: `Add a health probe: Firebreak checks the URL on the interval and evaluates the conditions on the answer.
http:// and https:// URLs make HTTP probes, tcp://host:port TCP probes. After --failure-threshold failures in a
row the probe raises an alert on its service (source "probe"); --success-threshold successes resolve it.

Conditions (Gatus syntax, all must hold): "<left> <op> <right>" with op one of == != < <= > >=. Placeholders:
[STATUS], [RESPONSE_TIME] (ms), [BODY], [BODY].a.b[0] (JSON path), [CONNECTED], [CERTIFICATE_EXPIRATION];
functions len(...), has(...), pat(...). Without conditions an HTTP probe needs [STATUS] < 400.`,
		Example: `  firebreak probe add --service payments --name health --target https://payments.example.com/healthz \
      --interval 30s --condition '[STATUS] == 200' --condition '[RESPONSE_TIME] < 500'
  firebreak probe add --service postgres-primary --name port --target tcp://db.internal:5432 --interval 10s`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Interval, in.Timeout = firebreak.Duration(interval), firebreak.Duration(timeout)
			in.Severity = firebreak.AlertSeverity(severity)
			h, err := parseHeaders(headers)
			if err != nil {
				return usageError(cmd, err)
			}
			in.Headers = h
			if disabled {
				in.Enabled = new(false)
			}
			p, err := f.client().CreateProbe(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), p)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added probe %s: %s/%s checks %s every %s\n", p.ID, p.Service, p.Name, p.URL,
				probeDuration(p.Interval))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Service, "service", "", "slug of the service the probe belongs to (required)")
	fl.StringVar(&in.Name, "name", "", "name, unique within the service (required)")
	// --url is the server's address in every command, so the URL to check is --target.
	fl.StringVar(&in.URL, "target", "", "URL to check: http://, https:// or tcp://host:port (required)")
	fl.DurationVar(&interval, "interval", 0, "how often to check, 1s to 24h (default 1m)")
	fl.DurationVar(&timeout, "timeout", 0, "how long a check may take, at most the interval (default 10s)")
	fl.StringArrayVar(&in.Conditions, "condition", nil, "a condition that must hold, e.g. '[STATUS] == 200' (repeatable)")
	fl.IntVar(&in.FailureThreshold, "failure-threshold", 0, "failures in a row that raise the alert (default 3)")
	fl.IntVar(&in.SuccessThreshold, "success-threshold", 0, "successes in a row that resolve it (default 2)")
	fl.StringVar(&severity, "severity", "", "severity of the alert: critical, error, warning or info (default critical)")
	fl.StringVar(&in.Method, "method", "", "HTTP method (default GET)")
	fl.StringArrayVar(&headers, "header", nil, "request header as Name=Value (repeatable)")
	fl.StringVar(&in.Body, "body", "", "HTTP request body")
	fl.BoolVar(&in.InsecureSkipVerify, "insecure", false, "accept any TLS certificate")
	fl.BoolVar(&disabled, "disabled", false, "add the probe without checking it yet")
	return cmd
}

// parseHeaders reads --header Name=Value (or Name: Value) flags.
func parseHeaders(vals []string) (map[string]string, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, v := range vals {
		k, val, ok := strings.Cut(v, "=")
		if !ok {
			k, val, ok = strings.Cut(v, ":")
		}
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("--header %q: use Name=Value", v)
		}
		out[k] = strings.TrimSpace(val)
	}
	return out, nil
}

func newProbeListCmd(f *apiFlags) *cobra.Command {
	var service string
	cmd := &cobra.Command{
		Use:   "list [--service SERVICE]",
		Short: "List health probes with their state",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, err := f.client().ListProbes(cmd.Context(), firebreak.ProbeFilter{Service: service})
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Probe]{Items: items})
			}
			if len(items) == 0 {
				fmt.Fprintln(out, "No probes. Add one with: firebreak probe add --service SERVICE --name NAME --target URL")
				return nil
			}
			t := newTable(out, "ID", "SERVICE", "NAME", "STATE", "URL", "INTERVAL", "LAST CHECK")
			for _, p := range items {
				last := "—"
				if p.LastResult != nil {
					last = fmtTime(p.LastResult.At) + " " + resultWord(*p.LastResult)
				}
				state := string(p.State)
				if !p.Enabled {
					state += " (disabled)"
				}
				t.row(p.ID, p.Service, p.Name, state, truncate(p.URL, 60), probeDuration(p.Interval), last)
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only probes of this service")
	return cmd
}

func resultWord(r firebreak.ProbeResult) string {
	if r.Success {
		return "ok"
	}
	return "fail"
}

// fmtMS formats an optional latency in milliseconds.
func fmtMS(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtLatency(*v)
}

func fmtLatency(ms float64) string {
	if ms >= 1000 {
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(ms, 'f', 0, 64) + "ms"
}

func fmtPercent(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64) + "%"
}

func newProbeShowCmd(f *apiFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a health probe: state, uptime, latency and recent results",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := f.client().GetProbe(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, st)
			}
			printProbe(out, st, limit)
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "results", 20, "how many recent results to show")
	return cmd
}

func printProbe(out io.Writer, st *firebreak.ProbeStatus, limit int) {
	p := st.Probe
	state := strings.ToUpper(string(p.State))
	if !p.Enabled {
		state += " (disabled)"
	}
	fmt.Fprintf(out, "%s/%s  %s\n", p.Service, p.Name, state)
	t := newTable(out)
	t.row("ID:", p.ID)
	t.row("URL:", p.URL)
	if p.Kind == firebreak.ProbeHTTP {
		t.row("Method:", p.Method)
	}
	t.row("Every:", fmt.Sprintf("%s (timeout %s)", probeDuration(p.Interval), probeDuration(p.Timeout)))
	conds := "(default)"
	if len(p.Conditions) > 0 {
		conds = strings.Join(p.Conditions, "; ")
	}
	t.row("Conditions:", conds)
	t.row("Alert:", fmt.Sprintf("%s after %d failures, resolved after %d successes", p.Severity,
		p.FailureThreshold, p.SuccessThreshold))
	t.row("In a row:", fmt.Sprintf("%d failures, %d successes", p.ConsecutiveFailures, p.ConsecutiveSuccesses))
	_ = t.flush()
	if len(st.Windows) > 0 {
		fmt.Fprintln(out)
		t = newTable(out, "WINDOW", "UPTIME", "CHECKS", "P50", "P90", "P99")
		for _, w := range st.Windows {
			t.row(w.Window, fmtPercent(w.UptimePercent), strconv.FormatInt(w.Checks, 10), fmtMS(w.P50MS),
				fmtMS(w.P90MS), fmtMS(w.P99MS))
		}
		_ = t.flush()
	}
	fmt.Fprintln(out)
	if len(st.Recent) == 0 {
		fmt.Fprintln(out, "No results yet.")
		return
	}
	fmt.Fprintln(out, "Recent results:")
	t = newTable(out, "TIME", "RESULT", "LATENCY", "STATUS", "DETAIL")
	for i, r := range st.Recent {
		if limit > 0 && i >= limit {
			break
		}
		code := "—"
		if r.StatusCode != 0 {
			code = strconv.Itoa(r.StatusCode)
		}
		detail := r.Error
		if len(r.FailedConditions) > 0 {
			detail = strings.Join(r.FailedConditions, "; ")
		}
		t.row(r.At.Local().Format("2006-01-02 15:04:05"), resultWord(r), fmtLatency(r.LatencyMS), code,
			orDash(truncate(detail, 80)))
	}
	_ = t.flush()
}

func newProbeRmCmd(f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "rm ID",
		Aliases: []string{"delete", "remove"},
		Short:   "Delete a health probe and its results (responder)",
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.client().DeleteProbe(cmd.Context(), args[0]); err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted probe %s\n", args[0])
			return nil
		},
	}
	return cmd
}

// probeDuration writes a duration without its zero tails: "1m", "1h30m", "1m30s", "500ms".
func probeDuration(d firebreak.Duration) string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
