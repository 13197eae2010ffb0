package firebreak

import (
	"context"
	"strings"
	"time"
)

// TeamRole is a member's role in a team.
type TeamRole string

const (
	TeamRoleMember  TeamRole = "member"
	TeamRoleManager TeamRole = "manager"
)

// Team is a group of people who own services and schedules. A service belongs to the team whose slug equals
// its owner_team (the catalog's free-text field, kept for compatibility: GET /services?team=<slug> lists them).
type Team struct {
	ID      string       `json:"id"`
	Slug    string       `json:"slug"`
	Name    string       `json:"name"`
	Members []TeamMember `json:"members"`
	// Channels are the team's announcement channels (names), e.g. where overdue action items of its members are
	// escalated.
	Channels  []string  `json:"channels"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"version"`
}

// TeamMember is one member of a team.
type TeamMember struct {
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Role     TeamRole `json:"role"`
}

// TeamInput creates a team.
type TeamInput struct {
	Slug    string            `json:"slug"`
	Name    string            `json:"name,omitempty"`
	Members []TeamMemberInput `json:"members,omitempty"`
}

// TeamMemberInput adds a member (or changes a member's role).
type TeamMemberInput struct {
	Username string   `json:"username"`
	Role     TeamRole `json:"role,omitempty"` // default member
}

// TeamPatch changes a team's name and its announcement channels. The slug is permanent.
type TeamPatch struct {
	Name *string `json:"name,omitempty"`
	// Channels replaces the team's announcement channels (ids or names).
	Channels *[]string `json:"channels,omitempty"`
}

// Validate checks the input; the name defaults to the slug and member roles to member.
func (in *TeamInput) Validate() error {
	var v Validation
	in.Slug = strings.TrimSpace(in.Slug)
	if !ValidSlug(in.Slug) {
		v.Add("slug", "must be 1–50 lowercase letters, digits or hyphens, starting and ending with a letter or digit")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = in.Slug
	}
	validTeamName(&v, in.Name)
	seen := map[string]bool{}
	for i := range in.Members {
		m := &in.Members[i]
		if err := m.Validate(); err != nil {
			v.Add("members", "%s", ErrorMessage(err))
			continue
		}
		if seen[m.Username] {
			v.Add("members", "lists %s twice", m.Username)
		}
		seen[m.Username] = true
	}
	return v.Err()
}

// Validate checks a member input; the role defaults to member.
func (in *TeamMemberInput) Validate() error {
	var v Validation
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	if in.Username == "" {
		v.Add("username", "is required")
	}
	if in.Role == "" {
		in.Role = TeamRoleMember
	}
	if in.Role != TeamRoleMember && in.Role != TeamRoleManager {
		v.Add("role", "must be member or manager")
	}
	return v.Err()
}

func validTeamName(v *Validation, name string) {
	if strings.ContainsAny(name, "\r\n") {
		v.Add("name", "must be one line")
	} else {
		v.Text("name", name, MaxNameLen)
	}
}

// Apply validates the patch against t and applies it.
func (p TeamPatch) Apply(t *Team, now time.Time) error {
	n := *t
	if p.Name != nil {
		n.Name = strings.TrimSpace(*p.Name)
	}
	var v Validation
	if n.Name == "" {
		v.Add("name", "is required")
	}
	validTeamName(&v, n.Name)
	if err := v.Err(); err != nil {
		return err
	}
	n.UpdatedAt = now.UTC()
	n.Version++
	*t = n
	return nil
}

// TeamService manages teams and their members. Teams are addressed by ID or slug.
//
// Errors: ENotFound (team, or the user named by a member); EInvalid; EConflict for a slug already taken;
// EPreconditionFailed on a stale version.
type TeamService interface {
	CreateTeam(ctx context.Context, in TeamInput) (*Team, error)
	GetTeam(ctx context.Context, ref string) (*Team, error)
	ListTeams(ctx context.Context) ([]Team, error)
	UpdateTeam(ctx context.Context, ref string, p TeamPatch, ifVersion int64) (*Team, error)
	// SetTeamMember adds a member or changes a member's role.
	SetTeamMember(ctx context.Context, ref string, in TeamMemberInput) (*Team, error)
	RemoveTeamMember(ctx context.Context, ref, username string) (*Team, error)
}
