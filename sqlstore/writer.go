package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit for SQLite. SQLite allows one writer at a time and, with synchronous=FULL, every COMMIT costs an
// fsync. So all writes go through one goroutine that takes every write queued at that moment (up to maxBatch),
// runs each inside its own SAVEPOINT of ONE transaction and commits once: concurrent requests share the fsync.
// A write that fails is rolled back to its savepoint and affects no other; if the COMMIT fails, every write of
// the batch gets that error. Callers are answered only after the COMMIT, and their after-commit hooks run only
// when it succeeded. Writes that merge (writeJob.mergeKey: concurrent alert deliveries) run as one; the largest
// such group runs first without a savepoint, and if it fails the batch starts again with every write alone.

const (
	maxBatch   = 256
	queueDepth = 1024
)

// Checkpoints (copying the WAL's pages into the database file) run on a read connection every
// checkpointInterval while there are commits, instead of in the writer: SQLite's automatic checkpoint runs in the
// committing connection once the WAL holds 1,000 pages, and copying them (and fsyncing the database file) held
// up the batch after which it ran, and every write queued behind it. The writer still checkpoints itself past
// writerAutoCheckpoint pages, a safety net that also lets the WAL start over from its beginning (which needs a
// checkpoint that has caught up when a write begins) and so bounds its size.
const (
	checkpointInterval   = 250 * time.Millisecond
	writerAutoCheckpoint = 10_000 // pages, about 40 MB
)

// writeJob is one queued write. run executes it in tx with ctx (the writer's, never cancelled mid-batch: an
// interrupted statement could roll back the whole shared transaction) and returns the hooks to run after COMMIT.
type writeJob struct {
	ctx  context.Context // the caller's; checked before the job starts
	run  func(tx *sql.Tx, ctx context.Context) ([]func(), error)
	done chan error // buffered 1: the writer never blocks answering
	// mergeKey, when set, lets the writer run this job together with the batch's other jobs of the same key in ONE
	// call of merge (the first job's), inside one savepoint: concurrent alert deliveries then share their
	// lookups, multi-row inserts and routing instead of each paying for its own statements. If the merged call
	// fails, it is rolled back and every job runs alone, so one bad job still cannot fail the others.
	mergeKey string
	merge    func(tx *sql.Tx, ctx context.Context, jobs []*writeJob) ([]func(), error)
	data     any // the job's input and output, for merge
}

type writer struct {
	db    *sql.DB // one connection
	rdb   *sql.DB // the read pool, for checkpoints
	stmts *stmtCache
	log   *slog.Logger
	ctx   context.Context
	queue chan *writeJob

	mu     sync.RWMutex // guards closed against sends on the closed queue
	closed bool
	done   chan struct{}

	batches, writes atomic.Int64 // for tests and benchmarks: how well commits are shared
	merged          atomic.Int64 // writes that ran merged with others
	commits         atomic.Int64 // committed batches, for the checkpointer
	checkpoints     atomic.Int64 // checkpoints that copied pages
	stopCheckpoints chan struct{}
	checkpointsDone chan struct{}
}

// newWriter starts the writer on db (one connection) and, with rdb (the read pool), the checkpointer.
func newWriter(db, rdb *sql.DB, log *slog.Logger) *writer {
	w := &writer{db: db, rdb: rdb, stmts: newStmtCache(db, true), log: log, ctx: context.Background(),
		queue: make(chan *writeJob, queueDepth), done: make(chan struct{})}
	if rdb != nil {
		if _, err := db.ExecContext(w.ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutoCheckpoint)); err != nil {
			log.Warn("sqlite: the writer keeps checkpointing itself", "error", err)
		} else {
			w.stopCheckpoints, w.checkpointsDone = make(chan struct{}), make(chan struct{})
			go w.checkpointLoop()
		}
	}
	go w.loop()
	return w
}

