package notify

import (
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestBackoffCaps(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 10 * time.Second}
	want := []time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
		10 * time.Second, 10 * time.Second}
	for n, w := range want { // n = 0 counts as 1
		if got := b.Cap(n); got != w {
			t.Errorf("Cap(%d) = %v, want %v", n, got, w)
		}
	}
	if got := b.Cap(1 << 30); got != 10*time.Second {
		t.Errorf("huge n: %v", got)
	}
	if got := (Backoff{}).Cap(1); got != DefaultBackoff.Base {
		t.Errorf("zero Backoff uses defaults: %v", got)
	}
}

func TestBackoffFullJitterSpreads(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Minute}
	r := rand.New(rand.NewPCG(7, 7))
	c := b.Cap(4) // 8 s
	low, high := 0, 0
	for range 1000 {
		d := b.Delay(4, r)
		if d < 0 || d >= c {
			t.Fatalf("delay %v outside [0, %v)", d, c)
		}
		if d < c/4 {
			low++
		}
		if d >= 3*c/4 {
			high++
		}
	}
	// Full jitter: the whole range is used, not just the top (equal jitter) or a point (no jitter).
	if low < 150 || high < 150 {
		t.Errorf("not spread over [0, cap): %d low, %d high of 1000", low, high)
	}
}

func TestBackoffProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := Backoff{
			Base: time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(time.Hour)).Draw(t, "base")),
			Max:  time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(48*time.Hour)).Draw(t, "max")),
		}
		n := rapid.IntRange(-3, 5000).Draw(t, "n")
		r := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 1))
		c := b.Cap(n)
		if c <= 0 || c > b.Max {
			t.Fatalf("Cap(%d) = %v outside (0, %v]", n, c, b.Max)
		}
		if next := b.Cap(n + 1); next < c {
			t.Fatalf("Cap not monotonic: Cap(%d)=%v > Cap(%d)=%v", n, c, n+1, next)
		}
		if d := b.Delay(n, r); d < 0 || d >= c {
			t.Fatalf("Delay(%d) = %v outside [0, %v)", n, d, c)
		}
	})
}

func TestBreakerLifecycle(t *testing.T) {
	p := BreakerPolicy{Failures: 3, CoolDown: time.Minute, TrialTimeout: 5 * time.Minute}
	b := NewBreaker(p, BreakerSnapshot{})
	now := t0
	for i := range 2 {
		b.Failure(now)
		if ok, _ := b.Allow(now); !ok || b.State(now) != BreakerClosed {
			t.Fatalf("opened after %d failures", i+1)
		}
	}
	b.Success(now) // a success resets the count: failures must be consecutive
	for range 2 {
		b.Failure(now)
	}
	if b.State(now) != BreakerClosed {
		t.Fatal("non-consecutive failures opened it")
	}
	b.Failure(now)
	if b.State(now) != BreakerOpen {
		t.Fatalf("state %v after 3 consecutive failures", b.State(now))
	}
	if ok, at := b.Allow(now.Add(59 * time.Second)); ok || !at.Equal(now.Add(time.Minute)) {
		t.Fatalf("open breaker allowed: %v %v", ok, at)
	}

	// Cool-down over: exactly one trial.
	trial := now.Add(time.Minute)
	if b.State(trial) != BreakerHalfOpen {
		t.Errorf("state %v after cool-down", b.State(trial))
	}
	if ok, _ := b.Allow(trial); !ok {
		t.Fatal("no trial after cool-down")
	}
	if ok, _ := b.Allow(trial.Add(time.Second)); ok {
		t.Fatal("second concurrent trial allowed")
	}
	// The trial fails: open again for a full cool-down.
	b.Failure(trial.Add(2 * time.Second))
	if ok, at := b.Allow(trial.Add(30 * time.Second)); ok || !at.Equal(trial.Add(62*time.Second)) {
		t.Fatalf("after failed trial: %v %v", ok, at)
	}
	// The next trial succeeds: closed.
	next := trial.Add(62 * time.Second)
	if ok, _ := b.Allow(next); !ok {
		t.Fatal("no second trial")
	}
	b.Record(next, Attempt{OK: true})
	if b.State(next) != BreakerClosed || b.Snapshot().Failures != 0 {
		t.Fatalf("after successful trial: %+v", b.Snapshot())
	}
}

func TestBreakerLostTrialIsReleased(t *testing.T) {
	p := BreakerPolicy{Failures: 1, CoolDown: time.Minute, TrialTimeout: 2 * time.Minute}
	b := NewBreaker(p, BreakerSnapshot{})
	b.Failure(t0)
	if ok, _ := b.Allow(t0.Add(time.Minute)); !ok {
		t.Fatal("no trial")
	}
	// The trial's process died and never reported.
	if ok, at := b.Allow(t0.Add(2 * time.Minute)); ok || !at.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("%v %v", ok, at)
	}
	if ok, _ := b.Allow(t0.Add(3 * time.Minute)); !ok {
		t.Fatal("lost trial never released")
	}
}

func TestBreakerRecordIgnoresPermanentFailures(t *testing.T) {
	b := NewBreaker(BreakerPolicy{Failures: 2}, BreakerSnapshot{})
	for range 5 {
		b.Record(t0, Attempt{Retryable: false, StatusCode: 400})
	}
	if b.State(t0) != BreakerClosed {
		t.Error("permanent failures (the receiver answered) opened the breaker")
	}
	b.Record(t0, Attempt{Retryable: true, StatusCode: 503})
	b.Record(t0, Attempt{Retryable: true})
	if b.State(t0) != BreakerOpen {
		t.Error("retryable failures did not open it")
	}
}

