package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

// The knowledge base: full-text search over past incidents.

func newSearchCmd() *cobra.Command {
	var (
		f            apiFlags
		sq           firebreak.SearchQuery
		services     []string
		severities   []string
		categories   []string
		tags         []string
		since, until string
	)
	cmd := &cobra.Command{
		Use:   "search QUERY...",
		Short: "Search past incidents: titles, summaries, timeline notes and status updates",
		Long: `Search past incidents by full text. All words must match; "a phrase" must appear in order, -word
excludes incidents that mention it, and word* matches prefixes. Matched words are shown «like this».`,
		Example: `  firebreak search connection pool exhaustion
  firebreak search '"read replica" lag -staging' --service db --since 2026-01-01
  firebreak search 'pay*' --severity SEV1,SEV2 --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError(cmd, fmt.Errorf("expected the words to search for"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			sq.Q = strings.Join(args, " ")
			sq.Services = splitList(services)
			for _, s := range splitList(severities) {
				sq.Severities = append(sq.Severities, parseSeverity(s))
			}
			for _, c := range splitList(categories) {
				sq.Categories = append(sq.Categories, firebreak.FishboneCategory(strings.ToLower(c)))
			}
			sq.Tags = splitList(tags)
			var err error
			if sq.Since, err = parseSearchDate("--since", since); err != nil {
				return usageError(cmd, err)
			}
			if sq.Until, err = parseSearchDate("--until", until); err != nil {
				return usageError(cmd, err)
			}
			p, err := f.client().Search(cmd.Context(), sq)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, p)
			}
			return printSearchHits(out, p)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&services, "service", nil, "only incidents affecting these services (repeatable, or comma-separated)")
	fl.StringArrayVar(&severities, "severity", nil, "only these severities (repeatable, or comma-separated)")
	fl.StringArrayVar(&categories, "category", nil, "only incidents whose post-mortem names a contributing factor "+
		"of this category (change_release, code_design, capacity_scale, infrastructure, dependencies, "+
		"observability, process, knowledge_tooling, unknown; repeatable)")
	fl.StringArrayVar(&tags, "tag", nil, "only incidents with this tag (repeatable, or comma-separated)")
	fl.StringVar(&since, "since", "", "only incidents declared at or after this date (2026-01-31 or RFC 3339)")
	fl.StringVar(&until, "until", "", "only incidents declared before this date (2026-01-31 or RFC 3339)")
	fl.IntVar(&sq.Limit, "limit", 0, "how many hits (default 50, at most 500)")
	fl.StringVar(&sq.Cursor, "cursor", "", "the next page: the cursor a previous --json answer gave")
	f.bind(cmd)
	return cmd
}

// parseSearchDate reads a date (local midnight) or an RFC 3339 time; empty is nil.
func parseSearchDate(flag, s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, time.Local); err == nil {
		return &t, nil
	}
	return nil, fmt.Errorf("%s %q: use a date (2026-01-31) or RFC 3339 (2026-01-31T14:00:00Z)", flag, s)
}

func printSearchHits(out io.Writer, p *firebreak.Page[firebreak.SearchHit]) error {
	if len(p.Items) == 0 {
		_, err := fmt.Fprintln(out, "Nothing found.")
		return err
	}
	for _, h := range p.Items {
		var snip strings.Builder
		for _, part := range h.SnippetParts() {
			if part.Match {
				snip.WriteString("«" + part.Text + "»")
			} else {
				snip.WriteString(part.Text)
			}
		}
		line := strings.Join(strings.Fields(snip.String()), " ")
		if h.Kind == firebreak.SearchKindRunbook { // a runbook belongs to no incident: show its id
			fmt.Fprintf(out, "runbook  %s  %s\n", h.Title, h.ID)
		} else {
			fmt.Fprintf(out, "%s  %s  %s  %s\n", h.Ref, h.Severity, h.Status, h.Title)
		}
		meta := fmtTimePtr(h.DeclaredAt)
		if len(h.Services) > 0 {
			meta += "  " + strings.Join(h.Services, ", ")
		}
		if len(h.Tags) > 0 {
			meta += "  #" + strings.Join(h.Tags, " #")
		}
		fmt.Fprintf(out, "    %s\n    %s\n", meta, line)
	}
	if p.NextCursor != "" {
		fmt.Fprintf(out, "(more hits: --cursor %s)\n", p.NextCursor)
	}
	return nil
}
