package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

func TestConsoleSchedules(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	b := e.browser()
	b.login("vera")
	p := b.get("/schedules")
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.text(t, ".empty-state"), "No schedules yet") {
		t.Fatalf("empty page: %s", p.body)
	}
	start := time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)
	if _, err := st.CreateSchedule(as("ada", firebreak.RoleAdmin), firebreak.ScheduleInput{Name: "Primary <api>",
		TimeZone: "UTC", Layers: []firebreak.Layer{{Rotation: "daily", Start: start, HandoffTime: "00:00",
			Participants: []string{"alice", "bob"}, Restriction: &firebreak.Restriction{From: "00:00", To: "12:00"}}}}); err != nil {
		t.Fatal(err)
	}
	p = b.get("/schedules")
	wantStatus(t, p, http.StatusOK)
	row := p.text(t, ".schedule-row")
	if !strings.Contains(row, "Primary <api>") || !strings.Contains(row, "no one is on call") ||
		!(strings.Contains(row, "alice") || strings.Contains(row, "bob")) {
		t.Fatalf("row: %s", row)
	}
	if p.find(t, `nav a[href="/schedules"][aria-current="page"]`).Length() != 1 {
		t.Fatal("nav entry missing")
	}
}
