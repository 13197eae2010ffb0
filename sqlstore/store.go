// Package sqlstore implements the Firebreak domain services (incidents, catalog, users) on database/sql, for
// SQLite (modernc.org/sqlite, the single-node default) and PostgreSQL (pgx, several replicas). The schema is
// applied at Open from embedded goose migrations (migrations/sqlite, migrations/postgres); dialect.go holds every
// other difference between the two.
//
// Writes. Every mutation runs through one internal function, write, so the dialects' write paths differ in one
// place. On SQLite one writer goroutine takes every write queued at that moment and runs them in ONE transaction,
// each in its own SAVEPOINT, then commits once (group commit: concurrent requests share the fsync of
// synchronous=FULL); reads use a separate pool of read-only connections (WAL). On PostgreSQL each write is its
// own transaction, retried on serialization failures and deadlocks. Either way a method returns only after
// COMMIT, in-memory side effects (Subscribe signals) fire only after it, and a change and the timeline events
// that record it commit together. The domain rules live in package firebreak; the store loads, calls the domain
// function and writes the result.
//
// Timeline order. Within an incident, event IDs are assigned in commit order (SQLite: one writer; PostgreSQL:
// every append locks the incident row), so a live tail that asks for "events after ID n" never skips one.
//
// Time. All timestamps are UTC with microsecond precision (what PostgreSQL timestamptz keeps); SQLite stores
// them as fixed-width RFC 3339 text, so text order is time order. The clock is Options.Now.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	firebreak "github.com/firebreak/firebreak"
)

//go:embed migrations
var migrations embed.FS

// Options configure Open.
type Options struct {
	// DatabaseURL selects the database: "" is the SQLite file <DataDir>/firebreak.db; "postgres://…" or
	// "postgresql://…" is PostgreSQL; "sqlite:///abs/path.db" or "file:…" is SQLite at that path.
	DatabaseURL string
	// DataDir is created (0700) if missing.
	DataDir string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
}

// Store is the database/sql implementation of the domain services.
type Store struct {
	d           *dialect
	db          *sql.DB // PostgreSQL: everything; SQLite: the single writer connection
	rdb         *sql.DB // reads (SQLite: a pool of read-only connections; PostgreSQL: == db)
	now         func() time.Time
	log         *slog.Logger
	url         string
	goose       *goose.Provider // migration status, on rdb
	writer      *writer         // SQLite only
	pgBatch     pgBatcher       // PostgreSQL only: group commit of merging writes (pgbatch.go)
	rstmts      *stmtCache      // SQLite only: prepared statements of the read pool
	snip        *sql.DB         // SQLite only: in-memory databases for search snippets (searchSnippets)
	searchStats searchStats     // SQLite only: what the knowledge-base scoring weighs words with (search_terms.go)
	termsCache  termsCache      // SQLite only: search_terms data recently read by searches (search_terms.go)
	bg          *sql.DB         // PostgreSQL only: the pool reserved for Reserved work (paging)
	hub         hub
	tokens      tokenCache
	// integrations caches AuthenticateIntegration (alerts.go).
	integrations integrationCache
	// incidents caches incident reads on SQLite only (see incidentcache.go).
	incidents incidentCache
	// outbox holds the notification settings (outbox.go).
	outbox outboxSettings
	// followThrough holds the follow-through policy: reminders, close policy (followthrough.go).
	followThrough followThroughSettings
	// escalation holds the severity escalation criteria and response targets (escalation.go).
	escalation escalationSettings
	// policies caches routing policies by service ID on SQLite only (routing.go).
	policies policyCache

	stopListen  context.CancelFunc
	listenDone  chan struct{}
	listenReady chan struct{} // closed when the PostgreSQL listener first LISTENs
	notifier    *notifier     // PostgreSQL only
	stopNotify  context.CancelFunc
	notifyDone  chan struct{}
	closed      atomic.Bool
	closeOnce   sync.Once
	closeErr    error
}

var (
	_ firebreak.IncidentService = (*Store)(nil)
	_ firebreak.CatalogService  = (*Store)(nil)
	_ firebreak.UserService     = (*Store)(nil)
)

