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
}

type routingPolicyJSON struct {
	Rules       []RoutingRule     `json:"rules"`
	GroupWindow json.RawMessage   `json:"group_window"`
	GroupBy     []string          `json:"group_by"`
	AutoResolve map[Severity]bool `json:"auto_resolve"`
}

// MarshalJSON writes group_window as a duration string such as "30m0s".
func (p RoutingPolicy) MarshalJSON() ([]byte, error) {
	w, _ := json.Marshal(p.GroupWindow.String())
	return json.Marshal(routingPolicyJSON{p.Rules, w, p.GroupBy, p.AutoResolve})
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
	}
}

// DefaultAutoResolve is the default auto-resolve policy: only SEV3 incidents resolve by themselves.
func DefaultAutoResolve() map[Severity]bool {
	return map[Severity]bool{SEV1: false, SEV2: false, SEV3: true}
}

// Validate checks the policy and fills defaults (a zero GroupWindow is 30m; a nil AutoResolve the default).
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
	out.AutoResolve = make(map[Severity]bool, len(p.AutoResolve))
	for k, v := range p.AutoResolve {
		out.AutoResolve[k] = v
	}
	return out
}
