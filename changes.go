package firebreak

import (
	"context"
	"time"
)

// DefaultChangeWindow is how far before an incident ChangesBefore looks when no window is given.
const DefaultChangeWindow = 2 * time.Hour

// MaxChangeWindow is the widest window ChangesBefore accepts.
const MaxChangeWindow = 30 * 24 * time.Hour

// Change is one change event (a deploy, a config push, a feature flag flip) a tool reported about the service
// of the integration it came through (PagerDuty Change Events, POST /v2/change/enqueue).
type Change struct {
	ID            string      `json:"id"`
	IntegrationID string      `json:"integration_id"`
	Service       string      `json:"service"` // slug
	Summary       string      `json:"summary"`
	Source        string      `json:"source,omitempty"`
	Details       string      `json:"details,omitempty"` // compact JSON of custom_details, or ""
	Links         []AlertLink `json:"links"`
	// OccurredAt is when the change happened (payload.timestamp; the time it was recorded when absent).
	OccurredAt time.Time `json:"occurred_at"`
	RecordedAt time.Time `json:"recorded_at"`
}

// ChangeInput is one change event as received.
type ChangeInput struct {
	Summary    string
	Source     string
	Details    string // compact JSON, or ""
	Links      []AlertLink
	OccurredAt time.Time // zero: now
}

// ChangeFilter selects changes, most recent (by OccurredAt) first. Since and Until bound OccurredAt: [Since, Until].
type ChangeFilter struct {
	Service string
	Since   *time.Time
	Until   *time.Time
	Limit   int
	Cursor  string
}

// ChangeService records change events and answers "what changed before this incident?".
//
// Change events carry no deduplication key (PagerDuty's do not either), so every recorded event is stored as
// a change of its own: a redelivered event is stored twice.
//
// Errors: EInvalid (bad input or filter); ENotFound (unknown integration or incident).
type ChangeService interface {
	// RecordChange stores one change of the integration's service; it is durable when RecordChange returns.
	RecordChange(ctx context.Context, integrationID string, c ChangeInput) (*Change, error)
	ListChanges(ctx context.Context, f ChangeFilter) (*Page[Change], error)
	// ChangesBefore lists the changes of the incident's services that occurred from window before the start
	// of its impact (impact_started_at, else declared_at) up to its declaration, most recent first. A window
	// of 0 means DefaultChangeWindow.
	ChangesBefore(ctx context.Context, incidentRef string, window time.Duration) ([]Change, error)
}
