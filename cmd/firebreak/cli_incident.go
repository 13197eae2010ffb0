package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

func newIncidentCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("incident", "Declare and work on incidents over the API (FIREBREAK_URL, FIREBREAK_TOKEN)")
	cmd.Aliases = []string{"incidents", "inc"}
	cmd.Long = `Declare and work on incidents over the API. The server is FIREBREAK_URL (default ` + DefaultURL + `)
and the API token FIREBREAK_TOKEN; --url and --token override them. Incidents are named INC-7, 7 or their id.
--json prints the API's JSON instead of human output.`
	f.bind(cmd)
	cmd.AddCommand(newIncidentDeclareCmd(f), newIncidentListCmd(f), newIncidentShowCmd(f), newIncidentAckCmd(f),
		newIncidentStatusCmd(f), newIncidentAssignCmd(f), newIncidentNoteCmd(f), newIncidentUpdateCmd(f),
		newIncidentResolveCmd(f), newIncidentTimelineCmd(f), newIncidentRelatedCmd(f)) // related: cli_related.go
	cmd.AddCommand(newIncidentTagsCmd(f)) // cli_followthrough.go

	// Change control: propose, proposals, approve, reject, withdraw (cli_change.go).
	cmd.AddCommand(newIncidentChangeCmds(f)...)
	return cmd
}

// parseSeverity accepts SEV1, sev1 and 1.
func parseSeverity(s string) firebreak.Severity {
	s = strings.ToUpper(strings.TrimSpace(s))
	if _, err := strconv.Atoi(s); err == nil {
		s = "SEV" + s
	}
	return firebreak.Severity(s)
}

// parseRole accepts commander, tech_lead, tech-lead, techlead, comms_lead, comms-lead, commslead, ic.
func parseRole(s string) firebreak.Role {
	r := strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(s)))
	switch r {
	case "ic", "incident_commander":
		return firebreak.RoleCommander
	case "techlead", "tech", "tl":
		return firebreak.RoleTechLead
	case "commslead", "comms", "communications_lead":
		return firebreak.RoleCommsLead
	}
	return firebreak.Role(r)
}

