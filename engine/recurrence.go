package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/firebreak/firebreak/sqlstore"
)

// Recurrence runs the recurrence checks of new incidents: is the incident a probable recurrence of an earlier
// one whose action items are still open or unverified? (sqlstore/related.go.) Each check is a due row inserted
// with the incident; a claim leases it, and the check deletes it in the transaction that records the outcome, so
// a check lost in a crash or failing is tried again after the lease.
type Recurrence struct {
	Store *sqlstore.Store
	// Lease is how long a claim lasts before another engine may take the row (default 1 min).
	Lease  time.Duration
	Clock  Clock
	Logger *slog.Logger
}

// Queue is the recurrence check queue for New.
func (r *Recurrence) Queue() Queue {
	if r.Lease <= 0 {
		r.Lease = time.Minute
	}
	if r.Clock == nil {
		r.Clock = RealClock
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return Queue{Name: "recurrence", NextDue: r.Store.NextRecurrenceDue,
		Claim: func(ctx context.Context, now time.Time, limit int) ([]func(context.Context), error) {
			ids, err := r.Store.ClaimRecurrenceChecks(ctx, now, r.Lease, limit)
			if err != nil {
				return nil, err
			}
			hs := make([]func(context.Context), len(ids))
			for i, id := range ids {
				hs[i] = func(ctx context.Context) {
					if err := r.Store.CheckRecurrence(ctx, id, r.Clock.Now()); err != nil && ctx.Err() == nil {
						r.Logger.Warn("recurrence check failed", "incident", id, "err", err)
					}
				}
			}
			return hs, nil
		}}
}
