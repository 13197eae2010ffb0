package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

// Alerting commands: integrations (how tools send alerts), alerts, change events and routing policies.

func newIntegrationCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("integration", "Manage the integrations monitoring tools send alerts through")
	cmd.Aliases = []string{"integrations"}
	f.bind(cmd)
	cmd.AddCommand(newIntegrationAddCmd(f), newIntegrationListCmd(f))
	return cmd
}

func newIntegrationAddCmd(f *apiFlags) *cobra.Command {
	var in firebreak.IntegrationInput
	var secret string
	cmd := &cobra.Command{
		Use:   "add --service SLUG --kind alertmanager|grafana|pagerduty|generic",
		Short: "Add an integration to a service (admin); prints its key, once, and the configuration to paste",
		Example: `  firebreak integration add --service payments --kind alertmanager --name prometheus-prod
  firebreak integration add --service payments --kind pagerduty
  printf '%s' "$GRAFANA_SECRET" | firebreak integration add --service payments --kind grafana --signature-secret -`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if secret == "-" {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
				if err != nil {
					return err
				}
				secret = strings.TrimRight(string(b), "\r\n")
			}
			in.SignatureSecret = secret
			in.Kind = firebreak.IntegrationKind(strings.ToLower(string(in.Kind)))
			created, err := f.client().CreateIntegration(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, created)
			}
			printCreatedIntegration(out, created)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Service, "service", "", "slug of the service the alerts are about (required)")
	fl.StringVar((*string)(&in.Kind), "kind", "", "what sends: alertmanager, grafana, pagerduty (Events API v2) or generic (required)")
	fl.StringVar(&in.Name, "name", "", "a name for it (default: the kind)")
	fl.StringVar(&secret, "signature-secret", "", "Grafana only: require deliveries signed with this HMAC secret (- reads it from stdin)")
	return cmd
}

func printCreatedIntegration(out io.Writer, c *client.CreatedIntegration) {
	fmt.Fprintf(out, "Added %s integration %q to %s.\n\n", c.Kind, c.Name, c.Service)
	fmt.Fprintf(out, "Key (shown only now, Firebreak keeps a hash): %s\n", c.Key)
	if c.Kind == firebreak.IntegrationPagerDuty {
		fmt.Fprintf(out, "Events API URL (the key is the routing_key): %s\n", c.Snippets.URL)
	} else {
		fmt.Fprintf(out, "Webhook URL: %s\n", c.Snippets.URL)
	}
	if s := c.Snippets.Alertmanager; s != "" {
		fmt.Fprintf(out, "\nAlertmanager (alertmanager.yml):\n\n%s", indent(s))
	}
	if s := c.Snippets.Grafana; s != "" {
		fmt.Fprintf(out, "\nGrafana:\n\n%s", indent(wrap(s, 100)+"\n"))
	}
	if s := c.Snippets.Curl; s != "" {
		fmt.Fprintf(out, "\nTest it:\n\n%s", indent(s+"\n"))
	}
}

func indent(s string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "")
}

func newIntegrationListCmd(f *apiFlags) *cobra.Command {
	var service string
	cmd := &cobra.Command{
		Use:   "list [--service SLUG]",
		Short: "List integrations (their keys are never shown again)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			items, err := f.client().ListIntegrations(cmd.Context(), service)
			if err != nil {
				return apiError(err)
			}
			if items == nil {
				items = []firebreak.Integration{}
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Integration]{Items: items})
			}
			if len(items) == 0 {
				fmt.Fprintln(out, "No integrations. Add one with: firebreak integration add --service SLUG --kind alertmanager")
				return nil
			}
			t := newTable(out, "ID", "SERVICE", "KIND", "NAME", "SIGNED", "CREATED")
			for _, in := range items {
				signed := "no"
				if in.Signed {
					signed = "yes"
				}
				t.row(in.ID, in.Service, string(in.Kind), in.Name, signed, fmtTime(in.CreatedAt))
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&service, "service", "", "only this service's integrations")
	return cmd
}

func newAlertCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("alert", "List the alerts monitoring tools sent, and their noise")
	cmd.Aliases = []string{"alerts"}
	f.bind(cmd)
	cmd.AddCommand(newAlertListCmd(f), newAlertShowCmd(f), newAlertNoiseCmd(f))
	return cmd
}

// incidentRefs resolves incident IDs to references (INC-n), reading each incident once.
type incidentRefs struct {
	c    *client.Client
	refs map[string]string
}

func (r *incidentRefs) ref(ctx context.Context, id string) string {
	if id == "" {
		return "—"
	}
	if ref, ok := r.refs[id]; ok {
		return ref
	}
	ref := id
	if inc, err := r.c.GetIncident(ctx, id); err == nil {
		ref = firebreak.IncidentRef(inc.Number)
	}
	r.refs[id] = ref
	return ref
}

