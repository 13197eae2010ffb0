package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak"
)

func newServiceCmd() *cobra.Command {
	f := &apiFlags{}
	cmd := groupCmd("service", "Manage the service catalog over the API")
	cmd.Aliases = []string{"services", "svc"}
	f.bind(cmd)
	cmd.AddCommand(newServiceAddCmd(f), newServiceListCmd(f))
	return cmd
}

func newServiceAddCmd(f *apiFlags) *cobra.Command {
	var (
		in   firebreak.ServiceInput
		deps []string
	)
	cmd := &cobra.Command{
		Use:   "add --slug SLUG --name NAME",
		Short: "Add a service to the catalog (admin)",
		Example: `  firebreak service add --slug payments --name "Payment Gateway" --team "Payments Team" --tier 1 \
      --runbook https://runbooks.example.com/payments --depends-on postgres-primary`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.DependsOn = splitList(deps)
			s, err := f.client().CreateService(cmd.Context(), in)
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), s)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added service %s (%s), tier %d\n", s.Slug, s.Name, s.Tier)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Slug, "slug", "", "permanent short name: lowercase letters, digits and hyphens (required)")
	fl.StringVar(&in.Name, "name", "", "display name (default: the slug)")
	fl.StringVar(&in.OwnerTeam, "team", "", "owning team")
	fl.IntVar(&in.Tier, "tier", 0, "1 (most critical) to 3 (default 3)")
	fl.StringVar(&in.Description, "description", "", "what the service does")
	fl.StringVar(&in.RunbookURL, "runbook", "", "runbook URL (http or https)")
	fl.StringArrayVar(&deps, "depends-on", nil, "slug of a service this one depends on (repeatable, or comma-separated)")
	return cmd
}

func newServiceListCmd(f *apiFlags) *cobra.Command {
	var team string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the service catalog",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := f.client()
			sf := firebreak.ServiceFilter{Team: team, Limit: firebreak.MaxLimit}
			items := []firebreak.Service{}
			for {
				p, err := c.ListServices(cmd.Context(), sf)
				if err != nil {
					return apiError(err)
				}
				items = append(items, p.Items...)
				if p.NextCursor == "" {
					break
				}
				sf.Cursor = p.NextCursor
			}
			out := cmd.OutOrStdout()
			if f.json {
				return printJSON(out, firebreak.Page[firebreak.Service]{Items: items})
			}
			if len(items) == 0 {
				fmt.Fprintln(out, "No services. Add one with: firebreak service add --slug SLUG --name NAME")
				return nil
			}
			t := newTable(out, "SLUG", "NAME", "TEAM", "TIER", "DEPENDS ON", "RUNBOOK")
			for _, s := range items {
				t.row(s.Slug, s.Name, orDash(s.OwnerTeam), strconv.Itoa(s.Tier), orDash(strings.Join(s.DependsOn, ",")),
					orDash(s.RunbookURL))
			}
			return t.flush()
		},
	}
	cmd.Flags().StringVar(&team, "team", "", "only services of this team")
	return cmd
}
