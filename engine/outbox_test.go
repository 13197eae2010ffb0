package engine_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/engine"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

var alice = firebreak.WithActor(context.Background(), firebreak.Actor{Username: "alice", Role: firebreak.RoleAdmin})

// receiver is a real local webhook receiver that counts accepted deliveries per Idempotency-Key.
type receiver struct {
	mu       sync.Mutex
	down     func() bool
	accepted map[string]int
	refused  int
	got      chan string // each accepted key, if set
	srv      *httptest.Server
}

func newReceiver(t testing.TB, down func() bool) *receiver {
	r := &receiver{down: down, accepted: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		key := req.Header.Get("Idempotency-Key")
		r.mu.Lock()
		if r.down != nil && r.down() {
			r.refused++
			r.mu.Unlock()
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		r.accepted[key]++
		ch := r.got
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
		if ch != nil {
			ch <- key
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// setup creates a webhook channel to url announced by service "api".
func setup(t testing.TB, s *sqlstore.Store, url string) *firebreak.Channel {
	t.Helper()
	ch, err := s.CreateChannel(alice, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: "ops-hook", URL: url,
		Secret: "0123456789abcdef0123"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateService(alice, firebreak.ServiceInput{Slug: "api", Name: "API"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetServiceChannels(alice, "api", []string{"ops-hook"}); err != nil {
		t.Fatal(err)
	}
	return ch
}

func openFake(t *testing.T, dialect string, clock *engine.FakeClock) *sqlstore.Store {
	o := sqltest.Options(t, dialect)
	o.Now = clock.Now
	s, err := sqlstore.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.SetNotificationSettings("https://firebreak.example", map[firebreak.Severity]time.Duration{})
	return s
}

// drive runs the engine on the fake clock: everything due, then the clock jumps to the next due time, until
// nothing is due. after runs after every round.
func drive(t *testing.T, e *engine.Engine, clock *engine.FakeClock, limit time.Time, after func()) {
	t.Helper()
	ctx := context.Background()
	for i := 0; ; i++ {
		e.RunDue(ctx)
		if after != nil {
			after()
		}
		next := e.NextDue(ctx)
		if next.IsZero() {
			return
		}
		if !next.After(clock.Now()) || next.After(limit) || i > 5000 {
			t.Fatalf("engine stuck: next due %v at %v after %d rounds", next, clock.Now(), i)
		}
		clock.Set(next)
	}
}

func TestOutageTenMinutes(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clock := engine.NewFakeClock(t0)
			s := openFake(t, d, clock)
			rcv := newReceiver(t, func() bool { return clock.Now().Before(t0.Add(10 * time.Minute)) })
			setup(t, s, rcv.srv.URL)
			var refs []string
			for i := range 6 {
				inc, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout failing", Severity: firebreak.SEV1,
					Services: []string{"api"}})
				if err != nil {
					t.Fatal(err)
				}
				refs = append(refs, inc.Reference)
				clock.Tick(time.Duration(i) * 10 * time.Second)
			}
			ob := &engine.Outbox{Store: s, Clock: clock, Rand: rand.New(rand.NewPCG(1, 2)),
				Notifier: notify.New(notify.Config{Now: clock.Now, AttemptTimeout: 5 * time.Second})}
			e := engine.New(engine.Options{Clock: clock}, ob.Queues()...)
			key := notify.Destination{Kind: notify.DestWebhook, URL: rcv.srv.URL}.Key()
			var states []notify.BreakerState
			drive(t, e, clock, t0.Add(3*time.Hour), func() {
				b, err := s.DestinationBreaker(alice, key)
				if err != nil {
					t.Fatal(err)
				}
				if len(states) == 0 || states[len(states)-1] != b.State {
					states = append(states, b.State)
				}
			})
			if len(rcv.accepted) != len(refs) {
				t.Fatalf("receiver accepted %d distinct messages, want %d", len(rcv.accepted), len(refs))
			}
			for k, n := range rcv.accepted {
				if n != 1 {
					t.Errorf("message %s accepted %d times", k, n)
				}
			}
			if rcv.refused == 0 {
				t.Fatal("the receiver was never down")
			}
			if !slices.Contains(states, notify.BreakerOpen) || states[len(states)-1] != notify.BreakerClosed {
				t.Errorf("breaker states %v: want it opened and closed again", states)
			}
			ns, err := s.ListNotifications(alice, firebreak.NotificationFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if n.Status != firebreak.NotificationDelivered {
					t.Errorf("notification %s is %s", n.ID, n.Status)
				}
			}
			tl, err := s.ListTimeline(alice, refs[0], firebreak.TimelineFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []firebreak.EventKind
			for _, ev := range tl.Items {
				kinds = append(kinds, ev.Kind)
			}
			if !slices.Contains(kinds, sqlstore.EventNotificationFailed) || !slices.Contains(kinds, sqlstore.EventNotificationSent) {
				t.Errorf("timeline kinds %v: want notification_failed and notification_sent", kinds)
			}
			t.Logf("delivered %d after the outage at +%v; %d refusals; breaker %v", len(refs), clock.Now().Sub(t0),
				rcv.refused, states)
		})
	}
}

func TestDeadLetterAfterDeadline(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clock := engine.NewFakeClock(t0)
			s := openFake(t, d, clock)
			rcv := newReceiver(t, func() bool { return true })
			setup(t, s, rcv.srv.URL)
			inc, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "DB down", Severity: firebreak.SEV2,
				Services: []string{"api"}})
			if err != nil {
				t.Fatal(err)
			}
			ob := &engine.Outbox{Store: s, Clock: clock, Rand: rand.New(rand.NewPCG(3, 4)),
				Notifier: notify.New(notify.Config{Now: clock.Now}),
				Policy: func(k notify.DestinationKind) notify.Policy {
					p := notify.DefaultPolicy(k)
					p.Deadline = time.Hour
					return p
				}}
			e := engine.New(engine.Options{Clock: clock}, ob.Queues()...)
			drive(t, e, clock, t0.Add(2*time.Hour), nil)
			dead, err := s.ListNotifications(alice, firebreak.NotificationFilter{Status: firebreak.NotificationDead})
			if err != nil {
				t.Fatal(err)
			}
			if len(dead) != 1 || dead[0].Incident != inc.Reference || dead[0].DeadAt == nil || dead[0].LastError == "" {
				t.Fatalf("dead letters %+v", dead)
			}
			tl, err := s.ListTimeline(alice, inc.Reference, firebreak.TimelineFilter{})
			if err != nil {
				t.Fatal(err)
			}
			failed, gaveUp := 0, 0
			for _, ev := range tl.Items {
				switch ev.Kind {
				case sqlstore.EventNotificationFailed:
					failed++
				case sqlstore.EventNotificationDead:
					gaveUp++
				}
			}
			if failed != 1 || gaveUp != 1 {
				t.Errorf("timeline has %d notification_failed and %d notification_dead; want 1 and 1", failed, gaveUp)
			}
			// The operator requeues it; the receiver is back; it is delivered with the same key.
			rcv.mu.Lock()
			rcv.down = func() bool { return false }
			rcv.mu.Unlock()
			if _, err := s.RetryNotification(alice, dead[0].ID); err != nil {
				t.Fatal(err)
			}
			drive(t, e, clock, clock.Now().Add(time.Hour), nil)
			if rcv.accepted[dead[0].ID] != 1 {
				t.Errorf("requeued message accepted %d times", rcv.accepted[dead[0].ID])
			}
		})
	}
}

