package engine

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
)

// Outbox delivers the notifications of the sqlstore outbox and fires update reminders.
//
// Per claimed notification: the destination's circuit breaker (stored, shared by the replicas) and its rate limit
// (a token bucket in this process's memory: with n replicas a destination may see up to n times the rate, and a
// restart starts with a full bucket) may defer it without an attempt; otherwise one attempt is made with the
// Notifier's per-attempt timeout, and Policy.Decide's outcome, the breaker's new state and the timeline event are
// written in one transaction.
type Outbox struct {
	Store    *sqlstore.Store
	Notifier *notify.Notifier
	// Policy gives the retry policy of a destination kind (default notify.DefaultPolicy).
	Policy func(notify.DestinationKind) notify.Policy
	// Lease is how long a claim lasts before another engine may take the row (default 2 min; longer than the
	// longest attempt).
	Lease  time.Duration
	Clock  Clock
	Logger *slog.Logger
	// Rand is the jitter source (nil: random).
	Rand *rand.Rand

	once     sync.Once
	randMu   sync.Mutex
	limitMu  sync.Mutex
	limiters map[notify.DestinationKind]*notify.Limiter
}

func (o *Outbox) init() {
	o.once.Do(func() {
		if o.Policy == nil {
			o.Policy = notify.DefaultPolicy
		}
		if o.Lease <= 0 {
			o.Lease = 2 * time.Minute
		}
		if o.Clock == nil {
			o.Clock = RealClock
		}
		if o.Logger == nil {
			o.Logger = slog.New(slog.DiscardHandler)
		}
		o.limiters = map[notify.DestinationKind]*notify.Limiter{}
	})
}

func (o *Outbox) limiter(k notify.DestinationKind) *notify.Limiter {
	o.limitMu.Lock()
	defer o.limitMu.Unlock()
	l := o.limiters[k]
	if l == nil {
		l = notify.NewLimiter(o.Policy(k).Rate)
		o.limiters[k] = l
	}
	return l
}

// Queues are the outbox's queues for New: notifications and reminders.
func (o *Outbox) Queues() []Queue {
	o.init()
	return []Queue{
		{Name: "notifications", NextDue: o.Store.NextNotificationDue,
			Claim: func(ctx context.Context, now time.Time, limit int) ([]func(context.Context), error) {
				cs, err := o.Store.ClaimNotifications(ctx, now, o.Lease, limit)
				if err != nil {
					return nil, err
				}
				hs := make([]func(context.Context), len(cs))
				for i, c := range cs {
					hs[i] = func(ctx context.Context) { o.deliver(ctx, c) }
				}
				return hs, nil
			}},
		{Name: "reminders", NextDue: func(context.Context) (time.Time, error) { return time.Time{}, nil }, // counted above
			Claim: func(ctx context.Context, now time.Time, limit int) ([]func(context.Context), error) {
				ids, err := o.Store.ClaimReminders(ctx, now, o.Lease, limit)
				if err != nil {
					return nil, err
				}
				hs := make([]func(context.Context), len(ids))
				for i, id := range ids {
					hs[i] = func(ctx context.Context) {
						if err := o.Store.FireReminder(ctx, id, o.Clock.Now()); err != nil && ctx.Err() == nil {
							o.Logger.Warn("update reminder failed", "incident", id, "err", err)
						}
					}
				}
				return hs, nil
			}},
	}
}

func (o *Outbox) deliver(ctx context.Context, c sqlstore.ClaimedNotification) {
	p := o.Policy(c.Dest.Kind)
	now := o.Clock.Now()
	deferTo := func(until time.Time, why string) {
		if _, err := o.Store.DeferNotification(ctx, c, until); err != nil && ctx.Err() == nil {
			o.Logger.Warn("deferring notification failed", "id", c.ID, "err", err)
		}
		o.Logger.Debug("notification deferred", "id", c.ID, "why", why, "until", until)
	}
	if st := c.Breaker.State; st != "" && st != notify.BreakerClosed {
		ok, retryAt, err := o.Store.BreakerAllow(ctx, c.DestKey, p.Breaker, now)
		if err != nil {
			if ctx.Err() == nil {
				o.Logger.Warn("circuit breaker check failed", "id", c.ID, "err", err)
			}
			return // the lease ends and the row is due again
		}
		if !ok {
			deferTo(retryAt, "circuit breaker open")
			return
		}
	}
	if ok, wait := o.limiter(c.Dest.Kind).Allow(c.DestKey, now); !ok {
		deferTo(now.Add(wait), "rate limited")
		return
	}
	a := o.Notifier.Deliver(ctx, c.Dest, c.Message)
	if ctx.Err() != nil {
		return // shutting down: the lease ends and the row is due again (the receiver may see it twice: same key)
	}
	now = o.Clock.Now()
	o.randMu.Lock()
	d := p.Decide(a, c.CreatedAt, c.Attempts+1, now, o.Rand)
	o.randMu.Unlock()
	ok, err := o.Store.CompleteNotification(ctx, c, sqlstore.Delivery{Attempt: a, Decision: d, Breaker: p.Breaker, Now: now})
	switch {
	case err != nil:
		o.Logger.Warn("recording a notification attempt failed", "id", c.ID, "err", err)
	case !ok:
		o.Logger.Warn("notification claim was lost before its attempt was recorded (lease too short?)", "id", c.ID)
	case d.Outcome == notify.OutcomeDeadLetter:
		o.Logger.Warn("notification dead-lettered", "id", c.ID, "channel", c.ChannelName, "reason", d.Reason)
	}
}
