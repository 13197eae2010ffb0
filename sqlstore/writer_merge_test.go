package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// queueBehind holds the merging writes of key (SQLite: the writer), starts n writes, waits until all of them are
// queued behind the held one, then releases it, so that they run as one batch; it returns each write's error.
func queueBehind(t *testing.T, s *sqlstore.Store, key string, n int, write func(i int) error) []error {
	t.Helper()
	ctx := context.Background()
	release := make(chan struct{})
	queued := sqlstore.HoldMerging(ctx, s, key, release)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = write(i) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes queued", queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	return errs
}

// Writes queued together run as one merged write; when the merged write fails, each runs alone and every one
// still lands exactly once.
func TestWriterMergesQueuedWrites(t *testing.T) {
	forEach(t, testWriterMergesQueuedWrites)
}

func testWriterMergesQueuedWrites(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	if err := sqlstore.WriteFunc(ctx, s, func(exec func(string, ...any) error) error {
		return exec(`CREATE TABLE merge_test (v INTEGER NOT NULL UNIQUE)`)
	}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := sqlstore.QueryRow(ctx, s, `SELECT COUNT(*) FROM merge_test`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, failMerge := range []bool{false, true} {
		before, merged0 := count(), sqlstore.WriterMerged(s)
		errs := queueBehind(t, s, "test-insert", 20, func(i int) error {
			return sqlstore.MergedInsert(ctx, s, "merge_test", before+i, failMerge)
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("failMerge=%v: write %d: %v", failMerge, i, err)
			}
		}
		if got := count(); got != before+20 {
			t.Fatalf("failMerge=%v: %d rows, want %d", failMerge, got, before+20)
		}
		merged := sqlstore.WriterMerged(s) - merged0
		if !failMerge && merged != 20 {
			t.Fatalf("%d of 20 queued writes merged", merged)
		}
		if failMerge && merged != 0 {
			t.Fatalf("a failed merge counted %d merged writes", merged)
		}
	}
	// A write that fails on its own (a duplicate) fails alone: the others of its batch land.
	before := count()
	errs := queueBehind(t, s, "test-insert", 10, func(i int) error {
		v := before + 100 + i
		if i == 3 {
			v = 0 // taken
		}
		return sqlstore.MergedInsert(ctx, s, "merge_test", v, false)
	})
	for i, err := range errs {
		if (err != nil) != (i == 3) {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if got := count(); got != before+9 {
		t.Fatalf("%d rows after a batch with one failing write, want %d", got, before+9)
	}
}

// Alert deliveries queued together are merged into one ingest, with the outcome of running them one after
// another: each answer holds its own events' alerts, a key sent by several deliveries is one alert, and the
// storm opens one incident.
func TestMergedAlertDeliveries(t *testing.T) {
	forEach(t, testMergedAlertDeliveries)
}

func testMergedAlertDeliveries(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	service(t, s, "api", "payments")
	am := integration(t, s, "api", firebreak.IntegrationAlertmanager)
	pd := integration(t, s, "api", firebreak.IntegrationPagerDuty)
	merged0 := sqlstore.WriterMerged(s)
	answers := make([][]firebreak.Alert, 24)
	errs := queueBehind(t, s, sqlstore.IngestMergeKey, 24, func(i int) error {
		g := am
		if i%2 == 1 {
			g = pd
		}
		var evs []firebreak.AlertEvent
		for k := range 5 {
			evs = append(evs, trigger(fmt.Sprintf("d%d-%d", i, k), "disk filling"))
		}
		evs = append(evs, trigger("shared", "shared alert")) // every delivery of an integration sends it
		var err error
		answers[i], err = s.IngestAlerts(ctx, g.ID, evs)
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if m := sqlstore.WriterMerged(s) - merged0; m != 24 {
		t.Fatalf("%d of 24 queued deliveries merged", m)
	}
	incident := ""
	for i, as := range answers {
		if len(as) != 6 {
			t.Fatalf("delivery %d answered %d alerts, want 6", i, len(as))
		}
		for k := range 5 {
			if as[k].DedupKey != fmt.Sprintf("d%d-%d", i, k) || as[k].Status != firebreak.AlertFiring {
				t.Fatalf("delivery %d alert %d is %s %s", i, k, as[k].DedupKey, as[k].Status)
			}
			if incident == "" {
				incident = as[k].IncidentID
			}
			if as[k].IncidentID == "" || as[k].IncidentID != incident {
				t.Fatalf("delivery %d alert %d in incident %q, want %q", i, k, as[k].IncidentID, incident)
			}
		}
		if as[5].DedupKey != "shared" {
			t.Fatalf("delivery %d: last alert %s", i, as[5].DedupKey)
		}
	}
	all := must(s.ListAlerts(ctx, firebreak.AlertFilter{Limit: firebreak.MaxLimit})).Items
	if len(all) != 24*5+2 {
		t.Fatalf("%d alerts stored, want %d", len(all), 24*5+2)
	}
	for _, a := range all {
		// Sent by 12 deliveries of each integration, it is one alert that fired once.
		if a.DedupKey == "shared" && (a.Status != firebreak.AlertFiring || a.Occurrences != 1) {
			t.Fatalf("shared alert of %s is %s with %d occurrences", a.IntegrationID, a.Status, a.Occurrences)
		}
	}
	if incs := openIncidents(t, s); len(incs) != 1 {
		t.Fatalf("%d incidents opened by one merged storm", len(incs))
	}
}

// A key the read before the write did not find, inserted by another delivery in between, is updated, not
// inserted twice.
func TestIngestKeyInsertedInBetween(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		service(t, s, "api", "payments")
		am := integration(t, s, "api", firebreak.IntegrationAlertmanager)
		first := ingest(t, s, am.ID, trigger("k", "queue backing up"))
		r := trigger("k", "queue backing up")
		r.Action = "resolve"
		got, err := sqlstore.IngestAssumingNew(ctx, s, am.ID, []firebreak.AlertEvent{r, trigger("new", "new one")})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].ID != first[0].ID || got[0].Status != firebreak.AlertResolved {
			t.Fatalf("alert k after the resolve: %s %s, want %s resolved", got[0].ID, got[0].Status, first[0].ID)
		}
		all := must(s.ListAlerts(ctx, firebreak.AlertFilter{})).Items
		if len(all) != 2 {
			t.Fatalf("%d alerts, want k and new", len(all))
		}
	})
}

// Replicas on one PostgreSQL database each batch the deliveries they receive; their batches join the same
// incident and share alerts. Every delivery succeeds (deadlocks between the replicas' batches are retried), a key
// sent by many deliveries of many replicas is one alert that fired once, and the storm is one incident.
func TestIngestReplicas(t *testing.T) {
	if !slices.Contains(sqltest.Dialects(t), "postgres") {
		t.Skip("replicas share a PostgreSQL database, and FIREBREAK_TEST_POSTGRES_URL is not set")
	}
	t.Run("postgres", func(t *testing.T) {
		defer recoverMust(t)
		ctx := context.Background()
		o := sqltest.Options(t, "postgres")
		first := openStore(t, o)
		service(t, first, "api", "payments")
		ints := []string{integration(t, first, "api", firebreak.IntegrationAlertmanager).ID,
			integration(t, first, "api", firebreak.IntegrationPagerDuty).ID}
		replicas := []*sqlstore.Store{first, openStore(t, o), openStore(t, o)}
		const workers, deliveries = 8, 10
		var wg sync.WaitGroup
		for r, s := range replicas {
			for w := range workers {
				wg.Go(func() {
					for i := range deliveries {
						evs := []firebreak.AlertEvent{trigger(fmt.Sprintf("r%d-w%d-%d", r, w, i), "disk filling"),
							trigger("shared", "shared alert")}
						if _, err := s.IngestAlerts(ctx, ints[(w+i)%2], evs); err != nil {
							t.Errorf("replica %d, worker %d, delivery %d: %v", r, w, i, err)
							return
						}
					}
				})
			}
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		all := must(first.ListAlerts(ctx, firebreak.AlertFilter{Limit: firebreak.MaxLimit})).Items
		if want := len(replicas)*workers*deliveries + 2; len(all) != want {
			t.Fatalf("%d alerts stored, want %d", len(all), want)
		}
		incident := all[0].IncidentID
		for _, a := range all {
			if a.IncidentID == "" || a.IncidentID != incident {
				t.Fatalf("alert %s in incident %q, want %q", a.DedupKey, a.IncidentID, incident)
			}
			if a.DedupKey == "shared" && (a.Status != firebreak.AlertFiring || a.Occurrences != 1) {
				t.Fatalf("shared alert of %s is %s with %d occurrences", a.IntegrationID, a.Status, a.Occurrences)
			}
		}
		if incs := openIncidents(t, first); len(incs) != 1 {
			t.Fatalf("%d incidents opened by one storm on %d replicas", len(incs), len(replicas))
		}
	})
}
