package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

// Post-mortems: show, create, edit (a JSON patch from a file), the workflow steps and the Markdown export.

func newPostmortemCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("postmortem", "Write, review and publish incident post-mortems")
	cmd.Aliases = []string{"pm"}
	f.bind(cmd)
	cmd.AddCommand(newPostmortemShowCmd(f), newPostmortemCreateCmd(f), newPostmortemEditCmd(f),
		newPostmortemStepCmd(f, "submit", "Submit a draft for review (responder)"),
		newPostmortemApproveCmd(f),
		newPostmortemStepCmd(f, "publish", "Publish a post-mortem; lists what is missing when it cannot (responder)"),
		newPostmortemCloseCmd(f), newPostmortemExportCmd(f), newPostmortemRevisionsCmd(f))
	return cmd
}

func printPostmortem(w io.Writer, pm *firebreak.Postmortem) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Post-mortem of %s:\t%s\n", pm.IncidentRef, pm.Title)
	fmt.Fprintf(tw, "Status:\t%s (version %d)\n", pm.Status, pm.Version)
	if pm.PublishedAt != nil {
		fmt.Fprintf(tw, "Published:\t%s\n", pm.PublishedAt.Format("2006-01-02 15:04 MST"))
	}
	if pm.FollowUpAt != nil {
		fmt.Fprintf(tw, "Follow-up review:\t%s\n", pm.FollowUpAt.Format("2006-01-02 15:04 MST"))
	}
	var reviewers []string
	for _, r := range pm.Reviewers {
		s := r.User
		if r.Approver {
			s += " (approver"
			if r.ApprovedAt != nil {
				s += ", approved"
			}
			s += ")"
		}
		reviewers = append(reviewers, s)
	}
	if len(reviewers) > 0 {
		fmt.Fprintf(tw, "Reviewers:\t%s\n", strings.Join(reviewers, ", "))
	}
	fmt.Fprintf(tw, "Contributing factors:\t%d\n", len(pm.ContributingFactors))
	fmt.Fprintf(tw, "Action items:\t%d\n", len(pm.ActionItems))
	if err := tw.Flush(); err != nil {
		return err
	}
	if missing := pm.Missing(); len(missing) > 0 && (pm.Status == firebreak.PostmortemDraft ||
		pm.Status == firebreak.PostmortemInReview) {
		fmt.Fprintf(w, "\nMissing before publishing:\n")
		for _, m := range missing {
			fmt.Fprintf(w, "  %s: %s\n", m.Field, m.Message)
		}
	}
	if len(pm.Lint) > 0 {
		fmt.Fprintf(w, "\nBlameless lint:\n")
		for _, l := range pm.Lint {
			fmt.Fprintf(w, "  [%s] %s: %q %s\n", l.Severity, l.Field, l.Words, l.Message)
		}
	}
	return nil
}

func pmOut(cmd *cobra.Command, f *apiFlags, pm *firebreak.Postmortem, lead string) error {
	if f.json {
		return printJSON(cmd.OutOrStdout(), pm)
	}
	if lead != "" {
		fmt.Fprintln(cmd.OutOrStdout(), lead)
	}
	return printPostmortem(cmd.OutOrStdout(), pm)
}

func newPostmortemShowCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "show INCIDENT",
		Short:   "Show an incident's post-mortem: status, reviewers, what is missing, lint findings",
		Example: "  firebreak postmortem show INC-12\n  firebreak postmortem show INC-12 --json",
		Args:    exactArgs("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pm, err := f.client().GetPostmortem(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			return pmOut(cmd, f, pm, "")
		},
	}
}

func newPostmortemCreateCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "create INCIDENT",
		Short: "Draft a post-mortem now (SEV1 and SEV2 get one when resolved) (responder)",
		Args:  exactArgs("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pm, err := f.client().CreatePostmortem(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			return pmOut(cmd, f, pm, "Drafted the post-mortem of "+pm.IncidentRef)
		},
	}
}

