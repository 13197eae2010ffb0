package analysis

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/firebreak/firebreak"
)

func TestKeywords(t *testing.T) {
	for _, c := range []struct {
		texts []string
		max   int
		want  []string
	}{
		{[]string{"Checkout 5xx errors above 5% on db-primary-2"}, 16,
			[]string{"checkout", "5xx", "errors", "db", "primary"}},
		// Numbers, ids and addresses are left out, so titles that differ only in them match.
		{[]string{"Disk 91% full on host 10.0.3.17 (req 8f3c2a1b9d7e)"}, 16, []string{"disk", "full", "host", "req"}},
		// Stop words, references and severities say nothing; repeated words count once, first text first.
		{[]string{"The API is down", "INC-12 (SEV1, api): The API is down. Users see errors."}, 16,
			[]string{"api", "down", "users", "see", "errors"}},
		{[]string{"alpha beta gamma delta"}, 2, []string{"alpha", "beta"}},
		{[]string{"Überlast im Zahlungsdienst"}, 16, []string{"überlast", "im", "zahlungsdienst"}},
		{[]string{"", "  ", "\"quoted\" OR NEAR(a b) -x*"}, 16, []string{"quoted", "near"}},
	} {
		if got := Keywords(c.max, c.texts...); !slices.Equal(got, c.want) {
			t.Errorf("Keywords(%q) = %q, want %q", c.texts, got, c.want)
		}
	}
}

func TestJaccard(t *testing.T) {
	for _, c := range []struct {
		a, b   []string
		want   float64
		shared []string
	}{
		{nil, nil, 0, nil},
		{[]string{"a"}, nil, 0, nil},
		{[]string{"a", "b"}, []string{"b", "a"}, 1, []string{"a", "b"}},
		{[]string{"a", "b"}, []string{"b", "c"}, 1.0 / 3, []string{"b"}},
		{[]string{"a", "a", "b"}, []string{"a"}, 0.5, []string{"a"}},
	} {
		got, shared := Jaccard(c.a, c.b)
		if math.Abs(got-c.want) > 1e-9 || !slices.Equal(shared, c.shared) {
			t.Errorf("Jaccard(%v, %v) = %v %v, want %v %v", c.a, c.b, got, shared, c.want, c.shared)
		}
	}
}

func TestRecencyFactor(t *testing.T) {
	for _, c := range []struct{ days, want float64 }{{0, 1}, {90, 0.5 + 0.5/math.E}, {-90, 0.5 + 0.5/math.E},
		{100000, 0.5}} {
		if got := RecencyFactor(c.days); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("RecencyFactor(%v) = %v, want %v", c.days, got, c.want)
		}
	}
}

// TestRelate checks the formula of docs/API.md on hand-computed cases.
func TestRelate(t *testing.T) {
	// Everything: text 0.8, services 1/2, an alert, categories 1/3, 90 days apart.
	sim, score, reasons := Relate(RelatedSignals{Text: 0.8, Words: []string{"checkout", "5xx"},
		ServicesA: []string{"checkout", "cart"}, ServicesB: []string{"checkout"}, Alerts: []string{"k1", "k2"},
		CategoriesA: []string{"change_release", "capacity_scale"}, CategoriesB: []string{"change_release", "process"},
		DaysApart: -90})
	wantSim := 0.45*0.8 + 0.2*0.5 + 0.2*1 + 0.15/3
	if math.Abs(sim-wantSim) > 0.0006 || math.Abs(score-wantSim*(0.5+0.5/math.E)) > 0.0006 {
		t.Fatalf("similarity %v score %v, want %v %v", sim, score, wantSim, wantSim*(0.5+0.5/math.E))
	}
	var ks []string
	for _, r := range reasons {
		ks = append(ks, r.Kind)
	}
	// Strongest contribution first (text 0.36, alerts 0.2, services 0.1, cause 0.05), recency last.
	if !slices.Equal(ks, []string{firebreak.ReasonText, firebreak.ReasonAlerts, firebreak.ReasonServices,
		firebreak.ReasonCause, firebreak.ReasonRecency}) {
		t.Fatalf("reason order %v", ks)
	}
	want := map[string]firebreak.RelatedReason{
		firebreak.ReasonText: {Value: 0.8, Weight: 0.45, Detail: "similar text: checkout, 5xx",
			Shared: []string{"checkout", "5xx"}},
		firebreak.ReasonServices: {Value: 0.5, Weight: 0.2, Detail: "both affect checkout", Shared: []string{"checkout"}},
		firebreak.ReasonAlerts: {Value: 1, Weight: 0.2, Detail: "2 shared alerts: k1, k2",
			Shared: []string{"k1", "k2"}},
		firebreak.ReasonCause: {Value: 0.333, Weight: 0.15, Detail: "same cause category: Change & release",
			Shared: []string{"change_release"}},
		firebreak.ReasonRecency: {Value: 0.684, Detail: "declared 90 days apart", Shared: []string{}},
	}
	for _, r := range reasons {
		w := want[r.Kind]
		if r.Value != w.Value || r.Weight != w.Weight || r.Detail != w.Detail || !slices.Equal(r.Shared, w.Shared) {
			t.Errorf("%s reason %+v, want %+v", r.Kind, r, w)
		}
	}

	// Nothing in common: similarity 0, only the recency reason.
	sim, score, reasons = Relate(RelatedSignals{ServicesA: []string{"a"}, ServicesB: []string{"b"}, DaysApart: 0.5})
	if sim != 0 || score != 0 || len(reasons) != 1 || reasons[0].Detail != "declared the same day" {
		t.Errorf("unrelated: %v %v %+v", sim, score, reasons)
	}
	// A cause category counts only when both have one; text is capped at 1.
	sim, _, _ = Relate(RelatedSignals{Text: 3, CategoriesA: []string{"x"}})
	if sim != 0.45 {
		t.Errorf("capped text, one-sided category: %v", sim)
	}
}