func TestRemindersSEV1(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := engine.NewFakeClock(t0)
	s := openFake(t, "sqlite", clock)
	s.SetNotificationSettings("", nil) // defaults: SEV1 every 30 min
	rcv := newReceiver(t, nil)
	setup(t, s, rcv.srv.URL)
	inc, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Payments down", Severity: firebreak.SEV1,
		Services: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	ob := &engine.Outbox{Store: s, Clock: clock, Notifier: notify.New(notify.Config{Now: clock.Now})}
	e := engine.New(engine.Options{Clock: clock}, ob.Queues()...)
	ctx := context.Background()
	e.RunDue(ctx) // the declaration
	clock.Tick(29 * time.Minute)
	e.RunDue(ctx)
	clock.Tick(time.Minute)
	e.RunDue(ctx) // +30 min: the first reminder
	clock.Tick(15 * time.Minute)
	if _, err := s.PostUpdate(alice, inc.Reference, firebreak.UpdateInput{Message: "Rolling back"}); err != nil {
		t.Fatal(err)
	}
	clock.Tick(15 * time.Minute)
	e.RunDue(ctx) // +60 min: none, the update at +45 moved it to +75
	clock.Tick(15 * time.Minute)
	e.RunDue(ctx) // +75 min: the second reminder
	if _, err := s.ChangeStatus(alice, inc.Reference, firebreak.StatusResolved, "fixed", 0); err != nil {
		t.Fatal(err)
	}
	e.RunDue(ctx)
	clock.Tick(time.Hour)
	e.RunDue(ctx)
	tl, err := s.ListTimeline(alice, inc.Reference, firebreak.TimelineFilter{})
	if err != nil {
		t.Fatal(err)
	}
	reminders := 0
	for _, ev := range tl.Items {
		if ev.Kind == sqlstore.EventUpdateReminder {
			reminders++
		}
	}
	// declared, reminders at +30 and +75 min, resolved; none after resolution.
	if reminders != 2 || len(rcv.accepted) != 4 {
		t.Errorf("reminders on timeline %d (want 2); messages delivered %d (want 4)", reminders, len(rcv.accepted))
	}
}

