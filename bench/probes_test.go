package bench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func TestMemoryProbeStoreSchedule(t *testing.T) {
	s := NewMemoryProbeStore()
	ctx := context.Background()
	in := firebreak.ProbeInput{Name: "a", Service: "svc", URL: "http://127.0.0.1:1/", Interval: firebreak.Duration(10 * time.Second)}
	if _, err := s.ApplyProbes(ctx, []firebreak.ProbeInput{in}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	got, _ := s.ClaimDueProbes(ctx, now, 10)
	if len(got) != 1 || got[0].Kind != firebreak.ProbeHTTP || got[0].Method != "GET" {
		t.Fatalf("claimed %+v", got)
	}
	if again, _ := s.ClaimDueProbes(ctx, now, 10); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	next, _ := s.NextProbeDue(ctx)
	if d := next.Sub(now); d <= 0 || d > 10*time.Second {
		t.Errorf("next due in %s", d)
	}
	if later, _ := s.ClaimDueProbes(ctx, next, 10); len(later) != 1 {
		t.Errorf("not due again after one interval")
	}
	in.Conditions = []string{"[NOPE] == 1"}
	if _, err := s.ApplyProbes(ctx, []firebreak.ProbeInput{in}); err == nil {
		t.Error("an invalid condition was accepted")
	}
}

func TestMemoryMB(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	peak, cur := memoryMB()
	if cur <= 0 || peak < cur {
		t.Errorf("peak %.1f MB, current %.1f MB", peak, cur)
	}
}

// TestProbeCapacityMemory runs 1,000 probes briefly against the in-memory store.
func TestProbeCapacityMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of load")
	}
	s := NewMemoryProbeStore()
	res, err := Capacity(context.Background(), CapacityOptions{
		Store: s, Probes: 1000, Interval: 2 * time.Second, Warmup: 2 * time.Second, Duration: 4 * time.Second,
		Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Failures != 0 || res.FlushErrors != 0 || res.Dropped != 0 {
		t.Errorf("failures %d (first: %s), flush errors %d, dropped %d", res.Failures, res.FirstFailure, res.FlushErrors, res.Dropped)
	}
	// The schedule is kept: every probe runs about once per interval (loosely: the machine is shared).
	if res.ChecksPerSecond < res.ExpectedPerSecond/2 || res.ChecksPerSecond > res.ExpectedPerSecond*1.5 {
		t.Errorf("%.0f checks/s, expected about %.0f", res.ChecksPerSecond, res.ExpectedPerSecond)
	}
	if s.Results() == 0 {
		t.Error("nothing recorded in the store")
	}
}

// TestProbeCapacitySQLite runs the capacity benchmark on a real SQLite store. It is long; set
// FIREBREAK_BENCH_PROBES (the number of probes, e.g. 10000) to run it, and FIREBREAK_BENCH_PROBES_DURATION
// (default 60s) for the measured window.
func TestProbeCapacitySQLite(t *testing.T) {
	n := 0
	if v := os.Getenv("FIREBREAK_BENCH_PROBES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Skip("set FIREBREAK_BENCH_PROBES=10000 to run")
	}
	dur := time.Minute
	if v := os.Getenv("FIREBREAK_BENCH_PROBES_DURATION"); v != "" {
		var err error
		if dur, err = time.ParseDuration(v); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, sqlstore.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateService(ctx, firebreak.ServiceInput{Slug: "bench", Name: "Bench"}); err != nil {
		t.Fatal(err)
	}
	res, err := Capacity(ctx, CapacityOptions{Store: st, Probes: n, Interval: 10 * time.Second, Duration: dur, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Failures != 0 || res.FlushErrors != 0 {
		t.Errorf("failures %d (first: %s), flush errors %d", res.Failures, res.FirstFailure, res.FlushErrors)
	}
}
