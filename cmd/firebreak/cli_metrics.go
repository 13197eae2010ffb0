package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

// Incident metrics (docs/METRICS.md): the report by group, as a table, JSON or CSV, and one incident's durations.

func newMetricsCmd() *cobra.Command {
	f := &apiFlags{}
	var (
		from, to, groupBy, service, severity string
		asCSV                                bool
	)
	cmd := &cobra.Command{
		Use:   "metrics [--from 90d] [--to now] [--group-by service|team|severity|month|week] [--json|--csv]",
		Short: "Show incident metrics: time to detect, acknowledge, mitigate and resolve; MTBF and MTTF",
		Long: "Show incident metrics over a window: per group, the incidents started, how many are open, and p50/p90 " +
			"of time to detect (TTD), acknowledge (TTA), mitigate (TTM) and resolve (TTR), with MTBF and MTTF " +
			"per service and team. Definitions: docs/METRICS.md.",
		Example: `  firebreak metrics --group-by service
  firebreak metrics --from 2026-01-01 --to 2026-04-01 --group-by month --csv > q1.csv
  firebreak metrics incident INC-42`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asCSV && f.json {
				return usageError(cmd, fmt.Errorf("give --json or --csv, not both"))
			}
			now := time.Now()
			var q firebreak.MetricsQuery
			var err error
			if q.To, err = parseMetricsTime("--to", to, now); err != nil {
				return usageError(cmd, err)
			}
			end := now
			if !q.To.IsZero() {
				end = q.To
			}
			if q.From, err = parseMetricsTime("--from", from, end); err != nil {
				return usageError(cmd, err)
			}
			q.GroupBy, q.Service, q.Severity = groupBy, service, firebreak.Severity(strings.ToUpper(severity))
			out := cmd.OutOrStdout()
			if asCSV {
				b, err := f.client().MetricsCSV(cmd.Context(), q)
				if err != nil {
					return apiError(err)
				}
				_, err = out.Write(b)
				return err
			}
			rep, err := f.client().Metrics(cmd.Context(), q)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(out, rep)
			}
			return printMetrics(out, rep)
		},
	}
	f.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "the window's start: 90d, 72h back from --to, a date (2026-01-01, UTC) or RFC 3339 (default 90d)")
	fl.StringVar(&to, "to", "", "the window's end: a date (UTC), RFC 3339, or a duration back from now (default now)")
	fl.StringVar(&groupBy, "group-by", "", "group by service, team, severity, month or week")
	fl.StringVar(&service, "service", "", "only incidents affecting this service")
	fl.StringVar(&severity, "severity", "", "only incidents of this severity (SEV1, SEV2, SEV3)")
	fl.BoolVar(&asCSV, "csv", false, "print the report as CSV (RFC 4180, with a header row)")
	cmd.AddCommand(newMetricsIncidentCmd(f))
	return cmd
}

// parseMetricsTime reads a window bound: empty (zero: the server's default), a duration back from rel ("90d",
// "72h"), a date (UTC midnight) or RFC 3339.
func parseMetricsTime(flag, s string, rel time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return rel.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return rel.Add(-d), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s %q: use a duration back (90d, 72h), a date (2026-01-01) or RFC 3339 "+
		"(2026-01-01T00:00:00Z)", flag, s)
}

// fmtSeconds formats a duration in seconds for the table: 45s, 12m, 2h05m, 3.5d; "—" when undefined.
func fmtSeconds(p *float64) string {
	if p == nil {
		return "—"
	}
	d := time.Duration(*p * float64(time.Second))
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return strconv.FormatFloat(d.Hours()/24, 'f', 1, 64) + "d"
}

func fmtDist(d analysis.Distribution) string {
	if d.N == 0 {
		if d.Open > 0 {
			return fmt.Sprintf("— (+%d open)", d.Open)
		}
		return "—"
	}
	s := fmtSeconds(d.P50) + "/" + fmtSeconds(d.P90) + " n=" + strconv.Itoa(d.N)
	if d.Open > 0 {
		s += " +" + strconv.Itoa(d.Open) + " open"
	}
	return s
}

