package intake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Generic format limits.
const (
	GenericMaxSummaryLen  = 1024 // summary, in characters (runes)
	GenericMaxDedupKeyLen = 255  // dedup_key, in characters (runes)
)

// GenericAlert is one alert in Firebreak's generic JSON format, for senders
// that have no format of their own (scripts, cron jobs, Gatus's custom
// provider). See GENERIC.md for the full description.
//
// A body is either one alert object, or {"alerts": [ ... ]} with 1 to
// MaxAlerts alert objects. Decoding is strict: unknown fields, a trailing
// value after the object, and wrong JSON types are refused, each error
// naming the field ("alerts[2].severity").
//
//	{
//	  "dedup_key":  "disk-full/db-1",           // optional, ≤255 chars; default: fingerprint of labels
//	  "status":     "firing",                   // required: "firing" or "resolved"
//	  "summary":    "Disk 95% full on db-1",    // required when firing, ≤1024 chars
//	  "severity":   "warning",                  // optional: critical|error|warning|info, default "error"
//	  "source":     "db-1.example.com",         // optional
//	  "labels":     {"service": "db"},          // optional, string values
//	  "details":    {"used_bytes": 1234},       // optional, any JSON object
//	  "links":      [{"href": "https://…", "text": "Runbook"}], // optional, href required
//	  "starts_at":  "2026-08-20T10:15:30Z",     // optional, RFC 3339
//	  "ends_at":    "2026-08-20T10:45:30Z"      // optional, RFC 3339
//	}
//
// When dedup_key is absent or empty, it is LabelsFingerprint(labels), and
// labels must then be non-empty. "firing" maps to Action trigger,
// "resolved" to resolve. A resolved alert needs no summary; when it has
// none, Summary is the dedup key.
type GenericAlert struct {
	DedupKey string            `json:"dedup_key,omitempty"`
	Status   string            `json:"status"`
	Summary  string            `json:"summary,omitempty"`
	Severity string            `json:"severity,omitempty"`
	Source   string            `json:"source,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Details  json.RawMessage   `json:"details,omitempty"`
	Links    []Link            `json:"links,omitempty"`
	StartsAt string            `json:"starts_at,omitempty"`
	EndsAt   string            `json:"ends_at,omitempty"`
}

// ParseGeneric parses a body in Firebreak's generic format (GenericAlert)
// into one Event per alert.
func ParseGeneric(body []byte) ([]Event, error) {
	if err := checkSize(body); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, jsonErr("", err)
	}
	if top == nil {
		return nil, fieldErr("body", "must be a JSON object")
	}
	if rawAlerts, ok := top["alerts"]; ok {
		for k := range top {
			if k != "alerts" {
				return nil, fieldErr(k, "unknown field (a batch body holds only \"alerts\")")
			}
		}
		raws, err := splitAlerts("alerts", rawAlerts)
		if err != nil {
			return nil, err
		}
		if len(raws) == 0 {
			return nil, fieldErr("alerts", "must hold at least one alert")
		}
		events := make([]Event, 0, len(raws))
		for i, raw := range raws {
			ev, err := parseGenericAlert(fmt.Sprintf("alerts[%d]", i), raw)
			if err != nil {
				return nil, err
			}
			events = append(events, ev)
		}
		return events, nil
	}
	ev, err := parseGenericAlert("", body)
	if err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

func parseGenericAlert(path string, raw []byte) (Event, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return Event{}, fieldErr(orBody(path), "must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var a GenericAlert
	if err := dec.Decode(&a); err != nil {
		return Event{}, jsonErr(path, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, fieldErr(orBody(path), "trailing data after the JSON object")
	}
	f := func(name string) string { return joinPath(path, name) }

	ev := Event{
		Format:   FormatGeneric,
		DedupKey: a.DedupKey,
		Summary:  a.Summary,
		Severity: a.Severity,
		Source:   a.Source,
		Labels:   a.Labels,
		Raw:      compactJSON(raw),
	}
	switch a.Status {
	case "firing":
		ev.Action = ActionTrigger
	case "resolved":
		ev.Action = ActionResolve
	case "":
		return Event{}, fieldErr(f("status"), "is required (\"firing\" or \"resolved\")")
	default:
		return Event{}, fieldErr(f("status"), "must be \"firing\" or \"resolved\", got %q", a.Status)
	}
	if ev.Labels == nil {
		ev.Labels = map[string]string{}
	}
	if utf8.RuneCountInString(a.DedupKey) > GenericMaxDedupKeyLen {
		return Event{}, fieldErr(f("dedup_key"), "is longer than %d characters", GenericMaxDedupKeyLen)
	}
	if strings.TrimSpace(a.DedupKey) == "" {
		if len(a.Labels) == 0 {
			return Event{}, fieldErr(f("dedup_key"), "is required when labels is empty")
		}
		ev.DedupKey = LabelsFingerprint(a.Labels)
	}
	if ev.Action == ActionTrigger && strings.TrimSpace(a.Summary) == "" {
		return Event{}, fieldErr(f("summary"), "is required when status is \"firing\"")
	}
	if utf8.RuneCountInString(a.Summary) > GenericMaxSummaryLen {
		return Event{}, fieldErr(f("summary"), "is longer than %d characters", GenericMaxSummaryLen)
	}
	if ev.Summary == "" {
		ev.Summary = ev.DedupKey
	}
	switch {
	case a.Severity == "":
		ev.Severity = SeverityError
	case !ValidSeverity(a.Severity):
		return Event{}, fieldErr(f("severity"), "must be one of critical, error, warning, info; got %q", a.Severity)
	}
	if d := bytes.TrimSpace(a.Details); len(d) > 0 && string(d) != "null" {
		if d[0] != '{' {
			return Event{}, fieldErr(f("details"), "must be a JSON object")
		}
		ev.Details = compactJSON(d)
	}
	for i, l := range a.Links {
		if strings.TrimSpace(l.Href) == "" {
			return Event{}, fieldErr(fmt.Sprintf("%s[%d].href", f("links"), i), "is required")
		}
		ev.Links = append(ev.Links, l)
	}
	var ok bool
	if ev.StartsAt, ok = parseRFC3339(a.StartsAt); !ok {
		return Event{}, fieldErr(f("starts_at"), "must be an RFC 3339 time, got %q", a.StartsAt)
	}
	if ev.EndsAt, ok = parseRFC3339(a.EndsAt); !ok {
		return Event{}, fieldErr(f("ends_at"), "must be an RFC 3339 time, got %q", a.EndsAt)
	}
	return ev, nil
}

func parseRFC3339(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
