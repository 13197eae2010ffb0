package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestReservedPoolOutlastsExhaustedPool: on PostgreSQL, when requests hold every connection of the main pool (an
// alert storm), paging work (sqlstore.Reserved) still reads and writes on its own connections, at once.
func TestReservedPoolOutlastsExhaustedPool(t *testing.T) {
	if !slices.Contains(sqltest.Dialects(t), "postgres") {
		t.Skip("PostgreSQL only: SQLite's readers have their own pool and its writer serves everyone in turn")
	}
	s := sqltest.Open(t, "postgres")
	ctx := context.Background()
	inc := declare(t, s, "Checkout 5xx", firebreak.SEV2)
	release, err := sqlstore.HoldMainPool(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	// A request now waits for a connection.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := s.NextRecurrenceDue(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("read on the exhausted main pool: err %v, want a deadline exceeded", err)
	}
	// Paging work does not.
	rctx, rcancel := context.WithTimeout(sqlstore.Reserved(ctx), 5*time.Second)
	defer rcancel()
	due, err := s.NextRecurrenceDue(rctx)
	if err != nil {
		t.Fatalf("reserved read: %v", err)
	}
	if due.IsZero() {
		t.Fatalf("reserved read: no recurrence check due for %s", inc.Reference)
	}
	// The claim finishes the check in its transaction (no earlier incident could make this one a recurrence).
	if _, err := s.ClaimRecurrenceChecks(rctx, due.Add(time.Second), time.Minute, 10); err != nil {
		t.Fatalf("reserved write: %v", err)
	}
	if due, err := s.NextRecurrenceDue(rctx); err != nil || !due.IsZero() {
		t.Fatalf("after the reserved write: next check due %v (err %v), want none", due, err)
	}
}
