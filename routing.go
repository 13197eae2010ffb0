package firebreak

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Routing turns alerts into incidents. Every service has a RoutingPolicy (DefaultRoutingPolicy until one is set).
// When an alert fires (a new dedup key, or a resolved alert firing again) Route decides what to do with it:
//
//   - "record": keep the alert, nothing more;
//   - "incident": the alert belongs to an incident of its group (the service, split further by the GroupBy
//     labels). It joins the OPEN incident that was auto-opened for the same service and group key, provided that
//     incident was DECLARED at most GroupWindow ago; otherwise a new incident is declared for it. The window is
//     counted from the declaration, not from the last attached alert, so a long-lived storm does not keep one
//     incident open for ever: 40 minutes after a declaration (with the default 30m window), a still-firing group
//     opens a second incident.
//
// When every alert attached to an open incident has resolved, the incident's timeline records "All N alerts
// resolved"; AutoResolve then says, per incident severity, whether the incident is also moved to resolved. By
// default it is not for SEV1 and SEV2 (a person confirms the recovery and resolves) and it is for SEV3.

// RoutingAction is what Route decides for an alert.
type RoutingAction string

const (
	RouteIncident RoutingAction = "incident" // open or join an incident
	RouteRecord   RoutingAction = "record"   // keep the alert only
)

// RoutingRule matches alerts by label equality; the key "severity" also matches the alert's severity.
type RoutingRule struct {
	Match    map[string]string `json:"match"`
	Action   RoutingAction     `json:"action"`
	Severity Severity          `json:"severity,omitempty"` // of the incident, for action "incident"
}

// RoutingPolicy is a service's routing: the first matching rule wins; no match records the alert.
type RoutingPolicy struct {
	Rules []RoutingRule `json:"rules"`
	// GroupWindow is how long after its declaration an auto-opened incident still takes in new alerts of its
	// group (default 30m, 1m–24h).
	GroupWindow time.Duration `json:"group_window"`
	// GroupBy are label names whose values split a service's alerts into groups; empty: one group per service.
	GroupBy []string `json:"group_by"`
	// AutoResolve says per incident severity whether an incident whose alerts have all resolved is resolved
	// automatically (default: SEV1 and SEV2 no, waiting for a person; SEV3 yes).
	AutoResolve map[Severity]bool `json:"auto_resolve"`
	// Flapping says when an alert that keeps changing state stops paging (see FlappingPolicy).
	Flapping FlappingPolicy `json:"flapping"`
}

type routingPolicyJSON struct {
	Rules       []RoutingRule     `json:"rules"`
	GroupWindow json.RawMessage   `json:"group_window"`
	GroupBy     []string          `json:"group_by"`
	AutoResolve map[Severity]bool `json:"auto_resolve"`
	Flapping    *FlappingPolicy   `json:"flapping,omitempty"`
}

// MarshalJSON writes group_window as a duration string such as "30m0s".
func (p RoutingPolicy) MarshalJSON() ([]byte, error) {
	w, _ := json.Marshal(p.GroupWindow.String())
	f := p.Flapping
	return json.Marshal(routingPolicyJSON{p.Rules, w, p.GroupBy, p.AutoResolve, &f})
}

// UnmarshalJSON reads group_window as a duration string ("30m", "1h30m") or, for older stored policies, as
// nanoseconds.
func (p *RoutingPolicy) UnmarshalJSON(b []byte) error {
	var raw routingPolicyJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	var w time.Duration
	if len(raw.GroupWindow) > 0 && string(raw.GroupWindow) != "null" {
		var text string
		if err := json.Unmarshal(raw.GroupWindow, &text); err == nil {
			d, err := time.ParseDuration(text)
			if err != nil {
				return &Error{Code: EInvalid, Message: "group_window must be a duration such as \"30m\"",
					Fields: []FieldError{{Field: "group_window", Message: "must be a duration such as \"30m\""}}}
			}
			w = d
		} else if err := json.Unmarshal(raw.GroupWindow, &w); err != nil {
			return &Error{Code: EInvalid, Message: "group_window must be a duration such as \"30m\"",
				Fields: []FieldError{{Field: "group_window", Message: "must be a duration such as \"30m\""}}}
		}
	}
	*p = RoutingPolicy{Rules: raw.Rules, GroupWindow: w, GroupBy: raw.GroupBy, AutoResolve: raw.AutoResolve}
	if raw.Flapping != nil {
		p.Flapping = *raw.Flapping
	}
	return nil
}

// DefaultGroupWindow is the GroupWindow of DefaultRoutingPolicy.
const DefaultGroupWindow = 30 * time.Minute

