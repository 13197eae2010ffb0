package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/probe"
)

// ProbeStore is what Capacity needs of a store: the probe runner's schedule and results, and a way to create the
// probes. *sqlstore.Store satisfies it, and so does MemoryProbeStore.
type ProbeStore interface {
	probe.Store
	ApplyProbes(ctx context.Context, ins []firebreak.ProbeInput) ([]firebreak.Probe, error)
}

// CapacityOptions configure a probe capacity run.
type CapacityOptions struct {
	Store ProbeStore
	// Service is the slug of the service the probes belong to; it must exist in the store (default "bench").
	Service string
	// Probes is how many probes to run (default 1000), each every Interval (default 10 s).
	Probes   int
	Interval time.Duration
	// Targets is how many local HTTP targets (ports on 127.0.0.1, served by this process) the probes are spread
	// over (default Probes/100, at least 1): each is a distinct host for the probes' connection pools.
	Targets int
	// Warmup runs before the measured Duration (defaults: one Interval, then 60 s).
	Warmup   time.Duration
	Duration time.Duration
	// Conditions of every probe (default: [STATUS] == 200 and [BODY].status == UP, so that bodies are parsed).
	Conditions []string
	// Runner configures the runner (its Logger defaults to discarding).
	Runner probe.Options
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// CapacityResult is what a capacity run measured, over the measured window.
type CapacityResult struct {
	Probes   int     `json:"probes"`
	Targets  int     `json:"targets"`
	Interval string  `json:"interval"`
	Seconds  float64 `json:"seconds"`
	// Checks is the number of results recorded in the window; ChecksPerSecond the rate, ExpectedPerSecond
	// Probes/Interval.
	Checks            uint64  `json:"checks"`
	ChecksPerSecond   float64 `json:"checks_per_second"`
	ExpectedPerSecond float64 `json:"expected_per_second"`
	Failures          uint64  `json:"failures"` // recorded results that did not succeed
	FlushErrors       uint64  `json:"flush_errors"`
	ClaimErrors       uint64  `json:"claim_errors"`
	Dropped           uint64  `json:"dropped"`
	// CPUSeconds is the CPU time this process used in the window (runner, store and the targets, which run in
	// the same process); CPUCores is CPUSeconds per second; OtherCPU the share of the machine other processes
	// used (-1 when unknown).
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUCores   float64 `json:"cpu_cores"`
	OtherCPU   float64 `json:"other_cpu"`
	// PeakRSSMB is the process's peak resident memory (VmHWM, over its whole life), RSSMB its resident memory
	// at the end of the window (VmRSS); 0 when unknown.
	PeakRSSMB float64 `json:"peak_rss_mb"`
	RSSMB     float64 `json:"rss_mb"`
	// FirstFailure describes one failed check, if any.
	FirstFailure string `json:"first_failure,omitempty"`
}

func (r *CapacityResult) String() string {
	return fmt.Sprintf("%d probes every %s over %d targets: %.0f checks/s (expected %.0f) over %.0fs, %d failures, "+
		"%d flush errors; CPU %.2f cores (others %.0f%% of the machine); RSS %.0f MB, peak %.0f MB",
		r.Probes, r.Interval, r.Targets, r.ChecksPerSecond, r.ExpectedPerSecond, r.Seconds, r.Failures, r.FlushErrors,
		r.CPUCores, r.OtherCPU*100, r.RSSMB, r.PeakRSSMB)
}

// countingStore counts the results the store accepted.
type countingStore struct {
	ProbeStore
	recorded, failures atomic.Uint64
	firstFailure       atomic.Pointer[string]
}

func (s *countingStore) RecordProbeResults(ctx context.Context, runs []firebreak.ProbeRun) error {
	if err := s.ProbeStore.RecordProbeResults(ctx, runs); err != nil {
		return err
	}
	var failed uint64
	for i := range runs {
		if r := &runs[i].Result; !r.Success {
			failed++
			if s.firstFailure.Load() == nil {
				why := r.Error
				if why == "" {
					why = strings.Join(r.FailedConditions, "; ")
				}
				s.firstFailure.CompareAndSwap(nil, &why)
			}
		}
	}
	s.failures.Add(failed)
	s.recorded.Add(uint64(len(runs)))
	return nil
}

// Capacity creates Probes HTTP probes against local targets in o.Store, runs a probe.Runner on them for
// Warmup+Duration and reports what it achieved in the measured window.
func Capacity(ctx context.Context, o CapacityOptions) (*CapacityResult, error) {
	if o.Store == nil {
		return nil, errors.New("bench: Capacity needs a Store")
	}
	if o.Service == "" {
		o.Service = "bench"
	}
	if o.Probes <= 0 {
		o.Probes = 1000
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	if o.Targets <= 0 {
		o.Targets = max(o.Probes/100, 1)
	}
	if o.Warmup <= 0 {
		o.Warmup = o.Interval
	}
	if o.Duration <= 0 {
		o.Duration = time.Minute
	}
	if o.Conditions == nil {
		o.Conditions = []string{"[STATUS] == 200", "[BODY].status == UP"}
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}

	targets, stop, err := startTargets(o.Targets)
	if err != nil {
		return nil, err
	}
	defer stop()

	ins := make([]firebreak.ProbeInput, o.Probes)
	for i := range ins {
		ins[i] = firebreak.ProbeInput{
			Name: fmt.Sprintf("bench-%06d", i), Service: o.Service,
			URL:      fmt.Sprintf("http://%s/health/%d", targets[i%len(targets)], i),
			Interval: firebreak.Duration(o.Interval), Timeout: firebreak.Duration(min(o.Interval, 5*time.Second)),
			Conditions: slices.Clone(o.Conditions),
		}
	}
	logf("creating %d probes", o.Probes)
	for batch := range slices.Chunk(ins, 500) {
		if _, err := o.Store.ApplyProbes(ctx, batch); err != nil {
			return nil, fmt.Errorf("bench: create probes: %w", err)
		}
	}

	store := &countingStore{ProbeStore: o.Store}
	r := probe.NewRunner(store, o.Runner)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(rctx) }()
	defer func() {
		cancel()
		<-done
	}()

	logf("warming up for %s", o.Warmup)
	if !sleepCtx(ctx, o.Warmup) {
		return nil, ctx.Err()
	}
	st0, rec0, fail0, cpu0 := r.Stats(), store.recorded.Load(), store.failures.Load(), sampleCPU()
	logf("measuring for %s", o.Duration)
	if !sleepCtx(ctx, o.Duration) {
		return nil, ctx.Err()
	}
	st1, rec1, fail1, cpu1 := r.Stats(), store.recorded.Load(), store.failures.Load(), sampleCPU()
	secs := cpu1.at.Sub(cpu0.at).Seconds()
	res := &CapacityResult{
		Probes: o.Probes, Targets: len(targets), Interval: o.Interval.String(), Seconds: secs,
		Checks: rec1 - rec0, ChecksPerSecond: float64(rec1-rec0) / secs,
		ExpectedPerSecond: float64(o.Probes) / o.Interval.Seconds(),
		Failures:          fail1 - fail0, FlushErrors: st1.FlushErrors - st0.FlushErrors,
		ClaimErrors: st1.ClaimErrors - st0.ClaimErrors, Dropped: st1.Dropped - st0.Dropped,
		CPUSeconds: (cpu1.proc - cpu0.proc).Seconds(),
	}
	res.CPUCores = res.CPUSeconds / secs
	_, res.OtherCPU = cpuUse(cpu0, cpu1)
	res.PeakRSSMB, res.RSSMB = memoryMB()
	if f := store.firstFailure.Load(); f != nil {
		res.FirstFailure = *f
	}
	return res, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// startTargets serves a small JSON health answer on n ports of 127.0.0.1.
func startTargets(n int) ([]string, func(), error) {
	body := []byte(`{"status":"UP","checks":[{"name":"db","status":"UP"}]}`)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}),
		ErrorLog:    log.New(io.Discard, "", 0),
		IdleTimeout: 2 * time.Minute,
	}
	var addrs []string
	var lns []net.Listener
	stop := func() {
		srv.Close()
		for _, ln := range lns {
			ln.Close()
		}
	}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("bench: listen: %w", err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
		go srv.Serve(ln)
	}
	return addrs, stop, nil
}

