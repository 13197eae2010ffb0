package firebreak

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Knowledge-base search: full-text search over incidents (title, summary, timeline messages, status updates) and,
// later, post-mortems. Each hit is one document (an incident, a post-mortem), ranked by its best-matching piece,
// with a snippet of that piece.

// Document kinds a search can return.
const (
	SearchKindIncident   = "incident"
	SearchKindPostmortem = "postmortem" // a post-mortem (its sections, indexed on every save)
	SearchKindRunbook    = "runbook"    // a runbook (title and Markdown body); it belongs to no incident
)

// SearchKinds lists the kinds a SearchQuery may select.
var SearchKinds = []string{SearchKindIncident, SearchKindPostmortem, SearchKindRunbook}

// SearchQuery selects documents. Q is what a person typed (see ParseSearchQuery for the syntax); the other
// fields filter on the incident the document belongs to. Since and Until bound its declared_at: [Since, Until).
// Categories keeps incidents whose post-mortem has a contributing factor of one of the categories; Tags keeps
// incidents with one of the tags.
type SearchQuery struct {
	Q          string
	Services   []string
	Severities []Severity
	Kinds      []string
	Categories []FishboneCategory
	Tags       []string
	Since      *time.Time
	Until      *time.Time
	Limit      int
	Cursor     string
}

// Span is a byte range [Start, End) of a text.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// SearchHit is one document found. Snippet is plain text (never HTML); Highlights are the byte ranges of Snippet
// that matched the query, in order and not overlapping. Rank orders hits, higher first; its scale depends on the
// database and means nothing across queries.
type SearchHit struct {
	Kind       string     `json:"kind"`
	ID         string     `json:"id"`
	Ref        string     `json:"ref"`
	IncidentID string     `json:"incident_id"`
	Title      string     `json:"title"`
	Snippet    string     `json:"snippet"`
	Highlights []Span     `json:"highlights"`
	Rank       float64    `json:"rank"`
	Severity   Severity   `json:"severity"`
	Status     Status     `json:"status"`
	Services   []string   `json:"services"`
	Tags       []string   `json:"tags,omitempty"`
	DeclaredAt *time.Time `json:"declared_at"`
}

// SearchService searches the knowledge base. Errors: EInvalid for a bad filter, limit or cursor. A query that
// cannot match anything (only punctuation, only excluded words) is not an error: it finds nothing.
type SearchService interface {
	Search(ctx context.Context, q SearchQuery) (*Page[SearchHit], error)
}

// Highlight markers: stores ask the database to wrap matched words in them, and SplitHighlights turns the result
// into plain text and spans. They are control characters, which people do not type.
const (
	HighlightStart = "\x02"
	HighlightEnd   = "\x03"
)

// SplitHighlights removes the highlight markers from s and returns the text and the marked spans. Unbalanced or
// nested markers are tolerated (an unclosed span ends at the end of the text); empty spans are dropped.
func SplitHighlights(s string) (string, []Span) {
	var b strings.Builder
	var spans []Span
	open := -1
	for _, r := range s {
		switch string(r) {
		case HighlightStart:
			if open < 0 {
				open = b.Len()
			}
		case HighlightEnd:
			if open >= 0 && b.Len() > open {
				spans = append(spans, Span{open, b.Len()})
			}
			open = -1
		default:
			b.WriteRune(r)
		}
	}
	if open >= 0 && b.Len() > open {
		spans = append(spans, Span{open, b.Len()})
	}
	return b.String(), spans
}

// SnippetPart is a piece of a snippet, matched or not, for rendering (the console wraps matched parts in <mark>
// after escaping them like any other text).
type SnippetPart struct {
	Text  string
	Match bool
}