// DefaultRoutingPolicy opens a SEV2 incident for critical alerts and a SEV3 one for errors, and only records
// warnings and infos.
func DefaultRoutingPolicy() RoutingPolicy {
	return RoutingPolicy{
		Rules: []RoutingRule{
			{Match: map[string]string{"severity": string(AlertCritical)}, Action: RouteIncident, Severity: SEV2},
			{Match: map[string]string{"severity": string(AlertError)}, Action: RouteIncident, Severity: SEV3},
			{Match: map[string]string{"severity": string(AlertWarning)}, Action: RouteRecord},
			{Match: map[string]string{"severity": string(AlertInfo)}, Action: RouteRecord},
		},
		GroupWindow: DefaultGroupWindow,
		AutoResolve: DefaultAutoResolve(),
		Flapping:    DefaultFlappingPolicy(),
	}
}

// DefaultAutoResolve is the default auto-resolve policy: only SEV3 incidents resolve by themselves.
func DefaultAutoResolve() map[Severity]bool {
	return map[Severity]bool{SEV1: false, SEV2: false, SEV3: true}
}

// Validate checks the policy and fills defaults (a zero GroupWindow is 30m; a nil AutoResolve the default; zero
// flapping toggles or window their defaults).
func (p *RoutingPolicy) Validate() error {
	var v Validation
	if p.GroupWindow == 0 {
		p.GroupWindow = DefaultGroupWindow
	}
	if p.GroupWindow < time.Minute || p.GroupWindow > 24*time.Hour {
		v.Add("group_window", "must be between 1m and 24h")
	}
	for i, r := range p.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		switch r.Action {
		case RouteIncident:
			if !r.Severity.Valid() {
				v.Add(f+".severity", "must be one of SEV1, SEV2, SEV3")
			}
		case RouteRecord:
			if r.Severity != "" && !r.Severity.Valid() {
				v.Add(f+".severity", "must be one of SEV1, SEV2, SEV3")
			}
		default:
			v.Add(f+".action", "must be incident or record")
		}
		for k := range r.Match {
			if strings.TrimSpace(k) == "" {
				v.Add(f+".match", "label names must not be empty")
			}
		}
	}
	for i, l := range p.GroupBy {
		if strings.TrimSpace(l) == "" {
			v.Add(fmt.Sprintf("group_by[%d]", i), "must not be empty")
		}
	}
	if p.AutoResolve == nil {
		p.AutoResolve = DefaultAutoResolve()
	}
	for sv := range p.AutoResolve {
		if !sv.Valid() {
			v.Add("auto_resolve", "unknown severity %q", sv)
		}
	}
	p.Flapping.validate(&v)
	return v.Err()
}

// RoutingDecision is what Route decided for one alert.
type RoutingDecision struct {
	Action   RoutingAction
	Severity Severity // of the incident to open, for RouteIncident
	Rule     int      // index of the matching rule, -1 if none
	// GroupKey identifies the alert's group within its service: "" without GroupBy, else "label=value" pairs
	// in GroupBy order joined by ",".
	GroupKey string
}

// Route decides what to do with a firing alert. It is pure.
func Route(p RoutingPolicy, a Alert) RoutingDecision {
	d := RoutingDecision{Action: RouteRecord, Rule: -1, GroupKey: GroupKey(p.GroupBy, a.Labels)}
	for i, r := range p.Rules {
		if ruleMatches(r.Match, a) {
			d.Action, d.Rule = r.Action, i
			if r.Action == RouteIncident {
				d.Severity = r.Severity
			}
			return d
		}
	}
	return d
}

func ruleMatches(match map[string]string, a Alert) bool {
	keys := make([]string, 0, len(match))
	for k := range match {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		want := match[k]
		if k == "severity" && string(a.Severity) == want {
			continue
		}
		if got, ok := a.Labels[k]; !ok || got != want {
			return false
		}
	}
	return true
}

// GroupKey is the group of an alert with these labels under groupBy.
func GroupKey(groupBy []string, labels map[string]string) string {
	if len(groupBy) == 0 {
		return ""
	}
	parts := make([]string, 0, len(groupBy))
	for _, l := range groupBy {
		parts = append(parts, l+"="+labels[l])
	}
	return strings.Join(parts, ",")
}

// Clone returns a deep copy.
func (p RoutingPolicy) Clone() RoutingPolicy {
	out := p
	out.Rules = make([]RoutingRule, len(p.Rules))
	for i, r := range p.Rules {
		out.Rules[i] = r
		out.Rules[i].Match = make(map[string]string, len(r.Match))
		for k, v := range r.Match {
			out.Rules[i].Match[k] = v
		}
	}
	out.GroupBy = slices.Clone(p.GroupBy)
	if p.AutoResolve != nil { // nil stays nil, so that Validate fills in the default
		out.AutoResolve = make(map[Severity]bool, len(p.AutoResolve))
		for k, v := range p.AutoResolve {
			out.AutoResolve[k] = v
		}
	}
	return out
}

// --- flapping --------------------------------------------------------------------------------------------------

