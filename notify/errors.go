package notify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DeliveryError is what a Sender returns when an attempt fails: the cause and whether trying again may help.
type DeliveryError struct {
	Retryable  bool
	RetryAfter time.Duration // the receiver's Retry-After, if it sent one
	StatusCode int           // the HTTP status or SMTP reply code, if any
	Err        error
}

func (e *DeliveryError) Error() string {
	kind := "permanent"
	if e.Retryable {
		kind = "retryable"
	}
	return fmt.Sprintf("notify: %s failure: %v", kind, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }

func permanent(err error) error { return &DeliveryError{Err: err} }

func retryable(err error) error { return &DeliveryError{Retryable: true, Err: err} }

// ErrInvalidDestination marks a destination that can never work as configured (bad URL or address, no secret).
var ErrInvalidDestination = errors.New("invalid destination")

// Attempt is the outcome of one delivery attempt, in the shape the outbox records.
type Attempt struct {
	OK         bool          `json:"ok"`
	Retryable  bool          `json:"retryable"`             // false for success and for permanent failures
	RetryAfter time.Duration `json:"retry_after,omitempty"` // the receiver asked to wait at least this long
	StatusCode int           `json:"status_code,omitempty"` // HTTP status or SMTP reply code
	Error      string        `json:"error,omitempty"`       // why it failed; never contains a webhook URL's path
	Duration   time.Duration `json:"duration"`
}

// Classify turns a Send result into an Attempt. Anything a Sender did not classify itself is judged by its cause:
// timeouts, refused and reset connections, an early EOF and a cancelled context are retryable; invalid
// destinations and messages are permanent; unknown causes are retried (the dead-letter deadline bounds them).
func Classify(err error) Attempt {
	if err == nil {
		return Attempt{OK: true}
	}
	a := Attempt{Retryable: true, Error: err.Error()}
	var de *DeliveryError
	if errors.As(err, &de) {
		a.Retryable, a.RetryAfter, a.StatusCode = de.Retryable, de.RetryAfter, de.StatusCode
		return a
	}
	a.Retryable = retryableCause(err)
	return a
}

// retryableCause judges an unclassified transport error.
func retryableCause(err error) bool {
	switch {
	case errors.Is(err, ErrInvalidDestination):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return !dns.IsNotFound // an unknown host is a bad address; a DNS outage is not
	}
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	if errors.As(err, &ua) || errors.As(err, &hn) {
		return false // the operator must fix the certificate or the name
	}
	return true
}

// classifyHTTP judges a completed HTTP exchange: 2xx is success; 408, 429 and 5xx are retryable (honouring
// Retry-After); everything else (other 4xx, unfollowed 3xx, 1xx) is permanent.
func classifyHTTP(resp *http.Response, snippet string, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	msg := fmt.Sprintf("HTTP %d", code)
	if snippet != "" {
		msg += ": " + snippet
	}
	e := &DeliveryError{StatusCode: code, Err: errors.New(msg)}
	if code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500 {
		e.Retryable = true
		e.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return e
}

// MaxRetryAfter caps a receiver's Retry-After, so a hostile or broken header cannot park a message forever (the
// dead-letter deadline still applies).
const MaxRetryAfter = 6 * time.Hour

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Invalid, negative
// or past values give 0; values are capped at MaxRetryAfter.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}

// classifySMTP judges an SMTP error: 4yz replies are transient (retryable), 5yz permanent (RFC 5321 §4.2.1);
// anything else is judged by its cause.
func classifySMTP(stage string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		e := &DeliveryError{StatusCode: te.Code, Err: fmt.Errorf("smtp %s: %d %s", stage, te.Code, te.Msg)}
		e.Retryable = te.Code >= 400 && te.Code < 500
		return e
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return err
	}
	return &DeliveryError{Retryable: retryableCause(err), Err: fmt.Errorf("smtp %s: %w", stage, err)}
}
