package bench

// The notify-under-load scenario: how long after an incident is declared (or an alert opens one) its first
// notification reaches a webhook receiver, on an idle server and while a steady stream of alerts arrives.
//
// The bench runs the receiver itself (an HTTP server on 127.0.0.1:0 in this process) and creates, through the API,
// probe services that each announce to a webhook channel of their own pointing at it (one destination per service,
// so that the channels' rate limit, 10 messages/s per destination, never holds a probe back), plus a background
// service with PagerDuty integrations. Each phase sends probes at --probe-rate, alternately
//
//	declare  POST /api/v1/incidents on a probe service (answered once committed)
//	alert    POST /v2/enqueue, a critical PagerDuty event of a new group on a probe service: routing opens an
//	         incident in the intake's transaction, so the 202 comes once the alert and its incident are committed
//
// and the receiver notes when the incident's first notification arrives (its "declared" announcement, or the
// first page of its escalation, both queued in the transaction that opened it). The latency reported is from the
// moment the client had the 2xx answer (accepted: durable) to that arrival; a notification that arrives before
// the client has read its answer counts as 0 (the note says how many did). The "under load" phase runs the same
// probes while --background-rate alerts/s arrive on the background service, open loop (sent on schedule whatever
// the answers' latency), half of them critical (each joins the background service's open incident) and half
// warnings (recorded only), a new dedup key each.
//
// When the server has escalation policies, each probe service also has one: two steps, each paging a webhook
// channel of the service (a second destination on the receiver) and waiting 1 s. Every probe incident (opened
// unacknowledged) thus pages at once, pages again 1 s later (step 2 due) and is exhausted 1 s after that. After
// each phase the bench reads the incidents' timelines and reports how late the due steps fired: the time of the
// escalation_paged (step 2) and escalation_exhausted entries against the time the previous step fired plus its
// delay, on the server's clock; the note adds when step 2's page reached the receiver.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

// ScenarioNotify is the notification latency scenario.
const ScenarioNotify = "notify-under-load"

// NotifyOptions configure the notify-under-load scenario.
type NotifyOptions struct {
	// BackgroundRate is the alerts per second sent during the "under load" phase (default 1,000).
	BackgroundRate int
	// ProbeRate is the probes (declarations and alerts, alternately) per second of each phase (default 10).
	ProbeRate float64
	// ProbeServices is how many probe services (each with its own webhook channel) the probes are spread over
	// (default 8).
	ProbeServices int
	// Settle is how long after a phase the bench waits for notifications still on their way (default 10 s); a
	// probe whose notification has not arrived by then is an error.
	Settle time.Duration
}

// receiver is the webhook receiver: it notes when the first notification of each incident title arrives, and
// when each escalation step's page arrives.
type receiver struct {
	srv   *http.Server
	url   string
	mu    sync.Mutex
	first map[string]time.Time // incident title → first arrival
	pages map[string]time.Time // incident title + " step N" → first page of that step
	total atomic.Int64
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rv := &receiver{url: "http://" + ln.Addr().String(), first: map[string]time.Time{}, pages: map[string]time.Time{}}
	rv.srv = &http.Server{Handler: http.HandlerFunc(rv.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rv.srv.Serve(ln) }()
	return rv, nil
}

func (rv *receiver) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var msg struct {
		Event    string `json:"event"`
		Text     string `json:"text"`
		Incident struct {
			Title string `json:"title"`
		} `json:"incident"`
	}
	if json.Unmarshal(body, &msg) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rv.total.Add(1)
	rv.mu.Lock()
	if _, ok := rv.first[msg.Incident.Title]; !ok {
		rv.first[msg.Incident.Title] = at
	}
	// "Paged by escalation policy P: step 2 of 2, round 1 of 1. …"
	if _, rest, ok := strings.Cut(msg.Text, ": step "); ok && msg.Event == "page" {
		if step, _, ok := strings.Cut(rest, " "); ok {
			if k := msg.Incident.Title + " step " + step; rv.pages[k].IsZero() {
				rv.pages[k] = at
			}
		}
	}
	rv.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// arrived returns when the first notification of title arrived.
func (rv *receiver) arrived(title string) (time.Time, bool) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	t, ok := rv.first[title]
	return t, ok
}

