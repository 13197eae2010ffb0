package firebreak

import (
	"context"
	"time"
)

// The noise report says where alerts come from and what they lead to, to find what to tune: which sources and
// rules send the most, how many alerts each incident gathers, which alerts flap, which never led to an incident,
// and what maintenance windows kept quiet.
//
// Alerts are deduplicated state, not a log of deliveries, so the report counts the alerts SEEN in the period
// (first seen at or before Until and last seen at or after Since) with their lifetime occurrence counts.

// DefaultNoisePeriod is the period of a noise report without Since.
const DefaultNoisePeriod = 7 * 24 * time.Hour

// MaxNoisePeriod is the longest period a noise report covers.
const MaxNoisePeriod = 366 * 24 * time.Hour

// NoiseTop is how many entries each ranked list of the report holds at most.
const NoiseTop = 10

// NoiseFilter selects the report's period [Since, Until] (default: the 7 days before now) and, optionally, one
// service (slug).
type NoiseFilter struct {
	Service string
	Since   *time.Time
	Until   *time.Time
}

// NoiseReport is the alert noise of a period.
type NoiseReport struct {
	Service           string            `json:"service,omitempty"`
	Since             time.Time         `json:"since"`
	Until             time.Time         `json:"until"`
	Totals            NoiseTotals       `json:"totals"`
	AlertsPerIncident AlertsPerIncident `json:"alerts_per_incident"`
	// Sources are the integrations that sent the most alerts (then occurrences), at most NoiseTop.
	Sources []NoiseSource `json:"sources"`
	// Rules are the alert rules (the alertname label, else the summary) with the most alerts, at most NoiseTop.
	Rules []NoiseRule `json:"rules"`
	// Flapping are the alerts marked flapping in the period or flapping now, most recently marked first (at
	// most NoiseTop).
	Flapping []NoiseAlert `json:"flapping"`
	// NeverIncident are the alerts that never joined an incident, most occurrences first (at most NoiseTop).
	NeverIncident []NoiseAlert `json:"never_incident"`
}

// NoiseTotals are the period's counts.
type NoiseTotals struct {
	Alerts      int64 `json:"alerts"`
	Occurrences int64 `json:"occurrences"`
	// IncidentsOpened is how many incidents routing opened for alerts in the period.
	IncidentsOpened int64 `json:"incidents_opened"`
	// AlertsWithIncident is how many of the alerts joined an incident; AlertsWithoutIncident how many never did
	// (with their occurrences).
	AlertsWithIncident         int64 `json:"alerts_with_incident"`
	AlertsWithoutIncident      int64 `json:"alerts_without_incident"`
	OccurrencesWithoutIncident int64 `json:"occurrences_without_incident"`
	// FlappingAlerts is how many alerts were marked flapping in the period or are flapping now.
	FlappingAlerts int64 `json:"flapping_alerts"`
	// MaintenanceAlerts is how many alerts fired during a maintenance window, MaintenanceFirings how many
	// firings maintenance suppressed in all.
	MaintenanceAlerts  int64 `json:"maintenance_alerts"`
	MaintenanceFirings int64 `json:"maintenance_firings"`
}

// AlertsPerIncident is the distribution of attached alerts over the incidents declared in the period that have
// at least one.
type AlertsPerIncident struct {
	Incidents int64   `json:"incidents"`
	Mean      float64 `json:"mean"`
	P50       int64   `json:"p50"`
	Max       int64   `json:"max"`
	// Top are the incidents with the most alerts, at most NoiseTop.
	Top []NoiseIncident `json:"top"`
}

// NoiseIncident is an incident in the noise report.
type NoiseIncident struct {
	ID          string   `json:"id"`
	Reference   string   `json:"reference"`
	Title       string   `json:"title"`
	Severity    Severity `json:"severity"`
	Status      Status   `json:"status"`
	Alerts      int64    `json:"alerts"`
	Occurrences int64    `json:"occurrences"`
}

// NoiseSource is an integration in the noise report.
type NoiseSource struct {
	IntegrationID string          `json:"integration_id"`
	Name          string          `json:"name"`
	Kind          IntegrationKind `json:"kind"`
	Service       string          `json:"service"`
	Alerts        int64           `json:"alerts"`
	Occurrences   int64           `json:"occurrences"`
	// Incidents is how many distinct incidents its alerts joined.
	Incidents int64 `json:"incidents"`
}

// NoiseRule is an alert rule of a service in the noise report.
type NoiseRule struct {
	Rule        string `json:"rule"`
	Service     string `json:"service"`
	Alerts      int64  `json:"alerts"`
	Occurrences int64  `json:"occurrences"`
	Incidents   int64  `json:"incidents"`
}

// NoiseAlert is an alert in the noise report.
type NoiseAlert struct {
	ID          string          `json:"id"`
	Service     string          `json:"service"`
	Source      IntegrationKind `json:"source"`
	DedupKey    string          `json:"dedup_key"`
	Summary     string          `json:"summary"`
	Rule        string          `json:"rule"`
	Status      AlertStatus     `json:"status"`
	Occurrences int64           `json:"occurrences"`
	LastSeenAt  time.Time       `json:"last_seen_at"`
	Flapping    bool            `json:"flapping"`
	FlappedAt   *time.Time      `json:"flapped_at"`
	IncidentID  string          `json:"incident_id,omitempty"`
}

// NoiseService computes noise reports. Errors: EInvalid (since after until, a period over MaxNoisePeriod);
// ENotFound (unknown service).
type NoiseService interface {
	NoiseReport(ctx context.Context, f NoiseFilter) (*NoiseReport, error)
}
