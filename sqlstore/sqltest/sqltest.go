// Package sqltest gives tests a fresh, isolated sqlstore.Store on SQLite (always) and PostgreSQL (when
// FIREBREAK_TEST_POSTGRES_URL names a server on which the tests may create databases).
//
// Importing it lowers the password hashing work factor, so tests that create users stay fast.
package sqltest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for CREATE/DROP DATABASE

	"github.com/firebreak/firebreak/sqlstore"
)

// Environment variables.
const (
	// EnvPostgresURL names a PostgreSQL server (any database on it) where tests may create databases.
	EnvPostgresURL = "FIREBREAK_TEST_POSTGRES_URL"
	// EnvRequirePostgres=1 (CI) turns a missing EnvPostgresURL into a failure instead of a skip.
	EnvRequirePostgres = "FIREBREAK_REQUIRE_POSTGRES"
)

func init() { sqlstore.PasswordIterations = 1000 }

var skipOnce sync.Once

// Dialects returns the dialects to test: "sqlite", plus "postgres" when FIREBREAK_TEST_POSTGRES_URL is set. When
// it is not set, FIREBREAK_REQUIRE_POSTGRES=1 fails the test; otherwise the skip is logged (once per process).
func Dialects(t testing.TB) []string {
	t.Helper()
	if os.Getenv(EnvPostgresURL) != "" {
		return []string{"sqlite", "postgres"}
	}
	if os.Getenv(EnvRequirePostgres) == "1" {
		t.Fatal("FIREBREAK_REQUIRE_POSTGRES=1 but FIREBREAK_TEST_POSTGRES_URL is not set")
	}
	skipOnce.Do(func() {
		t.Log("PostgreSQL tests skipped: FIREBREAK_TEST_POSTGRES_URL is not set " +
			"(e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	})
	return []string{"sqlite"}
}

// ForEach runs fn as a subtest ("sqlite", "postgres") with a fresh store for every dialect of Dialects.
func ForEach(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Helper()
	for _, d := range Dialects(t) {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Open returns a fresh store of the dialect on its own database, closed (and the database dropped) when the test
// ends.
func Open(t testing.TB, dialect string) *sqlstore.Store {
	t.Helper()
	o := Options(t, dialect)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := sqlstore.Open(ctx, o)
	if err != nil {
		t.Fatalf("sqltest: open %s store: %v", dialect, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("sqltest: close store: %v", err)
		}
	})
	return s
}

// Options returns store options for a fresh, empty database of the dialect (SQLite: a file in a temporary
// directory; PostgreSQL: CREATE DATABASE fb_test_<random>), removed when the test ends. Use it to open a store
// yourself, or several stores on one database (replicas). Stores opened with it must be closed before the test's
// cleanup drops the database (register their Close with t.Cleanup after calling Options).
func Options(t testing.TB, dialect string) sqlstore.Options {
	t.Helper()
	switch dialect {
	case "sqlite":
		dir := t.TempDir()
		return sqlstore.Options{DataDir: dir}
	case "postgres":
		return sqlstore.Options{DatabaseURL: postgresDatabase(t)}
	}
	t.Fatalf("sqltest: unknown dialect %q", dialect)
	return sqlstore.Options{}
}

// postgresDatabase creates a database on the server of FIREBREAK_TEST_POSTGRES_URL and returns its URL.
func postgresDatabase(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		t.Fatalf("sqltest: %s is not set", EnvPostgresURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("sqltest: bad %s: %v", EnvPostgresURL, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("sqltest: %v", err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "fb_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("sqltest: create database on %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("sqltest: %v", err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("sqltest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