// ErrClosed answers writes attempted after Close (nothing was written).
var ErrClosed = errors.New("sqlstore: store is closed")

// Open connects to the database, applies the embedded migrations and starts the store's background work (the
// SQLite writer, the PostgreSQL listener).
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.DataDir != "" {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlstore: create data directory: %w", err)
		}
	}
	t, err := parseTarget(o)
	if err != nil {
		return nil, err
	}
	s := &Store{d: t.d, now: o.Now, log: o.Logger, url: t.url}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s.hub.subs = map[string]map[*subscription]struct{}{}

	if t.d.name == dialectSQLite {
		err = s.openSQLite(ctx, t.path)
	} else {
		err = s.openPostgres(ctx, t.url)
	}
	if err != nil {
		s.closeDBs()
		return nil, err
	}
	if t.d.name == dialectSQLite {
		s.writer = newWriter(s.db, s.rdb, s.log)
		s.incidents.on = true // this process is the file's only writer
		s.rstmts = newStmtCache(s.rdb, false)
	} else {
		lctx, cancel := context.WithCancel(context.Background())
		s.stopListen = cancel
		s.listenDone = make(chan struct{})
		s.listenReady = make(chan struct{})
		go s.listen(lctx)
		nctx, ncancel := context.WithCancel(context.Background())
		s.notifier, s.stopNotify, s.notifyDone = newNotifier(), ncancel, make(chan struct{})
		go s.notifyLoop(nctx)
		// Wait for the listener, so that once Open returns, Subscribe hears other replicas' commits.
		select {
		case <-s.listenReady:
		case <-ctx.Done():
			_ = s.Close()
			return nil, fmt.Errorf("sqlstore: start listener: %w", ctx.Err())
		case <-time.After(10 * time.Second):
			s.log.Warn("timeline listener not connected yet; continuing (it keeps retrying)")
		}
	}
	return s, nil
}

func (s *Store) openSQLite(ctx context.Context, path string) error {
	wdsn, err := sqliteDSN(path, false)
	if err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	rdsn, _ := sqliteDSN(path, true)
	_, statErr := os.Stat(path)
	if s.db, err = sql.Open("sqlite", wdsn); err != nil {
		return fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	configurePool(s.db, s.d, 1)
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) { // a new database holds password hashes and tokens: owner only
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("sqlstore: %w", err)
		}
	}
	if err := s.migrate(ctx, s.db); err != nil {
		return err
	}
	if s.rdb, err = sql.Open("sqlite", rdsn); err != nil {
		return fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	configurePool(s.rdb, s.d, max(4, 2*runtime.GOMAXPROCS(0)))
	if s.snip, err = sql.Open("sqlite", "file::memory:"); err != nil { // each connection its own database
		return fmt.Errorf("sqlstore: %w", err)
	}
	configurePool(s.snip, s.d, 2)
	return s.initGoose(s.rdb)
}

func (s *Store) openPostgres(ctx context.Context, url string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	s.db, s.rdb = db, db
	configurePool(db, s.d, min(32, max(8, 4*runtime.GOMAXPROCS(0))))
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: connect to postgres: %w", err)
	}
	if s.bg, err = sql.Open("pgx", url); err != nil {
		return fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	configurePool(s.bg, s.d, ReservedConns)
	if err := s.migrate(ctx, db); err != nil {
		return err
	}
	return s.initGoose(db)
}

