package oncall_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak/oncall"
)

func TestICS(t *testing.T) {
	start := time.Date(2026, 3, 29, 7, 0, 0, 0, time.UTC)
	sh := oncall.Shift{Start: start, End: start.Add(24 * time.Hour), Users: []string{"ann"}}
	cal := oncall.Calendar{Name: "Payments; primary", Events: []oncall.Event{{
		UID: oncall.ShiftUID("sched-1", sh), Summary: "On call: Payments, primary",
		Description: strings.Repeat("Runbook: https://example.com/a\\b\n", 4), Start: sh.Start, End: sh.End}}}
	out := string(cal.ICS(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)))
	if !strings.HasPrefix(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") || !strings.HasSuffix(out, "END:VCALENDAR\r\n") {
		t.Fatalf("envelope:\n%s", out)
	}
	if strings.Contains(strings.ReplaceAll(out, "\r\n", ""), "\n") {
		t.Fatal("bare LF in output")
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(l) > 75 {
			t.Errorf("line of %d octets: %q", len(l), l)
		}
	}
	un := oncall.Unfold(out)
	for _, want := range []string{"DTSTART:20260329T070000Z", "DTEND:20260330T070000Z", "DTSTAMP:20260301T000000Z",
		`SUMMARY:On call: Payments\, primary`, `X-WR-CALNAME:Payments\; primary`, `https://example.com/a\\b\n`,
		"UID:" + oncall.ShiftUID("sched-1", sh)} {
		if !strings.Contains(un, want) {
			t.Errorf("missing %q in\n%s", want, un)
		}
	}
	if oncall.ShiftUID("sched-1", sh) != oncall.ShiftUID("sched-1", sh) ||
		oncall.ShiftUID("sched-1", sh) == oncall.ShiftUID("sched-2", sh) {
		t.Error("UIDs must be stable per shift and differ between schedules")
	}
}

// sanitize is what EscapeText keeps of s: line breaks as \n, no other control characters, valid UTF-8 only.
func sanitize(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\r':
			b.WriteByte('\n')
		case r == utf8.RuneError, r < 0x20 && r != '\t' && r != '\n', r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FuzzEscapeFold: folded, escaped text unfolds and unescapes back to the input; lines stay within 75 octets and
// never split a UTF-8 character; the escaped value holds no line break, and no unescaped , or ;.
func FuzzEscapeFold(f *testing.F) {
	for _, s := range []string{"", "a,b;c\\d\ne", strings.Repeat("ä", 80), strings.Repeat("x", 200), "\r\n\r", "€😀,\\"} {
		f.Add("SUMMARY", s)
	}
	f.Fuzz(func(t *testing.T, name, s string) {
		if name == "" || strings.ContainsAny(name, ":\r\n") || !utf8.ValidString(name) {
			return
		}
		esc := oncall.EscapeText(s)
		if strings.ContainsAny(esc, "\r\n") {
			t.Fatalf("escaped %q contains a line break", esc)
		}
		for i := 0; i < len(esc); i++ {
			if esc[i] == '\\' {
				i++
				continue
			}
			if esc[i] == ',' || esc[i] == ';' {
				t.Fatalf("unescaped %c in %q", esc[i], esc)
			}
		}
		line := name + ":" + esc
		folded := oncall.Fold(line)
		for _, l := range strings.Split(folded, "\r\n") {
			if len(l) > 75 {
				t.Fatalf("line of %d octets", len(l))
			}
			if utf8.ValidString(line) && !utf8.ValidString(strings.TrimPrefix(l, " ")) {
				t.Fatalf("fold split a character: %q", l)
			}
		}
		if got := oncall.Unfold(folded); got != line {
			t.Fatalf("unfold(fold(x)) = %q, want %q", got, line)
		}
		if got, want := oncall.UnescapeText(esc), sanitize(s); got != want {
			t.Fatalf("unescape(escape(%q)) = %q, want %q", s, got, want)
		}
	})
}
