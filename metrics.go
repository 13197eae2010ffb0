package firebreak

import (
	"context"
	"time"
)

// MetricsIncident is what incident metrics need of one incident: its milestones, severity, status, services and
// the teams owning those services. The analysis package derives every duration from it (docs/METRICS.md).
type MetricsIncident struct {
	ID         string     `json:"id"`
	Reference  string     `json:"reference"`
	Title      string     `json:"title"`
	Severity   Severity   `json:"severity"`
	Status     Status     `json:"status"`
	Services   []string   `json:"services"`
	Teams      []string   `json:"teams"` // owner teams of Services, distinct, in service order; "" is left out
	Milestones Milestones `json:"milestones"`
	CreatedAt  time.Time  `json:"created_at"`
	// PostmortemPublishedAt is when its post-mortem was published (nil: none, or not published).
	PostmortemPublishedAt *time.Time `json:"postmortem_published_at,omitempty"`
}

// MetricsActionItem is what the follow-through metrics need of one action item.
type MetricsActionItem struct {
	ID             string           `json:"id"`
	IncidentID     string           `json:"incident_id"`
	IncidentStatus Status           `json:"incident_status"`
	Severity       Severity         `json:"severity"`
	Services       []string         `json:"services"`
	Status         ActionItemStatus `json:"status"`
	DueDate        string           `json:"due_date"`
	DoneAt         *time.Time       `json:"done_at,omitempty"`
}

// MetricsIncidentOf turns an incident into the metrics view (without teams).
func MetricsIncidentOf(inc *Incident) MetricsIncident {
	return MetricsIncident{ID: inc.ID, Reference: inc.Reference, Title: inc.Title, Severity: inc.Severity,
		Status: inc.Status, Services: inc.Services, Milestones: inc.Milestones, CreatedAt: inc.CreatedAt}
}

// MetricsService reads what the incident metrics need.
type MetricsService interface {
	// IncidentsForMetrics returns every incident (cancelled ones included, so that they can be counted as
	// excluded) whose life may overlap [from, to): it started before to, and it ended at or after from or has not
	// ended. Start is the first of impact_started_at, detected_at, declared_at, created_at that is set.
	IncidentsForMetrics(ctx context.Context, from, to time.Time) ([]MetricsIncident, error)
	// OverdueActionItems counts action items by priority that are open or in progress with a due date before
	// asOf's UTC date.
	OverdueActionItems(ctx context.Context, asOf time.Time) (map[Priority]int, error)
	// ActionItemsForMetrics returns every action item with a due date on or before through's UTC date, with its
	// incident's severity, status and services.
	ActionItemsForMetrics(ctx context.Context, through time.Time) ([]MetricsActionItem, error)
}

// MetricsQuery selects the incidents of a metrics report and how they are grouped.
type MetricsQuery struct {
	From     time.Time
	To       time.Time
	GroupBy  string // service, team, severity, month, week; empty: no groups (the total only)
	Service  string // only incidents affecting this service (slug)
	Severity Severity
}
