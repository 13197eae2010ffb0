package sqlstore

import (
	"context"
	"time"
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
