package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create and drop the run's database

	"github.com/firebreak/firebreak/app"
)

// Local is an in-process server started for one run, with a fresh database that Stop removes.
type Local struct {
	URL      string
	Token    string
	Database string // "sqlite (<dir>)" or "postgres (<db>)"
	app      *app.App
	cleanup  []func() error
}

// StartLocal starts a server on 127.0.0.1:0 in this process. kind is "sqlite" (a temporary data directory) or
// "postgres": then a fresh database is created through adminURL (a PostgreSQL URL whose user may CREATE
// DATABASE) and dropped by Stop.
func StartLocal(ctx context.Context, kind, adminURL string, logger *slog.Logger) (*Local, error) {
	l := &Local{Token: "bench-" + randomHex(16)}
	// The intake rate limit (per integration) is lifted: the bench measures the server, not the limiter.
	cfg := app.Config{Addr: "127.0.0.1:0", AdminToken: l.Token, IntakeRate: 1e9, IntakeBurst: 1e9}
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "firebreak-bench-")
		if err != nil {
			return nil, err
		}
		l.cleanup = append(l.cleanup, func() error { return os.RemoveAll(dir) })
		cfg.DataDir = dir
		l.Database = "sqlite (" + dir + ")"
	case "postgres":
		if adminURL == "" {
			return nil, errors.New("bench: --local postgres needs --database-url (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
		}
		dbURL, name, drop, err := createDatabase(ctx, adminURL)
		if err != nil {
			return nil, err
		}
		l.cleanup = append(l.cleanup, drop)
		cfg.DatabaseURL = dbURL
		l.Database = "postgres (database " + name + ")"
	default:
		return nil, fmt.Errorf("bench: --local must be sqlite or postgres, not %q", kind)
	}
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		l.Stop()
		return nil, err
	}
	l.app = a
	if err := a.Start(); err != nil {
		l.Stop()
		return nil, err
	}
	l.URL = a.URL()
	return l, nil
}

// Stop shuts the server down and removes its database.
func (l *Local) Stop() error {
	var errs []error
	if l.app != nil {
		errs = append(errs, l.app.Close())
		l.app = nil
	}
	for i := len(l.cleanup) - 1; i >= 0; i-- {
		errs = append(errs, l.cleanup[i]())
	}
	l.cleanup = nil
	return errors.Join(errs...)
}

// createDatabase creates a fresh database next to the one adminURL names and returns its URL and a function
// that drops it.
func createDatabase(ctx context.Context, adminURL string) (dbURL, name string, drop func() error, err error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", nil, fmt.Errorf("bench: %q is not a postgres:// URL", adminURL)
	}
	if err := CheckLoopback("http://" + u.Host); err != nil {
		return "", "", nil, err
	}
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", "", nil, err
	}
	name = "firebreak_bench_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", "", nil, fmt.Errorf("bench: creating database %s: %w", name, err)
	}
	nu := *u
	nu.Path = "/" + name
	drop = func() error {
		defer admin.Close()
		// FORCE (PostgreSQL 13+) ends sessions a closed pool may still hold.
		_, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		if err != nil && strings.Contains(err.Error(), "syntax") {
			_, err = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
		}
		if err != nil {
			return fmt.Errorf("bench: dropping database %s: %w", name, err)
		}
		return nil
	}
	return nu.String(), name, drop, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
