package sqlstore_test

import (
	"context"
	"testing"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// New alerts of a group with an open incident are stored attached to it (on SQLite in the INSERT itself), each
// with its "Alert joined" entry, once; a key the read before the write missed (inserted in between) is applied
// to the row that exists and routed from what that row says, never joined twice.
func TestIngestJoinsOpenIncident(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		service(t, s, "api", "payments")
		am := integration(t, s, "api", firebreak.IntegrationAlertmanager)
		pd := integration(t, s, "api", firebreak.IntegrationPagerDuty)
		first := ingest(t, s, am.ID, trigger("a", "queue backing up"))[0]
		inc := first.IncidentID
		if inc == "" {
			t.Fatal("the first critical alert opened no incident")
		}
		attached := func() int { return countKind(timeline(t, s, inc), firebreak.EventAlertAttached) }
		if n := attached(); n != 1 {
			t.Fatalf("%d alert_attached events after the first alert", n)
		}

		// "a" again (unchanged, as if the read had missed it) and a new "b": b joins, a does not join again.
		got, err := sqlstore.IngestAssumingNew(ctx, s, am.ID, []firebreak.AlertEvent{trigger("a", "queue backing up"),
			trigger("b", "consumer lag")})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].ID != first.ID || got[0].IncidentID != inc || got[1].IncidentID != inc {
			t.Fatalf("answers %s in %q and %s in %q, want %s and both in %s", got[0].ID, got[0].IncidentID,
				got[1].DedupKey, got[1].IncidentID, first.ID, inc)
		}
		if n := attached(); n != 2 {
			t.Fatalf("%d alert_attached events, want 2 (a, then b)", n)
		}

		// A resolved "a" that fires again (its insert conflicting) is back in its incident, which already lists
		// it; a new alert of another integration of the service joins too.
		r := trigger("a", "queue backing up")
		r.Action = "resolve"
		ingest(t, s, am.ID, r)
		if _, err := sqlstore.IngestAssumingNew(ctx, s, am.ID, []firebreak.AlertEvent{trigger("a", "queue backing up")}); err != nil {
			t.Fatal(err)
		}
		c := ingest(t, s, pd.ID, trigger("c", "disk full"))[0]
		if c.IncidentID != inc {
			t.Fatalf("c in %q, want %s", c.IncidentID, inc)
		}
		if n := attached(); n != 3 {
			t.Fatalf("%d alert_attached events, want 3 (a, b, c)", n)
		}
		stored := must(s.ListAlerts(ctx, firebreak.AlertFilter{Incident: inc})).Items
		if len(stored) != 3 {
			t.Fatalf("%d alerts stored in the incident, want a, b and c", len(stored))
		}
		for _, a := range stored {
			if a.Status != firebreak.AlertFiring || a.IncidentID != inc {
				t.Fatalf("alert %s is %s in %q", a.DedupKey, a.Status, a.IncidentID)
			}
		}
		if incs := openIncidents(t, s); len(incs) != 1 {
			t.Fatalf("%d open incidents, want 1", len(incs))
		}
	})
}

// On SQLite the store remembers which keys an integration has, to skip the read before the write for new ones.
// A key another process stored on the same file (which this one cannot know) is still one alert: the write finds
// it and applies the events to it.
func TestIngestKeyStoredByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	o := sqltest.Options(t, "sqlite")
	open := func() *sqlstore.Store {
		s, err := sqlstore.Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	service(t, a, "api", "payments")
	am := integration(t, a, "api", firebreak.IntegrationAlertmanager)
	ingest(t, b, am.ID, trigger("x", "disk filling")) // b has loaded and remembers the integration's keys
	k := ingest(t, a, am.ID, trigger("k", "queue backing up"))[0]
	r := trigger("k", "queue backing up")
	r.Action = "resolve"
	got := ingest(t, b, am.ID, r)[0]
	if got.ID != k.ID || got.Status != firebreak.AlertResolved {
		t.Fatalf("k after the resolve: %s %s, want %s resolved", got.ID, got.Status, k.ID)
	}
	all := must(a.ListAlerts(ctx, firebreak.AlertFilter{})).Items
	if len(all) != 2 {
		t.Fatalf("%d alerts, want x and k", len(all))
	}
	// And b now knows k: an unchanged redelivery of it changes nothing.
	again := ingest(t, b, am.ID, r)[0]
	if again.ID != k.ID || again.Status != firebreak.AlertResolved || again.Occurrences != 1 {
		t.Fatalf("redelivered k: %+v", again)
	}
}
