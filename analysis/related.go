package analysis

// Related incidents: the explainable score of how much two incidents look alike, and the rule that turns a match
// into a recurrence warning. The store finds the candidates and measures the signals (the text signal comes from
// the database's full-text search); this file combines them. docs/API.md ("Related incidents") describes the same
// formula for users, and must be kept in step.

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/firebreak/firebreak"
)

// Weights of the signals in the similarity (they sum to 1).
const (
	WeightText     = 0.45
	WeightServices = 0.20
	WeightAlerts   = 0.20
	WeightCause    = 0.15
)

// RecencyDays is the decay constant of the recency factor: 0.5 + 0.5·exp(−days apart / RecencyDays), so an
// incident declared the same day keeps its whole similarity as score, one declared 90 days apart 68 % of it, and
// very old ones never less than half.
const RecencyDays = 90.0

// RecurrenceMinSimilarity is the similarity (without recency) from which an earlier incident with open action
// items raises a recurrence warning, provided the two also share a service or an alert.
const RecurrenceMinSimilarity = 0.5

// MaxKeywords bounds the words of an incident that the text search looks for.
const MaxKeywords = 16

// RelatedSignals are the measured signals between an incident A and a candidate B.
type RelatedSignals struct {
	// Text is the full-text score of B relative to A's own score for the same query, capped at 1 (0: no match).
	Text float64
	// Words are A's keywords that also occur in B's title or summary (for the explanation).
	Words                []string
	ServicesA, ServicesB []string
	// Alerts are the dedup keys of the alerts attached to both.
	Alerts                   []string
	CategoriesA, CategoriesB []string
	// DaysApart is the time between the two declarations, in days (absolute).
	DaysApart float64
}

// Jaccard is |a ∩ b| / |a ∪ b| of two sets given as lists (0 when both are empty), and the intersection in a's
// order.
func Jaccard(a, b []string) (float64, []string) {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, x := range a {
		inA[x] = true
	}
	for _, x := range b {
		inB[x] = true
	}
	var shared []string
	for _, x := range a {
		if inB[x] && !slices.Contains(shared, x) {
			shared = append(shared, x)
		}
	}
	union := len(inA) + len(inB) - len(shared)
	if union == 0 {
		return 0, nil
	}
	return float64(len(shared)) / float64(union), shared
}

