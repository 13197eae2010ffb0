package notify

import (
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff is exponential backoff with full jitter: before retry n (n = failed attempts so far, from 1) wait a
// uniformly random time in [0, min(Max, Base·2^(n-1))). Full jitter spreads the retries of many messages to one
// recovering destination instead of having them arrive together.
type Backoff struct {
	Base time.Duration // the cap of the first retry
	Max  time.Duration // the largest cap
}

// DefaultBackoff: caps of 2 s, 4 s, 8 s, … up to 10 min (reached after 10 failures).
var DefaultBackoff = Backoff{Base: 2 * time.Second, Max: 10 * time.Minute}

// Cap is the upper bound of the wait before retry n: min(Max, Base·2^(n-1)), never overflowing. n < 1 counts as 1.
func (b Backoff) Cap(n int) time.Duration {
	base, limit := b.Base, b.Max
	if base <= 0 {
		base = DefaultBackoff.Base
	}
	if limit <= 0 {
		limit = DefaultBackoff.Max
	}
	if base >= limit {
		return limit
	}
	c := base
	for i := 1; i < n; i++ {
		if c >= limit/2 {
			return limit
		}
		c *= 2
	}
	return c
}

// Delay is the full-jitter wait before retry n: a value in [0, Cap(n)). r is the random source (nil: the
// package's, seeded randomly); tests pass a seeded one.
func (b Backoff) Delay(n int, r *rand.Rand) time.Duration {
	c := b.Cap(n)
	if c <= 0 {
		return 0
	}
	if r == nil {
		return time.Duration(rand.Int64N(int64(c)))
	}
	return time.Duration(r.Int64N(int64(c)))
}

// BreakerState is a circuit breaker's state.
type BreakerState string

const (
	BreakerClosed   BreakerState = "closed"    // deliveries flow
	BreakerOpen     BreakerState = "open"      // deliveries wait for the cool-down
	BreakerHalfOpen BreakerState = "half_open" // one trial delivery decides
)

// BreakerPolicy configures a Breaker.
type BreakerPolicy struct {
	Failures int           // consecutive retryable failures that open the breaker (default 5)
	CoolDown time.Duration // how long it stays open before a trial (default 1 min)
	// TrialTimeout releases a half-open breaker whose trial never reported (its process died), allowing
	// another trial (default 2 min).
	TrialTimeout time.Duration
}

// DefaultBreakerPolicy opens after 5 consecutive failures and tries again after a minute.
var DefaultBreakerPolicy = BreakerPolicy{Failures: 5, CoolDown: time.Minute, TrialTimeout: 2 * time.Minute}

func (p BreakerPolicy) filled() BreakerPolicy {
	if p.Failures <= 0 {
		p.Failures = DefaultBreakerPolicy.Failures
	}
	if p.CoolDown <= 0 {
		p.CoolDown = DefaultBreakerPolicy.CoolDown
	}
	if p.TrialTimeout <= 0 {
		p.TrialTimeout = DefaultBreakerPolicy.TrialTimeout
	}
	return p
}

// BreakerSnapshot is a breaker's whole state, small enough for a database row (JSON or columns).
type BreakerSnapshot struct {
	State    BreakerState `json:"state"`
	Failures int          `json:"failures"`           // consecutive retryable failures while closed
	OpenedAt time.Time    `json:"opened_at,omitzero"` // when it last opened
	TrialAt  time.Time    `json:"trial_at,omitzero"`  // when the half-open trial was let through
}

// Breaker is a circuit breaker for one destination: closed → open after Failures consecutive retryable failures
// → half-open after CoolDown, letting one trial through → closed on its success, open again on its failure.
// It holds no timers; every method takes the time. Safe for concurrent use.
type Breaker struct {
	mu     sync.Mutex
	policy BreakerPolicy
	s      BreakerSnapshot
}

// NewBreaker restores a breaker from a snapshot (the zero snapshot is a closed breaker).
func NewBreaker(p BreakerPolicy, s BreakerSnapshot) *Breaker {
	if s.State == "" {
		s.State = BreakerClosed
	}
	return &Breaker{policy: p.filled(), s: s}
}

// Snapshot exports the state for persisting.
func (b *Breaker) Snapshot() BreakerSnapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s
}

// State reports the state as of now (an open breaker past its cool-down reads as half-open).
func (b *Breaker) State(now time.Time) BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.s.State == BreakerOpen && !now.Before(b.s.OpenedAt.Add(b.policy.CoolDown)) {
		return BreakerHalfOpen
	}
	return b.s.State
}

// Allow asks whether a delivery may be attempted now. When not, retryAt says when to ask again. In half-open
// state exactly one caller gets true (the trial) until it reports through Success or Failure, or until
// TrialTimeout passes.
func (b *Breaker) Allow(now time.Time) (ok bool, retryAt time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.s.State {
	case BreakerOpen:
		until := b.s.OpenedAt.Add(b.policy.CoolDown)
		if now.Before(until) {
			return false, until
		}
		b.s.State, b.s.TrialAt = BreakerHalfOpen, now
		return true, time.Time{}
	case BreakerHalfOpen:
		until := b.s.TrialAt.Add(b.policy.TrialTimeout)
		if now.Before(until) {
			return false, until
		}
		b.s.TrialAt = now // the earlier trial never reported
		return true, time.Time{}
	default:
		return true, time.Time{}
	}
}

