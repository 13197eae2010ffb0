package firebreak_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

func TestFlappingPolicyJSON(t *testing.T) {
	p := firebreak.DefaultRoutingPolicy()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"flapping":{"toggles":5,"window":"1h0m0s"}`) ||
		!strings.Contains(string(b), `"group_window":"30m0s"`) {
		t.Fatalf("JSON %s", b)
	}
	var back firebreak.RoutingPolicy
	if err := json.Unmarshal([]byte(`{"rules":[],"group_window":"10m","flapping":{"toggles":3,"window":"90m"}}`),
		&back); err != nil {
		t.Fatal(err)
	}
	if back.Flapping.Toggles != 3 || back.Flapping.Window != 90*time.Minute || back.GroupWindow != 10*time.Minute {
		t.Fatalf("decoded %+v", back)
	}
	// A policy stored before flap detection has none; Validate fills the defaults.
	var old firebreak.RoutingPolicy
	if err := json.Unmarshal([]byte(`{"rules":[],"group_window":"10m"}`), &old); err != nil {
		t.Fatal(err)
	}
	if old.Flapping != (firebreak.FlappingPolicy{}) {
		t.Fatalf("old %+v", old.Flapping)
	}
	if err := old.Validate(); err != nil || old.Flapping != firebreak.DefaultFlappingPolicy() {
		t.Fatalf("validated %+v %v", old.Flapping, err)
	}
	for _, bad := range []string{`{"flapping":{"toggles":3,"window":"soon"}}`, `{"flapping":{"toggles":3,"every":"1h"}}`} {
		if err := json.Unmarshal([]byte(bad), &old); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	var e *firebreak.Error
	bad := firebreak.RoutingPolicy{Flapping: firebreak.FlappingPolicy{Toggles: 500, Window: time.Second}}
	if err := bad.Validate(); err == nil || !asError(err, &e) || len(e.Fields) != 2 ||
		e.Fields[0].Field != "flapping.toggles" || e.Fields[1].Field != "flapping.window" {
		t.Fatalf("validate: %v", err)
	}
	c := back.Clone()
	if c.Flapping != back.Flapping {
		t.Fatalf("clone %+v", c.Flapping)
	}
}

func asError(err error, e **firebreak.Error) bool {
	x, ok := err.(*firebreak.Error)
	*e = x
	return ok
}

func TestFlappingRecordAndSettle(t *testing.T) {
	f := firebreak.FlappingPolicy{Toggles: 3, Window: 10 * time.Minute}
	var s firebreak.FlapState
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if f.Record(&s, at.Add(time.Duration(i)*time.Minute)) {
			t.Fatalf("marked at change %d", i+1)
		}
	}
	if !f.Record(&s, at.Add(3*time.Minute)) || s.Since == nil || len(s.Transitions) != 4 {
		t.Fatalf("fourth change: %+v", s)
	}
	if f.Record(&s, at.Add(4*time.Minute)) || len(s.Transitions) != 4 {
		t.Fatalf("capped at toggles+1, marked once: %+v", s)
	}
	if f.Settle(&s, at.Add(13*time.Minute)) || s.Since == nil {
		t.Fatal("settled before a quiet window")
	}
	if !f.Settle(&s, at.Add(14*time.Minute)) || s.Since != nil || len(s.Transitions) != 0 {
		t.Fatalf("not settled after a quiet window: %+v", s)
	}
	// Changes older than the window are forgotten.
	s = firebreak.FlapState{}
	for i := range 10 {
		if f.Record(&s, at.Add(time.Duration(i)*4*time.Minute)) {
			t.Fatalf("changes 4 minutes apart marked at %d: %+v", i, s)
		}
	}
	if got := firebreak.FlappingMessage("disk", 6, time.Hour); got != "Alert disk is flapping: 6 state changes in 1h; it no longer pages" {
		t.Fatal(got)
	}
}

func TestMaintenanceDomain(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	w := firebreak.MaintenanceWindow{ID: "w", Services: []string{"a"}, Title: "t", StartsAt: now.Add(time.Hour),
		EndsAt: now.Add(2 * time.Hour), Version: 1}
	for at, want := range map[time.Time]firebreak.MaintenanceState{now: firebreak.MaintenanceScheduled,
		now.Add(time.Hour): firebreak.MaintenanceActive, now.Add(2 * time.Hour): firebreak.MaintenanceCompleted} {
		if got := w.StateAt(at); got != want {
			t.Errorf("at %v: %s, want %s", at, got, want)
		}
	}
	same := "t"
	if changed, err := (&firebreak.MaintenancePatch{Title: &same}).Apply(&w, now); changed || err != nil || w.Version != 1 {
		t.Fatalf("no-op patch: %v %v", changed, err)
	}
	end := now.Add(30 * time.Minute)
	if _, err := (&firebreak.MaintenancePatch{EndsAt: &end}).Apply(&w, now); firebreak.ErrorCode(err) != firebreak.EInvalid {
		t.Fatalf("end before start: %v", err)
	}
	svcs := []string{"a", "b"}
	if changed, err := (&firebreak.MaintenancePatch{Services: &svcs}).Apply(&w, now); !changed || err != nil ||
		w.Version != 2 || len(w.Services) != 2 {
		t.Fatalf("services patch: %v %v %+v", changed, err, w)
	}
	w.CancelledAt = &now
	title := "x"
	if _, err := (&firebreak.MaintenancePatch{Title: &title}).Apply(&w, now); firebreak.ErrorCode(err) != firebreak.EConflict {
		t.Fatalf("cancelled: %v", err)
	}
}
