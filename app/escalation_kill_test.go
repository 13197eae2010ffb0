package app_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// The child servers of TestEscalationSurvivesSIGKILL.
const (
	escChildDBURL = "FIREBREAK_ESC_KILL_CHILD_DATABASE_URL" // set: this process is a child server
	// Their leases, short so that a dead replica's claims are taken over within the test: an escalation step
	// claimed by the killed replica fires this much after its claim; a notification it was sending is sent again
	// this much after its claim (above the default 10 s attempt timeout, which bounds a live replica's attempt).
	escKillLease       = 4 * time.Second
	escKillOutboxLease = 15 * time.Second

	escKillHost   = "pager.invalid" // the receiver's host name in the contact methods (reached through the proxies)
	escKillSecret = "0123456789abcdef"
)

// TestEscalationSurvivesSIGKILL runs two server processes on one PostgreSQL database, pages a set of incidents
// through an escalation policy and SIGKILLs one replica mid-escalation, at a moment chosen so that it holds both
// kinds of claims: an escalation step it has claimed but not fired, and a page it is delivering (the receiver has
// the request and has not answered). Then:
//   - every step of every round pages exactly once: one notification (one idempotency key) per step, and one
//     escalation_paged timeline event; a page the killed replica was delivering is sent again by the survivor
//     after the lease with the same key (at-least-once delivery that the key makes idempotent);
//   - the survivor carries the escalation on: every step due after the kill pages through it.
//
// Each replica reaches the webhook receiver through its own forward proxy (HTTP_PROXY; the receiver acts as the
// proxy), so the receiver knows which replica delivered each page; each replica's database connections carry its
// name as application_name, so pg_stat_activity shows which one is waiting to fire a step. The test holds the
// incidents' row locks (as FireEscalation takes them) and answers no page until the kill, which keeps both kinds
// of claims open for as long as it takes to choose the replica to kill.
func TestEscalationSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns server processes")
	}
	if !slices.Contains(sqltest.Dialects(t), "postgres") {
		t.Skip("needs PostgreSQL (FIREBREAK_TEST_POSTGRES_URL): the replicas share one PostgreSQL database")
	}
	start := time.Now()
	ctx := context.Background()
	dbURL := sqltest.Options(t, "postgres").DatabaseURL
	rcv := newEscKillReceiver()
	reps := []*escReplica{{name: "fb-replica-a"}, {name: "fb-replica-b"}}
	for _, r := range reps {
		proxy := rcv.proxyFor(t, r.name)
		startEscReplica(t, r, withApplicationName(t, dbURL, r.name), proxy.URL)
	}
	t.Cleanup(rcv.release) // before the proxies close (cleanups run last-in first-out)

	api := client.New(reps[0].url, adminToken)
	for _, u := range []string{"bob", "ic"} {
		if _, err := api.CreateUser(ctx, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}); err != nil {
			t.Fatal(err)
		}
		if _, err := api.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: u + "-pager",
			URL: "http://" + escKillHost + "/" + u, Secret: escKillSecret, User: u}); err != nil {
			t.Fatal(err)
		}
	}
	const rounds, steps, incidents = 3, 2, 6 // incidents declared at first
	delay := firebreak.Duration(2 * time.Second)
	if _, err := api.CreateEscalationPolicy(ctx, firebreak.EscalationPolicyInput{Name: "fast", Repeat: rounds - 1,
		Steps: []firebreak.EscalationStep{
			{Delay: delay, Targets: []firebreak.EscalationTarget{{Type: "user", Ref: "bob"}}},
			{Delay: delay, Targets: []firebreak.EscalationTarget{{Type: "user", Ref: "ic"}}},
		}}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateService(ctx, firebreak.ServiceInput{Slug: "api", Name: "API"}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.UpdateService(ctx, "api", firebreak.ServicePatch{EscalationPolicy: new("fast")}, 0); err != nil {
		t.Fatal(err)
	}

	// The test's own connection holds the incidents' row locks from just after each declaration until the kill:
	// the first step pages inside the declaring transaction, and every later step waits for the lock.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lockTx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lockTx.Rollback() }()
	var refs []string
	early := map[string]bool{} // incidents whose second step fired before the lock (a very slow machine)
	declare := func(on *escReplica) {
		inc, err := client.New(on.url, adminToken).DeclareIncident(ctx, firebreak.DeclareInput{
			Title: fmt.Sprintf("Outage %d", len(refs)), Severity: firebreak.SEV1, Services: []string{"api"}})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, inc.Reference)
		var id string
		if err := lockTx.QueryRowContext(ctx, `SELECT id FROM incidents WHERE id = $1 FOR NO KEY UPDATE`,
			inc.ID).Scan(&id); err != nil {
			t.Fatal(err)
		}
		var round, step int
		if err := lockTx.QueryRowContext(ctx, `SELECT round_no, step_no FROM escalations WHERE incident_id = $1`,
			inc.ID).Scan(&round, &step); err != nil {
			t.Fatalf("%s: no running escalation: %v", inc.Reference, err)
		}
		if round != 0 || step != 1 {
			early[inc.Reference] = true
		}
	}
	for i := range incidents {
		// Declared on both replicas in turn, so that both outboxes pick up first pages (each is woken first by
		// its own commits).
		declare(reps[i%2])
	}
	if len(early) == len(refs) {
		t.Fatal("every incident's second step fired before the test could lock it")
	}

	// Choose the replica to kill: one waiting to fire a step it claimed and holding a page it is delivering.
	waiting := func() map[string]int {
		rows, err := db.QueryContext(ctx, `SELECT application_name, count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name IN ($1, $2) AND wait_event_type = 'Lock'
			AND query LIKE '%FROM incidents WHERE id%' GROUP BY application_name`, reps[0].name, reps[1].name)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var name string
			var n int
			if err := rows.Scan(&name, &n); err != nil {
				t.Fatal(err)
			}
			out[name] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	var victim, survivor *escReplica
	var firing map[string]int
	var holding map[string]int
	var sawFiring time.Time
	extra := 0
	deadline := time.Now().Add(60 * time.Second)
	for victim == nil {
		firing, holding = waiting(), rcv.perReplica()
		for _, r := range reps {
			if firing[r.name] > 0 && holding[r.name] > 0 {
				victim = r
				break
			}
		}
		if victim == nil && len(firing) > 0 {
			// The claims sit with different replicas. Once they have settled, declare another incident on a
			// replica waiting to fire (its own commit wakes its outbox first, so it likely takes the page); after
			// a few tries, kill that replica anyway (then only the escalation lease is exercised).
			if sawFiring.IsZero() {
				sawFiring = time.Now()
			} else if time.Since(sawFiring) > 500*time.Millisecond {
				var r *escReplica
				for _, rep := range reps {
					if firing[rep.name] > 0 {
						r = rep
						break
					}
				}
				if extra == 4 {
					victim = r
				} else {
					extra++
					declare(r)
					sawFiring = time.Now()
				}
			}
		}
		if victim == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no replica claimed a step in time (waiting to fire: %v; pages held: %v)", firing, holding)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for _, r := range reps {
		if r != victim {
			survivor = r
		}
	}
	killedAt := time.Now()
	victim.kill()
	if err := lockTx.Rollback(); err != nil {
		t.Fatal(err)
	}
	rcv.release()
	t.Logf("killed %s at %.1f s: it was waiting to fire %d claimed step(s) and delivering %d page(s); %s "+
		"was waiting to fire %d and delivering %d (%d incidents, %d declared to steer a page to the victim)",
		victim.name, killedAt.Sub(start).Seconds(), firing[victim.name], holding[victim.name], survivor.name,
		firing[survivor.name], holding[survivor.name], len(refs), extra)
	if holding[victim.name] == 0 {
		t.Logf("%s held no page at the kill: only the escalation lease was exercised", victim.name)
	}

	// Wait for the whole escalation: every step's page at the receiver, every page the victim was delivering
	// delivered again by the survivor, and every escalation exhausted with each page recorded as sent.
	api = client.New(survivor.url, adminToken)
	timelines := map[string][]firebreak.TimelineEvent{}
	done := func() (string, bool) {
		got := rcv.snapshot()
		first := map[string]escPage{} // step → first delivery
		resent := map[string]bool{}   // key → delivered by the survivor
		for _, p := range got {
			if _, ok := first[p.step]; !ok {
				first[p.step] = p
			}
			if p.replica == survivor.name {
				resent[p.key] = true
			}
		}
		for _, ref := range refs {
			for r := 1; r <= rounds; r++ {
				for s := 1; s <= steps; s++ {
					if k := escStep(ref, r, s); first[k].key == "" {
						return k + " has not paged", false
					}
				}
			}
		}
		for _, p := range got {
			if p.replica == victim.name && !resent[p.key] {
				return fmt.Sprintf("page %s (%s), in flight in the killed replica, was not sent again", p.key, p.step), false
			}
		}
		for _, ref := range refs {
			tl := listAllTimeline(t, api, ref)
			timelines[ref] = tl
			sent := map[string]bool{}
			exhausted := false
			for _, e := range tl {
				switch e.Kind {
				case sqlstore.EventNotificationSent:
					sent[e.Data["notification"]] = true
				case firebreak.EventEscalationExhausted:
					exhausted = true
				}
			}
			if !exhausted {
				return ref + ": the escalation is not exhausted yet", false
			}
			for _, p := range got {
				if strings.HasPrefix(p.step, ref+" ") && !sent[p.key] {
					return fmt.Sprintf("%s: page %s is not recorded as sent yet", ref, p.key), false
				}
			}
		}
		return "", true
	}
	deadline = time.Now().Add(2 * time.Minute)
	for {
		why, ok := done()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("paging did not finish after the kill: %s", why)
		}
		time.Sleep(250 * time.Millisecond)
	}
	finished := time.Now()

	got := rcv.snapshot()
	if bad := rcv.problems(); len(bad) > 0 {
		t.Errorf("receiver: %s", strings.Join(bad, "; "))
	}
	keysOf := map[string][]string{} // step → distinct keys
	byKey := map[string][]escPage{}
	for _, p := range got {
		if !slices.Contains(keysOf[p.step], p.key) {
			keysOf[p.step] = append(keysOf[p.step], p.key)
		}
		byKey[p.key] = append(byKey[p.key], p)
	}
	if want := len(refs) * rounds * steps; len(keysOf) != want || len(byKey) != want {
		t.Errorf("%d steps paged with %d notifications, want %d of each", len(keysOf), len(byKey), want)
	}
	for step, keys := range keysOf {
		if len(keys) != 1 {
			t.Errorf("%s paged with %d different notifications %v, want one", step, len(keys), keys)
		}
	}
	resent, afterKill := 0, 0
	for key, ps := range byKey {
		if len(ps) > 1 {
			resent++
			t.Logf("page %s (%s) delivered %d times, by %s", key, ps[0].step, len(ps), replicasOf(ps))
		}
	}
	for _, ref := range refs {
		for r := 1; r <= rounds; r++ {
			for s := 1; s <= steps; s++ {
				if (r == 1 && s == 1) || early[ref] {
					continue // paged when declared (or, on a very slow machine, before the lock)
				}
				// Every later step fired after the kill (it waited for the lock): through the survivor.
				ps := byKey[keysOf[escStep(ref, r, s)][0]]
				if ps[0].replica != survivor.name || ps[0].at.Before(killedAt) {
					t.Errorf("%s: first delivered by %s at %v, want the survivor after the kill",
						escStep(ref, r, s), ps[0].replica, ps[0].at.Sub(killedAt))
				}
				afterKill++
			}
		}
	}
	// The timeline: each step's escalation_paged event once, the exhaustion once, each page sent once.
	var minLate, maxLate time.Duration // when the first rounds' second steps fired, after the kill
	for _, ref := range refs {
		paged := map[string]int{}
		sent := map[string]int{}
		exhausted := 0
		for _, e := range timelines[ref] {
			switch e.Kind {
			case firebreak.EventEscalationPaged:
				paged[e.Data["round"]+"."+e.Data["step"]]++
				if e.Data["round"] == "1" && e.Data["step"] == "2" && !early[ref] {
					d := e.OccurredAt.Sub(killedAt)
					if minLate == 0 || d < minLate {
						minLate = d
					}
					maxLate = max(maxLate, d)
				}
			case firebreak.EventEscalationExhausted:
				exhausted++
			case sqlstore.EventNotificationSent:
				sent[e.Data["notification"]]++
			case sqlstore.EventNotificationDead:
				t.Errorf("%s: %s", ref, e.Message)
			}
		}
		if len(paged) != rounds*steps || exhausted != 1 {
			t.Errorf("%s: escalation_paged events %v, exhausted %d times", ref, paged, exhausted)
		}
		for k, n := range paged {
			if n != 1 {
				t.Errorf("%s: step %s recorded %d times", ref, k, n)
			}
		}
		for r := 1; r <= rounds; r++ {
			for s := 1; s <= steps; s++ {
				key := keysOf[escStep(ref, r, s)]
				if len(key) > 0 && sent[key[0]] != 1 {
					t.Errorf("%s: page %s recorded as sent %d times", escStep(ref, r, s), key[0], sent[key[0]])
				}
			}
		}
		for k := range sent {
			if len(byKey[k]) == 0 {
				t.Errorf("%s: notification %s recorded as sent but never received", ref, k)
			}
		}
	}
	t.Logf("%d pages (%d steps × %d rounds × %d incidents), each step once; %d delivered again after the kill "+
		"(same key), %d first delivered by the survivor after the kill; escalations finished %.1f s after the "+
		"kill, %.1f s in all", len(byKey), steps, rounds, len(refs), resent, afterKill,
		finished.Sub(killedAt).Seconds(), finished.Sub(start).Seconds())
	t.Logf("the first round's second steps fired %.1f–%.1f s after the kill (steps the killed replica had claimed "+
		"wait for its %v lease)", minLate.Seconds(), maxLate.Seconds(), escKillLease)
}

