package firebreak

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is where an incident is in its lifecycle.
type Status string

// The lifecycle: detected → investigating → identified → mitigating → resolved → closed, plus cancelled (a false
// alarm, before resolution) and reopen (resolved → investigating).
const (
	StatusDetected      Status = "detected"
	StatusInvestigating Status = "investigating"
	StatusIdentified    Status = "identified"
	StatusMitigating    Status = "mitigating"
	StatusResolved      Status = "resolved"
	StatusClosed        Status = "closed"
	StatusCancelled     Status = "cancelled"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusDetected, StatusInvestigating, StatusIdentified, StatusMitigating, StatusResolved,
	StatusClosed, StatusCancelled}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Open reports whether an incident in this status still needs work (not resolved, closed or cancelled).
func (s Status) Open() bool {
	return s == StatusDetected || s == StatusInvestigating || s == StatusIdentified || s == StatusMitigating
}

// transitions holds the allowed moves. Responders may move freely among the working statuses (a failed
// mitigation goes back to investigating), resolve from any of them, cancel a false alarm before resolution,
// reopen a resolved incident, and close a resolved one. Closed and cancelled are final.
var transitions = map[Status][]Status{
	StatusDetected:      {StatusInvestigating, StatusIdentified, StatusMitigating, StatusResolved, StatusCancelled},
	StatusInvestigating: {StatusIdentified, StatusMitigating, StatusResolved, StatusCancelled},
	StatusIdentified:    {StatusInvestigating, StatusMitigating, StatusResolved, StatusCancelled},
	StatusMitigating:    {StatusInvestigating, StatusIdentified, StatusResolved, StatusCancelled},
	StatusResolved:      {StatusClosed, StatusInvestigating},
	StatusClosed:        nil,
	StatusCancelled:     nil,
}

// AllowedTransitions returns the statuses an incident in status s may move to.
func AllowedTransitions(s Status) []Status { return slices.Clone(transitions[s]) }

// CanTransition reports whether from → to is allowed.
func CanTransition(from, to Status) bool { return slices.Contains(transitions[from], to) }

// Severity is SEV1 (most severe) to SEV3.
type Severity string

const (
	SEV1 Severity = "SEV1"
	SEV2 Severity = "SEV2"
	SEV3 Severity = "SEV3"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{SEV1, SEV2, SEV3}

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities, s) }

// SeverityPolicy is what a severity means for the response: who is expected to act, how fast, and where it goes
// when nobody does.
type SeverityPolicy struct {
	Severity       Severity      `json:"severity" yaml:"severity"`
	Name           string        `json:"name" yaml:"name"`
	Description    string        `json:"description" yaml:"description"`
	ResponseTarget time.Duration `json:"-" yaml:"response_target"`
	EscalationPath string        `json:"escalation_path" yaml:"escalation_path"`
}

// MarshalJSON writes the response target as whole seconds ("response_target_seconds") and as text
// ("response_target", e.g. "5m0s").
func (p SeverityPolicy) MarshalJSON() ([]byte, error) {
	type plain SeverityPolicy
	return json.Marshal(struct {
		plain
		ResponseTarget        string `json:"response_target"`
		ResponseTargetSeconds int64  `json:"response_target_seconds"`
	}{plain(p), p.ResponseTarget.String(), int64(p.ResponseTarget / time.Second)})
}

// DefaultSeverityPolicies are the policies of the seed runbook.
func DefaultSeverityPolicies() []SeverityPolicy {
	return []SeverityPolicy{
		{SEV1, "Critical", "Complete service outage affecting all users", 5 * time.Minute,
			"On-call engineer → Incident Commander → CTO"},
		{SEV2, "High", "Partial service outage affecting a significant subset of users", 15 * time.Minute,
			"On-call engineer → Incident Commander → Engineering Manager"},
		{SEV3, "Low", "Service degradation with minimal user impact", 30 * time.Minute,
			"On-call engineer → Team Lead"},
	}
}