// paged returns when the page of an escalation step of title arrived.
func (rv *receiver) paged(title string, step int) (time.Time, bool) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	t, ok := rv.pages[fmt.Sprintf("%s step %d", title, step)]
	return t, ok
}

func (rv *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = rv.srv.Shutdown(ctx)
}

// notifyProbe is one measured declaration or alert.
type notifyProbe struct {
	kind     string // "declare" or "alert"
	title    string // of its incident
	service  int
	dedupKey string // of an alert
	incident string // of a declaration
	sent     time.Time
	accepted time.Time // when the 2xx answer was read
	err      error
}

// notifyRunner holds what the notify scenario's phases share.
type notifyRunner struct {
	*runner
	api      *client.Client
	cfg      NotifyOptions
	run      string
	rv       *receiver
	services []string           // probe services
	pd       []benchIntegration // PagerDuty integrations of the probe services, one each
	bg       []benchIntegration // PagerDuty integrations of the background service
	escalate bool               // the probe services have escalation policies
	seq      atomic.Int64
}

// escalationDelay is the delay of each step of the probe services' escalation policies (the shortest allowed).
const escalationDelay = time.Second

func (r *runner) runNotify(ctx context.Context, api *client.Client) ([]Result, error) {
	o := r.o.Notify
	if o.BackgroundRate <= 0 {
		o.BackgroundRate = 1000
	}
	if o.ProbeRate <= 0 {
		o.ProbeRate = 10
	}
	if o.ProbeServices <= 0 {
		o.ProbeServices = 8
	}
	if o.Settle <= 0 {
		o.Settle = 10 * time.Second
	}
	rv, err := startReceiver()
	if err != nil {
		return nil, fmt.Errorf("bench: starting the webhook receiver: %w", err)
	}
	defer rv.close()
	nr := &notifyRunner{runner: r, api: api, cfg: o, run: randomHex(4), rv: rv}
	if err := nr.setup(ctx); err != nil {
		return nil, err
	}
	var results []Result
	for _, load := range []bool{false, true} {
		res, err := nr.phase(ctx, load)
		results = append(results, res...)
		if err != nil {
			return results, err
		}
		if err := ctx.Err(); err != nil {
			return results, err
		}
	}
	return results, nil
}

// setup creates the probe services (each with a webhook channel to the receiver, a routing policy that opens an
// incident per PagerDuty group, and a PagerDuty integration) and the background service.
func (nr *notifyRunner) setup(ctx context.Context) error {
	policy := firebreak.DefaultRoutingPolicy()
	policy.GroupBy = []string{"group"}
	nr.services = make([]string, nr.cfg.ProbeServices)
	nr.pd = make([]benchIntegration, nr.cfg.ProbeServices)
	for i := range nr.services {
		slug := fmt.Sprintf("bench-notify-%s-%d", nr.run, i)
		if err := nr.createService(ctx, nr.api, slug); err != nil {
			return err
		}
		ch, err := nr.api.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: slug,
			URL: fmt.Sprintf("%s/hook/%d", nr.rv.url, i), Secret: randomHex(16)})
		if err != nil {
			return fmt.Errorf("bench: creating the webhook channel of %s: %w", slug, err)
		}
		if _, err := nr.api.UpdateService(ctx, slug, firebreak.ServicePatch{Channels: &[]string{ch.ID}}, 0); err != nil {
			return fmt.Errorf("bench: giving %s its channel: %w", slug, err)
		}
		if _, err := nr.api.SetRoutingPolicy(ctx, slug, policy); err != nil {
			return fmt.Errorf("bench: setting the routing policy of %s: %w", slug, err)
		}
		in, err := nr.createIntegrations(ctx, nr.api, slug, firebreak.IntegrationPagerDuty, 1)
		if err != nil {
			return err
		}
		nr.services[i], nr.pd[i] = slug, in[0]
		if err := nr.escalation(ctx, slug, i); err != nil {
			return err
		}
	}
	bg := fmt.Sprintf("bench-notify-%s-background", nr.run)
	if err := nr.createService(ctx, nr.api, bg); err != nil {
		return err
	}
	var err error
	if nr.bg, err = nr.createIntegrations(ctx, nr.api, bg, firebreak.IntegrationPagerDuty, 8); err != nil {
		return err
	}
	nr.o.Logf("notify: receiver at %s; %d probe services with a webhook channel each (escalation policies: %v); "+
		"background service %s", nr.rv.url, len(nr.services), nr.escalate, bg)
	return nil
}

