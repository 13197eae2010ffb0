package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

// DefaultURL is where the CLI looks for the server when neither --url nor FIREBREAK_URL is set.
const DefaultURL = "http://127.0.0.1:8080"

// apiFlags are the flags every command that talks to the API shares: where the server is, the token, and
// whether to print JSON.
type apiFlags struct {
	url   string
	token string
	json  bool
}

// bind adds the flags as persistent flags of a command group. Their defaults, FIREBREAK_URL and FIREBREAK_TOKEN,
// are read when the command runs (so that help never prints the token).
func (f *apiFlags) bind(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.url, "url", "", "server URL (default: FIREBREAK_URL, else "+DefaultURL+")")
	pf.StringVar(&f.token, "token", "", "API token (default: FIREBREAK_TOKEN)")
	pf.BoolVar(&f.json, "json", false, "print the API's JSON instead of human output")
}

// baseURL is --url, else FIREBREAK_URL, else DefaultURL.
func (f *apiFlags) baseURL() string {
	switch {
	case f.url != "":
		return f.url
	case os.Getenv("FIREBREAK_URL") != "":
		return os.Getenv("FIREBREAK_URL")
	}
	return DefaultURL
}

// apiToken is --token, else FIREBREAK_TOKEN.
func (f *apiFlags) apiToken() string {
	if f.token != "" {
		return f.token
	}
	return os.Getenv("FIREBREAK_TOKEN")
}

func (f *apiFlags) client() *client.Client { return client.New(f.baseURL(), f.apiToken()) }

// groupCmd is a command that only holds subcommands: without arguments it prints its help; an unknown
// subcommand is a usage error.
func groupCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath()))
			}
			return cmd.Help()
		},
	}
}

// printJSON writes v as indented JSON, as the API encodes it.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// apiError turns an error from the API into what the CLI prints after "error: ": the problem's detail, each
// field error on its own line, the allowed values, and a hint for missing credentials.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	var e *firebreak.Error
	if !errors.As(err, &e) {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return fmt.Errorf("cannot reach the server: %v\nhint: is 'firebreak serve' running there? "+
				"Set FIREBREAK_URL (or --url) to its address", op)
		}
		return err
	}
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Message == "" {
		b.WriteString(e.Code)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	if len(e.Allowed) > 0 {
		fmt.Fprintf(&b, "\n  allowed: %s", strings.Join(e.Allowed, ", "))
	}
	switch e.Code {
	case firebreak.EUnauthorized:
		b.WriteString("\nhint: set FIREBREAK_TOKEN (or --token) to an API token; an admin creates one with " +
			"'firebreak admin token create --username NAME --name LABEL'")
	case firebreak.EForbidden:
		b.WriteString("\nhint: your token's role is too low for this; ask an admin for a token with a higher role")
	}
	return errors.New(b.String())
}

// usageError is a wrong command line: it names the problem and how to get help.
func usageError(cmd *cobra.Command, err error) error {
	return fmt.Errorf("%w\nUsage: %s\nRun '%s --help' for more.", err, cmd.UseLine(), cmd.CommandPath())
}

// exactArgs is cobra.ExactArgs with the usage in the error; names describe the arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			what := "no arguments"
			if len(names) > 0 {
				what = strings.Join(names, " and ")
			}
			return usageError(cmd, fmt.Errorf("expected %s, got %d argument(s)", what, len(args)))
		}
		return nil
	}
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

// newTable starts a table; without a header it has only rows.
func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		cols[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// fmtTime formats a time for people: local time, minutes.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Local().Format("2006-01-02 15:04")
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return fmtTime(*t)
}

// fmtDuration formats a duration as "3h 15m", "45m", "2d 4h" or "30s".
func fmtDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		h := int(d.Hours())
		m := int(d.Minutes()) - h*60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days := int(d.Hours()) / 24
	h := int(d.Hours()) - days*24
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// truncate shortens s to n runes with an ellipsis.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// wrap breaks prose into lines of at most width runes, keeping paragraphs.
func wrap(s string, width int) string {
	var out []string
	for _, para := range strings.Split(strings.TrimSpace(s), "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width {
				out = append(out, line)
				line = ""
			}
			if line != "" {
				line += " "
			}
			line += w
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// parseAt reads the time of a backdated note: RFC 3339 ("2026-11-22T14:00:00Z"), a local date and time
// ("2026-11-22 14:00" or "2026-11-22T14:00"), or a bare time of day ("14:00", "14:00:30"), which means today in
// local time, or yesterday when today's would be in the future.
func parseAt(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	loc := now.Location()
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		tod, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		t := time.Date(now.Year(), now.Month(), now.Day(), tod.Hour(), tod.Minute(), tod.Second(), 0, loc)
		if t.After(now) {
			t = time.Date(now.Year(), now.Month(), now.Day()-1, tod.Hour(), tod.Minute(), tod.Second(), 0, loc)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--at %q: use HH:MM (today, local time), YYYY-MM-DD HH:MM (local) or RFC 3339 "+
		"(2026-11-22T14:00:00Z)", s)
}

// splitList reads repeatable flags that may also hold comma-separated values.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// listPages reads one page of a list (list reads the page at *cursor), or with all every page, and returns the
// items (never nil) and the cursor after them.
func listPages[T any](all bool, cursor *string, list func() (*firebreak.Page[T], error)) ([]T, string, error) {
	items := []T{}
	for {
		p, err := list()
		if err != nil {
			return nil, "", apiError(err)
		}
		items = append(items, p.Items...)
		if !all || p.NextCursor == "" {
			return items, p.NextCursor, nil
		}
		*cursor = p.NextCursor
	}
}
