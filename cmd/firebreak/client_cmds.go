package main

import (
	"github.com/spf13/cobra"
)

// addClientCommands registers the commands that talk to a running server over the API (incident, service,
// admin, whoami) and the load generator (bench).
func addClientCommands(root *cobra.Command) {
	// A wrong flag prints what is wrong and how to get help; main exits with status 1.
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError(cmd, err) })
	root.AddCommand(newIncidentCmd(), newServiceCmd(), newAdminCmd(), newWhoamiCmd(), newBenchCmd())
	root.AddCommand(newIntegrationCmd(), newAlertCmd(), newChangeCmd(), newRoutingCmd(), newMaintenanceCmd())
	root.AddCommand(newProbeCmd(), newFollowUpsCmd())
	root.AddCommand(newTeamCmd(), newScheduleCmd()) // cli_oncall.go
	root.AddCommand(newMetricsCmd())
	root.AddCommand(newSearchCmd()) // cli_search.go
	root.AddCommand(newPostmortemCmd())
	root.AddCommand(newChannelCmd()) // cli_channel.go
	root.AddCommand(newRunbookCmd()) // cli_runbook.go
	root.AddCommand(newContactCmd()) // cli_contact.go
	root.AddCommand(newEscalationCmd())
}

func newWhoamiCmd() *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the API token belongs to",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := f.client().Me(cmd.Context())
			if err != nil {
				return apiError(err)
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), u)
			}
			_, err = cmd.OutOrStdout().Write([]byte(u.Username + " (" + string(u.Role) + ") at " + f.baseURL() + "\n"))
			return err
		},
	}
	f.bind(cmd)
	return cmd
}
