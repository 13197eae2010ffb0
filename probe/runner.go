package probe

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firebreak/firebreak"
)

// Store is what the Runner needs of the database: the schedule and the results (see firebreak.ProbeService).
type Store interface {
	ClaimDueProbes(ctx context.Context, now time.Time, limit int) ([]firebreak.Probe, error)
	NextProbeDue(ctx context.Context) (time.Time, error)
	RecordProbeResults(ctx context.Context, runs []firebreak.ProbeRun) error
}

// Options configure a Runner. Zero values take the defaults.
type Options struct {
	// Now is the clock (default time.Now): the claim time and each result's At.
	Now    func() time.Time
	Logger *slog.Logger // nil discards
	// MaxInFlight bounds the checks running at once (default 2000).
	MaxInFlight int
	// Results are recorded every FlushInterval (default 1 s) or as soon as FlushSize (default 1000) are pending.
	FlushInterval time.Duration
	FlushSize     int
	// PollInterval is the longest sleep between claims (default 1 s): a probe created by another replica is
	// seen within it.
	PollInterval time.Duration
	// MaxPending bounds the results kept while the store refuses them (default 50,000); beyond it the oldest
	// are dropped.
	MaxPending int
	// Checker executes the probes (default: a new one, closed when Run returns).
	Checker *Checker
}

// ClaimBatch is the most probes claimed at once.
const ClaimBatch = 1000

// Stats are the Runner's counters since it was made.
type Stats struct {
	ChecksRun   uint64 // checks finished
	Failures    uint64 // checks that did not succeed
	InFlight    int64  // checks running now
	Recorded    uint64 // results the store accepted
	Pending     int    // results waiting to be recorded
	Dropped     uint64 // results dropped because too many were pending
	FlushErrors uint64 // failed RecordProbeResults calls
	ClaimErrors uint64 // failed ClaimDueProbes or NextProbeDue calls
}

// Runner claims due probes from the Store, checks each in its own goroutine and records the results in batches.
// The database holds the schedule: ClaimDueProbes moves each claimed probe's next check on, so nothing but
// results not yet recorded lives only in memory.
type Runner struct {
	store   Store
	o       Options
	log     *slog.Logger
	checker *Checker
	wake    chan struct{}
	sem     chan struct{}

	mu       sync.Mutex
	pending  []firebreak.ProbeRun
	flushNow chan struct{}

	checksRun, failures, recorded, dropped, flushErrors, claimErrors atomic.Uint64
	inFlight                                                         atomic.Int64
}

// NewRunner returns a Runner; Run starts it.
func NewRunner(s Store, o Options) *Runner {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 2000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.FlushSize <= 0 {
		o.FlushSize = 1000
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 50_000
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Runner{
		store: s, o: o, log: log, checker: o.Checker,
		wake:     make(chan struct{}, 1),
		sem:      make(chan struct{}, o.MaxInFlight),
		flushNow: make(chan struct{}, 1),
	}
}

// Wake makes the Runner claim at once (a probe was created or changed).
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	pending := len(r.pending)
	r.mu.Unlock()
	return Stats{
		ChecksRun: r.checksRun.Load(), Failures: r.failures.Load(), InFlight: r.inFlight.Load(),
		Recorded: r.recorded.Load(), Pending: pending, Dropped: r.dropped.Load(),
		FlushErrors: r.flushErrors.Load(), ClaimErrors: r.claimErrors.Load(),
	}
}

// Run claims and checks probes until ctx is done, then cancels the checks still running (their results are
// dropped: a shutdown is not a failure of the target, and the probe is simply checked at its next due time),
// records the pending results and returns. It returns an error only if results could not be recorded at the end.
func (r *Runner) Run(ctx context.Context) error {
	if r.checker == nil {
		r.checker = NewChecker()
		defer r.checker.Close()
	}
	var checks sync.WaitGroup
	// The flusher's store calls are not canceled with ctx (a write canceled halfway may have committed, and
	// its retry would record the results twice); it is stopped between calls instead.
	storeCtx := context.WithoutCancel(ctx)
	stopFlusher := make(chan struct{})
	flusherDone := make(chan struct{})
	go func() {
		defer close(flusherDone)
		r.flushLoop(storeCtx, stopFlusher)
	}()

	r.schedule(ctx, &checks)

	checks.Wait()
	close(stopFlusher)
	<-flusherDone
	// Last flush, bounded so that a dead database cannot hold the shutdown forever.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for {
		batch := r.take()
		if len(batch) == 0 {
			return nil
		}
		if err := r.store.RecordProbeResults(fctx, batch); err != nil {
			r.flushErrors.Add(1)
			r.log.Error("probe: results lost at shutdown", "results", len(batch)+r.Stats().Pending, "err", err)
			return err
		}
		r.recorded.Add(uint64(len(batch)))
	}
}

// claimGap is the shortest time between two claims of due probes (see schedule).
const claimGap = 250 * time.Millisecond

