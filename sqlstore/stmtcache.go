package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements for SQLite, where preparing (parsing and planning) costs more than running
// most of our statements. (pgx caches prepared statements per connection by itself.)
//
// The writer's database has a single connection, held by the open transaction while writes run, so statements
// for it cannot be prepared on first use: the first use runs unprepared and asks for the statement, and the
// writer prepares what was asked for between transactions (preparePending).
type stmtCache struct {
	db   *sql.DB
	lazy bool // writer: prepare between transactions only

	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

// maxCachedStmts bounds the cache; the package has a few dozen statement shapes, plus IN lists of varying length.
const maxCachedStmts = 512

func newStmtCache(db *sql.DB, lazy bool) *stmtCache {
	return &stmtCache{db: db, lazy: lazy, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement for query, or nil to run it unprepared.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m)+len(c.pending) >= maxCachedStmts
	if !ok && c.lazy && !full {
		c.pending[query] = true
	}
	c.mu.Unlock()
	if ok || c.lazy || full {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // the unprepared run reports the error
	}
	c.mu.Lock()
	if old, ok := c.m[query]; ok {
		c.mu.Unlock()
		_ = st.Close()
		return old
	}
	c.m[query] = st
	c.mu.Unlock()
	return st
}

// preparePending prepares the statements asked for since the last call (writer only, with no transaction open).
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range queries {
		st, err := c.db.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		c.m[q] = st
		c.mu.Unlock()
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		_ = st.Close()
	}
	clear(c.m)
}
