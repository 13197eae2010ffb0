package firebreak

import (
	"slices"
	"strings"
)

// Incident tags label incidents for the knowledge base (e.g. "promo-event", "dns", "third-party"): lowercase
// words of letters, digits and hyphens. The search filters on them (SearchQuery.Tags).

// Limits on tags.
const (
	MaxTags   = 20
	MaxTagLen = 40
)

// EventTagsChanged records a change of an incident's tags.
const EventTagsChanged EventKind = "tags_changed"

// ValidTag reports whether t is a tag as stored: 1–40 lowercase letters, digits or hyphens, starting with a
// letter or digit.
func ValidTag(t string) bool {
	if t == "" || len(t) > MaxTagLen || t[0] == '-' {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// NormalizeTags lowercases and trims tags, drops empty ones and duplicates and sorts them; invalid ones are
// reported on field. The result is never nil.
func NormalizeTags(v *Validation, field string, tags []string) []string {
	out := []string{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		if !ValidTag(t) {
			v.Add(field, "%q is not a tag: use up to %d lowercase letters, digits or hyphens", t, MaxTagLen)
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		v.Add(field, "at most %d tags", MaxTags)
	}
	slices.Sort(out)
	return out
}
