package firebreak

import (
	"regexp"
	"strings"
	"time"
)

// Service is a component of the system that incidents affect.
type Service struct {
	ID          string   `json:"id"`
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	OwnerTeam   string   `json:"owner_team"`
	Tier        int      `json:"tier"` // 1 (most critical) to 3
	Description string   `json:"description"`
	RunbookURL  string   `json:"runbook_url"`
	DependsOn   []string `json:"depends_on"` // slugs
	// EscalationPolicy is the name of the escalation policy that pages people for the service's incidents.
	EscalationPolicy string    `json:"escalation_policy,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	Version          int64     `json:"version"`

	// ArchitectureChangedAt is when the service's architecture last changed: runbooks reviewed before it are stale.
	ArchitectureChangedAt *time.Time `json:"architecture_changed_at"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,48}[a-z0-9])?$`)

// ValidSlug reports whether s is a valid service slug: lowercase letters, digits and inner hyphens, 1–50 long.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// ServiceInput creates a service.
type ServiceInput struct {
	Slug        string   `json:"slug"`
	Name        string   `json:"name"`
	OwnerTeam   string   `json:"owner_team,omitempty"`
	Tier        int      `json:"tier,omitempty"`
	Description string   `json:"description,omitempty"`
	RunbookURL  string   `json:"runbook_url,omitempty"`
	DependsOn   []string `json:"depends_on,omitempty"`
}

// Validate checks the input; tier defaults to 3 and the name to the slug.
func (in *ServiceInput) Validate() error {
	var v Validation
	if !ValidSlug(in.Slug) {
		v.Add("slug", "must be 1–50 lowercase letters, digits or hyphens, starting and ending with a letter or digit")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = in.Slug
	}
	if in.Tier == 0 {
		in.Tier = 3
	}
	validateServiceFields(&v, in.Slug, in.Name, in.OwnerTeam, in.Tier, in.Description, in.RunbookURL, in.DependsOn)
	return v.Err()
}

// ServicePatch changes some fields of a service. The slug is permanent.
type ServicePatch struct {
	Name        *string   `json:"name,omitempty"`
	OwnerTeam   *string   `json:"owner_team,omitempty"`
	Tier        *int      `json:"tier,omitempty"`
	Description *string   `json:"description,omitempty"`
	RunbookURL  *string   `json:"runbook_url,omitempty"`
	DependsOn   *[]string `json:"depends_on,omitempty"`
	// ArchitectureChangedAt records an architecture change (not in the future); runbooks reviewed before it are stale.
	ArchitectureChangedAt *time.Time `json:"architecture_changed_at,omitempty"`
	// Channels replaces the service's announcement channels (ids or names); it does not change the version.
	Channels *[]string `json:"channels,omitempty"`
	// EscalationPolicy attaches an escalation policy (its name or id; "" detaches it).
	EscalationPolicy *string `json:"escalation_policy,omitempty"`
}

// Apply validates the patch against s and applies it.
func (p ServicePatch) Apply(s *Service, now time.Time) error {
	n := *s
	if p.Name != nil {
		n.Name = strings.TrimSpace(*p.Name)
	}
	if p.OwnerTeam != nil {
		n.OwnerTeam = *p.OwnerTeam
	}
	if p.Tier != nil {
		n.Tier = *p.Tier
	}
	if p.Description != nil {
		n.Description = *p.Description
	}
	if p.RunbookURL != nil {
		n.RunbookURL = *p.RunbookURL
	}
	if p.DependsOn != nil {
		n.DependsOn = append([]string{}, (*p.DependsOn)...)
	}
	var v Validation
	if a := p.ArchitectureChangedAt; a != nil {
		t := a.UTC().Truncate(time.Microsecond)
		n.ArchitectureChangedAt = &t
		if t.After(now.Add(time.Minute)) {
			v.Add("architecture_changed_at", "must not be in the future")
		}
	}
	if n.Name == "" {
		v.Add("name", "is required")
	}
	validateServiceFields(&v, n.Slug, n.Name, n.OwnerTeam, n.Tier, n.Description, n.RunbookURL, n.DependsOn)
	if err := v.Err(); err != nil {
		return err
	}
	n.UpdatedAt = now.UTC()
	n.Version++
	*s = n
	return nil
}

func validateServiceFields(v *Validation, slug, name, team string, tier int, desc, runbook string, deps []string) {
	if strings.ContainsAny(name, "\r\n") {
		v.Add("name", "must be one line")
	} else {
		v.Text("name", name, MaxNameLen)
	}
	v.Text("owner_team", team, MaxNameLen)
	if tier < 1 || tier > 3 {
		v.Add("tier", "must be 1, 2 or 3")
	}
	v.Text("description", desc, MaxTextLen)
	if runbook != "" && !(strings.HasPrefix(runbook, "https://") || strings.HasPrefix(runbook, "http://")) {
		v.Add("runbook_url", "must be an http(s) URL")
	}
	if len(runbook) > 2000 {
		v.Add("runbook_url", "must be at most 2000 characters")
	}
	for _, d := range deps {
		if d == slug {
			v.Add("depends_on", "a service cannot depend on itself")
		}
	}
	validateServiceRefs(v, "depends_on", deps)
}