func newIncidentDeclareCmd(f *apiFlags) *cobra.Command {
	var (
		in        firebreak.DeclareInput
		severity  string
		status    string
		commander string
		services  []string
		tags      []string
	)
	cmd := &cobra.Command{
		Use:   "declare --title TITLE --severity SEV1|SEV2|SEV3",
		Short: "Declare an incident",
		Example: `  firebreak incident declare --title "Checkout failing" --severity SEV1 --service orders --service payments \
      --commander alice`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Severity = parseSeverity(severity)
			in.Status = firebreak.Status(strings.ToLower(status))
			in.Services = splitList(services)
			in.Tags = splitList(tags)
			if commander != "" {
				in.Roles = map[firebreak.Role]string{firebreak.RoleCommander: commander}
			}
			inc, err := f.client().DeclareIncident(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Declared %s (%s): %s\n", inc.Reference, inc.Severity, inc.Title)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Title, "title", "", "one-line title (required)")
	fl.StringVar(&severity, "severity", "", "SEV1, SEV2 or SEV3 (required)")
	fl.StringVar(&in.Summary, "summary", "", "what is happening, as far as known")
	fl.StringArrayVar(&services, "service", nil, "affected service slug (repeatable, or comma-separated)")
	fl.StringVar(&status, "status", "", "starting status: detected (default), investigating, identified or mitigating")
	fl.StringVar(&commander, "commander", "", "username of the incident commander")
	fl.StringArrayVar(&tags, "tag", nil, "a tag for the knowledge base, e.g. promo-event (repeatable, or comma-separated)")
	return cmd
}

func newIncidentListCmd(f *apiFlags) *cobra.Command {
	var (
		statuses   []string
		severities []string
		filter     firebreak.IncidentFilter
		all        bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List incidents, newest first",
		Example: `  firebreak incident list --open
  firebreak incident list --status resolved,closed --severity SEV1 --all`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range splitList(statuses) {
				filter.Status = append(filter.Status, firebreak.Status(strings.ToLower(s)))
			}
			for _, s := range splitList(severities) {
				filter.Severity = append(filter.Severity, parseSeverity(s))
			}
			if all && filter.Limit == 0 {
				filter.Limit = firebreak.MaxLimit
			}
			c := f.client()
			items, next, err := listPages(all, &filter.Cursor, func() (*firebreak.Page[firebreak.Incident], error) {
				return c.ListIncidents(cmd.Context(), filter)
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Incident]{Items: items, NextCursor: next})
			}
			if len(items) == 0 {
				fmt.Fprintln(out, "No incidents.")
				return nil
			}
			printIncidentTable(out, items)
			if next != "" {
				fmt.Fprintf(out, "(more incidents: use --all, or --limit)\n")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&statuses, "status", nil, "only these statuses (repeatable, or comma-separated)")
	fl.StringArrayVar(&severities, "severity", nil, "only these severities (repeatable, or comma-separated)")
	fl.StringVar(&filter.Service, "service", "", "only incidents affecting this service")
	fl.BoolVar(&filter.Open, "open", false, "only open incidents (not resolved, closed or cancelled)")
	fl.StringVarP(&filter.Query, "query", "q", "", "only incidents whose title or summary contains this")
	fl.IntVar(&filter.Limit, "limit", 0, fmt.Sprintf("incidents per page (default %d, at most %d)",
		firebreak.DefaultLimit, firebreak.MaxLimit))
	fl.BoolVar(&all, "all", false, "follow every page")
	return cmd
}

func printIncidentTable(w io.Writer, items []firebreak.Incident) {
	t := newTable(w, "REF", "SEV", "STATUS", "TITLE", "SERVICES", "COMMANDER", "DECLARED")
	for _, inc := range items {
		t.row(inc.Reference, string(inc.Severity), string(inc.Status), truncate(inc.Title, 60),
			orDash(truncate(strings.Join(inc.Services, ","), 40)), orDash(inc.Roles[firebreak.RoleCommander]),
			fmtTimePtr(inc.Milestones.DeclaredAt))
	}
	_ = t.flush()
}

// incidentView is what "incident show" prints, and its JSON.
type incidentView struct {
	Incident    *firebreak.Incident       `json:"incident"`
	Timeline    []firebreak.TimelineEvent `json:"timeline"`
	Events      int                       `json:"timeline_total"`
	Updates     []firebreak.StatusUpdate  `json:"updates"`
	ActionItems []firebreak.ActionItem    `json:"action_items"`
	// Escalation is where the incident's paging stands (absent from a server that cannot say).
	Escalation *firebreak.IncidentEscalation `json:"escalation,omitempty"`
}

// allTimeline reads every event of an incident's timeline.
func allTimeline(ctx context.Context, c *client.Client, ref string, starred bool) ([]firebreak.TimelineEvent, error) {
	evs := []firebreak.TimelineEvent{}
	tf := firebreak.TimelineFilter{Limit: firebreak.MaxLimit, StarredOnly: starred}
	for {
		p, err := c.ListTimeline(ctx, ref, tf)
		if err != nil {
			return nil, err
		}
		evs = append(evs, p.Items...)
		if p.NextCursor == "" {
			return evs, nil
		}
		tf.Cursor = p.NextCursor
	}
}

func newIncidentShowCmd(f *apiFlags) *cobra.Command {
	var last int
	cmd := &cobra.Command{
		Use:     "show INC-7",
		Short:   "Show an incident: roles, milestones, recent timeline, updates and action items",
		Example: "  firebreak incident show INC-7",
		Args:    exactArgs("an incident"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, c := cmd.Context(), f.client()
			inc, err := c.GetIncident(ctx, args[0])
			if err != nil {
				return apiError(err)
			}
			v := incidentView{Incident: inc}
			evs, err := allTimeline(ctx, c, inc.ID, false)
			if err != nil {
				return apiError(err)
			}
			v.Events = len(evs)
			v.Timeline = evs[max(0, len(evs)-last):]
			if v.Updates, err = c.ListUpdates(ctx, inc.ID); err != nil {
				return apiError(err)
			}
			if v.ActionItems, err = c.ListActionItems(ctx, inc.ID); err != nil {
				return apiError(err)
			}
			if v.Escalation, err = c.IncidentEscalation(ctx, inc.ID); err != nil &&
				firebreak.ErrorCode(err) != firebreak.ENotFound { // an older server has no such route
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), v)
			}
			printIncidentCard(cmd.OutOrStdout(), v)
			return nil
		},
	}
	cmd.Flags().IntVar(&last, "events", 10, "how many of the latest timeline events to show")
	return cmd
}