// TestEscalationKillChild is a server TestEscalationSurvivesSIGKILL starts and kills. It exits when its standard
// input closes (the parent went away).
func TestEscalationKillChild(t *testing.T) {
	dbURL := os.Getenv(escChildDBURL)
	if dbURL == "" {
		t.Skip("helper process of TestEscalationSurvivesSIGKILL")
	}
	a, err := app.Open(context.Background(), app.Config{Addr: "127.0.0.1:0", DatabaseURL: dbURL,
		AdminToken: adminToken, Escalation: &firebreak.EscalationCriteria{}, // the policy alone pages
		EscalationLease: escKillLease, Notifications: app.NotificationConfig{Lease: escKillOutboxLease}},
		slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	if err := a.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Printf("url %s\n", a.URL())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = a.Close()
	os.Exit(0)
}

type escReplica struct {
	name  string
	url   string
	cmd   *exec.Cmd
	stdin io.Closer
}

// startEscReplica starts r as a child server on dbURL whose outgoing HTTP goes through proxy.
func startEscReplica(t *testing.T, r *escReplica, dbURL, proxy string) {
	t.Helper()
	r.cmd = exec.Command(os.Args[0], "-test.run=^TestEscalationKillChild$", "-test.count=1")
	r.cmd.Env = append(os.Environ(), escChildDBURL+"="+dbURL, "HTTP_PROXY="+proxy, "http_proxy="+proxy,
		"NO_PROXY=", "no_proxy=")
	r.cmd.Stderr = os.Stderr
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.kill)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "url "); ok {
				urls <- u
				break
			}
		}
		close(urls)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatalf("%s did not start", r.name)
		}
		r.url = u
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not start within 2 minutes", r.name)
	}
}