// TestTwoEnginesOnePostgres runs two replicas' engines on one PostgreSQL database: every message is delivered
// exactly once (claims never overlap).
func TestTwoEnginesOnePostgres(t *testing.T) {
	if !slices.Contains(sqltest.Dialects(t), "postgres") {
		t.Skip("PostgreSQL not configured")
	}
	o := sqltest.Options(t, "postgres")
	var stores []*sqlstore.Store
	for range 2 {
		s, err := sqlstore.Open(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		s.SetNotificationSettings("", map[firebreak.Severity]time.Duration{})
		stores = append(stores, s)
	}
	const n = 60
	rcv := newReceiver(t, nil)
	rcv.got = make(chan string, 4*n)
	setup(t, stores[0], rcv.srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range stores {
		wake, stop := s.Subscribe(sqlstore.JobsTopic)
		defer stop()
		ob := &engine.Outbox{Store: s, Notifier: notify.New(notify.Config{}),
			Policy: func(k notify.DestinationKind) notify.Policy {
				p := notify.DefaultPolicy(k)
				p.Rate = notify.RateLimit{} // unlimited: the test is about overlap, not pacing
				return p
			}}
		e := engine.New(engine.Options{Wake: wake, Concurrency: 8, Batch: 4}, ob.Queues()...)
		wg.Add(1)
		go func() { defer wg.Done(); e.Run(ctx) }()
	}
	for i := range n {
		if _, err := stores[i%2].DeclareIncident(alice, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3,
			Services: []string{"api"}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	timeout := time.After(60 * time.Second)
	for len(seen) < n {
		select {
		case k := <-rcv.got:
			seen[k] = true
		case <-timeout:
			t.Fatalf("only %d of %d messages arrived", len(seen), n)
		}
	}
	cancel()
	wg.Wait()
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for k, c := range rcv.accepted {
		if c != 1 {
			t.Errorf("message %s delivered %d times", k, c)
		}
	}
	ns, err := stores[1].ListNotifications(alice, firebreak.NotificationFilter{Status: firebreak.NotificationDelivered, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != n {
		t.Errorf("%d notifications delivered, want %d", len(ns), n)
	}
}

// BenchmarkDeclareToWebhook measures the time from an accepted declare (DeclareIncident returned: committed) to
// the first notification arriving at a local webhook receiver, on SQLite, idle.
func BenchmarkDeclareToWebhook(b *testing.B) {
	s := sqltest.Open(b, "sqlite")
	s.SetNotificationSettings("", map[firebreak.Severity]time.Duration{})
	rcv := newReceiver(b, nil)
	rcv.got = make(chan string, 1)
	setup(b, s, rcv.srv.URL)
	wake, stop := s.Subscribe(sqlstore.JobsTopic)
	defer stop()
	ob := &engine.Outbox{Store: s, Notifier: notify.New(notify.Config{}),
		Policy: func(k notify.DestinationKind) notify.Policy {
			p := notify.DefaultPolicy(k)
			p.Rate = notify.RateLimit{}
			return p
		}}
	e := engine.New(engine.Options{Wake: wake}, ob.Queues()...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		if _, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3,
			Services: []string{"api"}}); err != nil {
			b.Fatal(err)
		}
		accepted := time.Now()
		<-rcv.got
		lat = append(lat, time.Since(accepted))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	}
}

// TestLeaseRetaken: a replica that claimed a notification and died leaves it due again when the lease ends;
// another engine delivers it, and the dead replica's late outcome is refused (the claim was lost).
func TestLeaseRetaken(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			clock := engine.NewFakeClock(t0)
			s := openFake(t, d, clock)
			rcv := newReceiver(t, nil)
			setup(t, s, rcv.srv.URL)
			if _, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3,
				Services: []string{"api"}}); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			dead, err := s.ClaimNotifications(ctx, clock.Now(), time.Minute, 10) // the replica that dies
			if err != nil || len(dead) != 1 {
				t.Fatalf("claim: %v %v", dead, err)
			}
			if again, _ := s.ClaimNotifications(ctx, clock.Now(), time.Minute, 10); len(again) != 0 {
				t.Fatal("a leased notification was claimed twice")
			}
			ob := &engine.Outbox{Store: s, Clock: clock, Notifier: notify.New(notify.Config{Now: clock.Now})}
			e := engine.New(engine.Options{Clock: clock}, ob.Queues()...)
			if n := e.RunDue(ctx); n != 0 {
				t.Fatalf("ran %d before the lease ended", n)
			}
			clock.Tick(time.Minute)
			if n := e.RunDue(ctx); n != 1 {
				t.Fatalf("ran %d after the lease ended, want 1", n)
			}
			ok, err := s.CompleteNotification(ctx, dead[0], sqlstore.Delivery{Attempt: notify.Attempt{OK: true},
				Decision: notify.Decision{Outcome: notify.OutcomeDelivered}, Now: clock.Now()})
			if err != nil || ok {
				t.Fatalf("the lost claim's outcome was recorded: %v %v", ok, err)
			}
			if len(rcv.accepted) != 1 {
				t.Fatalf("accepted %v", rcv.accepted)
			}
		})
	}
}