func printIncidentCard(w io.Writer, v incidentView) {
	inc := v.Incident
	fmt.Fprintf(w, "%s  %s  %s\n%s\n", inc.Reference, inc.Severity, strings.ToUpper(string(inc.Status)), inc.Title)
	if s := strings.TrimSpace(inc.Summary); s != "" {
		fmt.Fprintf(w, "\n%s\n", wrap(s, 100))
	}
	fmt.Fprintln(w)
	t := newTable(w)
	t.row("Services:", orDash(strings.Join(inc.Services, ", ")))
	for _, r := range firebreak.Roles {
		t.row(r.Title()+":", orDash(inc.Roles[r]))
	}
	t.row("Declared by:", inc.CreatedBy)
	if d := impactDuration(inc); d != "" {
		t.row("Impact:", d)
	}
	_ = t.flush()

	fmt.Fprintln(w, "\nMilestones")
	t = newTable(w)
	m := inc.Milestones
	for _, row := range []struct {
		name string
		at   *time.Time
	}{{"impact started", m.ImpactStartedAt}, {"detected", m.DetectedAt}, {"declared", m.DeclaredAt},
		{"acknowledged", m.AcknowledgedAt}, {"mitigated", m.MitigatedAt}, {"resolved", m.ResolvedAt},
		{"closed", m.ClosedAt}} {
		t.row("", row.name, fmtTimePtr(row.at))
	}
	_ = t.flush()

	if v.Escalation != nil {
		printEscalation(w, v.Escalation)
	}

	if len(v.Timeline) < v.Events {
		fmt.Fprintf(w, "\nTimeline (last %d of %d; all: firebreak incident timeline %s)\n", len(v.Timeline), v.Events,
			inc.Reference)
	} else {
		fmt.Fprintf(w, "\nTimeline (%d)\n", v.Events)
	}
	if len(v.Timeline) > 0 {
		printTimeline(w, v.Timeline, true)
	}

	fmt.Fprintf(w, "\nUpdates (%d)\n", len(v.Updates))
	if len(v.Updates) > 0 {
		t = newTable(w, "  POSTED", "AUDIENCE", "STATUS", "BY", "MESSAGE")
		for _, u := range v.Updates {
			t.row("  "+fmtTime(u.CreatedAt), string(u.Audience), string(u.Status), u.Author, truncate(u.Message, 90))
		}
		_ = t.flush()
	}

	fmt.Fprintf(w, "\nAction items (%d)\n", len(v.ActionItems))
	if len(v.ActionItems) > 0 {
		t = newTable(w, "  STATUS", "PRIORITY", "KIND", "OWNER", "DUE", "TITLE")
		for _, a := range v.ActionItems {
			title := a.Title
			if a.Status == firebreak.ActionNotDoing && a.Reason != "" {
				title += " (not doing: " + a.Reason + ")"
			}
			t.row("  "+string(a.Status), string(a.Priority), string(a.Kind), orDash(a.Owner), orDash(a.DueDate),
				truncate(title, 90))
		}
		_ = t.flush()
	}
}

// printEscalation says where the incident's paging stands: each running policy's last step and whom it paged,
// its next step, whom and when; or how the paging ended.
func printEscalation(w io.Writer, e *firebreak.IncidentEscalation) {
	step := func(s *firebreak.EscalationStepState, r firebreak.RunningEscalation) string {
		out := fmt.Sprintf("step %d of %d", s.Step, r.Steps)
		if r.Rounds > 1 {
			out += fmt.Sprintf(" (round %d of %d)", s.Round, r.Rounds)
		}
		return out
	}
	fmt.Fprintf(w, "\nEscalation: %s\n", e.State)
	for _, r := range e.Running {
		fmt.Fprintf(w, "  Policy %s, started %s\n", r.Policy, fmtTime(r.StartedAt))
		if cur := r.Current; cur != nil {
			who := strings.Join(cur.Paged, ", ")
			if who == "" {
				who = "nobody"
			}
			fmt.Fprintf(w, "  Paged:  %s paged %s at %s\n", step(cur, r), who, fmtTimePtr(cur.PagedAt))
			if len(cur.Unreachable) > 0 {
				fmt.Fprintf(w, "          unreachable: %s\n", strings.Join(cur.Unreachable, "; "))
			}
		}
		in := "due now"
		if d := r.NextAt.Sub(e.AsOf); d > 0 {
			in = "in " + fmtDuration(d)
		}
		if next := r.Next; next != nil {
			fmt.Fprintf(w, "  Next:   %s pages %s at %s (%s) unless acknowledged\n", step(next, r),
				next.TargetsText(), fmtTime(r.NextAt), in)
			if len(next.Unreachable) > 0 {
				fmt.Fprintf(w, "          unreachable then: %s\n", strings.Join(next.Unreachable, "; "))
			}
		} else {
			fmt.Fprintf(w, "  Next:   the escalation is exhausted at %s (%s) unless acknowledged\n", fmtTime(r.NextAt), in)
		}
	}
	if len(e.Running) == 0 {
		for _, end := range e.Ended {
			fmt.Fprintf(w, "  Policy %s: %s at %s (%s)\n", end.Policy, end.State, fmtTime(end.At), end.Reason)
		}
		if len(e.Ended) == 0 {
			if len(e.Policies) == 0 {
				fmt.Fprintln(w, "  No escalation policy: none of the affected services has one.")
			} else {
				fmt.Fprintf(w, "  Policy %s has not paged this incident.\n", strings.Join(e.Policies, ", "))
			}
		}
	}
	for _, c := range e.Criteria {
		if c.DueAt != nil {
			fmt.Fprintf(w, "  Criterion %s at %s: %s\n", c.Criterion, fmtTimePtr(c.DueAt), c.Description)
		} else if c.FiredAt != nil {
			fmt.Fprintf(w, "  Criterion %s fired at %s\n", c.Criterion, fmtTimePtr(c.FiredAt))
		}
	}
}

