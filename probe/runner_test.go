package probe

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

// memStore is an in-memory Store: a test double for the scheduling tests (the SQL store has its own tests).
type memStore struct {
	mu       sync.Mutex
	probes   map[string]*firebreak.Probe
	next     map[string]time.Time
	runs     []firebreak.ProbeRun
	failNext int           // RecordProbeResults fails this many more times
	recorded chan struct{} // signaled after each successful RecordProbeResults
}

func newMemStore(probes ...firebreak.Probe) *memStore {
	s := &memStore{probes: map[string]*firebreak.Probe{}, next: map[string]time.Time{}, recorded: make(chan struct{}, 1)}
	for _, p := range probes {
		s.add(p, time.Time{})
	}
	return s
}

func (s *memStore) add(p firebreak.Probe, due time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probes[p.ID] = &p
	s.next[p.ID] = due
}

func (s *memStore) ClaimDueProbes(ctx context.Context, now time.Time, limit int) ([]firebreak.Probe, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []string
	for id, at := range s.next {
		if !at.After(now) {
			due = append(due, id)
		}
	}
	slices.SortFunc(due, func(a, b string) int { return s.next[a].Compare(s.next[b]) })
	var out []firebreak.Probe
	for _, id := range due[:min(len(due), limit)] {
		p := s.probes[id]
		s.next[id] = now.Add(time.Duration(p.Interval))
		out = append(out, *p)
	}
	return out, nil
}

func (s *memStore) NextProbeDue(ctx context.Context) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first time.Time
	for _, at := range s.next {
		if first.IsZero() || at.Before(first) {
			first = at
		}
	}
	return first, nil
}

func (s *memStore) RecordProbeResults(ctx context.Context, runs []firebreak.ProbeRun) error {
	s.mu.Lock()
	if s.failNext > 0 {
		s.failNext--
		s.mu.Unlock()
		return errors.New("database is locked")
	}
	s.runs = append(s.runs, runs...)
	s.mu.Unlock()
	select {
	case s.recorded <- struct{}{}:
	default:
	}
	return nil
}

func (s *memStore) results() map[string][]firebreak.ProbeResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string][]firebreak.ProbeResult{}
	for _, r := range s.runs {
		m[r.ProbeID] = append(m[r.ProbeID], r.Result)
	}
	return m
}

// waitRecorded waits until cond holds on the recorded results (checked after each record).
func (s *memStore) waitRecorded(t *testing.T, cond func(map[string][]firebreak.ProbeResult) bool) map[string][]firebreak.ProbeResult {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if m := s.results(); cond(m) {
			return m
		}
		select {
		case <-s.recorded:
		case <-deadline:
			t.Fatalf("timed out; recorded: %+v", s.results())
		}
	}
}

func testProbe(id, url string, timeout time.Duration) firebreak.Probe {
	return firebreak.Probe{ID: id, Kind: firebreak.ProbeHTTP, URL: url, Method: "GET", Enabled: true,
		Interval: firebreak.Duration(time.Hour), Timeout: firebreak.Duration(timeout)}
}

