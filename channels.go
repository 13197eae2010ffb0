package firebreak

import (
	"context"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// ChannelKind is where a notification channel delivers: a Slack-compatible incoming webhook (Slack, Mattermost),
// a Microsoft Teams Workflows webhook, a generic signed webhook or email over SMTP.
type ChannelKind string

const (
	ChannelSlack      ChannelKind = "slack"
	ChannelMattermost ChannelKind = "mattermost"
	ChannelTeams      ChannelKind = "teams"
	ChannelWebhook    ChannelKind = "webhook"
	ChannelEmail      ChannelKind = "email"
)

// ChannelKinds lists every channel kind.
var ChannelKinds = []ChannelKind{ChannelSlack, ChannelMattermost, ChannelTeams, ChannelWebhook, ChannelEmail}

// Channel is a named notification destination. URL and Secret are secrets: reads return them masked.
type Channel struct {
	ID        string      `json:"id"`
	Kind      ChannelKind `json:"kind"`
	Name      string      `json:"name"`
	URL       string      `json:"url,omitempty"`     // chat and webhook kinds; masked on reads
	Address   string      `json:"address,omitempty"` // email: one or more addresses, comma-separated
	HasSecret bool        `json:"has_secret"`        // webhook: a signing secret is set (never returned)
	Enabled   bool        `json:"enabled"`
	Services  []string    `json:"services"` // slugs of the services announcing to it
	// User owns a personal channel: one of that user's contact methods, used to page them. Empty: shared.
	User      string    `json:"user,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ChannelInput creates a channel.
type ChannelInput struct {
	Kind    ChannelKind `json:"kind"`
	Name    string      `json:"name"`
	URL     string      `json:"url,omitempty"`
	Address string      `json:"address,omitempty"`
	Secret  string      `json:"secret,omitempty"`
	Enabled *bool       `json:"enabled,omitempty"` // default true
	// User makes it a contact method of that user (a username); empty: a shared channel.
	User string `json:"user,omitempty"`
}

// ChannelPatch changes some fields of a channel (the kind is permanent).
type ChannelPatch struct {
	Name    *string `json:"name,omitempty"`
	URL     *string `json:"url,omitempty"`
	Address *string `json:"address,omitempty"`
	Secret  *string `json:"secret,omitempty"`
	Enabled *bool   `json:"enabled,omitempty"`
}

// MinChannelSecretLen is the shortest webhook signing secret accepted.
const MinChannelSecretLen = 16

// ValidateChannel checks a channel's fields. URLs must be absolute http(s) URLs; private and loopback addresses
// are allowed on purpose (self-hosted: receivers are often internal).
func ValidateChannel(c *ChannelInput) error {
	var v Validation
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		v.Add("name", "is required")
	} else {
		v.Text("name", c.Name, 100)
	}
	switch c.Kind {
	case ChannelSlack, ChannelMattermost, ChannelTeams, ChannelWebhook:
		u, err := url.Parse(strings.TrimSpace(c.URL))
		if c.URL == "" {
			v.Add("url", "is required")
		} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.Add("url", "must be an absolute http or https URL")
		} else if len(c.URL) > 2000 {
			v.Add("url", "is too long")
		}
		if c.Address != "" {
			v.Add("address", "is only for email channels")
		}
		if c.Kind == ChannelWebhook && len(c.Secret) < MinChannelSecretLen {
			v.Add("secret", "must be at least 16 characters (the webhook's HMAC signing key)")
		}
		if c.Kind != ChannelWebhook && c.Secret != "" {
			v.Add("secret", "is only for webhook channels")
		}
	case ChannelEmail:
		if strings.TrimSpace(c.Address) == "" {
			v.Add("address", "is required")
		} else if _, err := mail.ParseAddressList(c.Address); err != nil {
			v.Add("address", "must be one or more email addresses, comma-separated")
		}
		if c.URL != "" {
			v.Add("url", "is not used by email channels")
		}
		if c.Secret != "" {
			v.Add("secret", "is only for webhook channels")
		}
	default:
		v.Add("kind", "must be one of slack, mattermost, teams, webhook, email")
	}
	return v.Err()
}

// NotificationStatus is where a notification is in the outbox.
type NotificationStatus string

const (
	NotificationQueued    NotificationStatus = "queued"
	NotificationSending   NotificationStatus = "sending"
	NotificationRetrying  NotificationStatus = "retrying"
	NotificationDelivered NotificationStatus = "delivered"
	NotificationDead      NotificationStatus = "dead"
)

// Notification is one message to one channel, as the operator view shows it.
type Notification struct {
	ID            string             `json:"id"` // the idempotency key receivers see
	ChannelID     string             `json:"channel_id"`
	Channel       string             `json:"channel"` // the channel's name
	Incident      string             `json:"incident,omitempty"`
	Kind          string             `json:"kind"`
	Status        NotificationStatus `json:"status"`
	Attempts      int                `json:"attempts"`
	NextAttemptAt *time.Time         `json:"next_attempt_at,omitempty"`
	LastError     string             `json:"last_error,omitempty"`
	CreatedAt     time.Time          `json:"created_at"`
	DeliveredAt   *time.Time         `json:"delivered_at,omitempty"`
	DeadAt        *time.Time         `json:"dead_at,omitempty"`
}

// NotificationFilter selects notifications for the operator view.
type NotificationFilter struct {
	Status   NotificationStatus
	Incident string // ref
	Limit    int
}

// ChannelService keeps notification channels and the outbox's operator view.
type ChannelService interface {
	CreateChannel(ctx context.Context, in ChannelInput) (*Channel, error)
	ListChannels(ctx context.Context) ([]Channel, error)
	GetChannel(ctx context.Context, ref string) (*Channel, error)
	UpdateChannel(ctx context.Context, ref string, p ChannelPatch) (*Channel, error)
	DeleteChannel(ctx context.Context, ref string) error
	// TestChannel queues a test message to the channel and returns it.
	TestChannel(ctx context.Context, ref string) (*Notification, error)
	ListNotifications(ctx context.Context, f NotificationFilter) ([]Notification, error)
	// RetryNotification requeues a dead notification (same id: receivers still deduplicate).
	RetryNotification(ctx context.Context, id string) (*Notification, error)
}

// AckLink is a one-click acknowledgement link as its page shows it: the incident, who received the link, until
// when it works and whether it was used. The link's secret is never stored (only its hash).
type AckLink struct {
	Incident       string     `json:"incident"`
	Title          string     `json:"title"`
	Severity       Severity   `json:"severity"`
	Status         Status     `json:"status"`
	Recipient      string     `json:"recipient"` // a username, or "channel <name>" for a shared channel
	ExpiresAt      time.Time  `json:"expires_at"`
	Expired        bool       `json:"expired"`
	UsedAt         *time.Time `json:"used_at,omitempty"`
	UsedBy         string     `json:"used_by,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
}

// ContactService keeps users' contact methods: channels owned by a user, used to page them.
type ContactService interface {
	ListContactMethods(ctx context.Context, username string) ([]Channel, error)
	// AddContactMethod creates a channel owned by the user (named after the user and kind when unnamed).
	AddContactMethod(ctx context.Context, username string, in ChannelInput) (*Channel, error)
	// ContactMethod reads one of the user's contact methods (ENotFound when it is not theirs).
	ContactMethod(ctx context.Context, username, ref string) (*Channel, error)
}

// AckLinkService uses the one-click acknowledgement links sent in notifications.
type AckLinkService interface {
	// AckLink describes a link without using it; ENotFound for an unknown (or forged) one.
	AckLink(ctx context.Context, secret string) (*AckLink, error)
	// AcknowledgeByLink uses a link once: ENotFound unknown, EGone expired, EConflict used already.
	AcknowledgeByLink(ctx context.Context, secret string) (*AckLink, error)
}
