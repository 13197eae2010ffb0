package firebreak

import (
	"context"
	"slices"
	"strings"
	"time"
)

// IntegrationKind is the format an integration receives.
type IntegrationKind string

const (
	IntegrationPagerDuty    IntegrationKind = "pagerduty"    // PagerDuty Events API v2 (POST /v2/enqueue)
	IntegrationAlertmanager IntegrationKind = "alertmanager" // Prometheus Alertmanager webhook v4
	IntegrationGrafana      IntegrationKind = "grafana"      // Grafana unified-alerting webhook
	IntegrationGeneric      IntegrationKind = "generic"      // Firebreak's generic JSON (intake/GENERIC.md)
	// IntegrationProbe is the hidden integration through which a service's health probes raise their alerts.
	// Users cannot create one (it is not in IntegrationKinds), list it or authenticate with it.
	IntegrationProbe IntegrationKind = "probe"
)

// IntegrationKinds lists every kind.
var IntegrationKinds = []IntegrationKind{IntegrationPagerDuty, IntegrationAlertmanager, IntegrationGrafana,
	IntegrationGeneric}

// Integration is a way for a monitoring tool to send alerts about one service. Its key authenticates the tool
// (PagerDuty's routing_key, or the last path segment of the webhook URL); only its hash is stored.
type Integration struct {
	ID        string          `json:"id"`
	Service   string          `json:"service"` // slug
	Kind      IntegrationKind `json:"kind"`
	Name      string          `json:"name"`
	CreatedAt time.Time       `json:"created_at"`
	// Key is set only in the answer that creates the integration.
	Key string `json:"key,omitempty"`
	// SignatureSecret (Grafana only): when set, deliveries must carry a valid HMAC signature. Never returned.
	SignatureSecret string `json:"-"`
	Signed          bool   `json:"signed"`
}

// IntegrationInput creates an integration.
type IntegrationInput struct {
	Service         string          `json:"service"`
	Kind            IntegrationKind `json:"kind"`
	Name            string          `json:"name"`
	SignatureSecret string          `json:"signature_secret,omitempty"`
}

// Validate checks the input; the name defaults to the kind.
func (in *IntegrationInput) Validate() error {
	var v Validation
	if strings.TrimSpace(in.Service) == "" {
		v.Add("service", "is required")
	}
	if !slices.Contains(IntegrationKinds, in.Kind) {
		v.Add("kind", "must be pagerduty, alertmanager, grafana or generic")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		in.Name = string(in.Kind)
	}
	if strings.ContainsAny(in.Name, "\r\n") {
		v.Add("name", "must be one line")
	} else {
		v.Text("name", in.Name, MaxNameLen)
	}
	if in.SignatureSecret != "" && in.Kind != IntegrationGrafana {
		v.Add("signature_secret", "only Grafana integrations verify signatures")
	}
	v.Text("signature_secret", in.SignatureSecret, 256)
	return v.Err()
}

// AlertStatus is where an alert is.
type AlertStatus string

const (
	AlertFiring       AlertStatus = "firing"
	AlertAcknowledged AlertStatus = "acknowledged"
	AlertResolved     AlertStatus = "resolved"
)

// AlertSeverity is the severity an alert arrives with (PagerDuty's scale).
type AlertSeverity string

const (
	AlertCritical AlertSeverity = "critical"
	AlertError    AlertSeverity = "error"
	AlertWarning  AlertSeverity = "warning"
	AlertInfo     AlertSeverity = "info"
)

// AlertLink is a link an alert carries (a runbook, a dashboard, the alert's source).
type AlertLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// AlertEvent is one delivery about one alert, normalized from any format: trigger (fire), acknowledge or
// resolve, identified within its integration by DedupKey.
type AlertEvent struct {
	Action      string // "trigger", "acknowledge", "resolve"
	DedupKey    string
	Summary     string
	Severity    AlertSeverity
	Source      string // what is affected (PagerDuty payload.source, an instance label …)
	Labels      map[string]string
	Annotations map[string]string
	Details     string // compact JSON of custom details, or ""
	Links       []AlertLink
	StartsAt    time.Time // zero: now
	EndsAt      time.Time // zero: unknown
}

