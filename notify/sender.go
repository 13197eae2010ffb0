package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// Sender makes one delivery attempt. A nil error means the receiver accepted the message; otherwise the error is
// a *DeliveryError (see Classify) saying whether another attempt may succeed.
type Sender interface {
	Send(ctx context.Context, d Destination, m Message) error
}

// DestinationKind says which channel a destination uses.
type DestinationKind string

const (
	DestSlack      DestinationKind = "slack"      // Slack incoming webhook
	DestMattermost DestinationKind = "mattermost" // Mattermost incoming webhook: the Slack format
	DestTeams      DestinationKind = "teams"      // Microsoft Teams Workflows webhook (Adaptive Card)
	DestWebhook    DestinationKind = "webhook"    // generic signed webhook (WEBHOOK.md)
	DestEmail      DestinationKind = "email"      // SMTP, settings from Config.SMTP
)

// DestinationKinds lists every destination kind.
var DestinationKinds = []DestinationKind{DestSlack, DestMattermost, DestTeams, DestWebhook, DestEmail}

// Destination is where a message goes. Chat and webhook URLs are secrets (anyone holding one can post): they are
// never put into errors or logs by this package; use Key to name a destination.
type Destination struct {
	Kind    DestinationKind `json:"kind"`
	URL     string          `json:"url,omitempty"`     // slack, mattermost, teams, webhook
	Address string          `json:"address,omitempty"` // email: one or more RFC 5322 addresses, comma-separated
	Secret  string          `json:"secret,omitempty"`  // webhook: the HMAC-SHA256 signing secret
}

// MinSecretLen is the shortest webhook signing secret accepted.
const MinSecretLen = 16

// Validate reports whether the destination can work at all; its errors wrap ErrInvalidDestination and are
// permanent.
func (d Destination) Validate() error {
	bad := func(format string, a ...any) error {
		return permanent(fmt.Errorf("%w: %s", ErrInvalidDestination, fmt.Sprintf(format, a...)))
	}
	switch d.Kind {
	case DestSlack, DestMattermost, DestTeams, DestWebhook:
		u, err := url.Parse(d.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad("%s needs an absolute http(s) URL", d.Kind)
		}
		if d.Kind == DestWebhook && len(d.Secret) < MinSecretLen {
			return bad("webhook needs a signing secret of at least %d bytes", MinSecretLen)
		}
	case DestEmail:
		if _, err := parseRecipients(d.Address); err != nil {
			return bad("email address: %v", err)
		}
	default:
		return bad("unknown kind %q", d.Kind)
	}
	return nil
}

// Key names the destination without revealing its URL: the kind and a hash of the URL or address. Use it for
// the breaker and rate-limiter maps and in logs.
func (d Destination) Key() string {
	target := d.URL
	if d.Kind == DestEmail {
		target = strings.ToLower(strings.TrimSpace(d.Address))
	}
	sum := sha256.Sum256([]byte(target))
	return string(d.Kind) + ":" + hex.EncodeToString(sum[:8])
}

func parseRecipients(s string) ([]*mail.Address, error) {
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errors.New("no recipient")
	}
	return list, nil
}

// Config holds what the senders share.
type Config struct {
	// HTTPClient sends chat and webhook requests. Nil means a client with dial and TLS-handshake timeouts, no
	// cookie jar, and no redirects followed (a 301/302 would turn the POST into a bodiless GET that "succeeds"). Its Timeout is not relied on: each attempt has AttemptTimeout.
	HTTPClient *http.Client
	// AttemptTimeout bounds one HTTP attempt from dial to the last byte of the answer (default 10 s).
	AttemptTimeout time.Duration
	// UserAgent is sent with HTTP requests (default "Firebreak-Notify/1").
	UserAgent string
	// SMTP configures email delivery.
	SMTP SMTPConfig
	// Templates renders messages (default DefaultTemplates()).
	Templates *Templates
	// Now is the clock (default time.Now); it stamps webhook signatures and email Date headers.
	Now func() time.Time
}

// DefaultAttemptTimeout bounds one HTTP attempt.
const DefaultAttemptTimeout = 10 * time.Second

func (c *Config) fill() {
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = "Firebreak-Notify/1"
	}
	if c.Templates == nil {
		c.Templates = DefaultTemplates()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
		c.HTTPClient = &http.Client{CheckRedirect: noRedirects, Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         d.DialContext,
			TLSHandshakeTimeout: 5 * time.Second,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	c.SMTP.fill()
}

// Notifier is a Sender for every destination kind: it validates the message and the destination and hands them
// to the channel's sender.
type Notifier struct {
	cfg     Config
	senders map[DestinationKind]Sender
}

// New builds a Notifier; zero Config fields take their defaults.
func New(cfg Config) *Notifier {
	cfg.fill()
	n := &Notifier{cfg: cfg}
	slack := &slackSender{&n.cfg}
	n.senders = map[DestinationKind]Sender{
		DestSlack:      slack,
		DestMattermost: slack,
		DestTeams:      &teamsSender{&n.cfg},
		DestWebhook:    &webhookSender{&n.cfg},
		DestEmail:      &emailSender{&n.cfg},
	}
	return n
}

// Sender returns the channel sender for a kind (nil for an unknown kind). Channel senders assume a valid message
// and destination; Notifier.Send checks both first.
func (n *Notifier) Sender(k DestinationKind) Sender { return n.senders[k] }

// Send validates m and d and makes one attempt.
func (n *Notifier) Send(ctx context.Context, d Destination, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if err := d.Validate(); err != nil {
		return err
	}
	return n.senders[d.Kind].Send(ctx, d, m)
}

// Deliver makes one attempt and classifies it, timing it with the Notifier's clock.
func (n *Notifier) Deliver(ctx context.Context, d Destination, m Message) Attempt {
	start := n.cfg.Now()
	a := Classify(n.Send(ctx, d, m))
	a.Duration = n.cfg.Now().Sub(start)
	return a
}

// postJSON sends one POST with the per-attempt timeout and classifies the answer. Errors name the scheme and host
// only: chat webhook URLs carry their secret in the path or query.
func postJSON(ctx context.Context, cfg *Config, rawURL string, body []byte, header http.Header) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.AttemptTimeout)
	defer cancel()
	u, err := url.Parse(rawURL)
	if err != nil {
		return permanent(fmt.Errorf("%w: unparsable URL", ErrInvalidDestination))
	}
	where := u.Scheme + "://" + u.Host
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("%w: POST %s: bad request", ErrInvalidDestination, where))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", cfg.UserAgent)
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error's message contains the whole URL
		}
		err = fmt.Errorf("POST %s: %w", where, err)
		if ctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
		return &DeliveryError{Retryable: retryableCause(err), Err: err}
	}
	defer resp.Body.Close()
	// The status decides; a body cut short after a 2xx does not undo the receiver's yes.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	return classifyHTTP(resp, cleanSnippet(snippet), cfg.Now())
}

// cleanSnippet makes a receiver's answer safe to store: valid UTF-8, one line, short.
func cleanSnippet(b []byte) string {
	return truncate(oneLine(strings.ToValidUTF8(string(b), "\uFFFD")), 200)
}

// noRedirects makes a 3xx the answer: it is then a permanent failure naming the status.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
