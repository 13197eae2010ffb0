package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The generic webhook: a JSON body (WebhookPayload, documented in WEBHOOK.md) with headers
//
//	Content-Type: application/json; charset=utf-8
//	Idempotency-Key: <message id>            (the same on every retry)
//	Firebreak-Event: <kind>
//	Firebreak-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The timestamp is the attempt's, so each retry is signed afresh; receivers check it against a tolerance window
// (Verify) to refuse replays, and drop duplicates by Idempotency-Key.

// Header names of the generic webhook.
const (
	HeaderSignature   = "Firebreak-Signature"
	HeaderEvent       = "Firebreak-Event"
	HeaderIdempotency = "Idempotency-Key"
)

// WebhookVersion is the payload's "version"; a change that breaks receivers gets a new number.
const WebhookVersion = 1

// DefaultTolerance is the replay window Verify's callers should use unless they have a reason not to.
const DefaultTolerance = 5 * time.Minute

// WebhookPayload is the generic webhook's body.
type WebhookPayload struct {
	Version    int       `json:"version"`
	ID         string    `json:"id"`    // the idempotency key, equal to the Idempotency-Key header
	Event      Kind      `json:"event"` // equal to the Firebreak-Event header
	Summary    string    `json:"summary"`
	Text       string    `json:"text,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	OccurredAt time.Time `json:"occurred_at"`
	Incident   *Incident `json:"incident,omitempty"` // absent for a test message without an incident
}

type webhookSender struct{ cfg *Config }

func (s *webhookSender) Send(ctx context.Context, d Destination, m Message) error {
	body, err := webhookPayload(s.cfg.Templates, m)
	if err != nil {
		return err
	}
	h := idempotencyHeader(m)
	h.Set(HeaderEvent, string(m.Kind))
	h.Set(HeaderSignature, Sign([]byte(d.Secret), s.cfg.Now(), body))
	return postJSON(ctx, s.cfg, d.URL, body, h)
}

func webhookPayload(t *Templates, m Message) ([]byte, error) {
	r, err := t.Render(m)
	if err != nil {
		return nil, err
	}
	p := WebhookPayload{Version: WebhookVersion, ID: m.ID, Event: m.Kind, Summary: r.Headline, Text: m.Text,
		Actor: m.Actor, OccurredAt: m.OccurredAt.UTC()}
	if m.Incident.Ref != "" {
		inc := m.Incident
		if inc.Services == nil {
			inc.Services = []string{}
		}
		p.Incident = &inc
	}
	return json.Marshal(p)
}

// Sign returns the Firebreak-Signature header value for body sent at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Errors of Verify.
var (
	ErrNoSignature        = errors.New("notify: missing signature")
	ErrBadSignatureHeader = errors.New("notify: malformed signature header")
	ErrSignatureMismatch  = errors.New("notify: signature does not match")
	ErrSignatureExpired   = errors.New("notify: signature timestamp outside the tolerance window")
)

// Signature is a parsed Firebreak-Signature header.
type Signature struct {
	Timestamp int64    // t, Unix seconds
	V1        [][]byte // every v1 value (several during a secret rotation)
}

// maxSignatureHeader bounds what ParseSignature looks at.
const maxSignatureHeader = 4096

// ParseSignature parses "t=<unix>,v1=<hex>[,v1=<hex>...]". Unknown keys are ignored (future schemes); exactly one
// t and at least one well-formed v1 are required.
func ParseSignature(header string) (Signature, error) {
	var sig Signature
	header = strings.TrimSpace(header)
	if header == "" {
		return sig, ErrNoSignature
	}
	if len(header) > maxSignatureHeader {
		return sig, ErrBadSignatureHeader
	}
	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Signature{}, ErrBadSignatureHeader
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if seenT || err != nil || n <= 0 {
				return Signature{}, ErrBadSignatureHeader
			}
			sig.Timestamp, seenT = n, true
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil || len(b) != sha256.Size {
				return Signature{}, ErrBadSignatureHeader
			}
			sig.V1 = append(sig.V1, b)
		}
	}
	if !seenT || len(sig.V1) == 0 {
		return Signature{}, ErrBadSignatureHeader
	}
	return sig, nil
}

// Verify checks a Firebreak-Signature header against the raw body: the timestamp must be within tolerance of now
// (either side, for clock skew) and one v1 must equal HMAC-SHA256(secret, "<t>.<body>"), compared in constant
// time. A tolerance of zero or less means DefaultTolerance. It never panics, whatever the header holds.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	sig, err := ParseSignature(header)
	if err != nil {
		return err
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	age := now.Unix() - sig.Timestamp
	if age < 0 {
		age = -age
	}
	if age > int64(tolerance/time.Second) {
		return ErrSignatureExpired
	}
	want := mac(secret, strconv.FormatInt(sig.Timestamp, 10), body)
	for _, got := range sig.V1 {
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// VerifyRequest is Verify for an http.Request's header and an already-read body.
func VerifyRequest(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	return Verify(secret, h.Get(HeaderSignature), body, now, tolerance)
}
