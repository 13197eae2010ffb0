package sqlstore

// This file holds every difference between SQLite and PostgreSQL that the rest of the package needs to know
// about; the SQL elsewhere is written once, with ? placeholders, and runs on both.

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const (
	dialectSQLite   = "sqlite"
	dialectPostgres = "postgres"
)

// tsLayout is how SQLite stores timestamps: UTC, fixed width, microseconds. Fixed width makes text order equal
// time order, so ORDER BY and range comparisons on the TEXT columns are correct. PostgreSQL timestamptz keeps
// microseconds too, so both dialects round-trip the same values.
const tsLayout = "2006-01-02T15:04:05.000000Z"

type dialect struct{ name string }

var (
	sqliteDialect   = &dialect{name: dialectSQLite}
	postgresDialect = &dialect{name: dialectPostgres}
)

// lockOf is appended to a SELECT of the row (of table alias, "" when the query has one table) that a write
// transaction is about to change or append to. On PostgreSQL it locks the row until COMMIT (NO KEY UPDATE: it
// does not block inserts whose foreign keys point at the row). SQLite needs none: one writer holds the database.
//
// Appends to a timeline lock the incident too, so on PostgreSQL timeline event IDs of one incident are assigned
// in commit order and a live tail reading "id > last seen" never skips an event that commits late.
func (d *dialect) lockOf(alias string) string {
	if d.name != dialectPostgres {
		return ""
	}
	if alias == "" {
		return " FOR NO KEY UPDATE"
	}
	return " FOR NO KEY UPDATE OF " + alias
}

// sqliteLowerFunc is a Unicode-aware lower() for SQLite, whose built-in LOWER folds only ASCII letters: a search
// for "überlast" (lower-cased in Go) must find the title "Überlast" as it does on PostgreSQL.
const sqliteLowerFunc = "firebreak_lower"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(sqliteLowerFunc, 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return strings.ToLower(v), nil
			case []byte:
				return strings.ToLower(string(v)), nil
			}
			return args[0], nil
		})
}

// lower is the SQL that lower-cases expr for a case-insensitive comparison with a strings.ToLower'd value.
func (d *dialect) lower(expr string) string {
	if d.name == dialectSQLite {
		return sqliteLowerFunc + "(" + expr + ")"
	}
	return "LOWER(" + expr + ")"
}

// target is where Open connects: a dialect and, for SQLite, a file path, for PostgreSQL a URL.
type target struct {
	d    *dialect
	path string // SQLite file
	url  string // PostgreSQL connection URL
}

func parseTarget(o Options) (target, error) {
	u := strings.TrimSpace(o.DatabaseURL)
	switch {
	case u == "":
		if o.DataDir == "" {
			return target{}, errors.New("sqlstore: DataDir or DatabaseURL is required")
		}
		return target{d: sqliteDialect, path: filepath.Join(o.DataDir, "firebreak.db")}, nil
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return target{d: postgresDialect, url: u}, nil
	case strings.HasPrefix(u, "sqlite://"), strings.HasPrefix(u, "file:"):
		p := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite://"), "file:")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if strings.HasPrefix(p, "//") { // file:///abs/path
			p = p[2:]
		}
		if p == "" || strings.HasPrefix(p, ":memory:") {
			return target{}, errors.New("sqlstore: a SQLite database URL must name a file")
		}
		if uq, err := url.PathUnescape(p); err == nil {
			p = uq
		}
		return target{d: sqliteDialect, path: p}, nil
	}
	return target{}, errors.New("sqlstore: DatabaseURL must start with postgres://, postgresql://, sqlite:// or file:")
}

// sqliteDSN returns the modernc.org/sqlite DSN for the writer (readOnly false) or the reader pool.
func sqliteDSN(path string, readOnly bool) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	escaped := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(abs))
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "mmap_size(2147418112)") // SQLite's most (SQLITE_MAX_MMAP_SIZE)
	} else {
		// WAL: readers never block the writer and the writer never blocks readers. synchronous=FULL: a commit
		// is on disk (WAL fsynced) before it returns, so it survives power loss, not just a crash.
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		// Statement journals (each group-commit savepoint) and temporary tables stay in memory: durability comes
		// from the fsynced WAL, and a temporary file per savepoint cost a fifth of the writer's time.
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + escaped + "?" + q.Encode(), nil
}

func (d *dialect) gooseDialect() goose.Dialect {
	if d.name == dialectPostgres {
		return goose.DialectPostgres
	}
	return goose.DialectSQLite3
}

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. The package never writes a literal "?" in SQL.
func (d *dialect) rebind(q string) string {
	if d.name != dialectPostgres {
		return q
	}
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	r := b.String()
	rebound.Store(q, r)
	return r
}