func newPostmortemEditCmd(f *apiFlags) *cobra.Command {
	var file string
	var version int64
	cmd := &cobra.Command{
		Use:   "edit INCIDENT --file PATCH.json",
		Short: "Save sections from a JSON file (the API's PostmortemPatch; - reads stdin) (responder)",
		Long: "Saves the fields of the file (only those). The save is conditional on --version, the version you " +
			"edited (see 'postmortem show'); without it, on the version current when the command starts.",
		Example: `  echo '{"trigger":"A flag enabled the new path everywhere","lessons_learned":["Stage flags"]}' |
    firebreak postmortem edit INC-12 --file - --version 3`,
		Args: exactArgs("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return usageError(cmd, fmt.Errorf("--file is required"))
			}
			var raw []byte
			var err error
			if file == "-" {
				raw, err = io.ReadAll(cmd.InOrStdin())
			} else {
				raw, err = os.ReadFile(file)
			}
			if err != nil {
				return err
			}
			var p firebreak.PostmortemPatch
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				return fmt.Errorf("%s: not a post-mortem patch: %v", file, err)
			}
			c := f.client()
			if version == 0 {
				cur, err := c.GetPostmortem(cmd.Context(), args[0])
				if err != nil {
					return apiError(err)
				}
				version = cur.Version
			}
			pm, err := c.UpdatePostmortem(cmd.Context(), args[0], p, version)
			if err != nil {
				return apiError(err)
			}
			return pmOut(cmd, f, pm, fmt.Sprintf("Saved version %d", pm.Version))
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "JSON patch file (- for stdin)")
	cmd.Flags().Int64Var(&version, "version", 0, "the version you edited (refused if someone saved since)")
	return cmd
}

func newPostmortemStepCmd(f *apiFlags, step, short string) *cobra.Command {
	return &cobra.Command{
		Use:   step + " INCIDENT",
		Short: short,
		Args:  exactArgs("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := f.client()
			var pm *firebreak.Postmortem
			var err error
			if step == "submit" {
				pm, err = c.SubmitPostmortem(cmd.Context(), args[0], 0)
			} else {
				pm, err = c.PublishPostmortem(cmd.Context(), args[0], 0)
			}
			if err != nil {
				return apiError(err)
			}
			lead := "Submitted the post-mortem of " + pm.IncidentRef + " for review"
			if step == "publish" {
				lead = "Published the post-mortem of " + pm.IncidentRef
			}
			return pmOut(cmd, f, pm, lead)
		},
	}
}

func newPostmortemApproveCmd(f *apiFlags) *cobra.Command {
	var in firebreak.ApproveInput
	var overrides []string
	cmd := &cobra.Command{
		Use:   "approve INCIDENT [--comment TEXT] [--override FIELD=REASON]...",
		Short: "Approve a post-mortem in review, optionally overriding blocking lint findings (an approver)",
		Example: `  firebreak postmortem approve INC-12 --comment "Good analysis"
  firebreak postmortem approve INC-12 --override 'five_whys[0].steps[3].answer=quoted from the chat log'`,
		Args: exactArgs("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, o := range overrides {
				field, reason, ok := strings.Cut(o, "=")
				if !ok || strings.TrimSpace(reason) == "" {
					return usageError(cmd, fmt.Errorf("--override %q: use FIELD=REASON (FIELD may be empty for all)", o))
				}
				in.Overrides = append(in.Overrides, firebreak.LintOverride{Field: field, Reason: reason})
			}
			pm, err := f.client().ApprovePostmortem(cmd.Context(), args[0], in, 0)
			if err != nil {
				return apiError(err)
			}
			return pmOut(cmd, f, pm, "Approved the post-mortem of "+pm.IncidentRef)
		},
	}
	cmd.Flags().StringVar(&in.Comment, "comment", "", "a comment")
	cmd.Flags().StringArrayVar(&overrides, "override", nil, "override blocking lint findings of FIELD, with a reason")
	return cmd
}

func newPostmortemCloseCmd(f *apiFlags) *cobra.Command {
	var notes string
	cmd := &cobra.Command{
		Use:   "close INCIDENT [--notes TEXT]",
		Short: "Close a published post-mortem after its follow-up review (responder)",
		Args:  exactArgs("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			pm, err := f.client().ClosePostmortem(cmd.Context(), args[0], notes, 0)
			if err != nil {
				return apiError(err)
			}
			return pmOut(cmd, f, pm, "Closed the post-mortem of "+pm.IncidentRef)
		},
	}
	cmd.Flags().StringVar(&notes, "notes", "", "notes of the follow-up review")
	return cmd
}

func newPostmortemExportCmd(f *apiFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "export INCIDENT [--output FILE]",
		Short:   "Export a post-mortem as Markdown (stdout unless --output)",
		Example: "  firebreak postmortem export INC-12 > INC-12.md",
		Args:    exactArgs("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			md, _, err := f.client().PostmortemMarkdown(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			if output != "" {
				return os.WriteFile(output, []byte(md), 0o644)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), md)
			return err
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file")
	return cmd
}

func newPostmortemRevisionsCmd(f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revisions INCIDENT",
		Short: "List the saved versions of a post-mortem",
		Args:  exactArgs("INCIDENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			revs, err := f.client().ListPostmortemRevisions(cmd.Context(), args[0])
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), revs)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tACTION\tBY\tSAVED")
			for _, r := range revs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Version, r.Action, r.Author, r.SavedAt.Format("2006-01-02 15:04:05 MST"))
			}
			return tw.Flush()
		},
	}
}