// escalation gives probe service i an escalation policy of two steps paging a channel of its own, unless the
// server has no escalation policies (then nr.escalate stays false).
func (nr *notifyRunner) escalation(ctx context.Context, slug string, i int) error {
	if i > 0 && !nr.escalate {
		return nil
	}
	ch, err := nr.api.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: slug + "-pager",
		URL: fmt.Sprintf("%s/page/%d", nr.rv.url, i), Secret: randomHex(16)})
	if err != nil {
		return fmt.Errorf("bench: creating the pager channel of %s: %w", slug, err)
	}
	step := firebreak.EscalationStep{Delay: firebreak.Duration(escalationDelay),
		Targets: []firebreak.EscalationTarget{{Type: firebreak.TargetChannel, ID: ch.ID}}}
	pol, err := nr.api.CreateEscalationPolicy(ctx, firebreak.EscalationPolicyInput{Name: slug,
		Steps: []firebreak.EscalationStep{step, step}})
	if firebreak.ErrorCode(err) == firebreak.ENotFound {
		nr.o.Logf("notify: the server has no escalation policies; escalations are not measured")
		return nil
	}
	if err != nil {
		return fmt.Errorf("bench: creating the escalation policy of %s: %w", slug, err)
	}
	if _, err := nr.api.UpdateService(ctx, slug, firebreak.ServicePatch{EscalationPolicy: &pol.ID}, 0); err != nil {
		return fmt.Errorf("bench: giving %s its escalation policy: %w", slug, err)
	}
	nr.escalate = true
	return nil
}