func TestBreakerSnapshotRoundTrip(t *testing.T) {
	p := BreakerPolicy{Failures: 2, CoolDown: time.Minute}
	b := NewBreaker(p, BreakerSnapshot{})
	b.Failure(t0)
	b.Failure(t0.Add(time.Second))
	raw, err := json.Marshal(b.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var s BreakerSnapshot
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	restored := NewBreaker(p, s) // e.g. another replica, or after a restart
	if restored.State(t0.Add(30*time.Second)) != BreakerOpen {
		t.Fatalf("restored %s as %v", raw, restored.State(t0))
	}
	if ok, at := restored.Allow(t0.Add(30 * time.Second)); ok || !at.Equal(t0.Add(61*time.Second)) {
		t.Fatalf("restored allow %v %v", ok, at)
	}
	if ok, _ := restored.Allow(t0.Add(61 * time.Second)); !ok {
		t.Fatal("restored breaker gives no trial")
	}
	if s := restored.Snapshot(); s.State != BreakerHalfOpen || !s.TrialAt.Equal(t0.Add(61*time.Second)) {
		t.Fatalf("snapshot %+v", s)
	}
}

func TestLimiterTokenBucket(t *testing.T) {
	l := NewLimiter(RateLimit{Every: time.Second, Burst: 2})
	for i := range 2 {
		if ok, _ := l.Allow("a", t0); !ok {
			t.Fatalf("burst token %d refused", i)
		}
	}
	if ok, wait := l.Allow("a", t0); ok || wait != time.Second {
		t.Fatalf("over burst: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("b", t0); !ok {
		t.Fatal("destinations share a bucket")
	}
	if ok, wait := l.Allow("a", t0.Add(400*time.Millisecond)); ok || wait != 600*time.Millisecond {
		t.Fatalf("partial refill: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("a", t0.Add(time.Second)); !ok {
		t.Fatal("refilled token refused")
	}
	// A long idle period refills only up to the burst.
	later := t0.Add(time.Hour)
	for range 2 {
		if ok, _ := l.Allow("a", later); !ok {
			t.Fatal("refill")
		}
	}
	if ok, _ := l.Allow("a", later); ok {
		t.Fatal("bucket grew past its burst")
	}
	l.Forget(later)
	if ok, _ := l.Allow("b", later); !ok {
		t.Fatal("forgotten bucket not fresh")
	}
	if ok, _ := NewLimiter(RateLimit{}).Allow("x", t0); !ok {
		t.Fatal("unlimited limiter refused")
	}
}

func TestDecide(t *testing.T) {
	p := DefaultPolicy(DestWebhook)
	r := rand.New(rand.NewPCG(9, 9))
	if d := p.Decide(Attempt{OK: true}, t0, 0, t0, r); d.Outcome != OutcomeDelivered {
		t.Errorf("success: %+v", d)
	}
	if d := p.Decide(Attempt{StatusCode: 404, Error: "HTTP 404"}, t0, 1, t0, r); d.Outcome != OutcomeDeadLetter {
		t.Errorf("permanent: %+v", d)
	}
	now := t0.Add(time.Hour)
	d := p.Decide(Attempt{Retryable: true}, t0, 3, now, r)
	if d.Outcome != OutcomeRetry || d.NextAt.Before(now) || !d.NextAt.Before(now.Add(p.Backoff.Cap(3))) {
		t.Errorf("retry: %+v", d)
	}
	d = p.Decide(Attempt{Retryable: true, RetryAfter: 20 * time.Minute}, t0, 1, now, r)
	if d.Outcome != OutcomeRetry || !d.NextAt.Equal(now.Add(20*time.Minute)) {
		t.Errorf("Retry-After not honoured: %+v", d)
	}
	late := t0.Add(24*time.Hour - time.Second)
	d = p.Decide(Attempt{Retryable: true, RetryAfter: time.Minute, Error: "HTTP 503"}, t0, 40, late, r)
	if d.Outcome != OutcomeDeadLetter || d.Reason == "" {
		t.Errorf("past deadline: %+v", d)
	}
	for _, k := range DestinationKinds {
		if p := DefaultPolicy(k); p.Deadline != 24*time.Hour || p.Rate.Every <= 0 || p.Rate.Burst < 1 {
			t.Errorf("%s defaults %+v", k, p)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"":               0,
		"0":              0,
		"-5":             0,
		"30":             30 * time.Second,
		"99999999999999": MaxRetryAfter,
		"soon":           0,
		t0.Add(-time.Minute).Format("Mon, 02 Jan 2006 15:04:05 GMT"):     0,
		t0.Add(90 * time.Second).Format("Mon, 02 Jan 2006 15:04:05 GMT"): 90 * time.Second,
	} {
		if got := ParseRetryAfter(in, t0); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBreakerHalfOpenLetsExactlyOneTrialThrough(t *testing.T) {
	b := NewBreaker(BreakerPolicy{Failures: 1, CoolDown: time.Minute}, BreakerSnapshot{})
	b.Failure(t0)
	now := t0.Add(time.Minute)
	results := make(chan bool, 64)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			ok, _ := b.Allow(now)
			results <- ok
		})
	}
	wg.Wait()
	close(results)
	trials := 0
	for ok := range results {
		if ok {
			trials++
		}
	}
	if trials != 1 {
		t.Fatalf("%d trials let through", trials)
	}
}