func startRunner(t *testing.T, s Store, o Options) (*Runner, func() error) {
	t.Helper()
	r := NewRunner(s, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	return r, stop
}

func okServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunnerRunsDueProbes(t *testing.T) {
	srv := okServer(t)
	s := newMemStore(testProbe("a", srv.URL, time.Second), testProbe("b", srv.URL+"/x", time.Second))
	notYet := testProbe("later", srv.URL, time.Second)
	s.add(notYet, time.Now().Add(time.Hour))
	r, stop := startRunner(t, s, Options{FlushInterval: 10 * time.Millisecond})
	m := s.waitRecorded(t, func(m map[string][]firebreak.ProbeResult) bool { return len(m["a"]) > 0 && len(m["b"]) > 0 })
	for _, id := range []string{"a", "b"} {
		if res := m[id][0]; !res.Success || res.StatusCode != 200 || res.At.IsZero() {
			t.Errorf("%s: %+v", id, res)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	m = s.results()
	if len(m["a"]) != 1 || len(m["b"]) != 1 || len(m["later"]) != 0 {
		t.Errorf("runs: a %d, b %d, later %d; want 1, 1, 0", len(m["a"]), len(m["b"]), len(m["later"]))
	}
	if st := r.Stats(); st.ChecksRun != 2 || st.Recorded != 2 || st.InFlight != 0 || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestRunnerHangingTargetDoesNotDelayOthers(t *testing.T) {
	hung := make(chan struct{}, 1)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	fast := okServer(t)
	s := newMemStore(testProbe("slow", hang.URL, 30*time.Second))
	r, stop := startRunner(t, s, Options{FlushInterval: 10 * time.Millisecond, MaxInFlight: 2})
	<-hung // the slow check is in flight
	s.add(testProbe("fast", fast.URL, time.Second), time.Time{})
	r.Wake()
	m := s.waitRecorded(t, func(m map[string][]firebreak.ProbeResult) bool { return len(m["fast"]) > 0 })
	if len(m["slow"]) != 0 {
		t.Fatalf("the hanging check finished: %+v", m["slow"])
	}
	if !m["fast"][0].Success {
		t.Errorf("%+v", m["fast"][0])
	}
	if st := r.Stats(); st.InFlight != 1 {
		t.Errorf("in flight %d, want 1 (the hanging check)", st.InFlight)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The check canceled by the shutdown is not recorded as a failure of the target.
	if m := s.results(); len(m["slow"]) != 0 {
		t.Errorf("canceled check recorded: %+v", m["slow"])
	}
}

func TestRunnerFlushesOnStop(t *testing.T) {
	srv := okServer(t)
	var probes []firebreak.Probe
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5"} {
		probes = append(probes, testProbe(id, srv.URL, time.Second))
	}
	s := newMemStore(probes...)
	// Nothing is flushed while running: the interval is long and the batch size large.
	r, stop := startRunner(t, s, Options{FlushInterval: time.Hour, FlushSize: 100})
	waitFor(t, func() bool { return r.Stats().ChecksRun == 5 })
	if n := len(s.results()); n != 0 {
		t.Fatalf("%d probes recorded before the flush", n)
	}
	if st := r.Stats(); st.Pending != 5 {
		t.Errorf("pending %d", st.Pending)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if m := s.results(); len(m) != 5 {
		t.Errorf("recorded after stop: %d probes, want 5", len(m))
	}
}

func TestRunnerFlushesBySize(t *testing.T) {
	srv := okServer(t)
	s := newMemStore(testProbe("a", srv.URL, time.Second), testProbe("b", srv.URL, time.Second))
	startRunner(t, s, Options{FlushInterval: time.Hour, FlushSize: 2})
	s.waitRecorded(t, func(m map[string][]firebreak.ProbeResult) bool { return len(m) == 2 })
}

func TestRunnerRetriesFailedRecording(t *testing.T) {
	srv := okServer(t)
	s := newMemStore(testProbe("a", srv.URL, time.Second))
	s.failNext = 2
	r, _ := startRunner(t, s, Options{FlushInterval: 10 * time.Millisecond})
	m := s.waitRecorded(t, func(m map[string][]firebreak.ProbeResult) bool { return len(m["a"]) > 0 })
	if len(m["a"]) != 1 {
		t.Errorf("recorded %d times", len(m["a"]))
	}
	waitFor(t, func() bool { return r.Stats().Recorded == 1 })
	if st := r.Stats(); st.FlushErrors != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestRunnerWake(t *testing.T) {
	srv := okServer(t)
	s := newMemStore()
	r, _ := startRunner(t, s, Options{PollInterval: time.Hour, FlushInterval: 10 * time.Millisecond})
	s.add(testProbe("new", srv.URL, time.Second), time.Time{})
	r.Wake()
	s.waitRecorded(t, func(m map[string][]firebreak.ProbeResult) bool { return len(m["new"]) == 1 })
}

func TestRunnerDropsOldestBeyondMaxPending(t *testing.T) {
	r := NewRunner(newMemStore(), Options{MaxPending: 3})
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		r.add(firebreak.ProbeRun{ProbeID: id})
	}
	r.putBack([]firebreak.ProbeRun{{ProbeID: "0"}})
	var ids []string
	for _, run := range r.take() {
		ids = append(ids, run.ProbeID)
	}
	if !slices.Equal(ids, []string{"3", "4", "5"}) {
		t.Errorf("kept %v, want the newest three", ids)
	}
	if st := r.Stats(); st.Dropped != 3 {
		t.Errorf("dropped %d, want 3", st.Dropped)
	}
}

// waitFor polls cond (for counters that have no signal of their own).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
