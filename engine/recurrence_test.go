package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/engine"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestRecurrenceQueue: declaring an incident queues its recurrence check, due RecurrenceCheckDelay later; the engine runs it, and a
// look-alike of an earlier incident with an open action item gets its warning. A check that cannot find anything
// (no earlier incident with open items shares a service or an alert) is finished by the claim. A failing
// handler's row (here: a claim whose check never ran) is due again after the lease.
func TestRecurrenceQueue(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			clock := engine.NewFakeClock(time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC))
			s := openFake(t, d, clock)
			if _, err := s.CreateService(alice, firebreak.ServiceInput{Slug: "api", Name: "API"}); err != nil {
				t.Fatal(err)
			}
			declare := func(title string) *firebreak.Incident {
				inc, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: title, Severity: firebreak.SEV2,
					Services: []string{"api"}})
				if err != nil {
					t.Fatal(err)
				}
				return inc
			}
			first := declare("API gateway returns 502 for uploads")
			if _, err := s.AddActionItem(alice, first.ID, firebreak.ActionItemInput{Title: "Raise the upload timeout",
				Owner: "bob"}); err != nil {
				t.Fatal(err)
			}
			rq := &engine.Recurrence{Store: s, Clock: clock, Lease: time.Minute}
			e := engine.New(engine.Options{Clock: clock}, rq.Queue())
			if n := e.RunDue(ctx); n != 0 {
				t.Fatalf("ran %d checks before they were due", n)
			}
			clock.Tick(sqlstore.RecurrenceCheckDelay)
			// Nothing earlier to compare with: the claim itself finishes the first incident's check.
			if n := e.RunDue(ctx); n != 0 {
				t.Fatalf("ran %d full checks for the first incident, want 0", n)
			}
			if next := e.NextDue(ctx); !next.IsZero() {
				t.Fatalf("a check is still due at %v", next)
			}
			clock.Tick(48 * time.Hour)
			second := declare("API gateway returns 502 for uploads again")
			if next, want := e.NextDue(ctx), clock.Now().Add(sqlstore.RecurrenceCheckDelay); !next.Equal(want) {
				t.Fatalf("next due %v, want %v", next, want)
			}
			clock.Tick(sqlstore.RecurrenceCheckDelay)
			if n := e.RunDue(ctx); n != 1 {
				t.Fatalf("ran %d checks, want 1", n)
			}
			w, err := s.RecurrenceWarning(ctx, second.ID)
			if err != nil || w == nil || w.OfRef != first.Reference || w.OpenActionItems != 1 {
				t.Fatalf("warning %+v, %v", w, err)
			}
			if next := e.NextDue(ctx); !next.IsZero() {
				t.Fatalf("a check is still due at %v", next)
			}

			// A claimed check whose handler died is due again when its lease ends.
			third := declare("Unrelated: billing export late")
			clock.Tick(sqlstore.RecurrenceCheckDelay)
			ids, err := s.ClaimRecurrenceChecks(ctx, clock.Now(), time.Minute, 10)
			if err != nil || len(ids) != 1 || ids[0] != third.ID {
				t.Fatalf("claimed %v, %v", ids, err)
			}
			if n := e.RunDue(ctx); n != 0 {
				t.Fatalf("ran %d leased checks", n)
			}
			clock.Tick(time.Minute)
			if n := e.RunDue(ctx); n != 1 {
				t.Fatalf("ran %d checks after the lease, want 1", n)
			}
			if w, err := s.RecurrenceWarning(ctx, third.ID); err != nil || w != nil {
				t.Fatalf("unrelated incident warned: %+v, %v", w, err)
			}
		})
	}
}
