package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

// Noise control: maintenance windows and the noise report (alert noise).

func newMaintenanceCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("maintenance", "Schedule maintenance windows, during which alerts of their services page nobody")
	f.bind(cmd)
	cmd.AddCommand(newMaintenanceAddCmd(f), newMaintenanceListCmd(f), newMaintenanceCancelCmd(f))
	return cmd
}

// parseWhen reads a maintenance time: "now", a duration from now ("+2h", "90m"), a local date and time
// ("2026-11-22 14:00") or RFC 3339.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "now" {
		return now, nil
	}
	if d, err := time.ParseDuration(strings.TrimPrefix(s, "+")); err == nil && d >= 0 {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: use now, a duration from now (+2h), a local date and time "+
		"(2026-11-22 14:00) or RFC 3339 (2026-11-22T14:00:00Z)", flag, s)
}

func newMaintenanceAddCmd(f *apiFlags) *cobra.Command {
	var (
		in              firebreak.MaintenanceInput
		services        []string
		start, end, dur string
	)
	cmd := &cobra.Command{
		Use:   "add --service SLUG --title TITLE [--start WHEN] (--end WHEN | --duration 2h)",
		Short: "Schedule a maintenance window (responder)",
		Example: `  firebreak maintenance add --service db --title "Database upgrade" --start "2026-11-23 06:00" --duration 30m
  firebreak maintenance add --service api,web --title "Deploy freeze test" --end +1h`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			s, err := parseWhen("--start", start, now)
			if err != nil {
				return usageError(cmd, err)
			}
			var e time.Time
			switch {
			case end != "" && dur != "":
				return usageError(cmd, fmt.Errorf("give --end or --duration, not both"))
			case end != "":
				if e, err = parseWhen("--end", end, now); err != nil {
					return usageError(cmd, err)
				}
			default:
				d := time.Hour
				if dur != "" {
					if d, err = time.ParseDuration(dur); err != nil || d <= 0 {
						return usageError(cmd, fmt.Errorf("--duration %q: use a duration such as 30m or 2h", dur))
					}
				}
				e = s.Add(d)
			}
			in.Services, in.StartsAt, in.EndsAt = splitList(services), s, e
			mw, err := f.client().CreateMaintenance(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), mw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Scheduled maintenance %s %q (%s) for %s: %s to %s\n", mw.ID, mw.Title,
				mw.State, strings.Join(mw.Services, ", "), fmtTime(mw.StartsAt), fmtTime(mw.EndsAt))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&services, "service", nil, "slug of a service under maintenance (repeatable, or comma-separated; required)")
	fl.StringVar(&in.Title, "title", "", "what is done (required)")
	fl.StringVar(&in.Description, "description", "", "what users may notice")
	fl.StringVar(&start, "start", "now", "when it starts: now, +2h, \"2026-11-23 06:00\" (local) or RFC 3339")
	fl.StringVar(&end, "end", "", "when it ends (same forms as --start)")
	fl.StringVar(&dur, "duration", "", "how long it lasts, e.g. 30m (default 1h; instead of --end)")
	return cmd
}

func printMaintenance(out io.Writer, items []firebreak.MaintenanceWindow) error {
	t := newTable(out, "ID", "STATE", "SERVICES", "STARTS", "ENDS", "TITLE")
	for _, w := range items {
		t.row(w.ID, string(w.State), strings.Join(w.Services, ","), fmtTime(w.StartsAt), fmtTime(w.EndsAt),
			truncate(w.Title, 60))
	}
	return t.flush()
}

func newMaintenanceListCmd(f *apiFlags) *cobra.Command {
	var (
		filter firebreak.MaintenanceFilter
		state  string
		all    bool
	)
	cmd := &cobra.Command{
		Use:   "list [--state scheduled|active|completed|cancelled] [--service SLUG]",
		Short: "List maintenance windows (every window, most recent start first, without --state)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if state != "" {
				filter.State = firebreak.MaintenanceState(strings.ToLower(state))
				if !slices.Contains(firebreak.MaintenanceStates, filter.State) {
					return usageError(cmd, fmt.Errorf("--state %q: use scheduled, active, completed or cancelled", state))
				}
			}
			if all && filter.Limit == 0 {
				filter.Limit = firebreak.MaxLimit
			}
			c := f.client()
			items, next, err := listPages(all, &filter.Cursor, func() (*firebreak.Page[firebreak.MaintenanceWindow], error) {
				return c.ListMaintenance(cmd.Context(), filter)
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.MaintenanceWindow]{Items: items, NextCursor: next})
			}
			if len(items) == 0 {
				fmt.Fprintln(out, "No maintenance windows.")
				return nil
			}
			if err := printMaintenance(out, items); err != nil {
				return err
			}
			if next != "" {
				fmt.Fprintln(out, "(more windows: use --all, or --limit)")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&state, "state", "", "only windows in this state")
	fl.StringVar(&filter.Service, "service", "", "only this service's windows")
	fl.IntVar(&filter.Limit, "limit", 0, fmt.Sprintf("windows per page (default %d, at most %d)",
		firebreak.DefaultLimit, firebreak.MaxLimit))
	fl.BoolVar(&all, "all", false, "follow every page")
	return cmd
}

func newMaintenanceCancelCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a maintenance window that has not ended (responder): its services' alerts page again at once",
		Args:  exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			mw, err := f.client().CancelMaintenance(cmd.Context(), args[0], 0)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), mw)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Cancelled maintenance %s %q\n", mw.ID, mw.Title)
			return nil
		},
	}
}

func newAlertNoiseCmd(f *apiFlags) *cobra.Command {
	var service, since string
	cmd := &cobra.Command{
		Use:   "noise [--service SLUG] [--since 7d|72h|RFC3339]",
		Short: "Show the alert noise report: the noisiest sources and rules, flapping alerts, alerts that never led to an incident",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			nf := firebreak.NoiseFilter{Service: service}
			if since != "" {
				s := since
				if d, ok := strings.CutSuffix(s, "d"); ok {
					if n, err := strconv.Atoi(d); err == nil && n > 0 {
						s = strconv.Itoa(n*24) + "h"
					}
				}
				t, err := parseSince(s, time.Now())
				if err != nil {
					return usageError(cmd, err)
				}
				nf.Since = &t
			}
			rep, err := f.client().NoiseReport(cmd.Context(), nf)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, rep)
			}
			return printNoise(out, rep)
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only this service")
	cmd.Flags().StringVar(&since, "since", "", "the period's start: 7d, 72h or an RFC 3339 time (default 7 days ago)")
	return cmd
}

func printNoise(out io.Writer, r *firebreak.NoiseReport) error {
	t := r.Totals
	scope := "all services"
	if r.Service != "" {
		scope = r.Service
	}
	fmt.Fprintf(out, "Alert noise of %s, %s to %s\n\n", scope, fmtTime(r.Since), fmtTime(r.Until))
	pct := func(part, total int64) string {
		if total == 0 {
			return "0%"
		}
		return strconv.FormatInt((part*100+total/2)/total, 10) + "%"
	}
	fmt.Fprintf(out, "Alerts:            %d (%d occurrences)\n", t.Alerts, t.Occurrences)
	fmt.Fprintf(out, "Incidents opened:  %d\n", t.IncidentsOpened)
	fmt.Fprintf(out, "Never an incident: %d (%s)\n", t.AlertsWithoutIncident, pct(t.AlertsWithoutIncident, t.Alerts))
	fmt.Fprintf(out, "Flapping:          %d\n", t.FlappingAlerts)
	fmt.Fprintf(out, "Maintenance:       %d alerts, %d firings kept quiet\n", t.MaintenanceAlerts, t.MaintenanceFirings)
	if a := r.AlertsPerIncident; a.Incidents > 0 {
		fmt.Fprintf(out, "Alerts/incident:   mean %.1f, median %d, max %d (%d incidents)\n", a.Mean, a.P50, a.Max,
			a.Incidents)
	}
	section := func(title string, empty bool) bool {
		fmt.Fprintf(out, "\n%s\n", title)
		if empty {
			fmt.Fprintln(out, "  (none)")
		}
		return !empty
	}
	if section("Noisiest sources", len(r.Sources) == 0) {
		tb := newTable(out, "  INTEGRATION", "KIND", "SERVICE", "ALERTS", "OCCURRENCES", "INCIDENTS")
		for _, s := range r.Sources {
			tb.row("  "+s.Name, string(s.Kind), s.Service, strconv.FormatInt(s.Alerts, 10),
				strconv.FormatInt(s.Occurrences, 10), strconv.FormatInt(s.Incidents, 10))
		}
		if err := tb.flush(); err != nil {
			return err
		}
	}
	if section("Noisiest rules", len(r.Rules) == 0) {
		tb := newTable(out, "  RULE", "SERVICE", "ALERTS", "OCCURRENCES", "INCIDENTS")
		for _, s := range r.Rules {
			tb.row("  "+truncate(s.Rule, 50), s.Service, strconv.FormatInt(s.Alerts, 10),
				strconv.FormatInt(s.Occurrences, 10), strconv.FormatInt(s.Incidents, 10))
		}
		if err := tb.flush(); err != nil {
			return err
		}
	}
	alerts := func(title string, list []firebreak.NoiseAlert) error {
		if !section(title, len(list) == 0) {
			return nil
		}
		tb := newTable(out, "  ALERT", "SERVICE", "STATUS", "OCCURRENCES", "LAST SEEN")
		for _, a := range list {
			tb.row("  "+truncate(a.Summary, 50), a.Service, string(a.Status), strconv.FormatInt(a.Occurrences, 10),
				fmtTime(a.LastSeenAt))
		}
		return tb.flush()
	}
	if err := alerts("Flapping alerts", r.Flapping); err != nil {
		return err
	}
	return alerts("Alerts that never led to an incident", r.NeverIncident)
}