func printMetrics(out io.Writer, r *analysis.Report) error {
	fmt.Fprintf(out, "Incidents started %s to %s (UTC); open ones measured at %s.\n",
		r.From.UTC().Format("2006-01-02 15:04"), r.To.UTC().Format("2006-01-02 15:04"),
		r.AsOf.UTC().Format("2006-01-02 15:04"))
	if r.Excluded > 0 {
		fmt.Fprintf(out, "%d cancelled incident(s) left out.\n", r.Excluded)
	}
	fmt.Fprintln(out, "Durations are p50/p90 over resolved values (n); see docs/METRICS.md.")
	fmt.Fprintln(out)
	head := "GROUP"
	if r.GroupBy != "" {
		head = strings.ToUpper(r.GroupBy)
	}
	t := newTable(out, head, "INCIDENTS", "OPEN", "TTD", "TTA", "TTM", "TTR", "MTBF", "MTTF")
	row := func(name string, g *analysis.Group) {
		mtbf, mttf := "", ""
		if rl := g.Reliability; rl != nil {
			mtbf, mttf = fmtSeconds(rl.MTBFSeconds), fmtSeconds(rl.MTTFSeconds)
		}
		t.row(name, strconv.Itoa(g.Count), strconv.Itoa(g.OpenCount), fmtDist(g.TTD), fmtDist(g.TTA),
			fmtDist(g.TTM), fmtDist(g.TTR), mtbf, mttf)
	}
	row("all", &r.Total)
	for i := range r.Groups {
		row(r.Groups[i].Key, &r.Groups[i])
	}
	if err := t.flush(); err != nil {
		return err
	}
	return printFollowThrough(out, r.FollowThrough)
}

// printFollowThrough prints the follow-through figures (docs/METRICS.md §9), if the server sent them.
func printFollowThrough(out io.Writer, ft *analysis.FollowThrough) error {
	if ft == nil {
		return nil
	}
	pct := func(r *float64) string {
		if r == nil {
			return "—"
		}
		return strconv.FormatFloat(*r*100, 'f', 0, 64) + "%"
	}
	pm, ai := ft.Postmortems, ft.ActionItems
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Follow-through:")
	t := newTable(out, "MEASURE", "ON TIME", "LATE", "PENDING", "RATE")
	t.row(fmt.Sprintf("post-mortems published within %d business days", pm.TargetBusinessDays),
		strconv.Itoa(pm.OnTime), strconv.Itoa(pm.Late), strconv.Itoa(pm.Pending), pct(pm.Rate))
	t.row("action items done by their due date", strconv.Itoa(ai.OnTime), strconv.Itoa(ai.Late),
		strconv.Itoa(ai.Pending), pct(ai.Rate))
	if err := t.flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "Overdue action items: %d\n", ft.OverdueActionItems)
	return err
}

func newMetricsIncidentCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "incident REF",
		Short: "Show one incident's time to detect, acknowledge, mitigate and resolve",
		Args:  exactArgs("an incident (INC-42)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := f.client().IncidentMetrics(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, m)
			}
			state := "resolved"
			if m.Open {
				state = "open"
			}
			fmt.Fprintf(out, "%s (%s, %s), started %s (%s)\n", m.Reference, m.Severity, state,
				m.Start.UTC().Format("2006-01-02 15:04"), m.StartSource)
			t := newTable(out, "METRIC", "DURATION", "FROM", "TO")
			for _, name := range analysis.Metrics {
				ms := m.Get(name)
				v := fmtSeconds(ms.Seconds)
				switch {
				case ms.Censored:
					v += " so far (open)"
				case ms.Clamped:
					v += " (end before start)"
				}
				t.row(strings.ToUpper(name), v, ms.From, ms.To)
			}
			return t.flush()
		},
	}
}
