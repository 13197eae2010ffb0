package firebreak

import (
	"context"
	"time"
)

// Page is one page of a list. NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// Default and largest page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// IncidentFilter selects incidents. Zero values select everything.
type IncidentFilter struct {
	Status   []Status
	Severity []Severity
	Service  string
	// Open selects incidents that are not resolved, closed or cancelled.
	Open bool
	// DeclaredAfter and DeclaredBefore bound declared_at: [After, Before).
	DeclaredAfter  *time.Time
	DeclaredBefore *time.Time
	Query          string // substring of title or summary
	Limit          int
	Cursor         string
}

// TimelineFilter pages through a timeline in time order.
type TimelineFilter struct {
	StarredOnly bool
	// AfterID returns only events recorded after the one with this ID (live tails).
	AfterID int64
	Limit   int
	Cursor  string
}

// IncidentService declares and runs incidents. Incidents are addressed by ref: the UUID, "INC-42" or "42".
// Every change is written together with the timeline events that record it, in one transaction.
//
// Errors: ENotFound for an unknown ref; EInvalid with fields for bad input (including unknown services);
// EConflict for an invalid transition (Allowed lists the allowed statuses); EPreconditionFailed when
// ifVersion is non-zero and differs from the stored version; *IdempotentReplay from creating calls whose
// context carries an idempotency key seen before.
type IncidentService interface {
	DeclareIncident(ctx context.Context, in DeclareInput) (*Incident, error)
	GetIncident(ctx context.Context, ref string) (*Incident, error)
	ListIncidents(ctx context.Context, f IncidentFilter) (*Page[Incident], error)
	UpdateIncident(ctx context.Context, ref string, p IncidentPatch, ifVersion int64) (*Incident, error)
	ChangeStatus(ctx context.Context, ref string, to Status, message string, ifVersion int64) (*Incident, error)
	AssignRole(ctx context.Context, ref string, role Role, user string, ifVersion int64) (*Incident, error)
	// AcknowledgeIncident records that a person has taken the incident on: acknowledged_at (which MTTA is measured
	// to) is set once, with a timeline event; acknowledging again changes nothing. EConflict once the incident is
	// resolved, closed or cancelled.
	AcknowledgeIncident(ctx context.Context, ref string, ifVersion int64) (*Incident, error)

	AddTimelineEvent(ctx context.Context, ref string, in TimelineInput) (*TimelineEvent, error)
	ListTimeline(ctx context.Context, ref string, f TimelineFilter) (*Page[TimelineEvent], error)
	StarTimelineEvent(ctx context.Context, ref string, eventID int64, starred bool) (*TimelineEvent, error)

	PostUpdate(ctx context.Context, ref string, in UpdateInput) (*StatusUpdate, error)
	ListUpdates(ctx context.Context, ref string) ([]StatusUpdate, error)

	AddActionItem(ctx context.Context, ref string, in ActionItemInput) (*ActionItem, error)
	UpdateActionItem(ctx context.Context, ref, itemID string, p ActionItemPatch, ifVersion int64) (*ActionItem, error)
	ListActionItems(ctx context.Context, ref string) ([]ActionItem, error)
	// ListFollowUps lists action items across incidents, the ones due soonest first (no due date last).
	ListFollowUps(ctx context.Context, f ActionItemFilter) (*Page[FollowUp], error)
}

// ServiceFilter pages through the catalog in slug order.
type ServiceFilter struct {
	Team   string
	Limit  int
	Cursor string
}

// CatalogService manages the service catalog. Services are addressed by ID or slug.
//
// Errors: ENotFound; EInvalid (bad fields, unknown dependency); EConflict for a slug already taken;
// EPreconditionFailed on a stale version.
type CatalogService interface {
	CreateService(ctx context.Context, in ServiceInput) (*Service, error)
	GetService(ctx context.Context, ref string) (*Service, error)
	ListServices(ctx context.Context, f ServiceFilter) (*Page[Service], error)
	UpdateService(ctx context.Context, ref string, p ServicePatch, ifVersion int64) (*Service, error)
}

// UserService manages users and their API tokens.
//
// Errors: EConflict for a username taken; ENotFound; EUnauthorized from Authenticate* for a wrong secret.
type UserService interface {
	CreateUser(ctx context.Context, in UserInput) (*User, error)
	GetUser(ctx context.Context, username string) (*User, error)
	ListUsers(ctx context.Context) ([]User, error)
	CreateToken(ctx context.Context, in TokenInput) (*Token, error)
	// ListTokens lists a user's tokens (every user's when username is empty), without their secrets.
	ListTokens(ctx context.Context, username string) ([]Token, error)
	// RevokeToken deletes a token; it authenticates nobody from then on.
	RevokeToken(ctx context.Context, id string) error
	// AuthenticateToken returns the actor a bearer token stands for.
	AuthenticateToken(ctx context.Context, secret string) (Actor, error)
	// AuthenticatePassword checks a username and password.
	AuthenticatePassword(ctx context.Context, username, password string) (Actor, error)
}