// phase runs the probes for Warmup (unmeasured) and Duration, with the background load when load is set, waits
// for the notifications still on their way, and reports declare → webhook, alert → webhook and (under load) the
// background intake.
func (nr *notifyRunner) phase(ctx context.Context, load bool) ([]Result, error) {
	name := "idle"
	if load {
		name = fmt.Sprintf("%d/s", nr.cfg.BackgroundRate)
	}
	var bgStats *backgroundStats
	stopBg := func() {}
	if load {
		bctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		bgStats = &backgroundStats{}
		go func() { defer close(done); nr.background(bctx, bgStats) }()
		stopBg = func() { cancel(); <-done }
	}
	defer func() { stopBg() }()
	if nr.o.Warmup > 0 {
		nr.o.Logf("notify, %s: warming up for %s", name, nr.o.Warmup)
		nr.probes(ctx, nr.o.Warmup)
		if bgStats != nil {
			bgStats.reset()
		}
	}
	nr.o.Logf("notify, %s: %.0f probes/s for %s", name, nr.cfg.ProbeRate, nr.o.Duration)
	cpu0 := sampleCPU()
	start := time.Now()
	ps := nr.probes(ctx, nr.o.Duration)
	elapsed := time.Since(start)
	cpu1 := sampleCPU()
	var bgRes Result
	if bgStats != nil {
		bgRes = bgStats.result(elapsed)
	}
	// Wait for the notifications still on their way (and, with escalations, for the last probes' second step and
	// exhaustion, 2 s after they opened), the background load going on meanwhile.
	settle := nr.cfg.Settle
	if nr.escalate {
		settle += 2 * escalationDelay
	}
	deadline := time.Now().Add(settle)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		missing := 0
		for _, p := range ps {
			if p.err != nil {
				continue
			}
			if _, ok := nr.rv.arrived(p.title); !ok {
				missing++
			}
			if _, ok := nr.rv.paged(p.title, 2); nr.escalate && !ok {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if nr.escalate {
		time.Sleep(escalationDelay + 500*time.Millisecond) // the last probes' exhaustion
	}
	stopBg()
	stopBg = func() {}
	var out []Result
	for _, kind := range []string{"declare", "alert"} {
		res := nr.summarize(ps, kind, elapsed)
		res.Name = fmt.Sprintf("%s: %s → webhook", name, kind)
		res.CPU, res.OtherCPU = cpuUse(cpu0, cpu1)
		out = append(out, res)
	}
	if nr.escalate {
		res, err := nr.escalationLateness(ctx, ps)
		if err != nil {
			return out, err
		}
		res.Name = fmt.Sprintf("%s: escalation lateness", name)
		res.CPU, res.OtherCPU = cpuUse(cpu0, cpu1)
		out = append(out, res)
	}
	if bgStats != nil {
		bgRes.Name = fmt.Sprintf("%s: background alerts", name)
		bgRes.Request = "POST /v2/enqueue (trigger; half critical joining an incident, half warning)"
		bgRes.CPU, bgRes.OtherCPU = cpuUse(cpu0, cpu1)
		out = append(out, bgRes)
	}
	return out, nil
}

// summarize turns the probes of a kind into a Result: latency from accepted to the first notification.
func (nr *notifyRunner) summarize(ps []*notifyProbe, kind string, elapsed time.Duration) Result {
	var res Result
	var lat, fromSend []time.Duration
	early := 0
	for _, p := range ps {
		if p.kind != kind {
			continue
		}
		res.Requests++
		if p.err != nil {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = p.err.Error()
			}
			continue
		}
		at, ok := nr.rv.arrived(p.title)
		if !ok {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = fmt.Sprintf("no notification for %q within %s", p.title, nr.cfg.Settle)
			}
			continue
		}
		d := at.Sub(p.accepted)
		if d < 0 {
			early++
			d = 0
		}
		lat = append(lat, d)
		fromSend = append(fromSend, at.Sub(p.sent))
	}
	slices.Sort(lat)
	slices.Sort(fromSend)
	res.Seconds = elapsed.Seconds()
	if elapsed > 0 {
		res.PerSecond = float64(len(lat)) / elapsed.Seconds()
	}
	res.P50, res.P90, res.P99 = ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99))
	if len(lat) > 0 {
		res.Max = ms(lat[len(lat)-1])
		res.Note = fmt.Sprintf("accepted → first notification received, %d probes; sent → received p50 %.2f ms, "+
			"p99 %.2f ms; %d arrived before the client had read the answer (counted as 0)", len(lat),
			ms(percentile(fromSend, 50)), ms(percentile(fromSend, 99)), early)
	}
	if kind == "declare" {
		res.Request = "POST /api/v1/incidents → webhook"
	} else {
		res.Request = "POST /v2/enqueue (opens an incident) → webhook"
	}
	return res
}