func newAlertListCmd(f *apiFlags) *cobra.Command {
	var (
		statuses []string
		filter   firebreak.AlertFilter
		all      bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List alerts, most recently seen first",
		Example: `  firebreak alert list --status firing
  firebreak alert list --service payments --incident INC-12 --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range splitList(statuses) {
				st := firebreak.AlertStatus(strings.ToLower(s))
				if !slices.Contains([]firebreak.AlertStatus{firebreak.AlertFiring, firebreak.AlertAcknowledged,
					firebreak.AlertResolved}, st) {
					return usageError(cmd, fmt.Errorf("--status %q: use firing, acknowledged or resolved", s))
				}
				filter.Status = append(filter.Status, st)
			}
			if all && filter.Limit == 0 {
				filter.Limit = firebreak.MaxLimit
			}
			c := f.client()
			items, next, err := listPages(all, &filter.Cursor, func() (*firebreak.Page[firebreak.Alert], error) {
				return c.ListAlerts(cmd.Context(), filter)
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Alert]{Items: items, NextCursor: next})
			}
			if len(items) == 0 {
				fmt.Fprintln(out, "No alerts.")
				return nil
			}
			refs := &incidentRefs{c: c, refs: map[string]string{}}
			t := newTable(out, "STATUS", "SEVERITY", "SUMMARY", "SERVICE", "SOURCE", "SEEN", "FIRST SEEN", "LAST SEEN",
				"INCIDENT")
			for _, a := range items {
				t.row(string(a.Status), string(a.Severity), truncate(a.Summary, 60), a.Service, string(a.Source),
					strconv.FormatInt(a.Occurrences, 10), fmtTime(a.FirstSeenAt), fmtTime(a.LastSeenAt),
					refs.ref(cmd.Context(), a.IncidentID))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if next != "" {
				fmt.Fprintln(out, "(more alerts: use --all, or --limit)")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&filter.Service, "service", "", "only this service's alerts")
	fl.StringArrayVar(&statuses, "status", nil, "only these statuses: firing, acknowledged, resolved (repeatable, or comma-separated)")
	fl.StringVar(&filter.Incident, "incident", "", "only the alerts attached to this incident (INC-12)")
	fl.BoolVar(&filter.Flapping, "flapping", false, "only alerts marked flapping")
	fl.StringVar((*string)(&filter.Suppressed), "suppressed", "", "only alerts suppressed for this reason: maintenance or flapping")
	fl.IntVar(&filter.Limit, "limit", 0, fmt.Sprintf("alerts per page (default %d, at most %d)",
		firebreak.DefaultLimit, firebreak.MaxLimit))
	fl.BoolVar(&all, "all", false, "follow every page")
	return cmd
}

func newAlertShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "show ID",
		Short:   "Show one alert: labels, annotations, details, links and its incident",
		Example: `  firebreak alert show 0b6f3d0e-8c1e-4c55-9d0c-2f5b1f0b9a11 --json`,
		Args:    exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			a, err := c.GetAlert(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, a)
			}
			refs := &incidentRefs{c: c, refs: map[string]string{}}
			fmt.Fprintf(out, "%s  [%s, %s]\n", a.Summary, a.Status, a.Severity)
			fmt.Fprintf(out, "Service:     %s (source %s, dedup key %s)\n", a.Service, a.Source, a.DedupKey)
			fmt.Fprintf(out, "Seen:        %d times, first %s, last %s\n", a.Occurrences, fmtTime(a.FirstSeenAt),
				fmtTime(a.LastSeenAt))
			if a.ResolvedAt != nil {
				fmt.Fprintf(out, "Resolved:    %s\n", fmtTime(*a.ResolvedAt))
			}
			if ref := refs.ref(cmd.Context(), a.IncidentID); ref != "" {
				fmt.Fprintf(out, "Incident:    %s\n", ref)
			}
			if a.Flapping {
				fmt.Fprintln(out, "Flapping:    yes (it does not page)")
			}
			if a.Suppressed != "" {
				fmt.Fprintf(out, "Suppressed:  %s\n", a.Suppressed)
			}
			printMap := func(title string, m map[string]string) {
				if len(m) == 0 {
					return
				}
				fmt.Fprintln(out, title+":")
				keys := make([]string, 0, len(m))
				for k := range m {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					fmt.Fprintf(out, "  %s=%s\n", k, m[k])
				}
			}
			printMap("Labels", a.Labels)
			printMap("Annotations", a.Annotations)
			for _, l := range a.Links {
				fmt.Fprintf(out, "Link:        %s %s\n", l.Href, l.Text)
			}
			if a.Details != "" {
				fmt.Fprintf(out, "Details:     %s\n", a.Details)
			}
			return nil
		},
	}
}

func newChangeCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("change", "List change events (deploys, config pushes) tools reported")
	cmd.Aliases = []string{"changes"}
	f.bind(cmd)
	cmd.AddCommand(newChangeListCmd(f))
	return cmd
}

// parseSince reads --since: a duration back from now ("2h", "90m") or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: use a duration back from now (2h, 90m) or an RFC 3339 time "+
		"(2026-11-22T14:00:00Z)", s)
}

func newChangeListCmd(f *apiFlags) *cobra.Command {
	var (
		filter firebreak.ChangeFilter
		since  string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List change events, most recent first",
		Example: `  firebreak change list --service payments --since 24h`,
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return usageError(cmd, err)
				}
				filter.Since = &t
			}
			p, err := f.client().ListChanges(cmd.Context(), filter)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, p)
			}
			if len(p.Items) == 0 {
				fmt.Fprintln(out, "No changes.")
				return nil
			}
			t := newTable(out, "OCCURRED", "SERVICE", "SUMMARY", "SOURCE")
			for _, ch := range p.Items {
				t.row(fmtTime(ch.OccurredAt), ch.Service, truncate(ch.Summary, 70), orDash(ch.Source))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if p.NextCursor != "" {
				fmt.Fprintln(out, "(more changes: use --limit)")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&filter.Service, "service", "", "only this service's changes")
	fl.StringVar(&since, "since", "", "only changes since then: a duration back from now (24h) or an RFC 3339 time")
	fl.IntVar(&filter.Limit, "limit", 0, fmt.Sprintf("changes to list (default %d, at most %d)",
		firebreak.DefaultLimit, firebreak.MaxLimit))
	return cmd
}

func newRoutingCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("routing", "Show or set a service's alert routing policy")
	f.bind(cmd)
	cmd.AddCommand(newRoutingShowCmd(f), newRoutingSetCmd(f))
	return cmd
}

func printPolicy(out io.Writer, slug string, p *firebreak.RoutingPolicy) error {
	fmt.Fprintf(out, "Alert routing of %s\n", slug)
	fmt.Fprintf(out, "Group window: %s\n", p.GroupWindow)
	fmt.Fprintf(out, "Group by:     %s\n", orDash(strings.Join(p.GroupBy, ", ")))
	var ar []string
	for _, sv := range firebreak.Severities {
		if auto, ok := p.AutoResolve[sv]; ok {
			v := "no"
			if auto {
				v = "yes"
			}
			ar = append(ar, string(sv)+": "+v)
		}
	}
	fmt.Fprintf(out, "Auto-resolve: %s\n\n", orDash(strings.Join(ar, ", ")))
	if len(p.Rules) == 0 {
		fmt.Fprintln(out, "No rules: every alert is only recorded.")
		return nil
	}
	t := newTable(out, "#", "MATCH", "ACTION", "SEVERITY")
	for i, r := range p.Rules {
		var m []string
		for k, v := range r.Match {
			m = append(m, k+"="+v)
		}
		slices.Sort(m)
		match := strings.Join(m, ",")
		if match == "" {
			match = "(any alert)"
		}
		t.row(strconv.Itoa(i), match, string(r.Action), orDash(string(r.Severity)))
	}
	return t.flush()
}

func newRoutingShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "show SERVICE",
		Short: "Show a service's alert routing policy",
		Args:  exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := f.client().GetRoutingPolicy(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), p)
			}
			return printPolicy(cmd.OutOrStdout(), args[0], p)
		},
	}
}

func newRoutingSetCmd(f *apiFlags) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "set SERVICE --file policy.json",
		Short: "Replace a service's alert routing policy (admin) with the JSON in a file (- for stdin)",
		Example: `  firebreak routing show payments --json > policy.json   # edit it, then:
  firebreak routing set payments --file policy.json`,
		Args: exactArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return usageError(cmd, fmt.Errorf("--file is required"))
			}
			var b []byte
			var err error
			if file == "-" {
				b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 1<<20))
			} else {
				b, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			var p firebreak.RoutingPolicy
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				var fe *firebreak.Error
				if errors.As(err, &fe) {
					return apiError(fe)
				}
				return fmt.Errorf("%s: not a routing policy: %v", file, err)
			}
			if p.AutoResolve == nil {
				p.AutoResolve = firebreak.DefaultAutoResolve() // the documented default for an omitted auto_resolve
			}
			stored, err := f.client().SetRoutingPolicy(cmd.Context(), args[0], p)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), stored)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Saved.\n\n")
			return printPolicy(cmd.OutOrStdout(), args[0], stored)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the policy as JSON (as 'routing show --json' prints it); - reads stdin")
	return cmd
}