// An alert FLAPS when it changes state (firing ↔ resolved; acknowledged counts as firing) more than Toggles times
// within Window. It is then marked flapping and no longer pages: firing again is recorded but opens or joins no
// incident, and the incident it is attached to (if any) says so on its timeline, once. It stops flapping after a
// full Window without a state change; its next firing pages again.

// Defaults and bounds of FlappingPolicy.
const (
	DefaultFlapToggles = 5
	DefaultFlapWindow  = time.Hour
	MaxFlapToggles     = 100
)

// EventAlertFlapping is the timeline event recording that an attached alert was marked flapping.
const EventAlertFlapping EventKind = "alert_flapping"

// FlappingPolicy is a service's flap detection: an alert with more than Toggles state changes within Window is
// flapping. In JSON, window is a duration string: {"toggles": 5, "window": "1h0m0s"}.
type FlappingPolicy struct {
	Toggles int           `json:"toggles"`
	Window  time.Duration `json:"window"`
}

// DefaultFlappingPolicy is 5 state changes within 1 hour.
func DefaultFlappingPolicy() FlappingPolicy {
	return FlappingPolicy{Toggles: DefaultFlapToggles, Window: DefaultFlapWindow}
}

type flappingPolicyJSON struct {
	Toggles int             `json:"toggles"`
	Window  json.RawMessage `json:"window"`
}

// MarshalJSON writes window as a duration string such as "1h0m0s".
func (f FlappingPolicy) MarshalJSON() ([]byte, error) {
	w, _ := json.Marshal(f.Window.String())
	return json.Marshal(flappingPolicyJSON{f.Toggles, w})
}

// UnmarshalJSON reads window as a duration string ("1h", "90m").
func (f *FlappingPolicy) UnmarshalJSON(b []byte) error {
	var raw flappingPolicyJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	var w time.Duration
	if len(raw.Window) > 0 && string(raw.Window) != "null" {
		var text string
		err := json.Unmarshal(raw.Window, &text)
		if err == nil {
			w, err = time.ParseDuration(text)
		}
		if err != nil {
			return &Error{Code: EInvalid, Message: "flapping.window must be a duration such as \"1h\"",
				Fields: []FieldError{{Field: "flapping.window", Message: "must be a duration such as \"1h\""}}}
		}
	}
	*f = FlappingPolicy{Toggles: raw.Toggles, Window: w}
	return nil
}

// WithDefaults fills a zero Toggles or Window with the default.
func (f FlappingPolicy) WithDefaults() FlappingPolicy {
	if f.Toggles == 0 {
		f.Toggles = DefaultFlapToggles
	}
	if f.Window == 0 {
		f.Window = DefaultFlapWindow
	}
	return f
}

func (f *FlappingPolicy) validate(v *Validation) {
	*f = f.WithDefaults()
	if f.Toggles < 2 || f.Toggles > MaxFlapToggles {
		v.Add("flapping.toggles", "must be between 2 and %d", MaxFlapToggles)
	}
	if f.Window < time.Minute || f.Window > 24*time.Hour {
		v.Add("flapping.window", "must be between 1m and 24h")
	}
}

// FlapState is the flap bookkeeping of one alert.
type FlapState struct {
	// Transitions are the times of its recent state changes, oldest first: only those within the window, at
	// most Toggles+1 of them.
	Transitions []time.Time
	// Since is when it was marked flapping; nil when it is not flapping.
	Since *time.Time
}

// Settle clears the flapping mark of a flapping alert after a full window without state changes (Transitions are
// then emptied). It reports whether it cleared it.
func (f FlappingPolicy) Settle(s *FlapState, now time.Time) bool {
	f = f.WithDefaults()
	if s.Since == nil {
		return false // not flapping: old transitions are dropped by the next Record
	}
	if n := len(s.Transitions); n > 0 && now.Sub(s.Transitions[n-1]) < f.Window {
		return false
	}
	s.Transitions, s.Since = nil, nil
	return true
}

// Record counts a state change at now. It reports whether this change marks the alert flapping (it was not, and
// now has more than Toggles changes within Window).
func (f FlappingPolicy) Record(s *FlapState, now time.Time) (marked bool) {
	f = f.WithDefaults()
	f.Settle(s, now)
	cut := now.Add(-f.Window)
	kept := make([]time.Time, 0, f.Toggles+1)
	for _, t := range s.Transitions {
		if t.After(cut) {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	if len(kept) > f.Toggles+1 {
		kept = kept[len(kept)-(f.Toggles+1):]
	}
	s.Transitions = kept
	if s.Since == nil && len(kept) > f.Toggles {
		t := now
		s.Since = &t
		return true
	}
	return false
}

// FlappingMessage is the timeline text of an alert marked flapping.
func FlappingMessage(alertTitle string, changes int, window time.Duration) string {
	return fmt.Sprintf("Alert %s is flapping: %d state changes in %s; it no longer pages", alertTitle, changes,
		ShortDuration(window))
}

// ShortDuration writes a duration without zero units: "1h", "1h30m", "45m", "90s".
func ShortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
