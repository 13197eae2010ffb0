package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

// firebreak follow-ups: action items across incidents, due soonest first.
func newFollowUpsCmd() *cobra.Command {
	f := &apiFlags{}
	var (
		filter   firebreak.ActionItemFilter
		statuses []string
	)
	cmd := &cobra.Command{
		Use:     "follow-ups",
		Aliases: []string{"action-items"},
		Short:   "List action items across incidents, due soonest first (--overdue: the late ones)",
		Example: `  firebreak follow-ups --overdue
  firebreak follow-ups --owner bob --status open,in_progress --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, s := range splitList(statuses) {
				st := firebreak.ActionItemStatus(strings.ToLower(s))
				if !slices.Contains(firebreak.ActionItemStatuses, st) {
					return usageError(cmd, fmt.Errorf("--status %q: use open, in_progress, done, verified or not_doing", s))
				}
				filter.Status = append(filter.Status, st)
			}
			p, err := f.client().ListFollowUps(cmd.Context(), filter)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, p)
			}
			if len(p.Items) == 0 {
				fmt.Fprintln(out, "No action items.")
				return nil
			}
			t := newTable(out, "DUE", "STATUS", "OWNER", "ITEM", "INCIDENT", "SEV", "REMINDED")
			for _, it := range p.Items {
				due := it.DueDate
				if it.Overdue {
					due += " (overdue)"
				}
				t.row(due, string(it.Status), it.Owner, truncate(it.Title, 50), it.IncidentRef, string(it.Severity),
					fmtReminded(it.RemindedAt))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if p.NextCursor != "" {
				fmt.Fprintln(out, "(more: use --limit)")
			}
			return nil
		},
	}
	f.bind(cmd)
	fl := cmd.Flags()
	fl.StringVar(&filter.Owner, "owner", "", "only this owner's items")
	fl.StringArrayVar(&statuses, "status", nil, "only these statuses (repeatable, or comma-separated)")
	fl.BoolVar(&filter.Overdue, "overdue", false, "only open or in-progress items due before today (UTC)")
	fl.IntVar(&filter.Limit, "limit", 0, fmt.Sprintf("items per page (default %d, at most %d)", firebreak.DefaultLimit,
		firebreak.MaxLimit))
	cmd.AddCommand(newFollowUpReviewsCmd(f)) // cli_followthrough.go
	return cmd
}