var rebound sync.Map // SQL with ? → SQL with $n

// ts is the database value of a timestamp.
func (d *dialect) ts(t time.Time) any {
	if d.name == dialectSQLite {
		return t.UTC().Format(tsLayout)
	}
	return t.UTC()
}

// nts is the database value of an optional timestamp (NULL for nil).
func (d *dialect) nts(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.ts(*t)
}

// scanTime reads a timestamp column of either dialect (TEXT on SQLite, timestamptz on PostgreSQL); NULL leaves
// *p nil when p is set, and is an error for the non-null form.
type scanTime struct {
	t *time.Time  // NOT NULL column
	p **time.Time // nullable column
}

func tsCol(t *time.Time) *scanTime   { return &scanTime{t: t} }
func ntsCol(p **time.Time) *scanTime { return &scanTime{p: p} }

func (s *scanTime) set(t time.Time) {
	t = t.UTC()
	if s.p != nil {
		*s.p = &t
	} else {
		*s.t = t
	}
}

func (s *scanTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		if s.p == nil {
			return errors.New("sqlstore: NULL in a NOT NULL timestamp column")
		}
		*s.p = nil
		return nil
	case time.Time:
		s.set(x)
		return nil
	case string:
		return s.parse(x)
	case []byte:
		return s.parse(string(x))
	}
	return fmt.Errorf("sqlstore: cannot read %T as a timestamp", v)
}

func (s *scanTime) parse(v string) error {
	if t, ok := parseStored(v); ok {
		s.set(t)
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("sqlstore: bad timestamp %q: %w", v, err)
	}
	s.set(t)
	return nil
}

// parseStored parses a timestamp in exactly the stored layout (tsLayout, UTC), several times faster than
// time.Parse (reads of many rows, such as the metrics, parse eight per row); ok is false for anything else.
func parseStored(v string) (time.Time, bool) {
	if len(v) != len(tsLayout) || v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' ||
		v[19] != '.' || v[26] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, j int) (int, bool) {
		n := 0
		for k := i; k < j; k++ {
			c := v[k]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	var f [7]int
	for i, r := range [7][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}, {20, 26}} {
		n, ok := num(r[0], r[1])
		if !ok {
			return time.Time{}, false
		}
		f[i] = n
	}
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return time.Time{}, false
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], f[6]*1000, time.UTC)
	if t.Day() != f[2] { // 31 April and the like: time.Date normalizes, time.Parse refuses
		return time.Time{}, false
	}
	return t, true
}

// notifyChannel is the PostgreSQL NOTIFY channel that carries "timeline of incident X changed" across replicas.
const notifyChannel = "firebreak_timeline"

// notifySQL sends one NOTIFY per incident ID of the text[] argument (PostgreSQL). It runs on its own, after the
// commits it reports, not inside them: PostgreSQL serializes the commits of all transactions that NOTIFY (a
// cluster-wide lock held through the commit's WAL flush), which would cap every timeline write at one fsync at a
// time.
const notifySQL = "SELECT pg_notify('" + notifyChannel + "', x) FROM unnest($1::text[]) AS x"

// insertID runs an INSERT and returns the integer id the database gave the new row: RETURNING id on PostgreSQL,
// last_insert_rowid() on SQLite (cheaper there than RETURNING, which buffers its result).
func (t *txn) insertID(query string, args ...any) (int64, error) {
	if t.s.d.name == dialectPostgres {
		var id int64
		err := t.row(query+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := t.exec(query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// lockIncident locks, until COMMIT, an incident row that was looked up before the transaction (on PostgreSQL,
// where transactions run side by side); SQLite's single writer needs nothing.
func (t *txn) lockIncident(id string) error {
	lock := t.s.d.lockOf("")
	if lock == "" {
		return nil
	}
	var got string
	return wrap(t.row(`SELECT id FROM incidents WHERE id = ?`+lock, id).Scan(&got), "lock incident")
}

// isUniqueViolation reports whether err is a unique or primary key constraint violation.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}

// isRetryable reports whether a PostgreSQL transaction failed in a way that a fresh attempt may not
// (serialization failure, deadlock).
func isRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// isBadText reports whether the database refused text it cannot store (PostgreSQL rejects NUL bytes and invalid
// UTF-8 in text columns; SQLite stores them).
func isBadText(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "22021" || pe.Code == "22P05"
	}
	return false
}

// configurePool sizes a connection pool for the dialect.
func configurePool(db *sql.DB, d *dialect, readers int) {
	if d.name == dialectPostgres {
		db.SetMaxOpenConns(readers)
		db.SetMaxIdleConns(readers)
		db.SetConnMaxIdleTime(5 * time.Minute)
		return
	}
	db.SetMaxOpenConns(readers)
	db.SetMaxIdleConns(readers)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
}
