package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/firebreak/firebreak/sqlstore"
)

// Escalations fires due escalation steps and severity escalation criteria (sqlstore/escalation.go).
//
// A claim leases a row until now+Lease; firing is one transaction that checks the claimed round and step, so each
// step fires once however many engines run, and a row whose engine died is due again when its lease ends. Run it
// in an engine of its own: paging must not wait for slow deliveries to free the outbox engine's handlers.
type Escalations struct {
	Store *sqlstore.Store
	// Lease is how long a claim lasts before another engine may take the row (default 30 s; firing is one short
	// transaction).
	Lease  time.Duration
	Clock  Clock
	Logger *slog.Logger
}

// Queues is the escalation queue for New.
func (e *Escalations) Queues() []Queue {
	if e.Lease <= 0 {
		e.Lease = 30 * time.Second
	}
	if e.Clock == nil {
		e.Clock = RealClock
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	return []Queue{{Name: "escalations", NextDue: e.Store.NextEscalationDue,
		Claim: func(ctx context.Context, now time.Time, limit int) ([]func(context.Context), error) {
			cs, err := e.Store.ClaimEscalations(ctx, now, e.Lease, limit)
			if err != nil {
				return nil, err
			}
			hs := make([]func(context.Context), len(cs))
			for i, c := range cs {
				hs[i] = func(ctx context.Context) {
					if err := e.Store.FireEscalation(ctx, c, e.Clock.Now()); err != nil && ctx.Err() == nil {
						e.Logger.Warn("escalation failed; it is due again when its lease ends", "incident", c.IncidentID,
							"policy", c.PolicyID, "criterion", c.Criterion, "err", err)
					}
				}
			}
			return hs, nil
		}}}
}
