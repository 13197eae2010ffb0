package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

func TestMaintenanceCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "api")
	s.ok(t, "service", "add", "--slug", "db")

	out := s.ok(t, "maintenance", "add", "--service", "db", "--title", "Database upgrade", "--start", "+2h",
		"--duration", "30m")
	contains(t, out, "Scheduled maintenance", `"Database upgrade" (scheduled) for db`)
	var active firebreak.MaintenanceWindow
	s.jsonOut(t, &active, "maintenance", "add", "--service", "api", "--title", "API deploy", "--end", "+1h")
	if active.State != firebreak.MaintenanceActive || active.EndsAt.Sub(active.StartsAt) < 59*time.Minute {
		t.Fatalf("window starting now: %+v", active)
	}

	// While it is active, an alert of api pages nobody.
	var gen client.CreatedIntegration
	s.jsonOut(t, &gen, "integration", "add", "--service", "api", "--kind", "generic")
	deliver(t, gen.Snippets.URL, []byte(`{"dedup_key":"k","status":"firing","summary":"API down","severity":"critical"}`),
		http.StatusOK)
	var alerts firebreak.Page[firebreak.Alert]
	s.jsonOut(t, &alerts, "alert", "list", "--service", "api")
	if len(alerts.Items) != 1 || alerts.Items[0].IncidentID != "" ||
		alerts.Items[0].Suppressed != firebreak.SuppressedMaintenance {
		t.Fatalf("alert during maintenance %+v", alerts.Items)
	}

	list := s.ok(t, "maintenance", "list")
	contains(t, list, "STATE", "Database upgrade", "scheduled", "API deploy", "active")
	contains(t, s.ok(t, "maintenance", "list", "--state", "active"), "API deploy")
	if strings.Contains(s.ok(t, "maintenance", "list", "--state", "active"), "Database upgrade") {
		t.Fatal("--state active lists a scheduled window")
	}

	out = s.ok(t, "maintenance", "cancel", active.ID)
	contains(t, out, "Cancelled maintenance "+active.ID, "API deploy")
	var page firebreak.Page[firebreak.MaintenanceWindow]
	s.jsonOut(t, &page, "maintenance", "list", "--state", "cancelled")
	if len(page.Items) != 1 || page.Items[0].ID != active.ID || page.Items[0].CancelledAt == nil {
		t.Fatalf("cancelled windows %+v", page.Items)
	}

	// Usage and domain errors.
	if _, err := s.cli(t, "maintenance", "add", "--service", "db", "--title", "x", "--end", "+1h", "--duration", "1h"); err == nil ||
		!strings.Contains(err.Error(), "not both") {
		t.Fatalf("--end and --duration: %v", err)
	}
	if _, err := s.cli(t, "maintenance", "add", "--service", "db", "--title", "x", "--start", "tomorrow"); err == nil ||
		!strings.Contains(err.Error(), "--start") {
		t.Fatalf("bad --start: %v", err)
	}
	if _, err := s.cli(t, "maintenance", "add", "--title", "x"); err == nil || !strings.Contains(err.Error(), "services") {
		t.Fatalf("no service: %v", err)
	}
	if _, err := s.cli(t, "maintenance", "list", "--state", "done"); err == nil || !strings.Contains(err.Error(), "--state") {
		t.Fatalf("bad state: %v", err)
	}
}

func TestAlertNoiseCommand(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "api")
	contains(t, s.ok(t, "alert", "noise"), "Alerts:            0", "Noisiest sources\n  (none)")

	var gen client.CreatedIntegration
	s.jsonOut(t, &gen, "integration", "add", "--service", "api", "--kind", "generic", "--name", "cron")
	deliver(t, gen.Snippets.URL, []byte(`{"alerts":[
		{"status":"firing","summary":"Backup failed","severity":"critical","labels":{"alertname":"BackupFailed"}},
		{"status":"firing","summary":"Disk 91% full","severity":"warning","labels":{"alertname":"DiskFull"}}]}`),
		http.StatusOK)
	out := s.ok(t, "alert", "noise", "--since", "7d")
	contains(t, out, "Alert noise of all services", "Alerts:            2", "Incidents opened:  1",
		"Never an incident: 1 (50%)", "cron", "BackupFailed", "DiskFull", "Alerts that never led to an incident",
		"Disk 91% full")
	var rep firebreak.NoiseReport
	s.jsonOut(t, &rep, "alert", "noise", "--service", "api")
	if rep.Service != "api" || rep.Totals.Alerts != 2 || len(rep.NeverIncident) != 1 {
		t.Fatalf("report %+v", rep)
	}
	if _, err := s.cli(t, "alert", "noise", "--since", "a while"); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Fatalf("bad --since: %v", err)
	}
	if _, err := s.cli(t, "alert", "noise", "--service", "nope"); err == nil {
		t.Fatal("a report for an unknown service")
	}
}
