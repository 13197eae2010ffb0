// Command firebreak is the Firebreak server and its command-line client.
//
//	firebreak serve [--demo]            run the server (SQLite in ./firebreak-data by default)
//	firebreak incident declare|list|…   work with incidents over the API (FIREBREAK_URL, FIREBREAK_TOKEN)
//	firebreak service add|list          manage the service catalog
//	firebreak admin user|token …        manage users and API tokens
//	firebreak bench                     load-test a running server
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// tuneGC makes the garbage collector run less often than Go's default (GOGC=100) unless GOGC is set. Firebreak's
// live heap is small (tens of MB), so letting it grow to 5× between collections costs little memory, and it cut
// the collector's share of a busy server's CPU enough to matter for tail latency (docs/BENCHMARKS.md).
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "firebreak",
		Short:         "Firebreak: incident response and learning for teams that run microservices",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newMigrateCmd())
	addClientCommands(root)
	return root
}
