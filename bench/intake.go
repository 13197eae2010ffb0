package bench

// Alert intake scenarios: PagerDuty Events API v2 events and Alertmanager webhook deliveries, each answered only
// once durable, the time from an alert to its incident, and the memory of a server holding many firing alerts.
//
//	pagerduty          one trigger event per request (POST /v2/enqueue), a new dedup key each
//	alertmanager       100 new alerts per request (POST /api/v1/intake/alertmanager/{key}), a new group each
//	redeliver          the same Alertmanager groups sent again, byte for byte unchanged
//	alert-to-incident  one critical alert of a fresh group per request, each client on its own service; the
//	                   intake answer comes after the incident is committed (routing is in the intake's
//	                   transaction), and the client then checks through GET /api/v1/alerts that it is there
//	alerts-rss         stores RSSAlerts firing alerts, then reports the resident memory
//	intake             all of them

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/intake"
)

// Intake scenarios.
const (
	ScenarioPagerDuty       = "pagerduty"
	ScenarioAlertmanager    = "alertmanager"
	ScenarioRedeliver       = "redeliver"
	ScenarioAlertToIncident = "alert-to-incident"
	ScenarioAlertsRSS       = "alerts-rss"
	ScenarioIntake          = "intake"
)

// intakeScenarios are the scenarios this file runs, in the order ScenarioIntake runs them.
var intakeScenarios = []string{ScenarioPagerDuty, ScenarioAlertmanager, ScenarioRedeliver, ScenarioAlertToIncident,
	ScenarioAlertsRSS}

func isIntakeScenario(s string) bool {
	return s == ScenarioIntake || slices.Contains(intakeScenarios, s)
}

// IntakeOptions configure the intake scenarios.
type IntakeOptions struct {
	// AlertsPerRequest is the size of an Alertmanager delivery (default 100).
	AlertsPerRequest int
	// Integrations is how many integrations of each kind the throughput scenarios spread their requests over
	// (default 8). The server's per-integration rate limit (120 requests/s by default) must allow the load:
	// --local raises it; a server started otherwise needs app.Config.IntakeRate raised.
	Integrations int
	// Severity of the alerts sent by the throughput scenarios (default critical: with the default routing
	// policy every alert then joins the service's open incident, the full path; warning or info only records).
	Severity string
	// RedeliverGroups is how many Alertmanager groups the redeliver scenario stores first and then sends again
	// in turn (default 256).
	RedeliverGroups int
	// RSSAlerts is how many firing alerts alerts-rss stores before reading the memory (default 100,000).
	RSSAlerts int
	// RSS reads the server's resident memory after a garbage collection; nil: alerts-rss reports none. With
	// --local it is SelfRSS (the server shares this process with the load generator).
	RSS func() (rssBytes int64, what string, err error)
}

// SelfRSS collects garbage, returns freed memory to the OS and reads VmRSS of this process from
// /proc/self/status (Linux).
func SelfRSS() (int64, string, error) {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, "", err
	}
	n, err := statusKB(b, "VmRSS")
	return n, "VmRSS of this process (in-process server and load generator) after a GC", err
}

// statusKB reads a "Name:   123 kB" line of /proc/<pid>/status, in bytes.
func statusKB(status []byte, name string) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			break
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("bench: no %s line in /proc/self/status", name)
}

// --- payloads --------------------------------------------------------------------------------------------------

