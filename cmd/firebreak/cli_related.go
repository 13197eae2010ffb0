package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

// firebreak incident related INC-7: the incidents that look like this one, and its recurrence warning.

func newIncidentRelatedCmd(f *apiFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "related INC-7",
		Short: "List the incidents that look like this one, with a score and the reasons",
		Long: `List the incidents related to an incident, best first: each with its score (similarity × recency,
0 to 1) and the reasons (similar text, shared services, shared alerts, same cause category, recency). When the
incident looks like an earlier one whose action items are still open or unverified, the warning comes first.`,
		Example: `  firebreak incident related INC-42
  firebreak incident related 42 --limit 3 --json`,
		Args: exactArgs("an incident"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 || limit > firebreak.MaxRelatedLimit {
				return usageError(cmd, fmt.Errorf("--limit must be from 1 to %d", firebreak.MaxRelatedLimit))
			}
			rel, err := f.client().RelatedIncidents(cmd.Context(), args[0], limit)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), rel)
			}
			return printRelated(cmd.OutOrStdout(), rel)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, fmt.Sprintf("how many (default %d, at most %d)",
		firebreak.DefaultRelatedLimit, firebreak.MaxRelatedLimit))
	return cmd
}

func printRelated(out io.Writer, rel *firebreak.Related) error {
	if w := rel.Recurrence; w != nil && w.OpenActionItems > 0 {
		fmt.Fprintf(out, "Warning: %s\n", w.Message)
		for _, a := range w.ActionItems {
			owner := a.Owner
			if owner == "" {
				owner = "no owner"
			}
			fmt.Fprintf(out, "    %s  %-11s  %s (%s)\n", w.OfRef, a.Status, a.Title, owner)
		}
		fmt.Fprintln(out)
	}
	if len(rel.Items) == 0 {
		_, err := fmt.Fprintf(out, "No incidents related to %s.\n", rel.Ref)
		return err
	}
	for _, r := range rel.Items {
		fmt.Fprintf(out, "%s  %.2f  %s  %s  %s\n", r.Ref, r.Score, r.Severity, r.Status, r.Title)
		var why []string
		for _, x := range r.Reasons {
			why = append(why, x.Detail)
		}
		meta := fmtTimePtr(r.DeclaredAt)
		if r.OpenActionItems > 0 {
			meta += fmt.Sprintf("  %d action items open or unverified", r.OpenActionItems)
		}
		fmt.Fprintf(out, "    %s\n    %s\n", meta, strings.Join(why, "; "))
	}
	return nil
}