// checkpointLoop checkpoints the WAL every checkpointInterval if anything was committed since the last time.
// PASSIVE never blocks the writer or readers: it copies what no reader still needs.
func (w *writer) checkpointLoop() {
	defer close(w.checkpointsDone)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	var seen int64
	for {
		select {
		case <-w.stopCheckpoints:
			return
		case <-t.C:
		}
		if n := w.commits.Load(); n != seen {
			seen = n
			var busy, frames, copied int64
			err := w.rdb.QueryRowContext(w.ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
			if err != nil {
				w.log.Warn("sqlite checkpoint failed", "error", err)
				continue
			}
			w.checkpoints.Add(1)
		}
	}
}

// do queues a write and waits for its answer. It gives up (with ctx's error, having written nothing) only while
// waiting for a slot in the queue; once queued the write is always answered, after its batch commits or fails.
// If ctx ends before the writer reaches the job, the job is skipped and answered with ctx's error.
func (w *writer) do(ctx context.Context, run func(tx *sql.Tx, ctx context.Context) ([]func(), error)) error {
	return w.doJob(ctx, &writeJob{run: run})
}

// doJob is do for a job that may carry a merge.
func (w *writer) doJob(ctx context.Context, j *writeJob) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.ctx, j.done = ctx, make(chan error, 1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.queue <- j:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	return <-j.done
}

// close stops accepting writes, runs the ones already queued and waits for the writer (and the checkpointer) to
// finish.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
		if w.stopCheckpoints != nil {
			close(w.stopCheckpoints)
		}
	}
	w.mu.Unlock()
	<-w.done
	if w.checkpointsDone != nil {
		<-w.checkpointsDone
	}
}

func (w *writer) loop() {
	defer close(w.done)
	batch := make([]*writeJob, 0, maxBatch)
	for j := range w.queue {
		batch = append(batch[:0], j)
	fill:
		for len(batch) < maxBatch {
			select {
			case j, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, j)
			default:
				break fill
			}
		}
		w.run(batch)
		clear(batch)
		w.stmts.preparePending(w.ctx)
	}
}

func (w *writer) run(batch []*writeJob) {
	live := make([]*writeJob, 0, len(batch))
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err // the caller gave up before the write started: nothing was written
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	w.batches.Add(1)
	w.writes.Add(int64(len(live)))
	errs := make([]error, len(live))
	after := make([][]func(), len(live))
	abort := func(tx *sql.Tx, err error) {
		if tx != nil {
			_ = tx.Rollback()
		}
		w.log.Error("sqlite write batch failed", "error", err, "writes", len(live))
		for i, j := range live {
			if errs[i] == nil {
				errs[i] = fmt.Errorf("sqlstore: write batch: %w", err)
			}
			j.done <- errs[i]
		}
	}
	tx, err := w.db.BeginTx(w.ctx, nil)
	if err != nil {
		abort(nil, err)
		return
	}
	if len(live) == 1 { // no savepoint needed: the transaction is the write's own
		a, err := live[0].run(tx, w.ctx)
		if err != nil {
			_ = tx.Rollback()
			live[0].done <- err
			return
		}
		if err := w.beforeCommit(tx); err != nil {
			abort(tx, err)
			return
		}
		if err := tx.Commit(); err != nil {
			abort(nil, fmt.Errorf("commit: %w", err))
			return
		}
		w.commits.Add(1)
		runHooks(a)
		live[0].done <- nil
		return
	}
	// The largest group of writes that merge runs first, as one write in no savepoint: releasing a savepoint
	// that covers thousands of rows costs more than the write (its statement journal is freed page by page). If
	// the merged write fails, the transaction is rolled back and begun again, and the writes run one by one below.
	// Running it first reorders nothing a caller can see: every write of a batch is answered after the same commit.
	done := make([]bool, len(live))
	noMerge := false
	if lead := leadGroup(live); lead != nil {
		group := make([]*writeJob, len(lead))
		for n, k := range lead {
			group[n] = live[k]
		}
		a, err := group[0].merge(tx, w.ctx, group)
		if err == nil {
			w.merged.Add(int64(len(lead)))
			after[lead[0]] = a // the group's hooks, run once
			for _, k := range lead {
				done[k] = true
			}
		} else {
			w.log.Warn("merged writes failed; running them one by one", "error", err, "writes", len(lead))
			_ = tx.Rollback()
			if tx, err = w.db.BeginTx(w.ctx, nil); err != nil {
				abort(nil, err)
				return
			}
			noMerge = true
		}
	}
	// inSavepoint runs f in a savepoint, rolled back if f fails; a savepoint statement failing aborts the batch.
	inSavepoint := func(f func() ([]func(), error)) (a []func(), err error, ok bool) {
		if _, serr := w.exec(tx, "SAVEPOINT w"); serr != nil {
			abort(tx, fmt.Errorf("savepoint: %w", serr))
			return nil, nil, false
		}
		if a, err = f(); err != nil {
			if _, rerr := w.exec(tx, "ROLLBACK TO w"); rerr != nil {
				abort(tx, fmt.Errorf("rollback to savepoint: %w", rerr))
				return nil, nil, false
			}
		}
		if _, rerr := w.exec(tx, "RELEASE w"); rerr != nil {
			abort(tx, fmt.Errorf("release savepoint: %w", rerr))
			return nil, nil, false
		}
		return a, err, true
	}
	for i, j := range live {
		if done[i] {
			continue
		}
		if j.mergeKey != "" && j.merge != nil && !noMerge {
			idx := []int{i}
			for k := i + 1; k < len(live); k++ {
				if !done[k] && live[k].mergeKey == j.mergeKey {
					idx = append(idx, k)
				}
			}
			if len(idx) > 1 {
				group := make([]*writeJob, len(idx))
				for n, k := range idx {
					group[n], done[k] = live[k], true
				}
				a, err, ok := inSavepoint(func() ([]func(), error) { return j.merge(tx, w.ctx, group) })
				if !ok {
					return
				}
				if err == nil {
					w.merged.Add(int64(len(idx)))
					after[i] = a // the group's hooks, run once
					continue
				}
				w.log.Warn("merged writes failed; running them one by one", "error", err, "writes", len(idx))
				for _, k := range idx {
					a, err, ok := inSavepoint(func() ([]func(), error) { return live[k].run(tx, w.ctx) })
					if !ok {
						return
					}
					errs[k], after[k] = err, a
				}
				continue
			}
		}
		a, err, ok := inSavepoint(func() ([]func(), error) { return j.run(tx, w.ctx) })
		if !ok {
			return
		}
		errs[i], after[i] = err, a
	}
	if err := w.beforeCommit(tx); err != nil {
		abort(tx, err)
		return
	}
	if err := tx.Commit(); err != nil {
		abort(nil, fmt.Errorf("commit: %w", err))
		return
	}
	w.commits.Add(1)
	for i, j := range live {
		if errs[i] == nil {
			runHooks(after[i])
		}
		j.done <- errs[i]
	}
}

