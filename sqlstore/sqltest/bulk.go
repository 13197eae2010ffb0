package sqltest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/sqlstore"
)

// Bulk writes generated data straight into a store's database for benchmarks: its own connection, one
// transaction, multi-row INSERTs. It bypasses the store (no validation, no timeline events, no recurrence checks),
// but the database's own triggers and indexes (search_docs, FTS5, the GIN index) run as they do for the store.
// Close the store's writes while a Bulk is open (on SQLite, the store's writer waits for its transaction).
type Bulk struct {
	t   testing.TB
	db  *sql.DB
	tx  *sql.Tx
	pg  bool
	ctx context.Context
}

// OpenBulk starts a bulk transaction on the database of o (the options the store was opened with).
func OpenBulk(t testing.TB, o sqlstore.Options) *Bulk {
	t.Helper()
	b := &Bulk{t: t, ctx: context.Background(), pg: o.DatabaseURL != ""}
	var err error
	if b.pg {
		b.db, err = sql.Open("pgx", o.DatabaseURL)
	} else {
		// One connection; synchronous=OFF: generated data need not survive a power cut.
		b.db, err = sql.Open("sqlite", "file:"+filepath.Join(o.DataDir, "firebreak.db")+
			"?_pragma=busy_timeout(60000)&_pragma=synchronous(OFF)&_txlock=immediate")
	}
	if err != nil {
		t.Fatalf("sqltest: bulk: %v", err)
	}
	b.db.SetMaxOpenConns(1)
	if b.tx, err = b.db.BeginTx(b.ctx, nil); err != nil {
		t.Fatalf("sqltest: bulk: %v", err)
	}
	return b
}

// Postgres reports whether the database is PostgreSQL.
func (b *Bulk) Postgres() bool { return b.pg }

// TS is a timestamp as the dialect stores it.
func (b *Bulk) TS(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if b.pg {
		return t
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}

// NTS is TS for an optional timestamp (nil: NULL).
func (b *Bulk) NTS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return b.TS(*t)
}

func (b *Bulk) rebind(q string) string {
	if !b.pg {
		return q
	}
	var sb strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteByte(q[i])
	}
	return sb.String()
}

// Exec runs one statement in the transaction (? placeholders).
func (b *Bulk) Exec(query string, args ...any) {
	b.t.Helper()
	if _, err := b.tx.ExecContext(b.ctx, b.rebind(query), args...); err != nil {
		b.t.Fatalf("sqltest: bulk: %v\n%s", err, query)
	}
}

// Insert inserts rows into table, many per statement.
func (b *Bulk) Insert(table string, cols []string, rows [][]any) {
	b.t.Helper()
	b.insert(table, cols, rows, "")
}

// InsertNew is Insert that skips the rows that would violate a unique constraint (ON CONFLICT DO NOTHING).
func (b *Bulk) InsertNew(table string, cols []string, rows [][]any) {
	b.t.Helper()
	b.insert(table, cols, rows, " ON CONFLICT DO NOTHING")
}

func (b *Bulk) insert(table string, cols []string, rows [][]any, suffix string) {
	b.t.Helper()
	per := max(1, min(500, 30000/len(cols)))
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), per)]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*len(cols))
		for _, r := range chunk {
			if len(r) != len(cols) {
				b.t.Fatalf("sqltest: bulk: %s: row has %d values for %d columns", table, len(r), len(cols))
			}
			args = append(args, r...)
		}
		b.Exec(head+strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)), ", ")+suffix, args...)
	}
}

// Commit commits the transaction and brings the database to the state a long-running one is in: planner
// statistics, and on PostgreSQL a VACUUM, which also moves the GIN index's pending entries into the index (as
// autovacuum does; a freshly bulk-loaded GIN index answers every query by scanning its pending list).
func (b *Bulk) Commit() {
	b.t.Helper()
	if !b.pg {
		if err := sqlstore.FlushSearchIndex(b.ctx, b.tx); err != nil {
			b.t.Fatalf("sqltest: bulk: %v", err)
		}
	}
	if err := b.tx.Commit(); err != nil {
		b.t.Fatalf("sqltest: bulk: commit: %v", err)
	}
	stmt := "VACUUM ANALYZE"
	if !b.pg {
		stmt = "PRAGMA optimize"
	}
	if _, err := b.db.ExecContext(b.ctx, stmt); err != nil {
		b.t.Fatalf("sqltest: bulk: %s: %v", stmt, err)
	}
	if err := b.db.Close(); err != nil {
		b.t.Fatalf("sqltest: bulk: close: %v", err)
	}
}

// Size reads an environment variable as a count (benchmark sizes), def when unset.
func Size(t testing.TB, env string, def int) int {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(env))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
	if err != nil || n <= 0 {
		t.Fatalf("sqltest: %s=%q is not a positive count", env, v)
	}
	return n
}

// ID returns a UUID-shaped id that sorts in i's order (as the store's UUIDv7 ids sort in creation order).
func ID(kind byte, i int) string {
	return fmt.Sprintf("%08x-%04x-7%03x-8000-%012x", i>>16, i&0xffff, kind, i)
}
