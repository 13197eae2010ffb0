package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 50 * time.Millisecond, 90: 90 * time.Millisecond,
		99: 99 * time.Millisecond, 100: 100 * time.Millisecond, 0: time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%v = %s, want %s", p, got, want)
		}
	}
	if got := percentile([]time.Duration{7}, 99); got != 7 {
		t.Errorf("p99 of one = %s", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of none = %s", got)
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:80/", "https://127.3.4.5"} {
		if err := CheckLoopback(u); err != nil {
			t.Errorf("CheckLoopback(%s): %v", u, err)
		}
	}
	for _, u := range []string{"http://10.0.0.1:8080", "http://192.0.2.1", "ftp://127.0.0.1", "127.0.0.1:8080", "http://[2001:db8::1]/"} {
		if err := CheckLoopback(u); err == nil {
			t.Errorf("CheckLoopback(%s) accepted it", u)
		}
	}
}

func TestCPUUse(t *testing.T) {
	a := sampleCPU()
	for end := time.Now().Add(100 * time.Millisecond); time.Now().Before(end); {
	}
	self, others := cpuUse(a, sampleCPU())
	if self <= 0 || self > 1.01 {
		t.Errorf("self = %v after spinning, want a share in (0, 1]", self)
	}
	if others != -1 && (others < 0 || others > 1) {
		t.Errorf("others = %v, want a share or -1", others)
	}
}