// impactDuration is how long users were affected: from impact start (or detection) to resolution, or so far.
func impactDuration(inc *firebreak.Incident) string {
	m := inc.Milestones
	start := m.ImpactStartedAt
	if start == nil {
		start = m.DetectedAt
	}
	if start == nil {
		return ""
	}
	switch {
	case m.ResolvedAt != nil:
		return fmtDuration(m.ResolvedAt.Sub(*start))
	case inc.Status == firebreak.StatusCancelled:
		return ""
	}
	return fmtDuration(time.Since(*start)) + " so far"
}

// printTimeline prints events in time order; ★ marks key (starred) events and "recorded" shows when a
// backdated entry was written down.
func printTimeline(w io.Writer, evs []firebreak.TimelineEvent, indent bool) {
	pre := ""
	if indent {
		pre = "  "
	}
	t := newTable(w, pre+"TIME", "KIND", "ACTOR", "MESSAGE")
	for _, ev := range evs {
		when := pre + fmtTime(ev.OccurredAt)
		if ev.Starred {
			when += " ★"
		}
		msg := ev.Message
		if ev.RecordedAt.Sub(ev.OccurredAt) > time.Minute {
			msg += " (recorded " + fmtTime(ev.RecordedAt) + ")"
		}
		t.row(when, string(ev.Kind), ev.Actor, msg)
	}
	_ = t.flush()
}

func newIncidentTimelineCmd(f *apiFlags) *cobra.Command {
	var starred bool
	cmd := &cobra.Command{
		Use:     "timeline INC-7",
		Short:   "Print an incident's whole timeline in time order",
		Example: "  firebreak incident timeline INC-7 --starred",
		Args:    exactArgs("an incident"),
		RunE: func(cmd *cobra.Command, args []string) error {
			evs, err := allTimeline(cmd.Context(), f.client(), args[0], starred)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), firebreak.Page[firebreak.TimelineEvent]{Items: evs})
			}
			if len(evs) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "No timeline events.")
				return nil
			}
			printTimeline(cmd.OutOrStdout(), evs, false)
			return nil
		},
	}
	cmd.Flags().BoolVar(&starred, "starred", false, "only starred (key) events")
	return cmd
}

func newIncidentStatusCmd(f *apiFlags) *cobra.Command {
	var msg string
	cmd := &cobra.Command{
		Use:   "status INC-7 STATUS",
		Short: "Move an incident to another status",
		Long: "Move an incident to another status: " + strings.Join(statusNames(), ", ") + ".\n" +
			"Statuses set the milestones they imply (acknowledged, mitigated, resolved, closed).",
		Example: `  firebreak incident status INC-7 mitigating -m "rolled back the deploy"`,
		Args:    exactArgs("an incident", "a status"),
		RunE: func(cmd *cobra.Command, args []string) error {
			to := firebreak.Status(strings.ToLower(args[1]))
			inc, err := f.client().ChangeStatus(cmd.Context(), args[0], to, msg, 0)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s is now %s: %s\n", inc.Reference, inc.Status, inc.Title)
			return nil
		},
	}
	cmd.Flags().StringVarP(&msg, "message", "m", "", "why (shown on the timeline)")
	return cmd
}

func statusNames() []string {
	out := make([]string, len(firebreak.Statuses))
	for i, s := range firebreak.Statuses {
		out[i] = string(s)
	}
	return out
}

