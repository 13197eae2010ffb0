package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func TestIncidentRelatedCommand(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	s.ok(t, "service", "add", "--slug", "db")
	s.ok(t, "service", "add", "--slug", "web")
	s.ok(t, "incident", "declare", "--title", "Connection pool exhausted on db", "--severity", "SEV2", "--service", "db")
	if _, err := s.app.Store.AddActionItem(ctx, "INC-1", firebreak.ActionItemInput{Title: "Cap the pool per replica",
		Owner: "bob"}); err != nil {
		t.Fatal(err)
	}
	s.ok(t, "incident", "declare", "--title", "Connection pool exhausted again", "--severity", "SEV2", "--service", "db")
	s.ok(t, "incident", "declare", "--title", "Web assets slow", "--severity", "SEV3", "--service", "web")

	// The server's engine runs the recurrence check of a new incident a few seconds after it opens; run the due
	// checks now instead (the engine may race for them: a check runs once either way).
	later := time.Now().Add(sqlstore.RecurrenceCheckDelay)
	ids, err := s.app.Store.ClaimRecurrenceChecks(ctx, later, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := s.app.Store.CheckRecurrence(ctx, id, later); err != nil {
			t.Fatal(err)
		}
	}
	var rel firebreak.Related
	s.jsonOut(t, &rel, "incident", "related", "INC-2")
	if rel.Recurrence == nil || rel.Recurrence.OfRef != "INC-1" || len(rel.Items) != 1 || rel.Items[0].Ref != "INC-1" {
		t.Fatalf("related --json = %+v", rel)
	}
	out := s.ok(t, "incident", "related", "INC-2")
	contains(t, out, "Warning: This looks like INC-1; 1 of its action items is still open.",
		"INC-1  open         Cap the pool per replica (bob)", "Connection pool exhausted on db",
		"similar text: connection, pool, exhausted", "both affect db", "declared the same day",
		"1 action items open or unverified")
	if !strings.Contains(out, "INC-1  0.") {
		t.Errorf("no score in %q", out)
	}
	contains(t, s.ok(t, "incident", "related", "INC-3"), "No incidents related to INC-3.")
	s.jsonOut(t, &rel, "incident", "related", "2", "--limit", "1")
	if len(rel.Items) != 1 {
		t.Errorf("--limit 1: %d items", len(rel.Items))
	}
	if _, err := s.cli(t, "incident", "related", "INC-2", "--limit", "99"); err == nil || !strings.Contains(err.Error(), "--limit") {
		t.Errorf("bad limit: %v", err)
	}
	if _, err := s.cli(t, "incident", "related", "INC-42"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown incident: %v", err)
	}
}
