// Package notify delivers incident notifications to chat (Slack-compatible incoming webhooks, which Mattermost
// also accepts, and Microsoft Teams Workflows webhooks), to generic signed webhooks and to email over SMTP.
//
// It is the delivery layer only: a Sender makes one attempt and says whether a failure is worth retrying. The
// policy pieces an outbox needs to survive outages — exponential backoff with full jitter, a circuit breaker and a
// token-bucket rate limit per destination, and a dead-letter deadline — are pure functions and small structs
// with an injected clock, so their state can live in the database. Standard library only.
package notify

import (
	"errors"
	"strings"
	"time"
	"unicode"
)

// Kind is what happened; it chooses the template and is sent as the webhook's Firebreak-Event header.
type Kind string

const (
	KindDeclared        Kind = "declared"
	KindSeverityChanged Kind = "severity_changed"
	KindStatusChanged   Kind = "status_changed"
	KindRoleChanged     Kind = "role_changed"
	KindUpdatePosted    Kind = "update_posted"
	KindResolved        Kind = "resolved"
	KindPage            Kind = "page"
	KindReminder        Kind = "reminder"
	KindTest            Kind = "test"
	// KindActionItemOverdue reminds an overdue action item's owner (and later the owner's teams); Text names it.
	KindActionItemOverdue Kind = "action_item_overdue"
	// KindFollowUpReview reminds a post-mortem's approvers and the commander that its follow-up review is due.
	KindFollowUpReview Kind = "follow_up_review"
	// KindRecurrence warns an incident's commander that it looks like an earlier incident whose action items are
	// still open or unverified; Text says which and how many.
	KindRecurrence Kind = "recurrence"
	// KindChangeProposed asks an incident's commander to approve or reject a change a responder proposes (to the
	// incident's announcement channels when it has no commander); Text says what, why and how risky.
	KindChangeProposed Kind = "change_proposed"
	// KindChangeApproved and KindChangeRejected tell the proposer of a change the commander's decision; Text names
	// the change and the decision's note.
	KindChangeApproved Kind = "change_approved"
	KindChangeRejected Kind = "change_rejected"
)

// Kinds lists every message kind.
var Kinds = []Kind{KindDeclared, KindSeverityChanged, KindStatusChanged, KindRoleChanged, KindUpdatePosted,
	KindResolved, KindPage, KindReminder, KindTest, KindActionItemOverdue, KindFollowUpReview, KindRecurrence,
	KindChangeProposed, KindChangeApproved, KindChangeRejected}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Incident is the summary of an incident that a notification carries. Fields are plain strings so that this
// package depends on nothing; the caller fills them from the domain types.
type Incident struct {
	Ref       string   `json:"ref"`                 // "INC-12"
	Title     string   `json:"title"`               // one line
	Severity  string   `json:"severity"`            // "SEV1"
	Status    string   `json:"status"`              // "investigating"
	Services  []string `json:"services"`            // service slugs or names
	Commander string   `json:"commander,omitempty"` // display name of the incident commander, if any
	URL       string   `json:"url"`                 // the incident's page in the console
	AckURL    string   `json:"ack_url,omitempty"`   // where a paged person acknowledges, if any
}

// Message is one notification. ID is the idempotency key: the caller (the outbox) chooses it once and reuses it
// on every attempt, so receivers can drop duplicates (Idempotency-Key header, email Message-ID).
type Message struct {
	ID         string    `json:"id"`
	Kind       Kind      `json:"kind"`
	Incident   Incident  `json:"incident"`
	Text       string    `json:"text,omitempty"`  // the event's prose: the update posted, the change made, the page reason
	Actor      string    `json:"actor,omitempty"` // who caused it, if a person did
	OccurredAt time.Time `json:"occurred_at"`
}

// MaxIDLen bounds a message id (it travels in headers).
const MaxIDLen = 200

// Validate checks what every channel needs: an id usable as a header value, a known kind and a time.
func (m Message) Validate() error {
	var errs []string
	switch {
	case m.ID == "":
		errs = append(errs, "id is required")
	case len(m.ID) > MaxIDLen:
		errs = append(errs, "id is too long")
	case strings.IndexFunc(m.ID, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0:
		errs = append(errs, "id must be printable ASCII without spaces")
	}
	if !m.Kind.Valid() {
		errs = append(errs, "unknown kind "+string(m.Kind))
	}
	if m.OccurredAt.IsZero() {
		errs = append(errs, "occurred_at is required")
	}
	if len(errs) > 0 {
		return permanent(errors.New("invalid message: " + strings.Join(errs, "; ")))
	}
	return nil
}

// oneLine collapses control characters (newlines included) into single spaces, for headlines and headers.
func oneLine(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// truncate shortens s to at most n runes, ending with an ellipsis when cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for pos := range s {
		if i == n-1 {
			if len([]rune(s[pos:])) > 1 {
				return s[:pos] + "…"
			}
			return s
		}
		i++
	}
	return s
}