// memoryMB reads the process's peak and current resident memory from /proc/self/status (0 when unknown).
func memoryMB() (peak, current float64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmHWM" && k != "VmRSS") {
			continue
		}
		fields := strings.Fields(v) // "12345 kB"
		if len(fields) < 1 {
			continue
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		if k == "VmHWM" {
			peak = kb / 1024
		} else {
			current = kb / 1024
		}
	}
	return peak, current
}

// MemoryProbeStore is an in-memory ProbeStore for capacity runs without a database: it keeps the schedule
// (claims move a probe's next run one interval on, keeping its phase) and counts results, but keeps none.
type MemoryProbeStore struct {
	mu      sync.Mutex
	probes  []*memProbe
	byName  map[string]*memProbe
	results atomic.Uint64
}

type memProbe struct {
	p    firebreak.Probe
	next time.Time
}

// NewMemoryProbeStore returns an empty MemoryProbeStore.
func NewMemoryProbeStore() *MemoryProbeStore {
	return &MemoryProbeStore{byName: map[string]*memProbe{}}
}

// ApplyProbes creates or replaces probes by service and name; they are due at once.
func (s *MemoryProbeStore) ApplyProbes(ctx context.Context, ins []firebreak.ProbeInput) ([]firebreak.Probe, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	out := make([]firebreak.Probe, 0, len(ins))
	for _, in := range ins {
		kind, err := in.Validate()
		if err != nil {
			return nil, err
		}
		key := in.Service + "\x00" + in.Name
		mp := s.byName[key]
		if mp == nil {
			mp = &memProbe{p: firebreak.Probe{ID: strconv.Itoa(len(s.probes) + 1), CreatedAt: now,
				State: firebreak.ProbeUnknown}}
			s.byName[key] = mp
			s.probes = append(s.probes, mp)
		}
		p := &mp.p
		p.Name, p.Service, p.Kind, p.URL, p.Method, p.Headers, p.Body = in.Name, in.Service, kind, in.URL, in.Method, in.Headers, in.Body
		p.Interval, p.Timeout, p.Conditions = in.Interval, in.Timeout, in.Conditions
		p.FailureThreshold, p.SuccessThreshold, p.Severity = in.FailureThreshold, in.SuccessThreshold, in.Severity
		p.InsecureSkipVerify, p.Enabled, p.UpdatedAt = in.InsecureSkipVerify, *in.Enabled, now
		mp.next = now
		out = append(out, *p)
	}
	return out, nil
}

