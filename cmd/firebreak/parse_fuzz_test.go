package main

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseAt: a time given to --at either is refused with a message naming the flag, or is never in the future
// when it was a bare time of day (a backdated note cannot be dated after now).
func FuzzParseAt(f *testing.F) {
	for _, s := range []string{"14:00", "14:00:30", "2026-11-22 14:00", "2026-11-22T14:00", "2026-11-22T14:00:00Z",
		"2026-11-22T14:00:00+05:30", "25:00", "", "yesterday", "2026-02-30 10:00", " 09:15 "} {
		f.Add(s)
	}
	loc := time.FixedZone("X", 5*3600+1800)
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, loc)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseAt(s, now)
		if err != nil {
			if !strings.Contains(err.Error(), "--at") {
				t.Fatalf("refusal does not name --at: %v", err)
			}
			return
		}
		trimmed := strings.TrimSpace(s)
		if (len(trimmed) == 5 || len(trimmed) == 8) && strings.Count(trimmed, ":") >= 1 && !strings.Contains(trimmed, "-") {
			if got.After(now) || now.Sub(got) > 24*time.Hour {
				t.Fatalf("%q → %v, want within the last day before %v", s, got, now)
			}
		}
	})
}
