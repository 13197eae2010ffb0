package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/firebreak/firebreak/sqlstore"
)

// FollowThrough fires the follow-through reminders of the store: overdue action items (to the owner, then also
// the owner's teams) and due follow-up reviews of published post-mortems (to the approvers and the commander).
// The due rows are the action items and post-mortems themselves (see sqlstore/followthrough.go); a reminder's
// notifications go through the outbox like every other message.
type FollowThrough struct {
	Store *sqlstore.Store
	// Lease is how long a claim lasts before another engine may take the row (default 2 min).
	Lease  time.Duration
	Clock  Clock
	Logger *slog.Logger
}

// Queues are the follow-through queues for New: overdue action items and follow-up reviews.
func (f *FollowThrough) Queues() []Queue {
	lease := f.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	clock := f.Clock
	if clock == nil {
		clock = RealClock
	}
	logger := f.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	queue := func(name string, claim func(context.Context, time.Time, time.Duration, int) ([]string, error),
		fire func(context.Context, string, time.Time) error, next func(context.Context) (time.Time, error)) Queue {
		return Queue{Name: name, NextDue: next,
			Claim: func(ctx context.Context, now time.Time, limit int) ([]func(context.Context), error) {
				ids, err := claim(ctx, now, lease, limit)
				if err != nil {
					return nil, err
				}
				hs := make([]func(context.Context), len(ids))
				for i, id := range ids {
					hs[i] = func(ctx context.Context) {
						if err := fire(ctx, id, clock.Now()); err != nil && ctx.Err() == nil {
							logger.Warn("follow-through reminder failed", "queue", name, "id", id, "err", err)
						}
					}
				}
				return hs, nil
			}}
	}
	none := func(context.Context) (time.Time, error) { return time.Time{}, nil } // counted by the first queue
	return []Queue{
		queue("overdue action items", f.Store.ClaimOverdueReminders, f.Store.FireOverdueReminder,
			f.Store.NextFollowThroughDue),
		queue("follow-up reviews", f.Store.ClaimReviewReminders, f.Store.FireReviewReminder, none),
	}
}
