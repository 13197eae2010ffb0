package sqlstore

import (
	"context"
	"sync"
	"sync/atomic"
)

// Group commit for PostgreSQL. Writes that may merge (writeMerged: alert deliveries) and arrive while a batch of
// their key is running wait, and run together as ONE transaction when it ends: one merge call, one commit. Without
// it, each delivery was its own transaction, and the deliveries of an alert storm queued one at a time for the
// lock of the incident they all join: about 500 PagerDuty events/s however many replicas or connections.
//
// The batch is run by a request's goroutine: the first to find no batch running runs it; whoever finishes a batch
// and finds writes waiting starts a new goroutine for the next, so that no request's answer waits for others'
// batches beyond its own. Nothing is answered before its batch commits, and a replica that dies loses only
// unanswered writes, which the senders retry. If the merged transaction fails (after writePG's retries of
// serialization failures and deadlocks), every write of the batch runs alone, so that one bad write cannot fail
// the others.
type pgBatcher struct {
	mu      sync.Mutex
	queues  map[string]*pgQueue
	running sync.WaitGroup // batches in flight, waited for by Close
	merged  atomic.Int64   // writes that ran merged with others, for tests
	closed  bool
}

// close refuses new writes and waits for the batches in flight (and the writes queued behind them).
func (b *pgBatcher) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.running.Wait()
}

type pgQueue struct {
	pending []*pgJob
	busy    bool // a batch of this key is running
}

type pgJob struct {
	ctx   context.Context
	data  any
	fn    func(t *txn) error
	merge func(t *txn, data []any) error // a batch runs its first job's
	done  chan error                     // buffered 1
}

// pgMaxBatch bounds a batch: a merged transaction holds its locks until it commits.
const pgMaxBatch = 256

// do queues the write and waits for its answer, running the batch itself if none of its key is running. Once
// queued, a write is always answered (a caller that gave up before its batch started gets ctx's error, having
// written nothing).
func (b *pgBatcher) do(ctx context.Context, s *Store, key string, data any, fn func(t *txn) error,
	merge func(t *txn, data []any) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &pgJob{ctx: ctx, data: data, fn: fn, merge: merge, done: make(chan error, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	if b.queues == nil {
		b.queues = map[string]*pgQueue{}
	}
	q := b.queues[key]
	if q == nil {
		q = &pgQueue{}
		b.queues[key] = q
	}
	q.pending = append(q.pending, j)
	lead := !q.busy
	if lead {
		q.busy = true
		b.running.Add(1)
	}
	b.mu.Unlock()
	if lead {
		b.run(s, q)
	}
	return <-j.done
}

// run runs the next batch of q, then hands the queue on: to a new goroutine if writes wait, else it marks the
// queue idle.
func (b *pgBatcher) run(s *Store, q *pgQueue) {
	defer b.running.Done()
	b.mu.Lock()
	n := min(len(q.pending), pgMaxBatch)
	batch := q.pending[:n:n]
	q.pending = q.pending[n:]
	b.mu.Unlock()

	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err // gave up before its batch started: nothing written
			continue
		}
		live = append(live, j)
	}
	b.runBatch(s, live)

	b.mu.Lock()
	if len(q.pending) == 0 {
		q.busy = false
		b.mu.Unlock()
		return
	}
	b.running.Add(1)
	b.mu.Unlock()
	go b.run(s, q)
}

// runBatch writes the jobs: merged in one transaction when there are several, else (or if that fails) each alone.
// The merged transaction runs with no caller's cancellation (one caller going away must not roll back the others'
// writes).
func (b *pgBatcher) runBatch(s *Store, jobs []*pgJob) {
	if len(jobs) > 1 {
		all := make([]any, len(jobs))
		for i, j := range jobs {
			all[i] = j.data
		}
		err := s.writePG(context.WithoutCancel(jobs[0].ctx), func(t *txn) error { return jobs[0].merge(t, all) })
		if err == nil {
			b.merged.Add(int64(len(jobs)))
			for _, j := range jobs {
				j.done <- nil
			}
			return
		}
		s.log.Warn("merged writes failed; running them one by one", "error", err, "writes", len(jobs))
	}
	for _, j := range jobs {
		j.done <- s.writePG(context.WithoutCancel(j.ctx), j.fn)
	}
}