func newIncidentResolveCmd(f *apiFlags) *cobra.Command {
	var msg string
	cmd := &cobra.Command{
		Use:     "resolve INC-7",
		Short:   "Resolve an incident (impact is over)",
		Example: `  firebreak incident resolve INC-7 -m "error rate normal for 30 minutes"`,
		Args:    exactArgs("an incident"),
		RunE: func(cmd *cobra.Command, args []string) error {
			inc, err := f.client().ChangeStatus(cmd.Context(), args[0], firebreak.StatusResolved, msg, 0)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Resolved %s: %s", inc.Reference, inc.Title)
			if d := impactDuration(inc); d != "" {
				fmt.Fprintf(cmd.OutOrStdout(), " (impact %s)", d)
			}
			fmt.Fprintln(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVarP(&msg, "message", "m", "", "resolution summary (shown on the timeline)")
	return cmd
}

func newIncidentAckCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "ack INC-7",
		Short:   "Acknowledge an incident: you have taken it on (sets acknowledged_at once)",
		Example: `  firebreak incident ack INC-7`,
		Args:    exactArgs("an incident"),
		RunE: func(cmd *cobra.Command, args []string) error {
			inc, err := f.client().AcknowledgeIncident(cmd.Context(), args[0], 0)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Acknowledged %s at %s: %s\n", inc.Reference,
				fmtTime(*inc.Milestones.AcknowledgedAt), inc.Title)
			return nil
		},
	}
}

func newIncidentAssignCmd(f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "assign INC-7 ROLE USER",
		Short:   "Give an incident role (commander, tech_lead, comms_lead) to a user",
		Example: "  firebreak incident assign INC-7 commander alice",
		Args:    exactArgs("an incident", "a role", "a user"),
		RunE: func(cmd *cobra.Command, args []string) error {
			role := parseRole(args[1])
			inc, err := f.client().AssignRole(cmd.Context(), args[0], role, args[2], 0)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), inc)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s is now %s\n", inc.Reference, role.Title(), inc.Roles[role])
			return nil
		},
	}
	return cmd
}

func newIncidentNoteCmd(f *apiFlags) *cobra.Command {
	var (
		at      string
		starred bool
	)
	cmd := &cobra.Command{
		Use:   "note INC-7 TEXT",
		Short: "Add a note to an incident's timeline, possibly backdated",
		Long: `Add a note to an incident's timeline. --at backdates it: a bare HH:MM is today in local time (or
yesterday when that would be in the future); YYYY-MM-DD HH:MM is local time; RFC 3339 carries its own zone.`,
		Example: `  firebreak incident note INC-7 "deploy of shipping v2.3 started" --at 14:00
  firebreak incident note INC-7 "rollback complete" --at 2026-11-22T14:30:00Z --star`,
		Args: exactArgs("an incident", "the text"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := firebreak.TimelineInput{Kind: firebreak.EventNote, Message: args[1], Starred: starred}
			if at != "" {
				t, err := parseAt(at, time.Now())
				if err != nil {
					return usageError(cmd, err)
				}
				in.OccurredAt = &t
			}
			ev, err := f.client().AddTimelineEvent(cmd.Context(), args[0], in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), ev)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added note #%d to %s at %s\n", ev.ID, refOf(args[0]), fmtTime(ev.OccurredAt))
			return nil
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "when it happened: HH:MM (today), YYYY-MM-DD HH:MM or RFC 3339")
	cmd.Flags().BoolVar(&starred, "star", false, "mark the note as a key event")
	return cmd
}

// refOf shows an incident argument as INC-n when it is a number.
func refOf(arg string) string {
	if n, ok := firebreak.ParseIncidentNumber(arg); ok {
		return firebreak.IncidentRef(n)
	}
	return arg
}

func newIncidentUpdateCmd(f *apiFlags) *cobra.Command {
	var audience string
	cmd := &cobra.Command{
		Use:   "update INC-7 MESSAGE",
		Short: "Post a status update to stakeholders",
		Long: `Post a status update. --audience internal (default) reaches the team; external goes to the public
status page; all goes to both.`,
		Example: `  firebreak incident update INC-7 "We have identified the cause and are rolling out a fix." --audience external`,
		Args:    exactArgs("an incident", "the message"),
		RunE: func(cmd *cobra.Command, args []string) error {
			aud := firebreak.Audience(strings.ToLower(audience))
			if !slices.Contains([]firebreak.Audience{firebreak.AudienceInternal, firebreak.AudienceExternal,
				firebreak.AudienceAll}, aud) {
				return usageError(cmd, fmt.Errorf("--audience must be internal, external or all"))
			}
			u, err := f.client().PostUpdate(cmd.Context(), args[0], firebreak.UpdateInput{Message: args[1], Audience: aud})
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), u)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Posted %s update to %s (status %s)\n", u.Audience, refOf(args[0]), u.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&audience, "audience", "internal", "internal, external or all")
	return cmd
}
