package sqlstore

import (
	"testing"
	"time"
)

// FuzzParseStored: the fast parser of stored timestamps agrees with time.Parse on everything it accepts, and
// accepts every timestamp the store writes.
func FuzzParseStored(f *testing.F) {
	for _, s := range []string{"2025-03-01T12:00:00.000000Z", "2024-02-29T23:59:59.999999Z", "2023-02-29T00:00:00.000000Z",
		"2025-04-31T00:00:00.000000Z", "2025-13-01T00:00:00.000000Z", "2025-03-01T12:00:00Z", "0000-01-01T00:00:00.000000Z",
		"2025-03-01T12:00:00.00000+Z", "２025-03-01T12:00:00.000000Z"} {
		f.Add(s, int64(0))
	}
	f.Add("", int64(1700000000123456))
	f.Fuzz(func(t *testing.T, s string, micros int64) {
		if got, ok := parseStored(s); ok {
			want, err := time.Parse(time.RFC3339Nano, s)
			if err != nil || !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("parseStored(%q) = %v; time.Parse: %v, %v", s, got, want, err)
			}
		}
		tm := time.UnixMicro(micros % 253402300799000000).UTC()
		if tm.Year() < 0 || tm.Year() > 9999 {
			return
		}
		str := tm.Format(tsLayout)
		got, ok := parseStored(str)
		if !ok || !got.Equal(tm) {
			t.Fatalf("parseStored(%q) = %v, %v; want %v", str, got, ok, tm)
		}
	})
}
