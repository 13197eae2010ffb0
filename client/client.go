// Package client is the Go client of the Firebreak HTTP API. A *Client implements the domain's IncidentService
// and CatalogService over HTTP, so code written against those interfaces runs the same against a local store or
// a remote server; server errors come back as *firebreak.Error with the same codes the store uses.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// Compile-time checks: the client speaks the domain's service interfaces.
var (
	_ firebreak.IncidentService = (*Client)(nil)
	_ firebreak.CatalogService  = (*Client)(nil)
)

// DefaultTimeout bounds each HTTP request of a client made without WithHTTPClient.
const DefaultTimeout = 30 * time.Second

// Client calls a Firebreak server. It is safe for concurrent use.
type Client struct {
	base     string // e.g. "https://firebreak.example.com", no trailing slash
	token    string
	hc       *http.Client
	attempts int
	backoff  time.Duration // first retry delay; doubles each time
	maxWait  time.Duration
	sleep    func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient uses hc for requests (its Timeout, Transport, …) instead of a client with DefaultTimeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetries sets how many times a retryable request is tried in all (at least 1; default 4) and the first
// backoff delay (default 200 ms), which doubles on each retry up to 5 s, with full jitter.
func WithRetries(attempts int, firstBackoff time.Duration) Option {
	return func(c *Client) {
		c.attempts = max(attempts, 1)
		if firstBackoff > 0 {
			c.backoff = firstBackoff
		}
	}
}

// New returns a client of the server at baseURL (scheme and host, optionally a path prefix; /api/v1 is added)
// authenticating with the bearer token.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{
		base:     strings.TrimSuffix(strings.TrimSuffix(baseURL, "/"), "/api/v1"),
		token:    token,
		hc:       &http.Client{Timeout: DefaultTimeout},
		attempts: 4,
		backoff:  200 * time.Millisecond,
		maxWait:  5 * time.Second,
		sleep:    sleepCtx,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// request is one API call.
type request struct {
	method    string
	path      string // under /api/v1, already escaped
	query     url.Values
	body      any
	ifVersion int64
	idem      bool // a creating request: sends the context's Idempotency-Key
}

// response is what a call answered.
type response struct {
	status int
	header http.Header
}

// do sends the request, retrying when that is safe, and decodes a 2xx JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, rq request, out any) (*response, error) {
	var body []byte
	if rq.body != nil {
		var err error
		if body, err = json.Marshal(rq.body); err != nil {
			return nil, fmt.Errorf("client: encoding request: %w", err)
		}
	}
	u := c.base + "/api/v1" + rq.path
	if len(rq.query) > 0 {
		u += "?" + rq.query.Encode()
	}
	if _, err := url.Parse(u); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	var idemKey string
	if rq.idem {
		if i, ok := firebreak.IdempotencyFrom(ctx); ok {
			idemKey = i.Key
		}
	}
	// Only requests that cannot do something twice are retried: reads, and creations carrying an idempotency key.
	retryable := rq.method == http.MethodGet || rq.method == http.MethodHead || idemKey != ""
	attempts := 1
	if retryable {
		attempts = c.attempts
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, rq, u, body, idemKey)
		if err == nil && !retryStatus(resp.StatusCode) || attempt >= attempts || ctx.Err() != nil {
			if err != nil {
				return nil, err
			}
			return c.finish(resp, out)
		}
		wait := c.backoffFor(attempt)
		if resp != nil {
			if ra := retryAfter(resp.Header.Get("Retry-After")); ra > 0 {
				wait = min(ra, c.maxWait)
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (c *Client) send(ctx context.Context, rq request, u string, body []byte, idemKey string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if rq.ifVersion != 0 {
		req.Header.Set("If-Match", `"`+strconv.FormatInt(rq.ifVersion, 10)+`"`)
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", rq.method, rq.path, err)
	}
	return resp, nil
}

// backoffFor is the full-jitter exponential backoff before retry number attempt (1-based).
func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.maxWait
	if shift := attempt - 1; shift < 30 {
		if b := c.backoff << shift; b > 0 && b < d {
			d = b
		}
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func retryStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func (c *Client) finish(resp *http.Response, out any) (*response, error) {
	defer resp.Body.Close()
	r := &response{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r, decodeProblem(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, resp.Body)
		return r, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return r, fmt.Errorf("client: decoding %s answer: %w", resp.Request.URL.Path, err)
	}
	return r, nil
}

// problem is the RFC 9457 body the server sends with every refusal.
type problem struct {
	Type    string                 `json:"type"`
	Title   string                 `json:"title"`
	Status  int                    `json:"status"`
	Detail  string                 `json:"detail"`
	Errors  []firebreak.FieldError `json:"errors"`
	Allowed []string               `json:"allowed"`
}

// decodeProblem turns an error answer into a *firebreak.Error.
func decodeProblem(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &firebreak.Error{Code: CodeOf(resp.StatusCode)}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var p problem
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(raw, &p) == nil &&
		(p.Detail != "" || p.Title != "") {
		e.Message = p.Detail
		if e.Message == "" {
			e.Message = p.Title
		}
		e.Fields = p.Errors
		e.Allowed = p.Allowed
		return e
	}
	msg := strings.TrimSpace(string(raw))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	e.Message = resp.Status
	if msg != "" {
		e.Message += ": " + msg
	}
	return e
}

// CodeOf maps an HTTP status to the domain error code the server derived it from.
func CodeOf(status int) string {
	switch status {
	case http.StatusUnprocessableEntity:
		return firebreak.EInvalid
	case http.StatusBadRequest, http.StatusMethodNotAllowed:
		return firebreak.EBadRequest
	case http.StatusNotFound:
		return firebreak.ENotFound
	case http.StatusConflict:
		return firebreak.EConflict
	case http.StatusPreconditionFailed:
		return firebreak.EPreconditionFailed
	case http.StatusUnauthorized:
		return firebreak.EUnauthorized
	case http.StatusForbidden:
		return firebreak.EForbidden
	case http.StatusRequestEntityTooLarge:
		return firebreak.ETooLarge
	}
	return firebreak.EInternal
}

// page is the list envelope.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// all follows next_cursor through every page of a list.
func all[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	out := []T{}
	q := url.Values{}
	if p, rawQuery, ok := strings.Cut(path, "?"); ok {
		path = p
		if parsed, err := url.ParseQuery(rawQuery); err == nil {
			q = parsed
		}
	}
	q.Set("limit", strconv.Itoa(firebreak.MaxLimit))
	for {
		var p page[T]
		if _, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q}, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out, nil
		}
		q.Set("cursor", p.NextCursor)
	}
}

func esc(s string) string { return url.PathEscape(s) }