func (r *Runner) schedule(ctx context.Context, checks *sync.WaitGroup) {
	limit := min(ClaimBatch, r.o.MaxInFlight)
	backoff := 100 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		probes, err := r.store.ClaimDueProbes(ctx, r.o.Now(), limit)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.claimErrors.Add(1)
			r.log.Error("probe: claiming due probes", "err", err)
			r.sleep(ctx, timer, jitter(backoff))
			backoff = min(backoff*2, max(r.o.PollInterval, 100*time.Millisecond))
			continue
		}
		backoff = 100 * time.Millisecond
		for i := range probes {
			select {
			case r.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			p := &probes[i]
			r.inFlight.Add(1)
			checks.Add(1)
			go func() {
				defer checks.Done()
				r.check(ctx, p)
			}()
		}
		if len(probes) == limit {
			continue // more may be due
		}
		sleep := r.o.PollInterval
		next, err := r.store.NextProbeDue(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.claimErrors.Add(1)
			r.log.Error("probe: reading the next due time", "err", err)
		} else if !next.IsZero() {
			// Probes are spread over their interval; claiming each the instant it falls due would cost a
			// transaction per probe. Claims are at least claimGap apart (a probe may run that much late), unless
			// a Wake comes.
			sleep = min(sleep, max(next.Sub(r.o.Now()), min(claimGap, r.o.PollInterval)))
		}
		if sleep > 0 {
			r.sleep(ctx, timer, sleep)
		}
	}
}

// sleep waits for d, a Wake or ctx.
func (r *Runner) sleep(ctx context.Context, timer *time.Timer, d time.Duration) {
	timer.Reset(d)
	select {
	case <-timer.C:
	case <-r.wake:
		timer.Stop()
	case <-ctx.Done():
		timer.Stop()
	}
}

func (r *Runner) check(ctx context.Context, p *firebreak.Probe) {
	defer func() {
		<-r.sem
		r.inFlight.Add(-1)
	}()
	at := r.o.Now()
	res := r.checker.Execute(ctx, p)
	if ctx.Err() != nil {
		return // shut down mid-check: not the target's fault
	}
	res.At = at
	r.checksRun.Add(1)
	if !res.Success {
		r.failures.Add(1)
	}
	r.add(firebreak.ProbeRun{ProbeID: p.ID, Result: res})
}

// add queues a result for recording.
func (r *Runner) add(runs ...firebreak.ProbeRun) {
	r.mu.Lock()
	r.pending = append(r.pending, runs...)
	r.trimLocked()
	full := len(r.pending) >= r.o.FlushSize
	r.mu.Unlock()
	if full {
		select {
		case r.flushNow <- struct{}{}:
		default:
		}
	}
}

func (r *Runner) trimLocked() {
	if over := len(r.pending) - r.o.MaxPending; over > 0 {
		r.pending = append(r.pending[:0], r.pending[over:]...)
		if r.dropped.Add(uint64(over)) == uint64(over) || r.dropped.Load()%10_000 < uint64(over) {
			r.log.Warn("probe: too many results waiting to be recorded; dropping the oldest", "dropped", over, "dropped_total", r.dropped.Load())
		}
	}
}

// take removes up to FlushSize pending results.
func (r *Runner) take() []firebreak.ProbeRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := min(len(r.pending), r.o.FlushSize)
	if n == 0 {
		return nil
	}
	batch := make([]firebreak.ProbeRun, n)
	copy(batch, r.pending)
	rest := copy(r.pending, r.pending[n:])
	clear(r.pending[rest:])
	r.pending = r.pending[:rest]
	return batch
}

// putBack returns a batch that could not be recorded to the front of the queue.
func (r *Runner) putBack(batch []firebreak.ProbeRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(batch, r.pending...)
	r.trimLocked()
}

// flushLoop records pending results every FlushInterval, or when FlushSize are pending, until stop is closed;
// on a failure it retries with exponential backoff.
func (r *Runner) flushLoop(ctx context.Context, stop <-chan struct{}) {
	tick := time.NewTicker(r.o.FlushInterval)
	defer tick.Stop()
	const minBackoff, maxBackoff = 200 * time.Millisecond, 30 * time.Second
	backoff := time.Duration(0)
	for {
		if backoff > 0 {
			t := time.NewTimer(jitter(backoff))
			select {
			case <-t.C:
			case <-stop:
				t.Stop()
				return
			}
		} else {
			select {
			case <-tick.C:
			case <-r.flushNow:
			case <-stop:
				return
			}
		}
		for {
			batch := r.take()
			if len(batch) == 0 {
				break
			}
			cctx, cancel := context.WithTimeout(ctx, storeTimeout)
			err := r.store.RecordProbeResults(cctx, batch)
			cancel()
			if err != nil {
				r.flushErrors.Add(1)
				backoff = min(max(backoff*2, minBackoff), maxBackoff)
				r.log.Error("probe: recording results", "results", len(batch), "retry_in", backoff, "err", err)
				r.putBack(batch)
				break
			}
			backoff = 0
			r.recorded.Add(uint64(len(batch)))
			r.mu.Lock()
			more := len(r.pending) >= r.o.FlushSize
			r.mu.Unlock()
			if !more {
				break
			}
		}
	}
}

// storeTimeout bounds one RecordProbeResults call.
const storeTimeout = 30 * time.Second

// jitter returns a duration between d/2 and d.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2)
}
