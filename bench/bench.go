// Package bench drives a Firebreak server over HTTP and measures it: durable timeline appends (spread over
// several incidents and on one hot incident) and incident reads. It talks only to loopback addresses: it is a
// tool for measuring a server on this machine, not a load generator for someone else's.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

// Scenarios.
const (
	ScenarioAppend = "append"
	ScenarioRead   = "read"
	ScenarioAll    = "all"
)

// Options configure a run.
type Options struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string // responder or admin API token
	// Clients is the number of concurrent clients (each one request at a time).
	Clients int
	// Duration bounds each measured phase; Warmup runs before each, unmeasured.
	Duration time.Duration
	Warmup   time.Duration
	// MaxRequests caps the requests of each phase (0: 1,000,000).
	MaxRequests int
	// Scenario is append, read or all.
	Scenario string
	// Incidents is how many incidents the spread appends go to (default 8).
	Incidents int
	// ReadEvents is the size of the timeline of the incident the read scenario reads (default 200).
	ReadEvents int
	// RequestTimeout bounds each request (default 30 s).
	RequestTimeout time.Duration
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
	// Intake configures the alert intake scenarios (intake.go).
	Intake IntakeOptions
	// Notify configures the notify-under-load scenario (notify.go).
	Notify NotifyOptions
}

// Result is what one phase measured.
type Result struct {
	Name     string  `json:"name"`
	Request  string  `json:"request"`
	Clients  int     `json:"clients"`
	Requests int     `json:"requests"` // completed, including errors
	Errors   int     `json:"errors"`   // transport errors and unexpected statuses
	Seconds  float64 `json:"seconds"`
	// PerSecond is successful requests per second.
	PerSecond float64 `json:"per_second"`
	// Latencies of the successful requests, in milliseconds.
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
	// CPU is the share of the machine's CPU capacity this process used during the phase (with --local: the
	// server and the load generator); OtherCPU what other processes used (-1 when unknown). A high OtherCPU
	// means the figures are disturbed.
	CPU      float64 `json:"cpu"`
	OtherCPU float64 `json:"other_cpu"`
	// FirstError describes the first error, if any.
	FirstError string `json:"first_error,omitempty"`
	// Alerts is how many alerts the successful requests of an intake phase delivered; AlertsPerSecond those per
	// second.
	Alerts          int     `json:"alerts,omitempty"`
	AlertsPerSecond float64 `json:"alerts_per_second,omitempty"`
	// RSSBytes is the resident memory alerts-rss read; Note says more about a phase.
	RSSBytes int64  `json:"rss_bytes,omitempty"`
	Note     string `json:"note,omitempty"`
}

// CheckLoopback refuses URLs whose host is not a loopback address.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bench: %q is not an http(s) URL", raw)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		ips, err := net.LookupIP(host)
		if err != nil || len(ips) == 0 {
			return fmt.Errorf("bench: cannot resolve %s", host)
		}
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return fmt.Errorf("bench: %s resolves to %s, not a loopback address; bench only measures servers on this machine", host, ip)
			}
		}
		return nil
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("bench: %s is not a loopback address; bench only measures servers on this machine", host)
	}
	return nil
}

type runner struct {
	o    Options
	hc   *http.Client
	base string
}