// escalationLateness reads the probes' timelines: how late, on the server's clock, step 2 fired after step 1 plus
// its delay, and the exhaustion after step 2 plus its delay (each is a step due); the note adds when step 2's page
// reached the receiver, against the moment the probe was sent plus the delay (an upper bound: the incident opened
// after that moment).
func (nr *notifyRunner) escalationLateness(ctx context.Context, ps []*notifyProbe) (Result, error) {
	res := Result{Request: "due escalation steps (step 2, exhaustion) of the probe incidents"}
	// The incidents of the alert probes, by dedup key.
	byKey := map[string]string{}
	for _, svc := range nr.services {
		for cursor := ""; ; {
			page, err := nr.api.ListAlerts(ctx, firebreak.AlertFilter{Service: svc, Limit: firebreak.MaxLimit,
				Cursor: cursor})
			if err != nil {
				return res, fmt.Errorf("bench: listing the alerts of %s: %w", svc, err)
			}
			for _, a := range page.Items {
				byKey[a.DedupKey] = a.IncidentID
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
	}
	var late, delivered []time.Duration
	for _, p := range ps {
		if p.err != nil {
			continue
		}
		id := p.incident
		if p.kind == "alert" {
			id = byKey[p.dedupKey]
		}
		res.Requests++
		fail := func(msg string) {
			res.Errors++
			if res.FirstError == "" {
				res.FirstError = msg
			}
		}
		if id == "" {
			fail(fmt.Sprintf("no incident for %q", p.title))
			continue
		}
		tl, err := nr.api.ListTimeline(ctx, id, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
		if err != nil {
			return res, fmt.Errorf("bench: reading the timeline of %s: %w", id, err)
		}
		var step1, step2, exhausted time.Time
		for _, ev := range tl.Items {
			switch {
			case ev.Kind == firebreak.EventEscalationPaged && ev.Data["step"] == "1":
				step1 = ev.OccurredAt
			case ev.Kind == firebreak.EventEscalationPaged && ev.Data["step"] == "2":
				step2 = ev.OccurredAt
			case ev.Kind == firebreak.EventEscalationExhausted:
				exhausted = ev.OccurredAt
			}
		}
		if step1.IsZero() || step2.IsZero() || exhausted.IsZero() {
			fail(fmt.Sprintf("incident %q: step 1 at %v, step 2 at %v, exhausted at %v", p.title, step1, step2,
				exhausted))
			continue
		}
		late = append(late, step2.Sub(step1.Add(escalationDelay)), exhausted.Sub(step2.Add(escalationDelay)))
		if at, ok := nr.rv.paged(p.title, 2); ok {
			delivered = append(delivered, at.Sub(p.sent.Add(escalationDelay)))
		}
	}
	slices.Sort(late)
	slices.Sort(delivered)
	res.P50, res.P90, res.P99 = ms(percentile(late, 50)), ms(percentile(late, 90)), ms(percentile(late, 99))
	if len(late) > 0 {
		res.Max = ms(late[len(late)-1])
		res.Note = fmt.Sprintf("%d due steps of %d incidents, fired after their due time (server clock); step 2's "+
			"page at the receiver, after sent + 1 s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d pages)", len(late),
			len(late)/2, ms(percentile(delivered, 50)), ms(percentile(delivered, 99)), ms(lastOf(delivered)),
			len(delivered))
	}
	return res, nil
}

func lastOf(sorted []time.Duration) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[len(sorted)-1]
}

// probes sends probes at ProbeRate for d, alternately declarations and alerts, each in its own goroutine, and
// returns them once all are answered.
func (nr *notifyRunner) probes(ctx context.Context, d time.Duration) []*notifyProbe {
	var (
		mu  sync.Mutex
		ps  []*notifyProbe
		wg  sync.WaitGroup
		gap = time.Duration(float64(time.Second) / nr.cfg.ProbeRate)
	)
	start := time.Now()
	for i := 0; ctx.Err() == nil; i++ {
		at := start.Add(time.Duration(i) * gap)
		if at.Sub(start) >= d {
			break
		}
		if w := time.Until(at); w > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(w):
			}
		}
		n := int(nr.seq.Add(1))
		svc := n % len(nr.services)
		p := &notifyProbe{kind: "declare", service: svc}
		if i%2 == 1 {
			p.kind = "alert"
		}
		p.title = fmt.Sprintf("Bench notify %s %s %d", p.kind, nr.run, n)
		mu.Lock()
		ps = append(ps, p)
		mu.Unlock()
		wg.Go(func() {
			p.sent = time.Now()
			if p.kind == "declare" { // detected (unacknowledged): escalation starts
				var inc *firebreak.Incident
				inc, p.err = nr.api.DeclareIncident(ctx, firebreak.DeclareInput{Title: p.title,
					Summary: "Created by firebreak bench.", Severity: firebreak.SEV2,
					Services: []string{nr.services[svc]}})
				if inc != nil {
					p.incident = inc.ID
				}
			} else {
				in := nr.pd[svc]
				ev := pdTrigger(in.key, nr.run+"-probe", n, string(firebreak.AlertCritical))
				p.dedupKey = ev.DedupKey
				ev.Payload.Summary = p.title
				ev.Payload.Group = fmt.Sprintf("probe-%d", n) // a group of its own: a new incident
				body, err := json.Marshal(ev)
				if err == nil {
					err = nr.post(ctx, in.url, body, http.StatusAccepted)
				}
				p.err = err
			}
			p.accepted = time.Now()
		})
	}
	wg.Wait()
	return ps
}