// ValidateSeverityPolicies checks that exactly the three severities each have one policy with a positive target.
func ValidateSeverityPolicies(ps []SeverityPolicy) error {
	var v Validation
	seen := map[Severity]bool{}
	for i, p := range ps {
		f := fmt.Sprintf("severities[%d]", i)
		if !p.Severity.Valid() {
			v.Add(f+".severity", "must be one of SEV1, SEV2, SEV3")
		} else if seen[p.Severity] {
			v.Add(f+".severity", "%s is defined twice", p.Severity)
		}
		seen[p.Severity] = true
		if p.ResponseTarget <= 0 {
			v.Add(f+".response_target", "must be a positive duration")
		}
	}
	for _, s := range Severities {
		if !seen[s] {
			v.Add("severities", "no policy for %s", s)
		}
	}
	return v.Err()
}

// Role is a responsibility on an incident, held by one person at a time.
type Role string

const (
	RoleCommander Role = "commander"
	RoleTechLead  Role = "tech_lead"
	RoleCommsLead Role = "comms_lead"
)

// Roles lists every incident role.
var Roles = []Role{RoleCommander, RoleTechLead, RoleCommsLead}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Title is the human name of a role.
func (r Role) Title() string {
	switch r {
	case RoleCommander:
		return "Incident Commander"
	case RoleTechLead:
		return "Technical Lead"
	case RoleCommsLead:
		return "Communications Lead"
	}
	return string(r)
}

// Milestones are the moments every metric is derived from.
type Milestones struct {
	ImpactStartedAt *time.Time `json:"impact_started_at"`
	DetectedAt      *time.Time `json:"detected_at"`
	DeclaredAt      *time.Time `json:"declared_at"`
	AcknowledgedAt  *time.Time `json:"acknowledged_at"`
	MitigatedAt     *time.Time `json:"mitigated_at"`
	ResolvedAt      *time.Time `json:"resolved_at"`
	ClosedAt        *time.Time `json:"closed_at"`
}

// MilestoneNames lists the milestone fields by their JSON names, in order.
var MilestoneNames = []string{"impact_started_at", "detected_at", "declared_at", "acknowledged_at",
	"mitigated_at", "resolved_at", "closed_at"}

// Field returns a pointer to the milestone with the JSON name, or nil.
func (m *Milestones) Field(name string) **time.Time {
	switch name {
	case "impact_started_at":
		return &m.ImpactStartedAt
	case "detected_at":
		return &m.DetectedAt
	case "declared_at":
		return &m.DeclaredAt
	case "acknowledged_at":
		return &m.AcknowledgedAt
	case "mitigated_at":
		return &m.MitigatedAt
	case "resolved_at":
		return &m.ResolvedAt
	case "closed_at":
		return &m.ClosedAt
	}
	return nil
}

