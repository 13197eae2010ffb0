package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

func TestOnCallCommands(t *testing.T) {
	s := startServer(t)
	for _, u := range []string{"ann", "bob"} {
		if _, err := s.app.Store.CreateUser(context.Background(), firebreak.UserInput{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	out := s.ok(t, "team", "add", "--slug", "payments", "--name", "Payments", "--manager", "ann")
	contains(t, out, "Added team payments (Payments)", "ann  manager")
	out = s.ok(t, "team", "member", "add", "payments", "bob")
	contains(t, out, "bob  member")
	out = s.ok(t, "team", "list")
	contains(t, out, "SLUG", "payments", "ann (manager), bob")
	out = s.ok(t, "team", "member", "rm", "payments", "bob")
	if strings.Contains(out, "bob") {
		t.Fatalf("bob still a member: %s", out)
	}

	start := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
	file := filepath.Join(t.TempDir(), "schedule.json")
	if err := os.WriteFile(file, []byte(`{"name": "Payments primary", "team": "payments", "time_zone": "UTC",
		"layers": [{"rotation": "daily", "start": "`+start+`", "handoff_time": "00:00", "participants": ["ann", "bob"]}]}`),
		0o600); err != nil {
		t.Fatal(err)
	}
	var sc client.ScheduleResult
	s.jsonOut(t, &sc, "schedule", "add", "--file", file)
	if sc.ID == "" || sc.Team != "payments" || len(sc.Warnings) != 0 {
		t.Fatalf("schedule add: %+v", sc)
	}
	if _, err := s.cliIn(t, `{"name": "x", "time_zone": "Mars/Base", "layers": []}`, "schedule", "add", "--file", "-"); err == nil ||
		!strings.Contains(err.Error(), "time_zone") {
		t.Fatalf("bad schedule: %v", err)
	}
	out = s.ok(t, "schedule", "list", "--team", "payments")
	contains(t, out, sc.ID, "Payments primary", "UTC")

	at := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	out = s.ok(t, "schedule", "oncall", sc.ID, "--at", at.Format(time.RFC3339))
	if !strings.Contains(out, "ann") && !strings.Contains(out, "bob") {
		t.Fatalf("oncall: %s", out)
	}
	// The override goes to whoever the rotation does not put on call then (which one depends on today's date), so
	// that the override's end is the end of the shift that contains at.
	var base client.OnCall
	s.jsonOut(t, &base, "schedule", "oncall", sc.ID, "--at", at.Format(time.RFC3339))
	cover := "ann"
	if len(base.Users) == 1 && base.Users[0] == "ann" {
		cover = "bob"
	}
	out = s.ok(t, "schedule", "override", "add", sc.ID, "--user", cover, "--start", "2030-01-01T10:00:00Z",
		"--end", "2030-01-01T14:00:00Z")
	contains(t, out, "Override ", cover+" on call")
	var oc client.OnCall
	s.jsonOut(t, &oc, "schedule", "oncall", sc.ID, "--at", at.Format(time.RFC3339))
	if len(oc.Users) != 1 || oc.Users[0] != cover || !oc.Until.Equal(at.Add(2*time.Hour)) {
		t.Fatalf("oncall with %s's override: %+v", cover, oc)
	}
	out = s.ok(t, "schedule", "show", sc.ID)
	contains(t, out, "Payments primary", "Layers", "daily", "ann, bob", "Overrides:", "Next 7 days:")
}
