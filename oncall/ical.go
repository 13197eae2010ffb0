package oncall

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one VEVENT of a calendar feed.
type Event struct {
	UID         string
	Summary     string
	Description string
	Start, End  time.Time
}

// Calendar is an iCalendar (RFC 5545) object: a VCALENDAR of events.
type Calendar struct {
	Name   string // X-WR-CALNAME, the name calendar apps show
	Events []Event
}

// ShiftUID is a stable UID for a shift of a schedule: the same shift (schedule, start, end, people) gets the same
// UID in every download of a feed, so calendar apps update rather than duplicate it.
func ShiftUID(scheduleID string, s Shift) string {
	h := sha256.New()
	h.Write([]byte(scheduleID + "\x00" + s.Start.UTC().Format(time.RFC3339) + "\x00" +
		s.End.UTC().Format(time.RFC3339) + "\x00" + strings.Join(s.Users, ",")))
	return hex.EncodeToString(h.Sum(nil)[:16]) + "@firebreak"
}

const icalTime = "20060102T150405Z"

// ICS renders the calendar with CRLF line endings, lines folded at 75 octets and text escaped. DTSTAMP is now.
func (c Calendar) ICS(now time.Time) []byte {
	var b strings.Builder
	line := func(name, value string) {
		b.WriteString(Fold(name + ":" + value))
		b.WriteString("\r\n")
	}
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//Firebreak//On-call schedules//EN")
	line("CALSCALE", "GREGORIAN")
	line("METHOD", "PUBLISH")
	if c.Name != "" {
		line("X-WR-CALNAME", EscapeText(c.Name))
	}
	stamp := now.UTC().Format(icalTime)
	for _, e := range c.Events {
		line("BEGIN", "VEVENT")
		line("UID", EscapeText(e.UID))
		line("DTSTAMP", stamp)
		line("DTSTART", e.Start.UTC().Format(icalTime))
		line("DTEND", e.End.UTC().Format(icalTime))
		line("SUMMARY", EscapeText(e.Summary))
		if e.Description != "" {
			line("DESCRIPTION", EscapeText(e.Description))
		}
		line("TRANSP", "TRANSPARENT")
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return []byte(b.String())
}

// EscapeText escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma get a backslash, a line
// break (CRLF, CR or LF) becomes \n. Other control characters, which TEXT may not hold, are dropped, as is
// invalid UTF-8.
func EscapeText(s string) string {
	var b strings.Builder
	s = strings.ReplaceAll(s, "\r\n", "\n")
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r == utf8.RuneError, r < 0x20 && r != '\t', r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// UnescapeText reverses EscapeText.
func UnescapeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Fold folds a content line (without its CRLF) into lines of at most 75 octets, each continuation starting
// with a space, never splitting a UTF-8 character.
func Fold(line string) string {
	if len(line) <= 75 {
		return line
	}
	var b strings.Builder
	limit := 75
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if cut == 0 { // not UTF-8: cut anywhere
			cut = limit
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n ")
		line = line[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(line)
	return b.String()
}

// Unfold reverses Fold (and any RFC 5545 folding): a CRLF followed by a space or tab is removed.
func Unfold(s string) string {
	s = strings.ReplaceAll(s, "\r\n ", "")
	return strings.ReplaceAll(s, "\r\n\t", "")
}