// ClaimDueProbes returns up to limit enabled due probes, earliest first, and moves their next run on.
func (s *MemoryProbeStore) ClaimDueProbes(ctx context.Context, now time.Time, limit int) ([]firebreak.Probe, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []*memProbe
	for _, mp := range s.probes {
		if mp.p.Enabled && !mp.next.After(now) {
			due = append(due, mp)
		}
	}
	slices.SortStableFunc(due, func(a, b *memProbe) int { return a.next.Compare(b.next) })
	due = due[:min(len(due), limit)]
	out := make([]firebreak.Probe, len(due))
	for i, mp := range due {
		iv := time.Duration(mp.p.Interval)
		mp.next = mp.next.Add(iv)
		if !mp.next.After(now) { // fell behind: skip the missed runs, keeping the phase
			mp.next = mp.next.Add(iv * (now.Sub(mp.next)/iv + 1))
		}
		out[i] = mp.p
	}
	return out, nil
}

// NextProbeDue is the earliest next run of an enabled probe (zero: none).
func (s *MemoryProbeStore) NextProbeDue(ctx context.Context) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first time.Time
	for _, mp := range s.probes {
		if mp.p.Enabled && (first.IsZero() || mp.next.Before(first)) {
			first = mp.next
		}
	}
	return first, nil
}

// RecordProbeResults counts the results.
func (s *MemoryProbeStore) RecordProbeResults(ctx context.Context, runs []firebreak.ProbeRun) error {
	s.results.Add(uint64(len(runs)))
	return nil
}

// Results is how many results were recorded.
func (s *MemoryProbeStore) Results() uint64 { return s.results.Load() }