// backgroundStats counts the background requests of a phase.
type backgroundStats struct {
	mu     sync.Mutex
	lat    []time.Duration
	errors int
	first  string
	behind int // requests not sent on time because every worker was busy
}

func (b *backgroundStats) add(d time.Duration, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.errors++
		if b.first == "" {
			b.first = err.Error()
		}
		return
	}
	b.lat = append(b.lat, d)
}

func (b *backgroundStats) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lat, b.errors, b.first, b.behind = nil, 0, "", 0
}

func (b *backgroundStats) result(elapsed time.Duration) Result {
	b.mu.Lock()
	defer b.mu.Unlock()
	lat := slices.Clone(b.lat)
	slices.Sort(lat)
	res := Result{Requests: len(lat) + b.errors, Errors: b.errors, FirstError: b.first, Seconds: elapsed.Seconds(),
		Alerts: len(lat)}
	if elapsed > 0 {
		res.PerSecond = float64(len(lat)) / elapsed.Seconds()
		res.AlertsPerSecond = res.PerSecond
	}
	res.P50, res.P90, res.P99 = ms(percentile(lat, 50)), ms(percentile(lat, 90)), ms(percentile(lat, 99))
	if len(lat) > 0 {
		res.Max = ms(lat[len(lat)-1])
	}
	if b.behind > 0 {
		res.Note = fmt.Sprintf("%d requests could not be sent on schedule (all %d senders busy)", b.behind,
			backgroundSenders)
	}
	return res
}

// backgroundSenders bounds the background requests in flight.
const backgroundSenders = 256

// background sends BackgroundRate PagerDuty events per second until ctx ends, in ticks of 10 ms, open loop: the
// schedule does not wait for answers (up to backgroundSenders in flight; beyond that a tick's requests are
// counted as behind and dropped).
func (nr *notifyRunner) background(ctx context.Context, st *backgroundStats) {
	const tick = 10 * time.Millisecond
	var bodies [2]*pdBodies // critical, warning
	for i, sev := range []firebreak.AlertSeverity{firebreak.AlertCritical, firebreak.AlertWarning} {
		var err error
		if bodies[i], err = newPDBodies(string(sev)); err != nil {
			st.add(0, err)
			return
		}
	}
	jobs := make(chan int, backgroundSenders)
	var wg sync.WaitGroup
	for range backgroundSenders {
		wg.Go(func() {
			for n := range jobs {
				in := nr.bg[n%len(nr.bg)]
				body := bodies[n%2].body(in.key, nr.run+"-bg", n)
				t0 := time.Now()
				err := nr.post(ctx, in.url, body, http.StatusAccepted)
				if ctx.Err() != nil {
					return // cut off by the end of the phase: not counted
				}
				st.add(time.Since(t0), err)
			}
		})
	}
	defer func() { close(jobs); wg.Wait() }()
	start := time.Now()
	st.reset()
	sent := 0
	for ctx.Err() == nil {
		due := int(time.Since(start).Seconds() * float64(nr.cfg.BackgroundRate))
		for ; sent < due; sent++ {
			select {
			case jobs <- int(nr.seq.Add(1)):
			default:
				st.mu.Lock()
				st.behind++
				st.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(tick):
		}
	}
}