// Run prepares the incidents the scenarios need and runs them, one phase after another.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if err := CheckLoopback(o.BaseURL); err != nil {
		return nil, err
	}
	if o.Clients <= 0 {
		o.Clients = 64
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 1_000_000
	}
	if o.Incidents <= 0 {
		o.Incidents = 8
	}
	if o.ReadEvents <= 0 {
		o.ReadEvents = 200
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Scenario == "" {
		o.Scenario = ScenarioAll
	}
	if !slices.Contains([]string{ScenarioAppend, ScenarioRead, ScenarioAll, ScenarioNotify}, o.Scenario) &&
		!isIntakeScenario(o.Scenario) {
		return nil, fmt.Errorf("bench: unknown scenario %q (append, read, all, %s, %s or %s)", o.Scenario,
			strings.Join(intakeScenarios, ", "), ScenarioIntake, ScenarioNotify)
	}
	// One transport for every client, keeping a connection per client alive.
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2 * o.Clients,
		MaxIdleConnsPerHost: 2 * o.Clients,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	r := &runner{o: o, hc: &http.Client{Transport: tr, Timeout: o.RequestTimeout},
		base: strings.TrimSuffix(strings.TrimSuffix(o.BaseURL, "/"), "/api/v1") + "/api/v1"}
	api := client.New(o.BaseURL, o.Token, client.WithHTTPClient(r.hc))
	if _, err := api.Me(ctx); err != nil {
		return nil, fmt.Errorf("bench: checking the token: %w", err)
	}

	var results []Result
	if o.Scenario == ScenarioAppend || o.Scenario == ScenarioAll {
		ids, err := r.declare(ctx, api, o.Incidents, "append target")
		if err != nil {
			return nil, err
		}
		results = append(results, r.phase(ctx, fmt.Sprintf("append, %d incidents", len(ids)),
			"POST /api/v1/incidents/{id}/timeline", http.StatusCreated, r.appendReq(ids)))
		if ctx.Err() == nil {
			results = append(results, r.phase(ctx, "append, 1 hot incident",
				"POST /api/v1/incidents/{id}/timeline", http.StatusCreated, r.appendReq(ids[:1])))
		}
	}
	if ctx.Err() == nil && (o.Scenario == ScenarioRead || o.Scenario == ScenarioAll) {
		id, err := r.readTarget(ctx, api)
		if err != nil {
			return nil, err
		}
		results = append(results, r.phase(ctx, "read incident", "GET /api/v1/incidents/{id}", http.StatusOK,
			r.getReq("/incidents/"+id)))
		if ctx.Err() == nil {
			results = append(results, r.phase(ctx, fmt.Sprintf("read timeline (%d events)", o.ReadEvents),
				fmt.Sprintf("GET /api/v1/incidents/{id}/timeline?limit=%d", o.ReadEvents), http.StatusOK,
				r.getReq(fmt.Sprintf("/incidents/%s/timeline?limit=%d", id, o.ReadEvents))))
		}
	}
	if ctx.Err() == nil && isIntakeScenario(o.Scenario) {
		res, err := r.runIntake(ctx, api)
		results = append(results, res...)
		if err != nil {
			return results, err
		}
	}
	if ctx.Err() == nil && o.Scenario == ScenarioNotify {
		res, err := r.runNotify(ctx, api)
		results = append(results, res...)
		if err != nil {
			return results, err
		}
	}
	return results, ctx.Err()
}

func (r *runner) declare(ctx context.Context, api *client.Client, n int, what string) ([]string, error) {
	ids := make([]string, 0, n)
	stamp := time.Now().UTC().Format("15:04:05")
	for i := range n {
		inc, err := api.DeclareIncident(ctx, firebreak.DeclareInput{
			Title:    fmt.Sprintf("Bench %s: %s %d/%d", stamp, what, i+1, n),
			Summary:  "Created by firebreak bench.",
			Severity: firebreak.SEV3,
		})
		if err != nil {
			return nil, fmt.Errorf("bench: declaring an incident: %w", err)
		}
		ids = append(ids, inc.ID)
	}
	r.o.Logf("declared %d incidents for %s", n, what)
	return ids, nil
}

// readTarget declares an incident and fills its timeline to ReadEvents events (the declaration is one).
func (r *runner) readTarget(ctx context.Context, api *client.Client) (string, error) {
	ids, err := r.declare(ctx, api, 1, "read target")
	if err != nil {
		return "", err
	}
	id := ids[0]
	page, err := api.ListTimeline(ctx, id, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		return "", err
	}
	missing := r.o.ReadEvents - len(page.Items)
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first atomic.Pointer[error]
	)
	for range min(16, max(missing, 0)) {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(missing) || first.Load() != nil {
					return
				}
				_, err := api.AddTimelineEvent(ctx, id, firebreak.TimelineInput{Kind: firebreak.EventNote,
					Message: fmt.Sprintf("Bench note %d: error rate on checkout still at 4%%, investigating the "+
						"connection pool of orders", i)})
				if err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return "", fmt.Errorf("bench: filling the timeline: %w", *e)
	}
	page, err = api.ListTimeline(ctx, id, firebreak.TimelineFilter{Limit: r.o.ReadEvents})
	if err != nil {
		return "", err
	}
	if len(page.Items) != r.o.ReadEvents {
		return "", fmt.Errorf("bench: the read target has %d timeline events on its first page, want %d",
			len(page.Items), r.o.ReadEvents)
	}
	r.o.Logf("filled the timeline of the read target to %d events", r.o.ReadEvents)
	return id, nil
}

// makeReq builds the request number i of client w.
type makeReq func(w, i int) (*http.Request, error)

func (r *runner) appendReq(ids []string) makeReq {
	paths := make([]string, len(ids))
	for i, id := range ids {
		paths[i] = r.base + "/incidents/" + id + "/timeline"
	}
	return func(w, i int) (*http.Request, error) {
		body, _ := json.Marshal(firebreak.TimelineInput{Kind: firebreak.EventNote,
			Message: fmt.Sprintf("bench client %d note %d: checked the dashboards, error rate unchanged", w, i)})
		req, err := http.NewRequest(http.MethodPost, paths[(w+i)%len(paths)], bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.o.Token)
		return req, nil
	}
}

