package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/web"
)

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(web.NewLogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// serverFlags binds the flags shared by serve and migrate to cfg (defaults come from FIREBREAK_* variables).
// Precedence, lowest first: built-in defaults, the --config file, environment variables, flags.
func serverFlags(cmd *cobra.Command, cfg *app.Config) {
	f := cmd.Flags()
	var configPath string
	f.StringVar(&configPath, "config", os.Getenv("FIREBREAK_CONFIG"), "YAML configuration file (FIREBREAK_CONFIG)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if configPath == "" {
			return nil
		}
		final := app.BuiltinDefaults()
		if err := final.LoadFile(configPath); err != nil {
			return err
		}
		final.ApplyEnv()
		flagged := map[string]*string{"addr": &final.Addr, "data-dir": &final.DataDir,
			"database-url": &final.DatabaseURL, "public-url": &final.PublicURL}
		for name, dst := range flagged {
			if f.Changed(name) {
				v, _ := f.GetString(name)
				*dst = v
			}
		}
		final.Demo, final.LogLevel = cfg.Demo, cfg.LogLevel
		*cfg = final
		return nil
	}
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (FIREBREAK_ADDR)")
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory for the SQLite file (FIREBREAK_DATA_DIR)")
	f.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL,
		"PostgreSQL URL, e.g. postgres://user@host/db; empty: SQLite in the data dir (FIREBREAK_DATABASE_URL)")
	f.StringVar(&cfg.PublicURL, "public-url", cfg.PublicURL, "URL users reach the server at (FIREBREAK_PUBLIC_URL)")
}

func newServeCmd() *cobra.Command {
	cfg := app.Defaults()
	var debug bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Firebreak server",
		Long: `Run the Firebreak server. By default it keeps its data in an embedded SQLite file in the data
directory; --database-url runs it on PostgreSQL (several replicas may share one database). Migrations are
applied on start. On first start an admin account is created and its password printed once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if debug {
				cfg.LogLevel = slog.LevelDebug
			}
			logger := newLogger(cmd.ErrOrStderr(), cfg.LogLevel)
			ctx := cmd.Context()
			a, err := app.Open(ctx, cfg, logger)
			if err != nil {
				return err
			}
			if cfg.Demo {
				if err := loadDemo(ctx, a); err != nil {
					a.Close()
					return fmt.Errorf("loading demo data: %w", err)
				}
			}
			if err := a.Start(); err != nil {
				a.Close()
				return err
			}
			printWelcome(cmd, a)
			logger.Info("listening", "url", a.URL(), "database", a.Store.Dialect())
			return a.Run(ctx)
		},
	}
	serverFlags(cmd, &cfg)
	cmd.Flags().BoolVar(&cfg.Demo, "demo", false, "load demo data drawn from real incident scenarios (once)")
	cmd.Flags().BoolVar(&debug, "debug", false, "log at debug level")
	return cmd
}

func printWelcome(cmd *cobra.Command, a *app.App) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "\nFirebreak is running at %s (database: %s)\n", a.URL(), a.Store.Dialect())
	if a.AdminPassword != "" {
		fmt.Fprintf(out, "\nCreated the first admin account. Log in at %s/login with\n  username: admin\n  password: %s\n"+
			"This password is shown only once.\n", a.URL(), a.AdminPassword)
	} else {
		fmt.Fprintf(out, "Log in at %s/login with your account.\n", a.URL())
	}
	if a.Config.AdminToken != "" {
		fmt.Fprintf(out, "The API token from FIREBREAK_ADMIN_TOKEN is an admin token.\n")
	}
	tokenHint := "firebreak admin token create --username admin --name cli"
	if a.Store.Dialect() == "sqlite" {
		tokenHint = "firebreak admin token create --data-dir " + a.Config.DataDir + " --username admin --name cli"
	} else {
		tokenHint += " --database-url <url>"
	}
	fmt.Fprintf(out, "CLI: export FIREBREAK_URL=%s FIREBREAK_TOKEN=<token>  (create one: %s)\n\n", a.URL(), tokenHint)
}

func newMigrateCmd() *cobra.Command {
	cfg := app.Defaults()
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations and exit (serve also applies them on start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := sqlstore.Open(cmd.Context(), sqlstore.Options{DatabaseURL: cfg.DatabaseURL,
				DataDir: cfg.DataDir, Logger: newLogger(cmd.ErrOrStderr(), slog.LevelInfo)})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "database (%s) is migrated\n", st.Dialect())
			return st.Close()
		},
	}
	serverFlags(cmd, &cfg)
	return cmd
}

// loadDemo is replaced by the demo data loader.
var loadDemo = func(ctx context.Context, a *app.App) error { return nil }
