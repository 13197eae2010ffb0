package sqlstore_test

import (
	"context"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// The WAL is checkpointed in the background, not by the writer after a commit (which held up the writes queued
// behind it); the writer only checkpoints itself past 10,000 pages.
func TestCheckpointsOffTheWriter(t *testing.T) {
	s := sqltest.Open(t, "sqlite")
	ctx := context.Background()
	if v, err := sqlstore.WriterPragma(ctx, s, "wal_autocheckpoint"); err != nil || v != "10000" {
		t.Fatalf("writer's wal_autocheckpoint %q (%v), want 10000", v, err)
	}
	for range 20 {
		if _, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "checkpoint me",
			Severity: firebreak.SEV3}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for sqlstore.WriterCheckpoints(s) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no background checkpoint within 10 s of the writes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// What was committed before it is in the database file: a checkpoint now has nothing left to copy.
	var busy, frames, copied int64
	if err := sqlstore.QueryRow(ctx, s, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		t.Fatal(err)
	}
	if frames != copied {
		t.Fatalf("WAL of %d frames, %d copied", frames, copied)
	}
}