// amWebhook is the Alertmanager webhook body, version 4, with the fields in the order Alertmanager writes them
// (its notify/webhook Message: the template Data, then version, groupKey, truncatedAlerts). Encoded with
// encoding/json it is byte for byte what Alertmanager sends (see the test against the sample payload).
type amWebhook struct {
	Receiver           string            `json:"receiver"`
	Status             string            `json:"status"`
	Alerts             []amAlert         `json:"alerts"`
	NotificationReason string            `json:"notification_reason"`
	GroupLabels        map[string]string `json:"groupLabels"`
	CommonLabels       map[string]string `json:"commonLabels"`
	CommonAnnotations  map[string]string `json:"commonAnnotations"`
	RouteLabels        map[string]string `json:"routeLabels"`
	ExternalURL        string            `json:"externalURL"`
	Version            string            `json:"version"`
	GroupKey           string            `json:"groupKey"`
	TruncatedAlerts    uint64            `json:"truncatedAlerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

const amGeneratorURL = "http://prometheus.example.com:9090/graph?g0.expr=job%3Aerror_ratio%3Arate5m%7Bjob%3D%22api%22%7D+%3E+0.05&g0.tab=1"

// amBaseTime is the startsAt of the bench's alerts (plus their group number in milliseconds): fixed, so that a
// group's body is the same every time it is built.
var amBaseTime = time.Date(2026, 8, 20, 10, 15, 30, 0, time.UTC)

// amGroup builds the Alertmanager delivery of group g of a run: n firing alerts HighErrorRate-<run>-<g> on
// instances api-0 … api-<n-1>, all of the given severity. The same arguments give the same bytes. A zero
// startsAt is amBaseTime plus g milliseconds.
func amGroup(run string, g, n int, severity string, startsAt time.Time) amWebhook {
	if startsAt.IsZero() {
		startsAt = amBaseTime.Add(time.Duration(g) * time.Millisecond)
	}
	name := fmt.Sprintf("HighErrorRate-%s-%d", run, g)
	common := map[string]string{"alertname": name, "cluster": "prod-eu-1", "job": "api", "severity": severity}
	w := amWebhook{
		Receiver: "incident-platform", Status: "firing", Alerts: make([]amAlert, n),
		NotificationReason: "first notification",
		GroupLabels:        map[string]string{"alertname": name, "cluster": "prod-eu-1"},
		CommonLabels:       common,
		CommonAnnotations:  map[string]string{"runbook_url": "https://runbooks.example.com/HighErrorRate"},
		RouteLabels:        map[string]string{},
		ExternalURL:        "http://alertmanager.example.com:9093",
		Version:            "4",
		GroupKey:           fmt.Sprintf(`{}:{alertname=%q, cluster="prod-eu-1"}`, name),
	}
	start := startsAt.UTC().Format(time.RFC3339Nano)
	for i := range w.Alerts {
		instance := fmt.Sprintf("api-%d:8080", i)
		labels := map[string]string{"alertname": name, "cluster": "prod-eu-1", "instance": instance, "job": "api",
			"severity": severity}
		w.Alerts[i] = amAlert{
			Status: "firing", Labels: labels,
			Annotations: map[string]string{"runbook_url": "https://runbooks.example.com/HighErrorRate",
				"summary": "5xx ratio above 5% on " + instance},
			StartsAt: start, EndsAt: "0001-01-01T00:00:00Z", GeneratorURL: amGeneratorURL,
			Fingerprint: intake.LabelsFingerprint(labels),
		}
	}
	return w
}

// pdEvent is a PagerDuty Events API v2 trigger, with the fields of PagerDuty's documented example in its order.
type pdEvent struct {
	Payload     pdPayload `json:"payload"`
	RoutingKey  string    `json:"routing_key"`
	DedupKey    string    `json:"dedup_key"`
	Images      []pdImage `json:"images,omitempty"`
	Links       []pdLink  `json:"links,omitempty"`
	EventAction string    `json:"event_action"`
	Client      string    `json:"client,omitempty"`
	ClientURL   string    `json:"client_url,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type pdImage struct {
	Src  string `json:"src"`
	Href string `json:"href,omitempty"`
	Alt  string `json:"alt,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// pdTrigger builds trigger event n of a run, shaped like PagerDuty's documented example.
func pdTrigger(routingKey, run string, n int, severity string) pdEvent {
	return pdTriggerOf(routingKey, fmt.Sprintf("bench-%s-%d", run, n), fmt.Sprintf("host%d.example.com", n%500),
		pdTimestamp(n), severity)
}

func pdTimestamp(n int) string {
	return amBaseTime.Add(time.Duration(n) * time.Millisecond).Format("2006-01-02T15:04:05.000-0700")
}

func pdTriggerOf(routingKey, dedupKey, host, timestamp, severity string) pdEvent {
	return pdEvent{
		Payload: pdPayload{
			Summary:   "High error rate on " + host,
			Timestamp: timestamp,
			Source:    "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/" + host,
			Severity:  severity, Component: "postgres", Group: "prod-datapipe", Class: "deploy",
			CustomDetails: map[string]any{"ping time": "1500ms", "load avg": 0.75},
		},
		RoutingKey: routingKey,
		DedupKey:   dedupKey,
		Images: []pdImage{{Src: "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png",
			Href: "https://example.com/", Alt: "Example text"}},
		Links:       []pdLink{{Href: "https://example.com/", Text: "Link text"}},
		EventAction: "trigger",
		Client:      "Sample Monitoring Service",
		ClientURL:   "https://monitoring.example.com",
	}
}

// pdBodies encodes pdTrigger bodies without encoding/json (which cost the load generator, sharing the CPUs with
// an in-process server, more than the server's own parsing): the encoding of a template whose variable fields
// are placeholders, cut at them. Its output is byte for byte json.Marshal(pdTrigger(...)) (a test checks).
type pdBodies struct {
	parts [][]byte // the template between placeholders
	slots []int    // which value goes after each part but the last: 0 routing key, 1 dedup key, 2 host, 3 timestamp
}

func newPDBodies(severity string) (*pdBodies, error) {
	placeholders := []string{"@@routing@@", "@@dedup@@", "@@host@@", "@@timestamp@@"}
	t, err := json.Marshal(pdTriggerOf(placeholders[0], placeholders[1], placeholders[2], placeholders[3], severity))
	if err != nil {
		return nil, err
	}
	b := &pdBodies{}
	for {
		at, slot := -1, -1
		for i, p := range placeholders {
			if j := bytes.Index(t, []byte(p)); j >= 0 && (at < 0 || j < at) {
				at, slot = j, i
			}
		}
		if at < 0 {
			b.parts = append(b.parts, t)
			return b, nil
		}
		b.parts = append(b.parts, t[:at])
		b.slots = append(b.slots, slot)
		t = t[at+len(placeholders[slot]):]
	}
}

// body is json.Marshal(pdTrigger(routingKey, run, n, severity)) for the bodies' severity (the values need no
// escaping: hex keys, digits, host names).
func (b *pdBodies) body(routingKey, run string, n int) []byte {
	var host, key [64]byte
	vals := [4][]byte{[]byte(routingKey),
		strconv.AppendInt(append(append(append(key[:0], "bench-"...), run...), '-'), int64(n), 10),
		append(strconv.AppendInt(append(host[:0], "host"...), int64(n%500), 10), ".example.com"...),
		[]byte(pdTimestamp(n))}
	size := 0
	for _, p := range b.parts {
		size += len(p)
	}
	for _, s := range b.slots {
		size += len(vals[s])
	}
	out := make([]byte, 0, size)
	for i, p := range b.parts {
		out = append(out, p...)
		if i < len(b.slots) {
			out = append(out, vals[b.slots[i]]...)
		}
	}
	return out
}

// --- setup -----------------------------------------------------------------------------------------------------

// benchIntegration is an integration the bench created, with its key and intake URL.
type benchIntegration struct {
	service string
	key     string
	url     string
}

func (r *runner) createService(ctx context.Context, api *client.Client, slug string) error {
	_, err := api.CreateService(ctx, firebreak.ServiceInput{Slug: slug, Name: "Bench " + slug,
		Description: "Created by firebreak bench."})
	if err != nil {
		return fmt.Errorf("bench: creating service %s: %w", slug, err)
	}
	return nil
}

func (r *runner) createIntegrations(ctx context.Context, api *client.Client, service string,
	kind firebreak.IntegrationKind, n int) ([]benchIntegration, error) {
	out := make([]benchIntegration, 0, n)
	for i := range n {
		ci, err := api.CreateIntegration(ctx, firebreak.IntegrationInput{Service: service, Kind: kind,
			Name: fmt.Sprintf("bench %s %d", kind, i+1)})
		if err != nil {
			return nil, fmt.Errorf("bench: creating a %s integration: %w", kind, err)
		}
		u := strings.TrimSuffix(r.base, "/api/v1") + PagerDutyPath
		if kind != firebreak.IntegrationPagerDuty {
			u = r.base + "/intake/" + string(kind) + "/" + url.PathEscape(ci.Key)
		}
		out = append(out, benchIntegration{service: service, key: ci.Key, url: u})
	}
	return out, nil
}

// PagerDutyPath is the PagerDuty-compatible endpoint, at the root of the server.
const PagerDutyPath = "/v2/enqueue"

// --- phases ----------------------------------------------------------------------------------------------------

// intakeRunner holds what the intake scenarios share within one Run.
type intakeRunner struct {
	*runner
	api *client.Client
	cfg IntakeOptions
	run string // unique per Run: dedup keys and groups never collide with an earlier run's
	seq atomic.Int64
	raw *rawClients
	// am are the Alertmanager integrations of the throughput scenarios; pd the PagerDuty ones.
	am, pd []benchIntegration
}

func (r *runner) runIntake(ctx context.Context, api *client.Client) ([]Result, error) {
	o := r.o.Intake
	if o.AlertsPerRequest <= 0 {
		o.AlertsPerRequest = 100
	}
	if o.Integrations <= 0 {
		o.Integrations = 8
	}
	if o.Severity == "" {
		o.Severity = string(firebreak.AlertCritical)
	}
	if o.RedeliverGroups <= 0 {
		o.RedeliverGroups = 256
	}
	if o.RSSAlerts <= 0 {
		o.RSSAlerts = 100_000
	}
	if !slices.Contains([]string{"critical", "error", "warning", "info"}, o.Severity) {
		return nil, fmt.Errorf("bench: alert severity %q is not critical, error, warning or info", o.Severity)
	}
	ir := &intakeRunner{runner: r, api: api, cfg: o, run: randomHex(4), raw: newRawClients(r.o.RequestTimeout)}
	defer ir.raw.closeAll()
	want := func(s string) bool { return r.o.Scenario == ScenarioIntake || r.o.Scenario == s }
	svc := "bench-intake-" + ir.run
	if want(ScenarioPagerDuty) || want(ScenarioAlertmanager) || want(ScenarioRedeliver) || want(ScenarioAlertsRSS) {
		if err := r.createService(ctx, api, svc); err != nil {
			return nil, err
		}
		var err error
		if ir.pd, err = r.createIntegrations(ctx, api, svc, firebreak.IntegrationPagerDuty, o.Integrations); err != nil {
			return nil, err
		}
		if ir.am, err = r.createIntegrations(ctx, api, svc, firebreak.IntegrationAlertmanager, o.Integrations); err != nil {
			return nil, err
		}
		r.o.Logf("created service %s with %d PagerDuty and %d Alertmanager integrations", svc, len(ir.pd), len(ir.am))
	}
	var results []Result
	add := func(res Result, err error) error {
		if err != nil {
			return err
		}
		results = append(results, res)
		return ctx.Err()
	}
	steps := []struct {
		name string
		run  func(context.Context) (Result, error)
	}{
		{ScenarioPagerDuty, ir.pagerDuty},
		{ScenarioAlertmanager, ir.alertmanager},
		{ScenarioRedeliver, ir.redeliver},
		{ScenarioAlertToIncident, ir.alertToIncident},
		{ScenarioAlertsRSS, ir.alertsRSS},
	}
	for _, s := range steps {
		if !want(s.name) {
			continue
		}
		if err := add(s.run(ctx)); err != nil {
			return results, err
		}
	}
	return results, nil
}

// post sends body and reads the whole answer; any status but want is an error.
func (r *runner) post(ctx context.Context, u string, body []byte, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// postAs is post for load-generating client w, over its own connection (rawClients) when the URL allows.
func (ir *intakeRunner) postAs(ctx context.Context, w int, u string, body []byte, want int) error {
	if ok, err := ir.raw.post(ctx, w, u, body, want); ok {
		return err
	}
	return ir.post(ctx, u, body, want)
}

// intakeWork is one request (or exchange) of client w; it returns the alerts it delivered and, optionally, the
// latency to report for it (lat; 0: the whole work's) and a second latency (extra) summarised in the note.
type intakeWork func(ctx context.Context, w int) (alerts int, lat, extra time.Duration, err error)

// phase runs work like runner.phase does (warm-up, then Duration or MaxRequests) and counts alerts too. Extra
// latencies, when work reports them, are summarised in the note.
func (ir *intakeRunner) phase(ctx context.Context, name, request string, clients int, work intakeWork) Result {
	if ir.o.Warmup > 0 {
		ir.o.Logf("%s: warming up for %s", name, ir.o.Warmup)
		ir.loopWork(ctx, ir.o.Warmup, ir.o.MaxRequests, clients, work)
	}
	ir.o.Logf("%s: %d clients for %s", name, clients, ir.o.Duration)
	res := ir.loopWork(ctx, ir.o.Duration, ir.o.MaxRequests, clients, work)
	res.Name, res.Request = name, request
	return res
}

type intakeStats struct {
	workerStats
	extra  []time.Duration
	alerts int
}

// loopWork runs clients loops of work for d or until maxRequests.
func (ir *intakeRunner) loopWork(ctx context.Context, d time.Duration, maxRequests, clients int,
	work intakeWork) Result {
	var (
		stop    atomic.Bool
		started atomic.Int64
		wg      sync.WaitGroup
	)
	stats := make([]intakeStats, clients)
	cpu0 := sampleCPU()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	done := context.AfterFunc(ctx, func() { stop.Store(true) })
	defer done()
	start := time.Now()
	for w := range clients {
		ws := &stats[w]
		wg.Go(func() {
			for !stop.Load() && started.Add(1) <= int64(maxRequests) {
				t0 := time.Now()
				n, lat, extra, err := work(ctx, w)
				el := time.Since(t0)
				if lat > 0 {
					el = lat
				}
				ws.requests++
				if err != nil {
					ws.fail(err.Error())
					if ctx.Err() != nil {
						return
					}
					continue
				}
				ws.lat = append(ws.lat, el)
				ws.alerts += n
				if extra > 0 {
					ws.extra = append(ws.extra, extra)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var res Result
	res.CPU, res.OtherCPU = cpuUse(cpu0, sampleCPU())
	res.Clients = clients
	var all, extra []time.Duration
	for _, ws := range stats {
		res.Requests += ws.requests
		res.Errors += ws.errors
		res.Alerts += ws.alerts
		if res.FirstError == "" {
			res.FirstError = ws.firstErr
		}
		all = append(all, ws.lat...)
		extra = append(extra, ws.extra...)
	}
	slices.Sort(all)
	slices.Sort(extra)
	res.Seconds = elapsed.Seconds()
	if elapsed > 0 {
		res.PerSecond = float64(len(all)) / elapsed.Seconds()
		res.AlertsPerSecond = float64(res.Alerts) / elapsed.Seconds()
	}
	res.P50, res.P90, res.P99 = ms(percentile(all, 50)), ms(percentile(all, 90)), ms(percentile(all, 99))
	if len(all) > 0 {
		res.Max = ms(all[len(all)-1])
	}
	if len(extra) > 0 {
		res.Note = fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.2f ms", ms(percentile(extra, 50)),
			ms(percentile(extra, 99)), ms(extra[len(extra)-1]))
	}
	return res
}

// pagerDuty sends one trigger per request, a new dedup key each, round-robin over the PagerDuty integrations.
func (ir *intakeRunner) pagerDuty(ctx context.Context) (Result, error) {
	bodies, err := newPDBodies(ir.cfg.Severity)
	if err != nil {
		return Result{}, err
	}
	work := func(ctx context.Context, w int) (int, time.Duration, time.Duration, error) {
		n := int(ir.seq.Add(1))
		in := ir.pd[n%len(ir.pd)]
		return 1, 0, 0, ir.postAs(ctx, w, in.url, bodies.body(in.key, ir.run, n), http.StatusAccepted)
	}
	res := ir.phase(ctx, "pagerduty, 1 event/request", "POST /v2/enqueue (trigger)", ir.o.Clients, work)
	return res, nil
}

// alertmanager sends a new group of AlertsPerRequest alerts per request.
func (ir *intakeRunner) alertmanager(ctx context.Context) (Result, error) {
	work := func(ctx context.Context, w int) (int, time.Duration, time.Duration, error) {
		g := int(ir.seq.Add(1))
		in := ir.am[g%len(ir.am)]
		body, err := json.Marshal(amGroup(ir.run, g, ir.cfg.AlertsPerRequest, ir.cfg.Severity, time.Time{}))
		if err != nil {
			return 0, 0, 0, err
		}
		return ir.cfg.AlertsPerRequest, 0, 0, ir.postAs(ctx, w, in.url, body, http.StatusOK)
	}
	res := ir.phase(ctx, fmt.Sprintf("alertmanager, %d new/request", ir.cfg.AlertsPerRequest),
		"POST /api/v1/intake/alertmanager/{key}", ir.o.Clients, work)
	return res, nil
}

// redeliver stores RedeliverGroups groups (unmeasured), then sends them again in turn, unchanged: each group
// always to the integration that first received it, with the same bytes.
func (ir *intakeRunner) redeliver(ctx context.Context) (Result, error) {
	type group struct {
		url  string
		body []byte
	}
	groups := make([]group, ir.cfg.RedeliverGroups)
	for i := range groups {
		g := int(ir.seq.Add(1))
		body, err := json.Marshal(amGroup(ir.run, g, ir.cfg.AlertsPerRequest, ir.cfg.Severity, time.Time{}))
		if err != nil {
			return Result{}, err
		}
		groups[i] = group{url: ir.am[g%len(ir.am)].url, body: body}
	}
	if err := ir.forEach(ctx, len(groups), func(ctx context.Context, i int) error {
		return ir.post(ctx, groups[i].url, groups[i].body, http.StatusOK)
	}); err != nil {
		return Result{}, fmt.Errorf("bench: storing the groups to redeliver: %w", err)
	}
	ir.o.Logf("redeliver: stored %d groups of %d alerts", len(groups), ir.cfg.AlertsPerRequest)
	var next atomic.Int64
	work := func(ctx context.Context, w int) (int, time.Duration, time.Duration, error) {
		g := groups[int(next.Add(1))%len(groups)]
		return ir.cfg.AlertsPerRequest, 0, 0, ir.postAs(ctx, w, g.url, g.body, http.StatusOK)
	}
	res := ir.phase(ctx, fmt.Sprintf("redeliver, %d unchanged/req", ir.cfg.AlertsPerRequest),
		"POST /api/v1/intake/alertmanager/{key} (again)", ir.o.Clients, work)
	return res, nil
}

// forEach runs fn(0) … fn(n-1) on Clients goroutines and returns the first error.
func (ir *intakeRunner) forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first atomic.Pointer[error]
	)
	for range min(ir.o.Clients, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || first.Load() != nil || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if e := first.Load(); e != nil {
		return *e
	}
	return ctx.Err()
}

// alertToIncident gives every client its own service (routing policy: critical alerts open a SEV2 incident per
// alertname) and Alertmanager integration. Each request is one critical alert of a new group: the intake answers
// after the alert and its new incident are committed together, so the request's latency is the time from
// sending the alert to its incident existing. The client then reads the service's newest alert
// (GET /api/v1/alerts?service=…&limit=1) and checks that it is this alert and has an incident; the note gives
// that whole exchange's latency (send to incident seen through the API). After the phase, every alert of those
// services is checked to have its own incident.
func (ir *intakeRunner) alertToIncident(ctx context.Context) (Result, error) {
	clients := ir.o.Clients
	ints := make([]benchIntegration, clients)
	policy := firebreak.DefaultRoutingPolicy()
	policy.GroupBy = []string{"alertname"}
	if err := ir.forEach(ctx, clients, func(ctx context.Context, w int) error {
		slug := fmt.Sprintf("bench-a2i-%s-%d", ir.run, w)
		if err := ir.createService(ctx, ir.api, slug); err != nil {
			return err
		}
		if _, err := ir.api.SetRoutingPolicy(ctx, slug, policy); err != nil {
			return fmt.Errorf("bench: setting the routing policy of %s: %w", slug, err)
		}
		in, err := ir.createIntegrations(ctx, ir.api, slug, firebreak.IntegrationAlertmanager, 1)
		if err != nil {
			return err
		}
		ints[w] = in[0]
		return nil
	}); err != nil {
		return Result{}, err
	}
	ir.o.Logf("alert-to-incident: created %d services, each with an Alertmanager integration", clients)
	var checked atomic.Int64
	work := func(ctx context.Context, w int) (int, time.Duration, time.Duration, error) {
		in := ints[w]
		g := int(ir.seq.Add(1))
		t0 := time.Now()
		msg := amGroup(ir.run, g, 1, string(firebreak.AlertCritical), t0)
		body, err := json.Marshal(msg)
		if err != nil {
			return 0, 0, 0, err
		}
		if err := ir.post(ctx, in.url, body, http.StatusOK); err != nil {
			return 0, 0, 0, err
		}
		answered := time.Since(t0)
		// The client's service only has this client's alerts, and this one is the newest (last_seen_at is its
		// startsAt, later than every earlier request's).
		page, err := ir.api.ListAlerts(ctx, firebreak.AlertFilter{Service: in.service, Limit: 1})
		seen := time.Since(t0)
		if err != nil {
			return 0, 0, 0, err
		}
		if len(page.Items) != 1 || page.Items[0].DedupKey != msg.Alerts[0].Fingerprint {
			return 0, 0, 0, fmt.Errorf("alert %s of %s is not the newest alert of its service",
				msg.Alerts[0].Fingerprint, in.service)
		}
		if page.Items[0].IncidentID == "" {
			return 0, 0, 0, fmt.Errorf("alert %s was answered but has no incident", msg.Alerts[0].Fingerprint)
		}
		checked.Add(1)
		return 1, answered, seen, nil
	}
	res := ir.phase(ctx, "alert-to-incident", "POST …/intake/alertmanager/{key}, 1 critical alert, new group",
		clients, work)
	if res.Note != "" {
		res.Note = "sent → incident seen via GET /api/v1/alerts: " + res.Note
	}
	// Every alert of those services (warm-up included) has an incident of its own, and the incident exists.
	alerts, incidents := 0, map[string]bool{}
	for _, in := range ints {
		for cursor := ""; ; {
			page, err := ir.api.ListAlerts(ctx, firebreak.AlertFilter{Service: in.service, Limit: firebreak.MaxLimit,
				Cursor: cursor})
			if err != nil {
				return res, fmt.Errorf("bench: listing the alerts of %s: %w", in.service, err)
			}
			for _, a := range page.Items {
				alerts++
				if a.IncidentID == "" || incidents[a.IncidentID] {
					return res, fmt.Errorf("bench: alert %s of %s has no incident of its own (%q)", a.DedupKey,
						in.service, a.IncidentID)
				}
				incidents[a.IncidentID] = true
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	for id := range incidents {
		if _, err := ir.api.GetIncident(ctx, id); err != nil {
			return res, fmt.Errorf("bench: the incident %s of an alert: %w", id, err)
		}
		break // one read shows the ids are incidents; the listing above showed one per alert
	}
	res.Note += fmt.Sprintf("; checked after the phase: %d alerts, each with its own incident", alerts)
	ir.o.Logf("alert-to-incident: %d answers checked through the API; %d alerts with %d incidents", checked.Load(),
		alerts, len(incidents))
	return res, nil
}

// alertsRSS stores RSSAlerts new firing alerts through the Alertmanager intake and reads the memory.
func (ir *intakeRunner) alertsRSS(ctx context.Context) (Result, error) {
	per := ir.cfg.AlertsPerRequest
	reqs := (ir.cfg.RSSAlerts + per - 1) / per
	ir.o.Logf("alerts-rss: storing %d firing alerts in %d deliveries", reqs*per, reqs)
	work := func(ctx context.Context, w int) (int, time.Duration, time.Duration, error) {
		g := int(ir.seq.Add(1))
		body, err := json.Marshal(amGroup(ir.run, g, per, ir.cfg.Severity, time.Time{}))
		if err != nil {
			return 0, 0, 0, err
		}
		return per, 0, 0, ir.post(ctx, ir.am[g%len(ir.am)].url, body, http.StatusOK)
	}
	res := ir.loopWork(ctx, 24*time.Hour, reqs, min(ir.o.Clients, reqs), work)
	res.Name, res.Request = "alerts-rss", "POST /api/v1/intake/alertmanager/{key}"
	if res.Errors > 0 {
		return res, fmt.Errorf("bench: storing alerts: %d of %d deliveries failed: %s", res.Errors, res.Requests,
			res.FirstError)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	var rssNote string
	if ir.cfg.RSS == nil {
		rssNote = "resident memory not measured (only with --local)"
	} else {
		rss, what, err := ir.cfg.RSS()
		if err != nil {
			return res, err
		}
		res.RSSBytes = rss
		rssNote = fmt.Sprintf("RSS %.1f MB (%s)", float64(rss)/(1<<20), what)
	}
	// Firing alerts of the whole server (this run's and any earlier ones), counted after the memory was read.
	firing, err := ir.countFiring(ctx)
	if err != nil {
		return res, err
	}
	res.Note = fmt.Sprintf("%d firing alerts stored; %s", firing, rssNote)
	return res, nil
}

// countFiring counts the firing alerts the server holds.
func (ir *intakeRunner) countFiring(ctx context.Context) (int, error) {
	n := 0
	for cursor := ""; ; {
		page, err := ir.api.ListAlerts(ctx, firebreak.AlertFilter{Status: []firebreak.AlertStatus{firebreak.AlertFiring},
			Limit: firebreak.MaxLimit, Cursor: cursor})
		if err != nil {
			return n, fmt.Errorf("bench: counting firing alerts: %w", err)
		}
		n += len(page.Items)
		if cursor = page.NextCursor; cursor == "" {
			return n, nil
		}
	}
}
