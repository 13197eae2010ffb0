package firebreak

import (
	"context"
	"fmt"
	"time"
)

// Related and recurring incidents: for any incident, the incidents that look like it, each with a score and the
// reasons (similar text, shared services, shared alerts, same cause category, recency); and, when a new incident
// resembles an earlier one whose action items are still open or unverified, a recurrence warning, recorded once on
// the new incident's timeline and sent to its commander. The scoring is in package analysis (related.go) and
// docs/API.md.

// Reason kinds of a related incident.
const (
	ReasonText     = "text"     // similar words in the titles, summaries and post-mortems
	ReasonServices = "services" // shared affected services
	ReasonAlerts   = "alerts"   // an alert (same integration and dedup key) attached to both
	ReasonCause    = "cause"    // the same contributing-factor categories in their post-mortems
	ReasonRecency  = "recency"  // how far apart they were declared (a factor on the score)
)

// EventRecurrenceWarning is the timeline event of a recurrence warning (written once per incident).
const EventRecurrenceWarning EventKind = "recurrence_warning"

// RelatedReason is one reason two incidents are related. For the similarity reasons Value is the signal in [0, 1]
// and Weight its weight, so that the similarity is the sum of Value × Weight; for recency Value is the factor the
// similarity is multiplied by, and Weight is 0.
type RelatedReason struct {
	Kind   string  `json:"kind"`
	Value  float64 `json:"value"`
	Weight float64 `json:"weight"`
	// Detail says it in words: "both affect checkout", "declared 12 days apart".
	Detail string `json:"detail"`
	// Shared lists what matched: service slugs, alert dedup keys, categories, words (empty for recency).
	Shared []string `json:"shared"`
}

// RelatedIncident is an incident related to another one.
type RelatedIncident struct {
	IncidentID string     `json:"incident_id"`
	Ref        string     `json:"ref"`
	Title      string     `json:"title"`
	Severity   Severity   `json:"severity"`
	Status     Status     `json:"status"`
	Services   []string   `json:"services"`
	DeclaredAt *time.Time `json:"declared_at"`
	// Similarity in [0, 1] is the weighted sum of the reasons' signals; Score = Similarity × the recency factor
	// orders the list.
	Similarity float64         `json:"similarity"`
	Score      float64         `json:"score"`
	Reasons    []RelatedReason `json:"reasons"`
	// OpenActionItems counts its action items that are open, in progress, or done but not yet verified.
	OpenActionItems int `json:"open_action_items"`
}

// RecurrenceWarning says that an incident looks like an earlier one whose action items are still open or
// unverified. It is detected once, shortly after the incident opens; OpenActionItems and ActionItems are read
// live (they may have been verified since: then OpenActionItems is 0 and the warning is no longer shown on the
// incident page).
type RecurrenceWarning struct {
	// Of names the earlier incident.
	OfIncidentID string  `json:"of_incident_id"`
	OfRef        string  `json:"of_ref"`
	OfTitle      string  `json:"of_title"`
	Similarity   float64 `json:"similarity"`
	// OpenAtDetection is how many of its action items were open or unverified when the warning was raised.
	OpenAtDetection int `json:"open_at_detection"`
	// OpenActionItems counts them now; Unverified is the part of them that is done but not verified.
	OpenActionItems int          `json:"open_action_items"`
	Unverified      int          `json:"unverified"`
	ActionItems     []ActionItem `json:"action_items"`
	DetectedAt      time.Time    `json:"detected_at"`
	// Message is the warning as people read it, with the counts as they are now.
	Message string `json:"message"`
}

// Related is the answer of GET /incidents/{id}/related.
type Related struct {
	IncidentID string            `json:"incident_id"`
	Ref        string            `json:"ref"`
	Items      []RelatedIncident `json:"items"`
	// Recurrence is the incident's recurrence warning, if one was raised (null otherwise).
	Recurrence *RecurrenceWarning `json:"recurrence"`
}

// Limits of a related-incidents answer.
const (
	DefaultRelatedLimit = 10
	MaxRelatedLimit     = 50
)

// RelatedService finds related incidents. Errors: ENotFound for an unknown incident; EInvalid for a limit out of
// [0, MaxRelatedLimit] (0 means DefaultRelatedLimit).
type RelatedService interface {
	RelatedIncidents(ctx context.Context, ref string, limit int) (*Related, error)
	// RecurrenceWarning returns the incident's recurrence warning, or nil when none was raised (cheap: the
	// incident page reads it on every view).
	RecurrenceWarning(ctx context.Context, ref string) (*RecurrenceWarning, error)
}

// StillOpen reports whether an action item in status st counts against recurrence: it is open, in progress, or
// done but not yet verified.
func StillOpen(st ActionItemStatus) bool {
	return st == ActionOpen || st == ActionInProgress || st == ActionDone
}

// RecurrenceMessage is the warning's text: "This looks like INC-12; 3 of its action items are still open (1 of
// them done but not verified)."
func RecurrenceMessage(ofRef string, open, unverified int) string {
	switch {
	case open == 0:
		return fmt.Sprintf("This looks like %s; its action items have all been verified or closed since.", ofRef)
	case open == 1 && unverified == 1:
		return fmt.Sprintf("This looks like %s; 1 of its action items is done but not verified.", ofRef)
	case open == 1:
		return fmt.Sprintf("This looks like %s; 1 of its action items is still open.", ofRef)
	case unverified == open:
		return fmt.Sprintf("This looks like %s; %d of its action items are done but not verified.", ofRef, open)
	case unverified > 0:
		return fmt.Sprintf("This looks like %s; %d of its action items are still open (%d of them done but not "+
			"verified).", ofRef, open, unverified)
	}
	return fmt.Sprintf("This looks like %s; %d of its action items are still open.", ofRef, open)
}