func (s *Store) migrationsFS() fs.FS {
	sub, err := fs.Sub(migrations, "migrations/"+s.d.name)
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// migrate applies the pending migrations. On PostgreSQL a session advisory lock makes replicas that start at
// once take turns: the first applies, the others find nothing to do.
func (s *Store) migrate(ctx context.Context, db *sql.DB) error {
	var opts []goose.ProviderOption
	if s.d.name == dialectPostgres {
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600), lock.WithUnlockTimeout(1, 60))
		if err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(s.d.gooseDialect(), db, s.migrationsFS(), opts...)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: apply migrations: %w", err)
	}
	for _, r := range res {
		s.log.Info("applied migration", "dialect", s.d.name, "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

func (s *Store) initGoose(db *sql.DB) error {
	p, err := goose.NewProvider(s.d.gooseDialect(), db, s.migrationsFS())
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	s.goose = p
	return nil
}

// Close stops the background work, answers every queued write (the writer drains its queue) and closes the
// database.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.stopListen != nil {
			s.stopListen()
			<-s.listenDone
		}
		if s.stopNotify != nil { // after the listener: a replica that is going away need not hear itself
			s.stopNotify()
			<-s.notifyDone
		}
		if s.writer != nil {
			s.writer.close()
			s.writer.stmts.close()
		}
		s.pgBatch.close() // PostgreSQL: lets the batches in flight commit and answer
		if s.rstmts != nil {
			s.rstmts.close()
		}
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	if s.bg != nil {
		errs = append(errs, s.bg.Close())
	}
	if s.snip != nil {
		errs = append(errs, s.snip.Close())
	}
	if s.rdb != nil && s.rdb != s.db {
		errs = append(errs, s.rdb.Close())
	}
	if s.db != nil {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

// Ping reports whether the database is reachable and every migration this binary knows is applied (/readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: database unreachable: %w", err)
	}
	pending, err := s.goose.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migration status: %w", err)
	}
	if pending {
		return errors.New("sqlstore: database migrations are pending")
	}
	return nil
}

// clock returns the current time as stored: UTC, microseconds.
func (s *Store) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// --- queries ---------------------------------------------------------------------------------------------------

// execQuerier is what *sql.DB and *sql.Tx share.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q runs SQL written with ? placeholders on a database or transaction.
type q struct {
	s     *Store
	ctx   context.Context
	db    execQuerier
	tx    *sql.Tx    // the transaction db is, when it is one (for prepared statements)
	stmts *stmtCache // SQLite only
}

// prepared returns the cached prepared statement for query (bound to the transaction, if any), or nil.
func (x q) prepared(query string) *sql.Stmt {
	if x.stmts == nil {
		return nil
	}
	st := x.stmts.get(x.ctx, query)
	if st == nil || x.tx == nil {
		return st
	}
	return x.tx.StmtContext(x.ctx, st)
}

func (x q) exec(query string, args ...any) (sql.Result, error) {
	query = x.s.d.rebind(query)
	if st := x.prepared(query); st != nil {
		return st.ExecContext(x.ctx, args...)
	}
	return x.db.ExecContext(x.ctx, query, args...)
}

func (x q) query(query string, args ...any) (*sql.Rows, error) {
	query = x.s.d.rebind(query)
	if st := x.prepared(query); st != nil {
		return st.QueryContext(x.ctx, args...)
	}
	return x.db.QueryContext(x.ctx, query, args...)
}

func (x q) row(query string, args ...any) *sql.Row {
	query = x.s.d.rebind(query)
	if st := x.prepared(query); st != nil {
		return st.QueryRowContext(x.ctx, args...)
	}
	return x.db.QueryRowContext(x.ctx, query, args...)
}

// read returns a querier on the read pool (PostgreSQL: on the reserved pool for Reserved work).
func (s *Store) read(ctx context.Context) q {
	if s.bg != nil && isReserved(ctx) {
		return q{s: s, ctx: ctx, db: s.bg}
	}
	return q{s: s, ctx: ctx, db: s.rdb, stmts: s.rstmts}
}

// ReservedConns is the size of the PostgreSQL pool reserved for paging work (Reserved).
const ReservedConns = 4

type reservedKey struct{}

// Reserved marks ctx as work that must not wait behind requests: sending notifications, escalating, waking other
// replicas. On PostgreSQL it runs on a pool of its own (ReservedConns connections), so that an alert storm whose
// requests hold every connection of the main pool cannot starve paging; on SQLite reads have their own pool and
// the writer serves everyone in turn, so it changes nothing there.
func Reserved(ctx context.Context) context.Context {
	return context.WithValue(ctx, reservedKey{}, true)
}

func isReserved(ctx context.Context) bool { return ctx.Value(reservedKey{}) != nil }