// RecencyFactor is what the similarity is multiplied by for the score, given the days between the declarations.
func RecencyFactor(days float64) float64 {
	return 0.5 + 0.5*math.Exp(-math.Abs(days)/RecencyDays)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// Relate combines the signals into the similarity, the score and the reasons (only the signals that are present,
// strongest contribution first, then recency).
func Relate(sig RelatedSignals) (similarity, score float64, reasons []firebreak.RelatedReason) {
	text := math.Max(0, math.Min(1, sig.Text))
	svc, sharedSvc := Jaccard(sig.ServicesA, sig.ServicesB)
	alerts := 0.0
	if len(sig.Alerts) > 0 {
		alerts = 1
	}
	cause, sharedCause := Jaccard(sig.CategoriesA, sig.CategoriesB)
	if len(sig.CategoriesA) == 0 || len(sig.CategoriesB) == 0 {
		cause = 0
	}
	similarity = WeightText*text + WeightServices*svc + WeightAlerts*alerts + WeightCause*cause
	recency := RecencyFactor(sig.DaysApart)
	score = similarity * recency

	add := func(kind string, value, weight float64, detail string, shared []string) {
		if value <= 0 {
			return
		}
		if shared == nil {
			shared = []string{}
		}
		reasons = append(reasons, firebreak.RelatedReason{Kind: kind, Value: round3(value), Weight: weight,
			Detail: detail, Shared: shared})
	}
	words := "similar text"
	if len(sig.Words) > 0 {
		words = "similar text: " + strings.Join(sig.Words, ", ")
	}
	add(firebreak.ReasonText, text, WeightText, words, sig.Words)
	add(firebreak.ReasonServices, svc, WeightServices, "both affect "+strings.Join(sharedSvc, ", "), sharedSvc)
	add(firebreak.ReasonAlerts, alerts, WeightAlerts, plural(len(sig.Alerts), "shared alert", "shared alerts")+
		": "+strings.Join(firstN(sig.Alerts, 5), ", "), sig.Alerts)
	cats := make([]string, len(sharedCause))
	for i, c := range sharedCause {
		cats[i] = firebreak.FishboneCategory(c).Title()
	}
	add(firebreak.ReasonCause, cause, WeightCause, "same cause category: "+strings.Join(cats, ", "), sharedCause)
	slices.SortStableFunc(reasons, func(a, b firebreak.RelatedReason) int {
		return -cmpFloat(a.Value*a.Weight, b.Value*b.Weight)
	})
	reasons = append(reasons, firebreak.RelatedReason{Kind: firebreak.ReasonRecency, Value: round3(recency),
		Detail: daysApart(sig.DaysApart), Shared: []string{}})
	return round3(similarity), round3(score), reasons
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func firstN(xs []string, n int) []string {
	if len(xs) > n {
		return append(slices.Clone(xs[:n]), "…")
	}
	return xs
}

func daysApart(d float64) string {
	d = math.Abs(d)
	switch {
	case d < 1:
		return "declared the same day"
	case d < 2:
		return "declared 1 day apart"
	}
	return fmt.Sprintf("declared %d days apart", int(d))
}

// RecurrenceOf picks, among related incidents of an incident, the earlier one it is a probable recurrence of: a
// candidate declared before it (earlier reports that), not cancelled, with open or unverified action items,
// similarity at least RecurrenceMinSimilarity, and a shared service or alert. The most similar wins; nil if none.
func RecurrenceOf(items []firebreak.RelatedIncident, earlier func(firebreak.RelatedIncident) bool) *firebreak.RelatedIncident {
	var best *firebreak.RelatedIncident
	for i := range items {
		r := &items[i]
		if r.OpenActionItems == 0 || r.Similarity < RecurrenceMinSimilarity || r.Status == firebreak.StatusCancelled ||
			!earlier(*r) {
			continue
		}
		structural := slices.ContainsFunc(r.Reasons, func(x firebreak.RelatedReason) bool {
			return (x.Kind == firebreak.ReasonServices || x.Kind == firebreak.ReasonAlerts) && x.Value > 0
		})
		if !structural {
			continue
		}
		if best == nil || r.Similarity > best.Similarity {
			best = r
		}
	}
	return best
}

// stopWords are left out of keywords: they say nothing about what broke (nor do incident references and
// severities, which drafted post-mortem summaries repeat). Words like down, up, out and over do, and stay.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be because been
		before being below between both but by can could did do does doing during each few for from further had
		has have having he her here hers him his how i if in into is it its itself just me more most my no nor not
		now of on once only or other our ours own same she should so some such than that the their
		theirs them then there these they this those through to too under until very was we were what when where
		which while who whom why will with would you your yours also via per still again got get gets new
		inc incident incidents sev1 sev2 sev3 sev4`) {
		stopWords[w] = true
	}
}

// Keywords returns the distinct words of texts that can tell incidents apart, in order of first appearance, at
// most max: lower-case runs of letters and digits, without stop words, numbers, one-letter words and long tokens
// with digits (ids, hashes, addresses), so that titles differing only in a number or an id still match. Words
// contain only letters and digits, which makes them safe to quote in any full-text query syntax.
func Keywords(max int, texts ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, text := range texts {
		for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			if len(out) >= max {
				return out
			}
			if seen[w] || stopWords[w] || len([]rune(w)) < 2 || len(w) > 40 {
				continue
			}
			digits := strings.IndexFunc(w, unicode.IsDigit) >= 0
			if digits && (len(w) >= 8 || strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) }) < 0) {
				continue
			}
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