// leadGroup returns the indexes of the largest group of two or more jobs that merge under one key (the first
// such group on a tie), or nil.
func leadGroup(jobs []*writeJob) []int {
	var best []int
	seen := map[string]bool{}
	for i, j := range jobs {
		if j.mergeKey == "" || j.merge == nil || seen[j.mergeKey] {
			continue
		}
		seen[j.mergeKey] = true
		idx := []int{i}
		for k := i + 1; k < len(jobs); k++ {
			if jobs[k].mergeKey == j.mergeKey {
				idx = append(idx, k)
			}
		}
		if len(idx) > 1 && len(idx) > len(best) {
			best = idx
		}
	}
	return best
}

// beforeCommit brings what the transaction defers to its commit up to date: the full-text index takes the
// search pieces the batch wrote (flushSearchIndex).
func (w *writer) beforeCommit(tx *sql.Tx) error {
	return flushSearchIndex(func(q string) (sql.Result, error) { return w.exec(tx, q) },
		func(q string) *sql.Row { return w.queryRow(tx, q) })
}

func (w *writer) exec(tx *sql.Tx, query string) (sql.Result, error) {
	if st := w.stmts.get(w.ctx, query); st != nil {
		return tx.StmtContext(w.ctx, st).ExecContext(w.ctx)
	}
	return tx.ExecContext(w.ctx, query)
}

func (w *writer) queryRow(tx *sql.Tx, query string) *sql.Row {
	if st := w.stmts.get(w.ctx, query); st != nil {
		return tx.StmtContext(w.ctx, st).QueryRowContext(w.ctx)
	}
	return tx.QueryRowContext(w.ctx, query)
}

func runHooks(fs []func()) {
	for _, f := range fs {
		f()
	}
}