// pgPool is the PostgreSQL pool for ctx's work.
func (s *Store) pgPool(ctx context.Context) *sql.DB {
	if s.bg != nil && isReserved(ctx) {
		return s.bg
	}
	return s.db
}

// txn is one write function's view of its transaction.
type txn struct {
	q
	after    []func()
	notified map[string]bool
}

// afterCommit runs f once the transaction has committed (never if it rolls back).
func (t *txn) afterCommit(f func()) { t.after = append(t.after, f) }

// write runs fn in a transaction and returns after COMMIT. fn may run more than once (PostgreSQL retries
// serialization failures), so it must set its results rather than accumulate them. Errors returned by fn roll
// back exactly fn's writes.
func (s *Store) write(ctx context.Context, fn func(t *txn) error) error {
	if s.writer != nil { // SQLite: the writer answers ErrClosed itself once closed, after draining its queue
		return s.writer.do(ctx, func(tx *sql.Tx, wctx context.Context) ([]func(), error) {
			t := &txn{q: q{s: s, ctx: wctx, db: tx, tx: tx, stmts: s.writer.stmts}}
			if err := callWrite(fn, t); err != nil {
				return nil, err
			}
			return t.after, nil
		})
	}
	if s.closed.Load() {
		return ErrClosed
	}
	return s.writePG(ctx, fn)
}

// writePG runs fn in a PostgreSQL transaction, again (up to 5 times, after a growing pause) when it fails with a
// serialization failure or a deadlock, then runs its after-commit hooks.
func (s *Store) writePG(ctx context.Context, fn func(t *txn) error) error {
	const attempts = 5
	for attempt := 1; ; attempt++ {
		after, err := s.writeOnce(ctx, fn)
		if err == nil {
			for _, f := range after {
				f()
			}
			return nil
		}
		if !isRetryable(err) || attempt == attempts || ctx.Err() != nil {
			return err
		}
		d := time.Duration(attempt*attempt) * 5 * time.Millisecond
		s.log.Debug("retrying transaction", "attempt", attempt, "error", err)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// writeMerged is write for a job that may merge with other queued jobs of the same key: merge then runs once for
// all of them (their data in queue order) instead of fn for each. If merge fails, every job runs its own fn. On
// SQLite the writer merges the jobs of its batch; on PostgreSQL the jobs that queue while a batch of their key
// runs are the next batch (pgbatch.go).
func (s *Store) writeMerged(ctx context.Context, key string, data any, fn func(t *txn) error,
	merge func(t *txn, data []any) error) error {
	if s.writer == nil {
		return s.pgBatch.do(ctx, s, key, data, fn, merge)
	}
	txnOf := func(tx *sql.Tx, wctx context.Context) *txn {
		return &txn{q: q{s: s, ctx: wctx, db: tx, tx: tx, stmts: s.writer.stmts}}
	}
	return s.writer.doJob(ctx, &writeJob{
		run: func(tx *sql.Tx, wctx context.Context) ([]func(), error) {
			t := txnOf(tx, wctx)
			if err := callWrite(fn, t); err != nil {
				return nil, err
			}
			return t.after, nil
		},
		mergeKey: key, data: data,
		merge: func(tx *sql.Tx, wctx context.Context, jobs []*writeJob) ([]func(), error) {
			t := txnOf(tx, wctx)
			all := make([]any, len(jobs))
			for i, j := range jobs {
				all[i] = j.data
			}
			if err := callWrite(func(t *txn) error { return merge(t, all) }, t); err != nil {
				return nil, err
			}
			return t.after, nil
		},
	})
}

func (s *Store) writeOnce(ctx context.Context, fn func(t *txn) error) (after []func(), err error) {
	tx, err := s.pgPool(ctx).BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: begin: %w", err)
	}
	t := &txn{q: q{s: s, ctx: ctx, db: tx}}
	if err := callWrite(fn, t); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlstore: commit: %w", err)
	}
	return t.after, nil
}

// callWrite runs fn, turning a panic into an error so that one bad write cannot take down the writer.
func callWrite(fn func(t *txn) error, t *txn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlstore: panic in write: %v", r)
		}
	}()
	return fn(t)
}