// Success records a delivery the destination accepted (or refused permanently: it is up, the message is bad).
func (b *Breaker) Success(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.s = BreakerSnapshot{State: BreakerClosed}
}

// Failure records a retryable failure (5xx, 429, timeout, refused or reset connection).
func (b *Breaker) Failure(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.s.State {
	case BreakerHalfOpen, BreakerOpen:
		b.s = BreakerSnapshot{State: BreakerOpen, Failures: b.policy.Failures, OpenedAt: now}
	default:
		b.s.Failures++
		if b.s.Failures >= b.policy.Failures {
			b.s = BreakerSnapshot{State: BreakerOpen, Failures: b.s.Failures, OpenedAt: now}
		}
	}
}

// Record feeds an attempt's outcome to the breaker: retryable failures count against the destination;
// successes and permanent failures (the destination answered) close it.
func (b *Breaker) Record(now time.Time, a Attempt) {
	if !a.OK && a.Retryable {
		b.Failure(now)
	} else {
		b.Success(now)
	}
}

// RateLimit is a token bucket: Burst deliveries at once, refilled at one token per Every.
type RateLimit struct {
	Every time.Duration // time to earn one token
	Burst int           // bucket size
}

// Limiter holds one token bucket per destination key. In memory only: after a restart buckets start full, which
// costs at most one burst. Safe for concurrent use.
type Limiter struct {
	mu      sync.Mutex
	limit   RateLimit
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter makes a limiter; Every ≤ 0 means unlimited, Burst < 1 means 1.
func NewLimiter(l RateLimit) *Limiter {
	if l.Burst < 1 {
		l.Burst = 1
	}
	return &Limiter{limit: l, buckets: map[string]*bucket{}}
}

// Allow takes a token for key if one is available now; otherwise it takes nothing and says how long until one
// will be.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, wait time.Duration) {
	if l.limit.Every <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	burst := float64(l.limit.Burst)
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		l.buckets[key] = b
	}
	if now.After(b.last) {
		b.tokens = min(burst, b.tokens+float64(now.Sub(b.last))/float64(l.limit.Every))
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	need := (1 - b.tokens) * float64(l.limit.Every)
	return false, time.Duration(need + 0.5)
}

// Forget drops idle buckets last touched before cutoff (full buckets are equivalent to absent ones once a full
// Burst·Every has passed).
func (l *Limiter) Forget(before time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, b := range l.buckets {
		if b.last.Before(before) {
			delete(l.buckets, k)
		}
	}
}

// Policy is how one destination kind is retried.
type Policy struct {
	Backoff  Backoff
	Breaker  BreakerPolicy
	Rate     RateLimit
	Deadline time.Duration // after this long since the message was created, stop and dead-letter it
}

// DefaultPolicy returns the defaults for a kind (docs/NOTIFICATIONS.md lists them):
//   - every kind: backoff 2 s doubling to 10 min, breaker opens after 5 consecutive failures for 1 min;
//   - slack, mattermost, teams: 1 message/s with bursts of 5 (Slack allows about one per second per webhook),
//     dead-letter after 24 h;
//   - webhook: 10/s, bursts of 20, dead-letter after 24 h;
//   - email: 2/s, bursts of 10, dead-letter after 24 h (the relay queues beyond that itself).
func DefaultPolicy(k DestinationKind) Policy {
	p := Policy{Backoff: DefaultBackoff, Breaker: DefaultBreakerPolicy, Deadline: 24 * time.Hour}
	switch k {
	case DestWebhook:
		p.Rate = RateLimit{Every: 100 * time.Millisecond, Burst: 20}
	case DestEmail:
		p.Rate = RateLimit{Every: 500 * time.Millisecond, Burst: 10}
	default:
		p.Rate = RateLimit{Every: time.Second, Burst: 5}
	}
	return p
}

// Outcome is what to do with a message after an attempt.
type Outcome string

const (
	OutcomeDelivered  Outcome = "delivered"
	OutcomeRetry      Outcome = "retry"
	OutcomeDeadLetter Outcome = "dead_letter"
)

// Decision is the outbox's next step for a message.
type Decision struct {
	Outcome Outcome
	NextAt  time.Time // for OutcomeRetry: when to attempt again
	Reason  string    // for OutcomeDeadLetter: why
}

// Decide chooses what follows an attempt: delivered on success; dead letter on a permanent failure or when the
// next attempt would fall after createdAt+Deadline; otherwise a retry after the full-jitter backoff for the
// failures so far (failures ≥ 1, this one included), but never before the receiver's Retry-After.
func (p Policy) Decide(a Attempt, createdAt time.Time, failures int, now time.Time, r *rand.Rand) Decision {
	if a.OK {
		return Decision{Outcome: OutcomeDelivered}
	}
	if !a.Retryable {
		return Decision{Outcome: OutcomeDeadLetter, Reason: "permanent failure: " + a.Error}
	}
	wait := max(p.Backoff.Delay(failures, r), a.RetryAfter)
	next := now.Add(wait)
	deadline := p.Deadline
	if deadline <= 0 {
		deadline = 24 * time.Hour
	}
	if next.After(createdAt.Add(deadline)) {
		return Decision{Outcome: OutcomeDeadLetter, Reason: "deadline of " + deadline.String() + " passed; last error: " + a.Error}
	}
	return Decision{Outcome: OutcomeRetry, NextAt: next}
}
