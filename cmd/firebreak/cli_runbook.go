package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

// firebreak runbook list|show|create|edit|review: Markdown runbooks per service over the API.
func newRunbookCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("runbook", "Markdown runbooks per service: list, show, create, edit, review")
	cmd.Aliases = []string{"runbooks"}
	cmd.Long = `Markdown runbooks per service, with every saved version kept, an owner and a review date. A runbook is
stale when nobody reviewed it for 90 days, or when its service's architecture changed after its last review
(PATCH /api/v1/services/{slug} {"architecture_changed_at": ...}). Runbooks are named by their id, a unique start
of it (6 characters or more), or their exact title.`
	f.bind(cmd)
	cmd.AddCommand(newRunbookListCmd(f), newRunbookShowCmd(f), newRunbookCreateCmd(f), newRunbookEditCmd(f),
		newRunbookReviewCmd(f))
	return cmd
}

// readBody reads a runbook's Markdown from a file, or standard input for "-".
func readBody(cmd *cobra.Command, path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), firebreak.MaxRunbookLen+1))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", fmt.Errorf("reading the runbook: %w", err)
	}
	return string(b), nil
}

// resolveRunbook turns an id, a unique start of one or an exact title into a runbook's id.
func resolveRunbook(ctx context.Context, c *client.Client, arg string) (string, error) {
	arg = strings.TrimSpace(arg)
	if u, err := uuid.Parse(arg); err == nil {
		return u.String(), nil
	}
	var found []firebreak.Runbook
	f := firebreak.RunbookFilter{Limit: firebreak.MaxLimit}
	for {
		p, err := c.ListRunbooks(ctx, f)
		if err != nil {
			return "", apiError(err)
		}
		for _, rb := range p.Items {
			if strings.EqualFold(rb.Title, arg) || (len(arg) >= 6 && strings.HasPrefix(rb.ID, strings.ToLower(arg))) {
				found = append(found, rb)
			}
		}
		if p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	switch len(found) {
	case 1:
		return found[0].ID, nil
	case 0:
		return "", fmt.Errorf("no runbook is named %q (see: firebreak runbook list)", arg)
	}
	var names []string
	for _, rb := range found {
		names = append(names, rb.ID+" ("+rb.Service+": "+rb.Title+")")
	}
	return "", fmt.Errorf("%q names %d runbooks; use an id:\n  %s", arg, len(found), strings.Join(names, "\n  "))
}

func staleText(rb firebreak.Runbook) string {
	if rb.Stale {
		return "STALE"
	}
	return "ok"
}

func newRunbookListCmd(f *apiFlags) *cobra.Command {
	var (
		services []string
		stale    bool
		fresh    bool
		filter   firebreak.RunbookFilter
		all      bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List runbooks by service, stale ones flagged",
		Example: `  firebreak runbook list --stale
  firebreak runbook list --service postgres-primary`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter.Services = splitList(services)
			if stale && fresh {
				return usageError(cmd, fmt.Errorf("--stale and --fresh exclude each other"))
			}
			if stale || fresh {
				filter.Stale = &stale
			}
			c := f.client()
			items, next, err := listPages(all, &filter.Cursor, func() (*firebreak.Page[firebreak.Runbook], error) {
				return c.ListRunbooks(cmd.Context(), filter)
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Runbook]{Items: items, NextCursor: next})
			}
			if len(items) == 0 {
				fmt.Fprintln(out, "No runbooks.")
				return nil
			}
			t := newTable(out, "ID", "SERVICE", "TITLE", "OWNER", "REVIEWED", "STATE", "V")
			for _, rb := range items {
				t.row(rb.ID, rb.Service, truncate(rb.Title, 50), rb.Owner, fmtTimePtr(rb.LastReviewedAt), staleText(rb),
					fmt.Sprint(rb.Version))
			}
			_ = t.flush()
			if next != "" {
				fmt.Fprintln(out, "(more runbooks: use --all, or --limit)")
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&services, "service", nil, "only runbooks of these services (repeatable, or comma-separated)")
	fl.BoolVar(&stale, "stale", false, "only stale runbooks")
	fl.BoolVar(&fresh, "fresh", false, "only runbooks that are not stale")
	fl.IntVar(&filter.Limit, "limit", 0, "runbooks per page")
	fl.BoolVar(&all, "all", false, "follow every page")
	return cmd
}

// runbookView is what "runbook show" prints as JSON.
type runbookView struct {
	Runbook   *firebreak.Runbook          `json:"runbook"`
	Revisions []firebreak.RunbookRevision `json:"revisions,omitempty"`
}

func newRunbookShowCmd(f *apiFlags) *cobra.Command {
	var revisions bool
	var version int64
	cmd := &cobra.Command{
		Use:   "show RUNBOOK",
		Short: "Show a runbook (its Markdown), its owner, review and staleness",
		Example: `  firebreak runbook show "Database failover"
  firebreak runbook show 0190c1d2 --revisions`,
		Args: exactArgs("a runbook"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, c := cmd.Context(), f.client()
			id, err := resolveRunbook(ctx, c, args[0])
			if err != nil {
				return err
			}
			rb, err := c.GetRunbook(ctx, id)
			if err != nil {
				return apiError(err)
			}
			v := runbookView{Runbook: rb}
			if revisions || version > 0 {
				if v.Revisions, err = c.ListRunbookRevisions(ctx, id); err != nil {
					return apiError(err)
				}
			}
			out := cmd.OutOrStdout()
			if version > 0 {
				for _, r := range v.Revisions {
					if r.Version == version {
						if f.json {
							return printJSON(out, r)
						}
						fmt.Fprintf(out, "%s — version %d, saved by %s at %s\n\n%s\n", r.Title, r.Version, r.Author,
							fmtTime(r.SavedAt), strings.TrimRight(r.Body, "\n"))
						return nil
					}
				}
				return fmt.Errorf("runbook %q has no version %d (it is at version %d)", rb.Title, version, rb.Version)
			}
			if f.json {
				return printJSON(out, v)
			}
			fmt.Fprintf(out, "%s  (%s)\n", rb.Title, rb.Service)
			t := newTable(out)
			t.row("Owner:", rb.Owner)
			reviewed := "never"
			if rb.LastReviewedAt != nil {
				reviewed = fmtTimePtr(rb.LastReviewedAt) + " by " + rb.LastReviewedBy
			}
			t.row("Reviewed:", reviewed)
			t.row("Review due:", fmtTime(rb.ReviewDueAt))
			t.row("Version:", fmt.Sprintf("%d, saved by %s at %s", rb.Version, rb.UpdatedBy, fmtTime(rb.UpdatedAt)))
			t.row("ID:", rb.ID)
			_ = t.flush()
			if rb.Stale {
				fmt.Fprintf(out, "\nSTALE: %s.\nReview it (firebreak runbook review %s) once it matches the system.\n",
					strings.Join(rb.StaleReasons, "; "), rb.ID)
			}
			fmt.Fprintf(out, "\n%s\n", strings.TrimRight(rb.Body, "\n"))
			if revisions {
				fmt.Fprintf(out, "\nRevisions (%d)\n", len(v.Revisions))
				t := newTable(out, "  VERSION", "SAVED", "BY", "TITLE")
				for _, r := range v.Revisions {
					t.row(fmt.Sprintf("  %d", r.Version), fmtTime(r.SavedAt), r.Author, truncate(r.Title, 60))
				}
				_ = t.flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&revisions, "revisions", false, "also list every saved version")
	cmd.Flags().Int64Var(&version, "version", 0, "show this saved version instead of the current one")
	return cmd
}

func newRunbookCreateCmd(f *apiFlags) *cobra.Command {
	var in firebreak.RunbookInput
	var file string
	cmd := &cobra.Command{
		Use:   "create --service SLUG --title TITLE --file PATH|-",
		Short: "Create a runbook from a Markdown file (or standard input)",
		Example: `  firebreak runbook create --service postgres-primary --title "Database failover" --file failover.md
  cat failover.md | firebreak runbook create --service postgres-primary --title "Database failover" --file -`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return usageError(cmd, fmt.Errorf("--file is required (a Markdown file, or - for standard input)"))
			}
			body, err := readBody(cmd, file)
			if err != nil {
				return err
			}
			in.Body = body
			rb, err := f.client().CreateRunbook(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), rb)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created runbook %s for %s: %s (owner %s)\n", rb.ID, rb.Service, rb.Title, rb.Owner)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Service, "service", "", "the service's slug (required)")
	fl.StringVar(&in.Title, "title", "", "one-line title (required)")
	fl.StringVar(&file, "file", "", "the Markdown body: a file, or - for standard input (required)")
	fl.StringVar(&in.Owner, "owner", "", "the owner's username (default: you)")
	return cmd
}

func newRunbookEditCmd(f *apiFlags) *cobra.Command {
	var (
		title, owner, service, file string
		version                     int64
	)
	cmd := &cobra.Command{
		Use:   "edit RUNBOOK [--file PATH|-] [--title T] [--owner USER] [--service SLUG] [--version N]",
		Short: "Save a new version of a runbook",
		Long: `Save a new version of a runbook. With --version, the edit applies only if the runbook is still at that
version (someone else's save in between is refused, not overwritten); without it, the current version is edited.`,
		Example: `  firebreak runbook edit "Database failover" --file failover.md --version 3`,
		Args:    exactArgs("a runbook"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, c := cmd.Context(), f.client()
			var p firebreak.RunbookPatch
			fl := cmd.Flags()
			if fl.Changed("title") {
				p.Title = &title
			}
			if fl.Changed("owner") {
				p.Owner = &owner
			}
			if fl.Changed("service") {
				p.Service = &service
			}
			if file != "" {
				body, err := readBody(cmd, file)
				if err != nil {
					return err
				}
				p.Body = &body
			}
			if p == (firebreak.RunbookPatch{}) {
				return usageError(cmd, fmt.Errorf("nothing to change: give --file, --title, --owner or --service"))
			}
			id, err := resolveRunbook(ctx, c, args[0])
			if err != nil {
				return err
			}
			rb, err := c.UpdateRunbook(ctx, id, p, version)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), rb)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Saved %s, version %d\n", rb.Title, rb.Version)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&file, "file", "", "the new Markdown body: a file, or - for standard input")
	fl.StringVar(&title, "title", "", "a new title")
	fl.StringVar(&owner, "owner", "", "a new owner (username)")
	fl.StringVar(&service, "service", "", "move it to another service (slug)")
	fl.Int64Var(&version, "version", 0, "the version you edited (refused if someone saved since)")
	return cmd
}

func newRunbookReviewCmd(f *apiFlags) *cobra.Command {
	var version int64
	cmd := &cobra.Command{
		Use:     "review RUNBOOK",
		Short:   "Record that you reviewed a runbook now (it matches the system)",
		Example: `  firebreak runbook review "Database failover"`,
		Args:    exactArgs("a runbook"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, c := cmd.Context(), f.client()
			id, err := resolveRunbook(ctx, c, args[0])
			if err != nil {
				return err
			}
			rb, err := c.ReviewRunbook(ctx, id, version)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), rb)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Reviewed %s (version %d); next review due %s\n", rb.Title, rb.Version,
				fmtTime(rb.ReviewDueAt))
			if rb.Stale {
				fmt.Fprintf(cmd.OutOrStdout(), "Still stale: %s\n", strings.Join(rb.StaleReasons, "; "))
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&version, "version", 0, "the version you reviewed (refused if it changed since)")
	return cmd
}
