package client

import (
	"net/http"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c := New("http://firebreak.example", "tok")
	if c.hc.Timeout != DefaultTimeout || DefaultTimeout != 30*time.Second {
		t.Fatalf("default timeout %s", c.hc.Timeout)
	}
	if c.attempts < 2 || c.attempts > 5 {
		t.Fatalf("default attempts %d", c.attempts)
	}
	hc := &http.Client{}
	if New("http://x", "", WithHTTPClient(hc)).hc != hc {
		t.Fatal("WithHTTPClient ignored")
	}
}

func TestBackoffIsBoundedFullJitter(t *testing.T) {
	c := New("http://x", "", WithRetries(10, 100*time.Millisecond))
	for attempt := 1; attempt <= 40; attempt++ {
		ceiling := min(100*time.Millisecond<<(attempt-1), c.maxWait)
		if attempt > 20 {
			ceiling = c.maxWait
		}
		var maxSeen time.Duration
		for range 200 {
			d := c.backoffFor(attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("attempt %d: backoff %s outside [0, %s]", attempt, d, ceiling)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < ceiling/4 {
			t.Fatalf("attempt %d: backoff never above %s of %s: no growth", attempt, maxSeen, ceiling)
		}
	}
}