// SnippetParts cuts Snippet at its highlights. Spans out of range or out of order are ignored, so a hit from an
// untrusted source cannot make it panic.
func (h SearchHit) SnippetParts() []SnippetPart {
	var out []SnippetPart
	at := 0
	for _, sp := range h.Highlights {
		if sp.Start < at || sp.End <= sp.Start || sp.End > len(h.Snippet) {
			continue
		}
		if sp.Start > at {
			out = append(out, SnippetPart{Text: h.Snippet[at:sp.Start]})
		}
		out = append(out, SnippetPart{Text: h.Snippet[sp.Start:sp.End], Match: true})
		at = sp.End
	}
	if at < len(h.Snippet) {
		out = append(out, SnippetPart{Text: h.Snippet[at:]})
	}
	return out
}

// SearchTerm is one term of a parsed query: a word, or a phrase of words that must appear in order. Words are
// lower-case and contain only letters, digits and marks, so they are safe to put in any database's query syntax.
type SearchTerm struct {
	Words  []string
	Prefix bool // the last word also matches longer words ("pay*")
	Negate bool // documents with the term are excluded ("-staging")
}

// Limits of a parsed query.
const (
	MaxSearchTerms    = 16
	MaxSearchPhrase   = 8  // words per phrase
	MaxSearchWordLen  = 64 // bytes
	MaxSearchQueryLen = 500
)

// ParseSearchQuery turns what a person typed into terms. The syntax is forgiving, like a web search box, and
// nothing is a syntax error: words are separated by spaces; "quoted words" form a phrase (an unclosed quote runs
// to the end); a leading - excludes a term; a trailing * matches prefixes; anything that is not a letter or digit
// separates words inside a term, so "db-primary-2" is the phrase "db primary 2" (which is how the indexes split
// it too). Terms beyond the limits are dropped.
func ParseSearchQuery(q string) []SearchTerm {
	if len(q) > MaxSearchQueryLen {
		q = q[:MaxSearchQueryLen]
	}
	q = strings.ToValidUTF8(q, " ")
	var terms []SearchTerm
	add := func(chunk string, quoted bool) {
		if len(terms) >= MaxSearchTerms {
			return
		}
		var t SearchTerm
		if !quoted {
			if strings.HasPrefix(chunk, "-") {
				t.Negate = true
				chunk = chunk[1:]
			}
		}
		t.Prefix = strings.HasSuffix(strings.TrimRightFunc(chunk, unicode.IsSpace), "*")
		t.Words = searchWords(chunk)
		if len(t.Words) == 0 {
			return
		}
		if len(t.Words) > MaxSearchPhrase {
			t.Words = t.Words[:MaxSearchPhrase]
			t.Prefix = false
		}
		terms = append(terms, t)
	}
	for len(q) > 0 {
		q = strings.TrimLeftFunc(q, func(r rune) bool { return unicode.IsSpace(r) })
		if q == "" {
			break
		}
		neg := false
		if strings.HasPrefix(q, `-"`) {
			neg = true
			q = q[1:]
		}
		if q[0] == '"' {
			end := strings.IndexByte(q[1:], '"')
			var chunk string
			if end < 0 {
				chunk, q = q[1:], ""
			} else {
				chunk, q = q[1:1+end], q[2+end:]
			}
			n := len(terms)
			add(chunk, true)
			if neg && len(terms) > n {
				terms[n].Negate = true
			}
			continue
		}
		end := strings.IndexFunc(q, func(r rune) bool { return unicode.IsSpace(r) || r == '"' })
		if end < 0 {
			end = len(q)
		}
		add(q[:end], false)
		q = q[end:]
	}
	return terms
}

func searchWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r)
	}) {
		w = strings.ToLower(w)
		if len(w) > MaxSearchWordLen {
			cut := MaxSearchWordLen
			for cut > 0 && !utf8.RuneStart(w[cut]) {
				cut--
			}
			w = w[:cut]
		}
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// SearchTermsString renders terms back in the query syntax (for showing what was searched).
func SearchTermsString(terms []SearchTerm) string {
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		s := strings.Join(t.Words, " ")
		if len(t.Words) > 1 {
			s = `"` + s + `"`
		}
		if t.Prefix {
			s += "*"
		}
		if t.Negate {
			s = "-" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