// kill SIGKILLs the replica (once).
func (r *escReplica) kill() {
	if r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		_ = r.stdin.Close()
	}
}

// withApplicationName sets application_name on a PostgreSQL URL, so that pg_stat_activity names the replica.
func withApplicationName(t *testing.T, dbURL, name string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// escPage is one page request at the receiver.
type escPage struct {
	key     string // Idempotency-Key
	step    string // "INC-3 round 1 step 2"
	replica string // whose proxy it came through
	at      time.Time
}

func escStep(ref string, round, step int) string {
	return fmt.Sprintf("%s round %d step %d", ref, round, step)
}

// escKillReceiver is the webhook receiver, reached through one forward proxy per replica (it is the proxies). It
// records each request on arrival and answers none until release.
type escKillReceiver struct {
	mu       sync.Mutex
	pages    []escPage
	bad      []string
	hold     chan struct{}
	holdOnce sync.Once
}

func newEscKillReceiver() *escKillReceiver {
	return &escKillReceiver{hold: make(chan struct{})}
}

func (rc *escKillReceiver) release() { rc.holdOnce.Do(func() { close(rc.hold) }) }

// proxyFor is the forward proxy of one replica: requests arrive in absolute form (POST http://pager.invalid/bob).
func (rc *escKillReceiver) proxyFor(t *testing.T, replica string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the replica died mid-request
		}
		var p notify.WebhookPayload
		problem := ""
		switch err := json.Unmarshal(body, &p); {
		case r.URL.Host != escKillHost:
			problem = fmt.Sprintf("request for %q from %s, not through its proxy", r.URL.String(), replica)
		case err != nil:
			problem = fmt.Sprintf("bad body from %s: %v", replica, err)
		case notify.VerifyRequest([]byte(escKillSecret), r.Header, body, time.Now(), notify.DefaultTolerance) != nil:
			problem = fmt.Sprintf("bad signature from %s", replica)
		case p.ID == "" || r.Header.Get(notify.HeaderIdempotency) != p.ID:
			problem = fmt.Sprintf("idempotency key %q, body id %q", r.Header.Get(notify.HeaderIdempotency), p.ID)
		}
		m := pageStepRE.FindStringSubmatch(p.Text)
		if problem == "" && (p.Event != notify.KindPage || m == nil || p.Incident == nil) {
			problem = fmt.Sprintf("unexpected %s message: %q", p.Event, p.Text)
		}
		rc.mu.Lock()
		if problem != "" {
			rc.bad = append(rc.bad, problem)
		} else {
			rc.pages = append(rc.pages, escPage{key: p.ID, step: fmt.Sprintf("%s round %s step %s", p.Incident.Ref,
				m[2], m[1]), replica: replica, at: time.Now()})
		}
		rc.mu.Unlock()
		select {
		case <-rc.hold:
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done(): // the replica died holding the request
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (rc *escKillReceiver) snapshot() []escPage {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.pages)
}

func (rc *escKillReceiver) problems() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.bad)
}

// perReplica counts the pages received through each replica's proxy.
func (rc *escKillReceiver) perReplica() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for _, p := range rc.pages {
		out[p.replica]++
	}
	return out
}

func replicasOf(ps []escPage) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.replica
	}
	return strings.Join(names, ", ")
}

// listAllTimeline reads an incident's whole timeline, page by page.
func listAllTimeline(t *testing.T, c *client.Client, ref string) []firebreak.TimelineEvent {
	t.Helper()
	var out []firebreak.TimelineEvent
	for cursor := ""; ; {
		page, err := c.ListTimeline(context.Background(), ref, firebreak.TimelineFilter{Limit: firebreak.MaxLimit,
			Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			return out
		}
	}
}