// Alert is the deduplicated state of one alert of one integration.
type Alert struct {
	ID            string            `json:"id"`
	IntegrationID string            `json:"integration_id"`
	Service       string            `json:"service"`
	Source        IntegrationKind   `json:"source"`
	DedupKey      string            `json:"dedup_key"`
	Status        AlertStatus       `json:"status"`
	Summary       string            `json:"summary"`
	Severity      AlertSeverity     `json:"severity"`
	Labels        map[string]string `json:"labels"`
	Annotations   map[string]string `json:"annotations"`
	Details       string            `json:"details,omitempty"`
	Links         []AlertLink       `json:"links"`
	FirstSeenAt   time.Time         `json:"first_seen_at"`
	LastSeenAt    time.Time         `json:"last_seen_at"`
	ResolvedAt    *time.Time        `json:"resolved_at"`
	Occurrences   int64             `json:"occurrences"`
	IncidentID    string            `json:"incident_id,omitempty"`
	// Flapping: the alert changes state too often (RoutingPolicy.Flapping) and no longer pages; FlappingSince is
	// when it was marked. It clears after a full flapping window without a state change.
	Flapping      bool       `json:"flapping"`
	FlappingSince *time.Time `json:"flapping_since"`
	// Suppressed says why the alert's last firing paged nobody (opened or joined no incident): "maintenance"
	// (a maintenance window of its service, MaintenanceWindowID, was active) or "flapping"; "" otherwise.
	Suppressed          AlertSuppression `json:"suppressed,omitempty"`
	MaintenanceWindowID string           `json:"maintenance_window_id,omitempty"`
}

// AlertSuppression is why a firing alert paged nobody.
type AlertSuppression string

const (
	SuppressedMaintenance AlertSuppression = "maintenance" // a maintenance window of its service was active
	SuppressedFlapping    AlertSuppression = "flapping"    // the alert is flapping
)

// AlertFilter selects alerts, newest first.
type AlertFilter struct {
	Service  string
	Status   []AlertStatus
	Incident string // incident ref
	// Flapping selects alerts marked flapping; Suppressed those whose last firing was suppressed for this reason
	// ("maintenance" or "flapping").
	Flapping   bool
	Suppressed AlertSuppression
	Limit      int
	Cursor     string
}

// AlertService receives alerts from integrations and keeps their deduplicated state.
//
// Errors: EInvalid (bad input, unknown service); EUnauthorized from AuthenticateIntegration for an unknown key
// (never saying which keys exist); ENotFound.
type AlertService interface {
	CreateIntegration(ctx context.Context, in IntegrationInput) (*Integration, error)
	ListIntegrations(ctx context.Context, service string) ([]Integration, error)
	// AuthenticateIntegration returns the integration a key belongs to (with its SignatureSecret).
	AuthenticateIntegration(ctx context.Context, key string) (*Integration, error)
	// IngestAlerts records a delivery durably before it returns: a new dedup key creates an alert; a known one
	// updates its status, last_seen_at and occurrence count; a redelivery that changes nothing writes nothing.
	IngestAlerts(ctx context.Context, integrationID string, events []AlertEvent) ([]Alert, error)
	// RecordAlerts is IngestAlerts without the answer (the intake endpoints answer counts and dedup keys, so the
	// alerts are not built).
	RecordAlerts(ctx context.Context, integrationID string, events []AlertEvent) error
	ListAlerts(ctx context.Context, f AlertFilter) (*Page[Alert], error)
	// GetAlert returns one alert by ID. Errors: ENotFound.
	GetAlert(ctx context.Context, id string) (*Alert, error)
	// GetRoutingPolicy returns a service's (by slug) alert routing policy: DefaultRoutingPolicy until one is
	// set. Errors: ENotFound for an unknown service.
	GetRoutingPolicy(ctx context.Context, serviceSlug string) (*RoutingPolicy, error)
	// SetRoutingPolicy validates (see RoutingPolicy.Validate, which fills defaults) and replaces a service's
	// (by slug) routing policy, returning the policy as stored. Errors: ENotFound for an unknown service;
	// EInvalid naming the field (group_window, rules[i].action, rules[i].severity, ...).
	SetRoutingPolicy(ctx context.Context, serviceSlug string, p RoutingPolicy) (*RoutingPolicy, error)
}