func (r *runner) getReq(path string) makeReq {
	u := r.base + path
	return func(int, int) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+r.o.Token)
		return req, nil
	}
}

// phase runs Clients loops of requests for Warmup (unmeasured), then for Duration or until MaxRequests. A
// request in flight when time is up is finished and counted; none is cut off.
func (r *runner) phase(ctx context.Context, name, request string, want int, mk makeReq) Result {
	if r.o.Warmup > 0 {
		r.o.Logf("%s: warming up for %s", name, r.o.Warmup)
		r.loop(ctx, r.o.Warmup, r.o.MaxRequests, want, mk)
	}
	r.o.Logf("%s: %d clients for %s", name, r.o.Clients, r.o.Duration)
	res := r.loop(ctx, r.o.Duration, r.o.MaxRequests, want, mk)
	res.Name, res.Request = name, request
	return res
}

type workerStats struct {
	lat      []time.Duration
	requests int
	errors   int
	firstErr string
}

func (r *runner) loop(ctx context.Context, d time.Duration, maxRequests, want int, mk makeReq) Result {
	var (
		stop    atomic.Bool
		started atomic.Int64
		wg      sync.WaitGroup
	)
	stats := make([]workerStats, r.o.Clients)
	cpu0 := sampleCPU()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	done := context.AfterFunc(ctx, func() { stop.Store(true) })
	defer done()
	start := time.Now()
	for w := range r.o.Clients {
		ws := &stats[w]
		ws.lat = make([]time.Duration, 0, 4096)
		wg.Go(func() {
			for i := 0; !stop.Load() && started.Add(1) <= int64(maxRequests); i++ {
				req, err := mk(w, i)
				if err != nil {
					ws.fail(err.Error())
					return
				}
				t0 := time.Now()
				resp, err := r.hc.Do(req)
				if err != nil {
					ws.requests++
					ws.fail(err.Error())
					continue
				}
				var snippet []byte
				if resp.StatusCode != want {
					snippet, _ = io.ReadAll(io.LimitReader(resp.Body, 300))
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				el := time.Since(t0)
				ws.requests++
				if resp.StatusCode != want {
					ws.fail(fmt.Sprintf("%s: %s", resp.Status, strings.TrimSpace(string(snippet))))
					continue
				}
				ws.lat = append(ws.lat, el)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	var res Result
	res.CPU, res.OtherCPU = cpuUse(cpu0, sampleCPU())
	res.Clients = r.o.Clients
	var all []time.Duration
	for _, ws := range stats {
		res.Requests += ws.requests
		res.Errors += ws.errors
		if res.FirstError == "" {
			res.FirstError = ws.firstErr
		}
		all = append(all, ws.lat...)
	}
	slices.Sort(all)
	res.Seconds = elapsed.Seconds()
	if elapsed > 0 {
		res.PerSecond = float64(len(all)) / elapsed.Seconds()
	}
	res.P50, res.P90, res.P99 = ms(percentile(all, 50)), ms(percentile(all, 90)), ms(percentile(all, 99))
	if len(all) > 0 {
		res.Max = ms(all[len(all)-1])
	}
	return res
}

func (ws *workerStats) fail(msg string) {
	ws.errors++
	if ws.firstErr == "" {
		ws.firstErr = msg
	}
}

// percentile returns the p-th percentile (nearest rank) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(f float64) string {
	if f < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

// Print writes the results as an aligned table.
func Print(w io.Writer, results []Result) {
	fmt.Fprintf(w, "%-28s %9s %7s %10s %9s %9s %9s %9s %6s %6s\n", "scenario", "requests", "errors", "req/s",
		"p50", "p90", "p99", "max", "cpu", "others")
	for _, r := range results {
		fmt.Fprintf(w, "%-28s %9d %7d %10.0f %7.2fms %7.2fms %7.2fms %7.2fms %6s %6s\n", r.Name, r.Requests,
			r.Errors, r.PerSecond, r.P50, r.P90, r.P99, r.Max, pct(r.CPU), pct(r.OtherCPU))
	}
	fmt.Fprintln(w, "(cpu: this process's share of all CPUs; others: what other processes used meanwhile)")
	for _, r := range results {
		if r.Alerts > 0 {
			fmt.Fprintf(w, "%s: %.0f alerts/s (%d alerts)\n", r.Name, r.AlertsPerSecond, r.Alerts)
		}
		if r.Note != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Name, r.Note)
		}
	}
	for _, r := range results {
		if r.FirstError != "" {
			fmt.Fprintf(w, "first error in %q: %s\n", r.Name, r.FirstError)
		}
	}
}

// ErrNoToken is returned when a run against a server has no token.
var ErrNoToken = errors.New("bench: an API token is needed (--token or FIREBREAK_TOKEN), or use --local")
