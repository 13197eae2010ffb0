package firebreak

import (
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParseSearchQuery(t *testing.T) {
	cases := []struct {
		q    string
		want string // SearchTermsString
	}{
		{"", ""},
		{"  Pool   EXHAUSTION ", "pool exhaustion"},
		{`"connection pool" -staging pay*`, `"connection pool" -staging pay*`},
		{`db-primary-2 failed`, `"db primary 2" failed`},
		{`"unbalanced quote`, `"unbalanced quote"`},
		{`-"read replica" lag`, `-"read replica" lag`},
		{`NEAR( AND OR NOT * ^ : ( ) ""`, `near and or not`},
		{`Überlast im Zahlungsdienst`, `überlast im zahlungsdienst`},
		{`<script>alert(1)</script>`, `"script alert 1 script"`},
		{`quotes"and`, `quotes and`},
	}
	for _, tc := range cases {
		if got := SearchTermsString(ParseSearchQuery(tc.q)); got != tc.want {
			t.Errorf("ParseSearchQuery(%q) = %q, want %q", tc.q, got, tc.want)
		}
	}
}

func TestSplitHighlightsAndParts(t *testing.T) {
	text, spans := SplitHighlights("a \x02<b>\x03 c \x02d")
	if text != "a <b> c d" || !reflect.DeepEqual(spans, []Span{{2, 5}, {8, 9}}) {
		t.Fatalf("got %q %v", text, spans)
	}
	h := SearchHit{Snippet: text, Highlights: append(spans, Span{7, 3}, Span{0, 99})}
	var b strings.Builder
	for _, p := range h.SnippetParts() {
		if p.Match {
			b.WriteString("[" + p.Text + "]")
		} else {
			b.WriteString(p.Text)
		}
	}
	if b.String() != "a [<b>] c [d]" {
		t.Errorf("parts = %q", b.String())
	}
}

func FuzzParseSearchQuery(f *testing.F) {
	for _, s := range []string{`"a b" -c d*`, `"`, `-`, `***`, "\xff\x00", `NEAR(x y)`, "é\u0301 ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		terms := ParseSearchQuery(q)
		if len(terms) > MaxSearchTerms {
			t.Fatalf("%d terms", len(terms))
		}
		for _, term := range terms {
			if len(term.Words) == 0 || len(term.Words) > MaxSearchPhrase {
				t.Fatalf("term %+v", term)
			}
			for _, w := range term.Words {
				if w == "" || len(w) > MaxSearchWordLen || !utf8.ValidString(w) {
					t.Fatalf("word %q", w)
				}
				for _, r := range w {
					if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
						t.Fatalf("word %q has %q", w, r)
					}
				}
			}
		}
		text, spans := SplitHighlights(q)
		at := 0
		for _, sp := range spans {
			if sp.Start < at || sp.End <= sp.Start || sp.End > len(text) {
				t.Fatalf("span %v of %q", sp, text)
			}
			at = sp.End
		}
		SearchHit{Snippet: text, Highlights: spans}.SnippetParts()
	})
}
