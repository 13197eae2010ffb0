// Package engine runs Firebreak's background work as data: rows with a due time in the database. One loop claims
// the due rows of each queue (PostgreSQL: FOR UPDATE SKIP LOCKED with a lease, so replicas never overlap and a
// dead replica's claims are taken again when the lease ends; SQLite: the single process), runs their handlers
// concurrently (bounded), and lets the handlers write the outcome and the next due time. Between rounds it sleeps
// until the earliest due time or a wake signal: in-process on the commit of a new row, and across replicas
// through PostgreSQL LISTEN/NOTIFY (sqlstore.JobsTopic). The clock is injected; tests use FakeClock and RunDue.
//
// There is no generic jobs table: the outbox's notifications, the update reminders and the follow-through
// reminders (action_items.remind_at, postmortems.follow_up_remind_at; followthrough.go) are themselves the rows
// with due times (a notification's next_attempt_at doubles as its lease while it is being sent), which keeps each
// state change in one row and one transaction. A new kind of background work adds a Queue.
package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Clock is the engine's time source.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed on this clock.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// RealClock is wall-clock time.
var RealClock Clock = realClock{}

// FakeClock is a Clock that moves only when a test says so.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

// NewFakeClock starts a fake clock at t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t} }

// Now is the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After fires when the clock is moved to or past now+d.
func (c *FakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Tick moves the clock on by d.
func (c *FakeClock) Tick(d time.Duration) { c.Set(c.Now().Add(d)) }

// Set moves the clock to t (never backwards).
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// Queue is one kind of due rows.
type Queue struct {
	Name string
	// Claim leases up to limit rows due at now and returns one handler per row. A handler writes its row's
	// outcome and next due time itself (idempotently: a lost lease makes its write a no-op).
	Claim func(ctx context.Context, now time.Time, limit int) ([]func(ctx context.Context), error)
	// NextDue is when the earliest row is due (zero: none). Rows being handled are due at their lease's end.
	NextDue func(ctx context.Context) (time.Time, error)
}

// Options configure an Engine.
type Options struct {
	Clock Clock // default RealClock
	// Wake signals that new rows may be due (a sqlstore Subscribe channel); nil: only the schedule wakes it.
	Wake <-chan struct{}
	// Concurrency bounds the handlers in flight (default 32).
	Concurrency int
	// Batch is how many rows one claim takes (default 64).
	Batch int
	// Idle is the longest sleep without a wake or due row, a safety net for a lost signal (default 30 s).
	Idle   time.Duration
	Logger *slog.Logger
}

// Engine runs queues.
type Engine struct {
	o      Options
	queues []Queue
	sem    chan struct{}
	wg     sync.WaitGroup
	kick   chan struct{}
}

// New builds an engine over the queues.
func New(o Options, queues ...Queue) *Engine {
	if o.Clock == nil {
		o.Clock = RealClock
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Batch <= 0 {
		o.Batch = 64
	}
	if o.Idle <= 0 {
		o.Idle = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{o: o, queues: queues, sem: make(chan struct{}, o.Concurrency), kick: make(chan struct{}, 1)}
}

// Wake makes the loop look for due rows at once (handlers call it when they finish, so a full batch is followed
// by the next without waiting).
func (e *Engine) Wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// round claims what is due in every queue and starts the handlers; it returns how many it started.
func (e *Engine) round(ctx context.Context) int {
	started := 0
	for _, q := range e.queues {
		free := cap(e.sem) - len(e.sem)
		if free <= 0 {
			break
		}
		hs, err := q.Claim(ctx, e.o.Clock.Now(), min(free, e.o.Batch))
		if err != nil {
			if ctx.Err() == nil {
				e.o.Logger.Warn("claiming due work failed", "queue", q.Name, "err", err)
			}
			continue
		}
		// Handlers outlive a cancelled ctx: a shutdown lets the attempts in flight (bounded by the per-attempt
		// timeout) record their outcome instead of leaving them to be sent again after the lease.
		hctx := context.WithoutCancel(ctx)
		for _, h := range hs {
			e.sem <- struct{}{}
			e.wg.Add(1)
			started++
			go func() {
				defer func() { <-e.sem; e.wg.Done(); e.Wake() }()
				h(hctx)
			}()
		}
	}
	return started
}

// RunDue claims and handles everything due now, round after round, and returns when nothing due is left and
// every handler has finished (tests drive the engine with it and a FakeClock).
func (e *Engine) RunDue(ctx context.Context) int {
	total := 0
	for ctx.Err() == nil {
		n := e.round(ctx)
		e.wg.Wait()
		total += n
		if n == 0 {
			break
		}
	}
	return total
}

// NextDue is the earliest due time over the queues (zero: none).
func (e *Engine) NextDue(ctx context.Context) time.Time {
	var next time.Time
	for _, q := range e.queues {
		t, err := q.NextDue(ctx)
		if err != nil || t.IsZero() {
			continue
		}
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	return next
}

// Run loops until ctx ends, then waits for the handlers in flight.
func (e *Engine) Run(ctx context.Context) {
	defer e.wg.Wait()
	for ctx.Err() == nil {
		looked := e.o.Clock.Now()
		e.round(ctx)
		wait := e.o.Idle
		next := e.NextDue(ctx)
		if !next.IsZero() {
			wait = min(wait, next.Sub(e.o.Clock.Now()))
		}
		if wait <= 0 {
			if next.After(looked) {
				continue // it became due after this round's claims looked: claim it now, not a second later
			}
			// Still due: claimed rows' handlers kick the loop when they finish; a row that could not be claimed
			// (a failing database) is tried again a little later rather than in a hot loop.
			wait = time.Second
		}
		select {
		case <-ctx.Done():
		case <-e.o.Wake:
		case <-e.kick:
		case <-e.o.Clock.After(wait):
		}
	}
}