// Incident is one failure being responded to.
type Incident struct {
	ID         string          `json:"id"`
	Number     int64           `json:"number"`
	Reference  string          `json:"reference"` // "INC-42"
	Title      string          `json:"title"`
	Summary    string          `json:"summary"`
	Severity   Severity        `json:"severity"`
	Status     Status          `json:"status"`
	Services   []string        `json:"services"`
	Roles      map[Role]string `json:"roles"`
	Milestones Milestones      `json:"milestones"`
	Tags       []string        `json:"tags"` // labels for the knowledge base (tags.go)
	CreatedBy  string          `json:"created_by"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	// Version increases with every change to the incident's own fields; the HTTP layer serves it as the ETag.
	Version int64 `json:"version"`
}

// IncidentRef formats an incident number for humans.
func IncidentRef(n int64) string { return "INC-" + strconv.FormatInt(n, 10) }

// ParseIncidentNumber reads "INC-42", "inc-42" or "42"; ok is false for anything else (such as a UUID).
func ParseIncidentNumber(s string) (n int64, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) > 4 && strings.EqualFold(s[:4], "INC-") {
		s = s[4:]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// Limits on free text. Titles are one line; summaries and messages are prose.
const (
	MaxTitleLen   = 200
	MaxTextLen    = 20000
	MaxNameLen    = 100
	MaxServiceRef = 50 // services per incident
)

// DeclareInput is what a person (or an integration) gives to declare an incident.
type DeclareInput struct {
	Title    string   `json:"title"`
	Summary  string   `json:"summary,omitempty"`
	Severity Severity `json:"severity"`
	Services []string `json:"services,omitempty"`
	// Status is the starting status; empty means detected.
	Status Status `json:"status,omitempty"`
	// Roles assigned at declaration, e.g. the declarer as commander.
	Roles map[Role]string `json:"roles,omitempty"`
	// Optional backdated milestones: when impact started and when it was detected.
	ImpactStartedAt *time.Time `json:"impact_started_at,omitempty"`
	DetectedAt      *time.Time `json:"detected_at,omitempty"`
	// DeclaredAt backdates the declaration (demo data and imports); empty means now.
	DeclaredAt *time.Time `json:"declared_at,omitempty"`
	// Tags label the incident (lowercase letters, digits, hyphens).
	Tags []string `json:"tags,omitempty"`
}

// Validate checks the input and fills defaults.
func (in *DeclareInput) Validate() error {
	var v Validation
	in.Title = strings.TrimSpace(in.Title)
	validateTitle(&v, "title", in.Title)
	v.Text("summary", in.Summary, MaxTextLen)
	if !in.Severity.Valid() {
		v.Add("severity", "must be one of SEV1, SEV2, SEV3")
	}
	if in.Status == "" {
		in.Status = StatusDetected
	}
	if !in.Status.Valid() || !in.Status.Open() {
		v.Add("status", "a new incident starts in detected, investigating, identified or mitigating")
	}
	validateServiceRefs(&v, "services", in.Services)
	in.Tags = NormalizeTags(&v, "tags", in.Tags)
	for r, u := range in.Roles {
		if !r.Valid() {
			v.Add("roles", "unknown role %q (commander, tech_lead, comms_lead)", r)
		}
		if strings.TrimSpace(u) == "" {
			v.Add("roles."+string(r), "must name a user")
		}
	}
	if in.ImpactStartedAt != nil && in.DetectedAt != nil && in.DetectedAt.Before(*in.ImpactStartedAt) {
		v.Add("detected_at", "must not be before impact_started_at")
	}
	return v.Err()
}

func validateTitle(v *Validation, field, title string) {
	switch {
	case title == "":
		v.Add(field, "is required")
	case strings.ContainsAny(title, "\r\n"):
		v.Add(field, "must be one line")
	default:
		v.Text(field, title, MaxTitleLen)
	}
}

func validateServiceRefs(v *Validation, field string, refs []string) {
	if len(refs) > MaxServiceRef {
		v.Add(field, "at most %d services", MaxServiceRef)
	}
	seen := map[string]bool{}
	for _, s := range refs {
		if strings.TrimSpace(s) == "" {
			v.Add(field, "must not contain an empty name")
		} else if len(s) > MaxNameLen || !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			v.Add(field, "names an invalid service %q", s)
		} else if seen[s] {
			v.Add(field, "names %q twice", s)
		}
		seen[s] = true
	}
}

// IncidentPatch changes some of an incident's fields; nil fields stay as they are.
type IncidentPatch struct {
	Title    *string   `json:"title,omitempty"`
	Summary  *string   `json:"summary,omitempty"`
	Severity *Severity `json:"severity,omitempty"`
	Services *[]string `json:"services,omitempty"`
	// Milestones corrects milestones by JSON name; a null value clears one.
	Milestones map[string]*time.Time `json:"milestones,omitempty"`
	// Reason explains a change (shown on the timeline).
	Reason string `json:"reason,omitempty"`
	// Tags replaces the incident's tags.
	Tags *[]string `json:"tags,omitempty"`
}

// Validate checks the patch.
func (p *IncidentPatch) Validate() error {
	var v Validation
	if p.Title != nil {
		t := strings.TrimSpace(*p.Title)
		p.Title = &t
		validateTitle(&v, "title", t)
	}
	if p.Summary != nil {
		v.Text("summary", *p.Summary, MaxTextLen)
	}
	if p.Severity != nil && !p.Severity.Valid() {
		v.Add("severity", "must be one of SEV1, SEV2, SEV3")
	}
	if p.Services != nil {
		validateServiceRefs(&v, "services", *p.Services)
	}
	if p.Tags != nil {
		tags := NormalizeTags(&v, "tags", *p.Tags)
		p.Tags = &tags
	}
	var m Milestones
	for name := range p.Milestones {
		if m.Field(name) == nil {
			v.Add("milestones."+name, "unknown milestone (one of %s)", strings.Join(MilestoneNames, ", "))
		}
	}
	v.Text("reason", p.Reason, MaxTextLen)
	return v.Err()
}

// Empty reports whether the patch changes nothing.
func (p *IncidentPatch) Empty() bool {
	return p.Title == nil && p.Summary == nil && p.Severity == nil && p.Services == nil && len(p.Milestones) == 0 &&
		p.Tags == nil
}