// TestRateLimitDefers: past the burst, messages to one destination wait for tokens instead of failing.
func TestRateLimitDefers(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := engine.NewFakeClock(t0)
	s := openFake(t, "sqlite", clock)
	rcv := newReceiver(t, nil)
	setup(t, s, rcv.srv.URL)
	for range 5 {
		if _, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3,
			Services: []string{"api"}}); err != nil {
			t.Fatal(err)
		}
	}
	ob := &engine.Outbox{Store: s, Clock: clock, Notifier: notify.New(notify.Config{Now: clock.Now}),
		Policy: func(k notify.DestinationKind) notify.Policy {
			p := notify.DefaultPolicy(k)
			p.Rate = notify.RateLimit{Every: time.Second, Burst: 2}
			return p
		}}
	e := engine.New(engine.Options{Clock: clock}, ob.Queues()...)
	e.RunDue(context.Background())
	if len(rcv.accepted) != 2 {
		t.Fatalf("burst: %d sent, want 2", len(rcv.accepted))
	}
	drive(t, e, clock, t0.Add(time.Minute), nil)
	if len(rcv.accepted) != 5 || clock.Now().Sub(t0) < 3*time.Second {
		t.Fatalf("%d sent by +%v", len(rcv.accepted), clock.Now().Sub(t0))
	}
	ns, _ := s.ListNotifications(alice, firebreak.NotificationFilter{})
	for _, n := range ns {
		if n.Attempts != 1 {
			t.Errorf("notification %s took %d attempts; waiting for the limiter is not an attempt", n.ID, n.Attempts)
		}
	}
}
