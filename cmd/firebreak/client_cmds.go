package main

import "github.com/spf13/cobra"

// addClientCommands registers the commands that talk to a running server over the API (incident, service,
// admin, bench). Placeholder until the CLI lands.
func addClientCommands(root *cobra.Command) {}