func TestRecurrenceOf(t *testing.T) {
	svc := firebreak.RelatedReason{Kind: firebreak.ReasonServices, Value: 1}
	alert := firebreak.RelatedReason{Kind: firebreak.ReasonAlerts, Value: 1}
	text := firebreak.RelatedReason{Kind: firebreak.ReasonText, Value: 1}
	items := []firebreak.RelatedIncident{
		{Ref: "INC-9", Similarity: 0.9, OpenActionItems: 2, Reasons: []firebreak.RelatedReason{text, svc}}, // later
		{Ref: "INC-5", Similarity: 0.6, OpenActionItems: 0, Reasons: []firebreak.RelatedReason{text, svc}}, // done
		{Ref: "INC-4", Similarity: 0.45, OpenActionItems: 3, Reasons: []firebreak.RelatedReason{text}},     // text only
		{Ref: "INC-3", Similarity: 0.55, OpenActionItems: 1, Reasons: []firebreak.RelatedReason{text, alert}},
		{Ref: "INC-2", Similarity: 0.7, OpenActionItems: 1, Reasons: []firebreak.RelatedReason{text, svc}},
		{Ref: "INC-1", Similarity: 0.95, OpenActionItems: 1, Status: firebreak.StatusCancelled,
			Reasons: []firebreak.RelatedReason{text, svc}},
		{Ref: "INC-0", Similarity: 0.8, OpenActionItems: 4, Reasons: []firebreak.RelatedReason{text}}, // no structure
	}
	earlier := func(r firebreak.RelatedIncident) bool { return r.Ref != "INC-9" }
	if got := RecurrenceOf(items, earlier); got == nil || got.Ref != "INC-2" {
		t.Fatalf("RecurrenceOf = %+v, want INC-2", got)
	}
	if got := RecurrenceOf(items[:2], earlier); got != nil {
		t.Fatalf("RecurrenceOf = %+v, want none", got)
	}
}

func TestRecurrenceMessage(t *testing.T) {
	for _, c := range []struct {
		open, unverified int
		want             string
	}{
		{3, 0, "This looks like INC-12; 3 of its action items are still open."},
		{3, 1, "This looks like INC-12; 3 of its action items are still open (1 of them done but not verified)."},
		{1, 0, "This looks like INC-12; 1 of its action items is still open."},
		{1, 1, "This looks like INC-12; 1 of its action items is done but not verified."},
		{2, 2, "This looks like INC-12; 2 of its action items are done but not verified."},
		{0, 0, "This looks like INC-12; its action items have all been verified or closed since."},
	} {
		if got := firebreak.RecurrenceMessage("INC-12", c.open, c.unverified); got != c.want {
			t.Errorf("(%d, %d) = %q, want %q", c.open, c.unverified, got, c.want)
		}
	}
}

// FuzzKeywords: whatever the text, keywords are distinct, lower-case runs of letters and digits (safe to quote in
// any full-text query syntax), at most max of them.
func FuzzKeywords(f *testing.F) {
	for _, s := range []string{"Checkout 5xx errors", `"a" OR b* NEAR(c d) -e {title}: f`, "Ünïcödé ﬁle", "DROP TABLE x; --",
		"a\x00b", "\xff\xfe", "İstanbul ΣΊΣΥΦΟΣ"} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%40 + 1
		if max < 1 {
			max = 1
		}
		got := Keywords(max, s, s)
		if len(got) > max {
			t.Fatalf("%d keywords, max %d", len(got), max)
		}
		seen := map[string]bool{}
		for _, w := range got {
			if w == "" || seen[w] {
				t.Fatalf("empty or repeated keyword %q in %q", w, got)
			}
			seen[w] = true
			for _, r := range w {
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					t.Fatalf("keyword %q has %q", w, r)
				}
			}
			if strings.ToLower(w) != w {
				t.Fatalf("keyword %q is not lower-case", w)
			}
		}
	})
}
