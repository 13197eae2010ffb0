package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/pressly/goose/v3"
)

// Test hooks into the store's internals, for the external test package.

// ListenerReady is closed once the PostgreSQL listener has started LISTENing (nil on SQLite).
func ListenerReady(s *Store) <-chan struct{} { return s.listenReady }

// ListenerAppName is the application_name of the listener's PostgreSQL session.
const ListenerAppName = listenerAppName

// QueryInt runs a query returning one integer on the read pool.
func QueryInt(ctx context.Context, s *Store, query string, args ...any) (int64, error) {
	var n int64
	err := s.read(ctx).row(query, args...).Scan(&n)
	return n, err
}

// Exec runs a statement through the write path.
func Exec(ctx context.Context, s *Store, query string, args ...any) error {
	return s.write(ctx, func(t *txn) error {
		_, err := t.exec(query, args...)
		return err
	})
}

// TokenLastUsed reads a token's last_used_at.
func TokenLastUsed(ctx context.Context, s *Store, tokenID string) (*time.Time, error) {
	var p *time.Time
	err := s.read(ctx).row(`SELECT last_used_at FROM api_tokens WHERE id = ?`, tokenID).Scan(ntsCol(&p))
	return p, err
}

// WriteFunc runs fn through the write path with a plain statement executor, for tests of the writer itself.
func WriteFunc(ctx context.Context, s *Store, fn func(exec func(query string, args ...any) error) error) error {
	return s.write(ctx, func(t *txn) error {
		return fn(func(query string, args ...any) error {
			_, err := t.exec(query, args...)
			return err
		})
	})
}

// WriterStats returns how many SQLite write batches (transactions) and writes the writer has run.
func WriterStats(s *Store) (batches, writes int64) {
	if s.writer == nil {
		return 0, 0
	}
	return s.writer.batches.Load(), s.writer.writes.Load()
}

// WriterPragma reads a PRAGMA on the connection that writes (SQLite).
func WriterPragma(ctx context.Context, s *Store, name string) (string, error) {
	var v string
	err := s.write(ctx, func(t *txn) error { return t.db.QueryRowContext(t.ctx, "PRAGMA "+name).Scan(&v) })
	return v, err
}

// WriterMerged returns how many writes ran merged with others (SQLite: by the writer; PostgreSQL: in a batch).
func WriterMerged(s *Store) int64 {
	if s.writer == nil {
		return s.pgBatch.merged.Load()
	}
	return s.writer.merged.Load()
}

// HoldWriter blocks the SQLite writer until release is closed, and returns once it is blocked; queued reports how
// many writes wait behind it.
func HoldWriter(ctx context.Context, s *Store, release <-chan struct{}) (queued func() int) {
	held := make(chan struct{})
	go func() {
		_ = s.writer.do(ctx, func(*sql.Tx, context.Context) ([]func(), error) {
			close(held)
			<-release
			return nil, nil
		})
	}()
	<-held
	return func() int { return len(s.writer.queue) }
}

// IngestMergeKey is the merge key of alert deliveries, for HoldMerging.
const IngestMergeKey = ingestMergeKey

// HoldMerging blocks the merging writes of key until release is closed, and returns once they are blocked: on
// SQLite it holds the writer, on PostgreSQL it runs a batch of key that waits. queued reports how many writes
// wait behind it.
func HoldMerging(ctx context.Context, s *Store, key string, release <-chan struct{}) (queued func() int) {
	if s.writer != nil {
		return HoldWriter(ctx, s, release)
	}
	held := make(chan struct{})
	wait := func(*txn) error {
		close(held)
		<-release
		return nil
	}
	go func() {
		_ = s.pgBatch.do(ctx, s, key, nil, wait, func(t *txn, _ []any) error { return wait(t) })
	}()
	<-held
	return func() int {
		s.pgBatch.mu.Lock()
		defer s.pgBatch.mu.Unlock()
		return len(s.pgBatch.queues[key].pending)
	}
}

// MergedInsert inserts value into table (one column v) through writeMerged: alone, or merged with the other
// queued MergedInserts into one multi-row INSERT, which fails when failMerge is set (then each runs alone).
func MergedInsert(ctx context.Context, s *Store, table string, value int, failMerge bool) error {
	return s.writeMerged(ctx, "test-insert", value, func(t *txn) error {
		_, err := t.exec(`INSERT INTO `+table+` (v) VALUES (?)`, value)
		return err
	}, func(t *txn, data []any) error {
		for _, d := range data {
			if _, err := t.exec(`INSERT INTO `+table+` (v) VALUES (?)`, d); err != nil {
				return err
			}
		}
		if failMerge {
			return errors.New("merge refused")
		}
		return nil
	})
}

// QueryRow runs a query on the read pool.
func QueryRow(ctx context.Context, s *Store, query string, args ...any) *sql.Row {
	return s.read(ctx).row(query, args...)
}

// IngestAssumingNew ingests events as if a read before the write had found none of their keys (as happens when
// another delivery inserts them in between).
func IngestAssumingNew(ctx context.Context, s *Store, integrationID string, events []firebreak.AlertEvent) (
	[]firebreak.Alert, error) {
	payloads, err := validateEvents(events)
	if err != nil {
		return nil, err
	}
	g, err := s.integrationByID(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	var res *ingestResult
	err = s.write(ctx, func(t *txn) error {
		res, err = t.ingestAlerts(g, events, payloads, s.clock(), newKeys(events, nil))
		return err
	})
	if err != nil {
		return nil, err
	}
	return res.alerts(), nil
}

// HoldMainPool takes every connection of the main PostgreSQL pool (requests' pool) and returns a function that
// gives them back.
func HoldMainPool(ctx context.Context, s *Store) (release func(), err error) {
	var conns []*sql.Conn
	release = func() {
		for _, c := range conns {
			c.Close()
		}
	}
	for range s.db.Stats().MaxOpenConnections {
		c, err := s.db.Conn(ctx)
		if err != nil {
			release()
			return nil, err
		}
		conns = append(conns, c)
	}
	return release, nil
}

// Remigrate takes the schema down to version and up again, as an upgrade from that version would find it (the
// data that survives the down migrations stays).
func Remigrate(ctx context.Context, s *Store, version int64) error {
	p, err := goose.NewProvider(s.d.gooseDialect(), s.db, s.migrationsFS())
	if err != nil {
		return err
	}
	if _, err := p.DownTo(ctx, version); err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}
