package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

// Follow-through from the command line: incident tags, team channels (where overdue items are escalated) and the
// follow-up reviews of published post-mortems.

// firebreak incident tags INC-7 [TAG...]: show or replace an incident's tags.
func newIncidentTagsCmd(f *apiFlags) *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use:   "tags INC-7 [TAG...]",
		Short: "Show an incident's tags, or replace them (--clear removes them all)",
		Example: `  firebreak incident tags INC-7 promo-event checkout
  firebreak incident tags INC-7 --clear`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(cmd, fmt.Errorf("expected an incident (INC-7)"))
			}
			if clear && len(args) > 1 {
				return usageError(cmd, fmt.Errorf("give tags or --clear, not both"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			var inc *firebreak.Incident
			var err error
			if len(args) == 1 && !clear {
				inc, err = c.GetIncident(cmd.Context(), args[0])
			} else {
				tags := splitList(args[1:])
				if tags == nil {
					tags = []string{}
				}
				inc, err = c.UpdateIncident(cmd.Context(), args[0], firebreak.IncidentPatch{Tags: &tags}, 0)
			}
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), inc.Tags)
			}
			if len(inc.Tags) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s has no tags.\n", inc.Reference)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", inc.Reference, strings.Join(inc.Tags, ", "))
			return nil
		},
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every tag")
	return cmd
}

// firebreak team channels TEAM [CHANNEL...]: show or replace a team's announcement channels.
func newTeamChannelsCmd(f *apiFlags) *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use:   "channels TEAM [CHANNEL...]",
		Short: "Show a team's channels, or replace them (admin; overdue action items of members are escalated there)",
		Example: `  firebreak team channels payments payments-slack
  firebreak team channels payments --clear`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(cmd, fmt.Errorf("expected a team slug"))
			}
			if clear && len(args) > 1 {
				return usageError(cmd, fmt.Errorf("give channels or --clear, not both"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			var t *firebreak.Team
			var err error
			if len(args) == 1 && !clear {
				t, err = c.GetTeam(cmd.Context(), args[0])
			} else {
				chs := splitList(args[1:])
				if chs == nil {
					chs = []string{}
				}
				t, err = c.UpdateTeam(cmd.Context(), args[0], firebreak.TeamPatch{Channels: &chs}, 0)
			}
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), t.Channels)
			}
			if len(t.Channels) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "Team %s has no channels.\n", t.Slug)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Team %s: %s\n", t.Slug, strings.Join(t.Channels, ", "))
			return nil
		},
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "remove every channel")
	return cmd
}

// firebreak follow-ups reviews [--due]: the follow-up reviews of published post-mortems.
func newFollowUpReviewsCmd(f *apiFlags) *cobra.Command {
	var filter firebreak.FollowUpReviewFilter
	cmd := &cobra.Command{
		Use:   "reviews [--due]",
		Short: "List the follow-up reviews of published post-mortems, soonest first (--due: the ones due now)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := f.client().ListFollowUpReviews(cmd.Context(), filter)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, p)
			}
			return printFollowUpReviews(out, p)
		},
	}
	cmd.Flags().BoolVar(&filter.Due, "due", false, "only reviews whose date has passed")
	cmd.Flags().IntVar(&filter.Limit, "limit", 0, fmt.Sprintf("reviews per page (default %d, at most %d)",
		firebreak.DefaultLimit, firebreak.MaxLimit))
	return cmd
}

func printFollowUpReviews(out io.Writer, p *firebreak.Page[firebreak.FollowUpReview]) error {
	if len(p.Items) == 0 {
		_, err := fmt.Fprintln(out, "No follow-up reviews.")
		return err
	}
	t := newTable(out, "REVIEW", "INCIDENT", "SEV", "OPEN ITEMS", "APPROVERS", "REMINDED")
	for _, r := range p.Items {
		when := r.FollowUpAt.UTC().Format("2006-01-02 15:04")
		if r.Due {
			when += " (due)"
		}
		t.row(when, r.IncidentRef+" "+truncate(r.IncidentTitle, 40), string(r.Severity), fmt.Sprint(r.OpenItems),
			strings.Join(r.Approvers, ","), fmtReminded(r.RemindedAt))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if p.NextCursor != "" {
		fmt.Fprintln(out, "(more: use --limit)")
	}
	return nil
}

// fmtReminded shows when a reminder was last sent ("—": never).
func fmtReminded(at *time.Time) string {
	if at == nil {
		return "—"
	}
	return at.UTC().Format("2006-01-02 15:04")
}
