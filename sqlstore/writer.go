package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Group commit for SQLite. SQLite allows one writer at a time and, with synchronous=FULL, every COMMIT costs an
// fsync. So all writes go through one goroutine that takes every write queued at that moment (up to maxBatch),
// runs each inside its own SAVEPOINT of ONE transaction and commits once: concurrent requests share the fsync.
// A write that fails is rolled back to its savepoint and affects no other; if the COMMIT fails, every write of
// the batch gets that error. Callers are answered only after the COMMIT, and their after-commit hooks run only
// when it succeeded.

const (
	maxBatch   = 256
	queueDepth = 1024
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
	stmts *stmtCache
	log   *slog.Logger
	ctx   context.Context
	queue chan *writeJob

	mu     sync.RWMutex // guards closed against sends on the closed queue
	closed bool
	done   chan struct{}

	batches, writes atomic.Int64 // for tests and benchmarks: how well commits are shared
	merged          atomic.Int64 // writes that ran merged with others
}

func newWriter(db *sql.DB, log *slog.Logger) *writer {
	w := &writer{db: db, stmts: newStmtCache(db, true), log: log, ctx: context.Background(),
		queue: make(chan *writeJob, queueDepth), done: make(chan struct{})}
	go w.loop()
	return w
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

// close stops accepting writes, runs the ones already queued and waits for the writer to finish.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
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
		if err := tx.Commit(); err != nil {
			abort(nil, fmt.Errorf("commit: %w", err))
			return
		}
		runHooks(a)
		live[0].done <- nil
		return
	}
	// When every write of the batch merges into one, it needs no savepoint (releasing one that covers thousands of
	// rows costs a tenth of the writer's time): if the merged write fails, the transaction is rolled back and begun
	// again, and the writes run one by one below.
	noMerge := false
	if allMerge(live) {
		a, err := live[0].merge(tx, w.ctx, live)
		if err == nil {
			if err := tx.Commit(); err != nil {
				abort(nil, fmt.Errorf("commit: %w", err))
				return
			}
			w.merged.Add(int64(len(live)))
			runHooks(a)
			for _, j := range live {
				j.done <- nil
			}
			return
		}
		w.log.Warn("merged writes failed; running them one by one", "error", err, "writes", len(live))
		_ = tx.Rollback()
		if tx, err = w.db.BeginTx(w.ctx, nil); err != nil {
			abort(nil, err)
			return
		}
		noMerge = true
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
	merged := make([]bool, len(live))
	for i, j := range live {
		if merged[i] {
			continue
		}
		if j.mergeKey != "" && j.merge != nil && !noMerge {
			idx := []int{i}
			for k := i + 1; k < len(live); k++ {
				if !merged[k] && live[k].mergeKey == j.mergeKey {
					idx = append(idx, k)
				}
			}
			if len(idx) > 1 {
				group := make([]*writeJob, len(idx))
				for n, k := range idx {
					group[n], merged[k] = live[k], true
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
	if err := tx.Commit(); err != nil {
		abort(nil, fmt.Errorf("commit: %w", err))
		return
	}
	for i, j := range live {
		if errs[i] == nil {
			runHooks(after[i])
		}
		j.done <- errs[i]
	}
}

// allMerge reports whether jobs (two or more) all merge under one key.
func allMerge(jobs []*writeJob) bool {
	if len(jobs) < 2 || jobs[0].merge == nil || jobs[0].mergeKey == "" {
		return false
	}
	for _, j := range jobs[1:] {
		if j.mergeKey != jobs[0].mergeKey {
			return false
		}
	}
	return true
}

func (w *writer) exec(tx *sql.Tx, query string) (sql.Result, error) {
	if st := w.stmts.get(w.ctx, query); st != nil {
		return tx.StmtContext(w.ctx, st).ExecContext(w.ctx)
	}
	return tx.ExecContext(w.ctx, query)
}

func runHooks(fs []func()) {
	for _, f := range fs {
		f()
	}
}
