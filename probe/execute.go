// Package probe runs Firebreak's health probes: the Gatus condition language, the HTTP and TCP executors and the
// Runner that claims due probes from the database, checks them and records the results in batches.
//
// Every check is a single attempt, by design: the probe's FailureThreshold and SuccessThreshold are its retry
// policy (a failure counts only after several in a row), so an executor never retries, and each attempt is bounded
// by the probe's Timeout.
//
// [RESPONSE_TIME] and ProbeResult.LatencyMS are, as in Gatus, the time until the response headers arrived (HTTP;
// including DNS, connection and TLS when the connection is new) or until the connection was open (TCP). The body
// is read (at most 1 MiB) only when a condition looks at it.
package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/firebreak/firebreak"
)

// MaxBody is how much of a response body conditions see.
const MaxBody = 1 << 20

// MaxRedirects is how many redirects an HTTP probe follows.
const MaxRedirects = 10

// UserAgent is sent by HTTP probes that set none.
const UserAgent = "Firebreak-Probe/1"

// Checker executes probes. It holds the shared HTTP transports (connections are kept alive between checks) and a
// cache of compiled conditions. It is safe for concurrent use.
type Checker struct {
	secure, insecure *http.Client
	dialer           net.Dialer

	mu    sync.RWMutex
	conds map[string]*Condition
}

// maxCachedConditions bounds the compiled-condition cache (it is emptied when full).
const maxCachedConditions = 100_000

// NewChecker returns a Checker.
func NewChecker() *Checker {
	c := &Checker{conds: map[string]*Condition{}}
	c.dialer = net.Dialer{KeepAlive: 30 * time.Second}
	c.secure = c.newClient(false)
	c.insecure = c.newClient(true)
	return c
}

func (c *Checker) newClient(insecure bool) *http.Client {
	t := &http.Transport{
		Proxy:       nil, // probes check the target itself
		DialContext: c.dialer.DialContext,
		// Thousands of probes: keep connections to the targets alive between checks, but bound what idles.
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   4, // checks of one host are spread over its interval: a few warm connections suffice, and each idle one holds ~30 KB
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   0, // the probe's timeout bounds everything
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: insecure}, //nolint:gosec // per probe, on request
	}
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return errTooManyRedirects
			}
			return nil
		},
	}
}

var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", MaxRedirects)

// Close closes the idle connections.
func (c *Checker) Close() {
	c.secure.CloseIdleConnections()
	c.insecure.CloseIdleConnections()
}

// conditions returns the compiled conditions of p (the defaults for its kind when it has none).
func (c *Checker) conditions(p *firebreak.Probe, kind firebreak.ProbeKind) (*Conditions, error) {
	if len(p.Conditions) == 0 {
		if kind == firebreak.ProbeTCP {
			return defaultTCP, nil
		}
		return defaultHTTP, nil
	}
	cs := &Conditions{list: make([]*Condition, 0, len(p.Conditions))}
	for _, s := range p.Conditions {
		c.mu.RLock()
		cond := c.conds[s]
		c.mu.RUnlock()
		if cond == nil {
			var err error
			if cond, err = Compile(s); err != nil {
				return nil, fmt.Errorf("invalid condition %q: %v", s, err)
			}
			c.mu.Lock()
			if len(c.conds) >= maxCachedConditions {
				clear(c.conds)
			}
			c.conds[s] = cond
			c.mu.Unlock()
		}
		cs.add(cond)
	}
	return cs, nil
}

// Execute checks p once with c (nil: a Checker for this call only) and returns the result. It never panics on
// a bad probe: an invalid URL or condition is a failed result with an Error.
func Execute(ctx context.Context, p *firebreak.Probe, c *Checker) firebreak.ProbeResult {
	if c == nil {
		c = NewChecker()
		defer c.Close()
	}
	return c.Execute(ctx, p)
}

// Execute checks p once; see the package function Execute.
func (c *Checker) Execute(ctx context.Context, p *firebreak.Probe) firebreak.ProbeResult {
	res := firebreak.ProbeResult{At: time.Now()}
	kind := p.Kind
	u, err := url.Parse(p.URL)
	if err != nil || u.Host == "" {
		res.Error = "invalid URL"
		return res
	}
	if kind == "" {
		kind = firebreak.ProbeHTTP
		if u.Scheme == "tcp" {
			kind = firebreak.ProbeTCP
		}
	}
	conds, err := c.conditions(p, kind)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	timeout := time.Duration(p.Timeout)
	if timeout <= 0 {
		timeout = firebreak.DefaultProbeTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var obs Observation
	switch kind {
	case firebreak.ProbeTCP:
		err = c.tcp(cctx, u, &obs)
	default:
		err = c.http(cctx, p, u, conds.NeedsBody(), &obs)
	}
	res.LatencyMS = float64(obs.ResponseTime.Microseconds()) / 1000
	res.StatusCode = obs.Status
	if obs.HasCert {
		t := obs.notAfter.UTC()
		res.CertExpiresAt = &t
	}
	if err != nil {
		res.Error = describeError(cctx, ctx, err, timeout)
		if !conds.connected {
			// Nothing to evaluate: conditions on an answer that never came would only mislead.
			return res
		}
	}
	res.Success, res.FailedConditions = conds.Evaluate(&obs)
	return res
}

func (c *Checker) tcp(ctx context.Context, u *url.URL, obs *Observation) error {
	start := time.Now()
	conn, err := c.dialer.DialContext(ctx, "tcp", u.Host)
	obs.ResponseTime = time.Since(start)
	if err != nil {
		return err
	}
	obs.Connected = true
	return conn.Close()
}

func (c *Checker) http(ctx context.Context, p *firebreak.Probe, u *url.URL, needsBody bool, obs *Observation) error {
	method := p.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if p.Body != "" {
		body = strings.NewReader(p.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return err
	}
	for k, v := range p.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", UserAgent)
	}
	client := c.secure
	if p.InsecureSkipVerify {
		client = c.insecure
	}
	start := time.Now()
	resp, err := client.Do(req)
	obs.ResponseTime = time.Since(start)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	obs.Connected = true
	obs.Status = resp.StatusCode
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		obs.HasCert = true
		obs.notAfter = resp.TLS.PeerCertificates[0].NotAfter
		obs.CertExpiry = time.Until(obs.notAfter)
	}
	if !needsBody {
		// Drain a little so that the connection can be reused; a large body closes it instead.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	obs.Body = b
	if err != nil {
		return fmt.Errorf("reading the body: %w", err)
	}
	return nil
}

// describeError turns an error into a short human sentence: "timeout after 2s", "connection refused".
func describeError(cctx, parent context.Context, err error, timeout time.Duration) string {
	switch {
	case parent.Err() != nil:
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(cctx.Err(), context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout after " + timeout.String()
	case errors.Is(err, errTooManyRedirects):
		return errTooManyRedirects.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "no such host " + dnsErr.Name
		}
		return "DNS lookup of " + dnsErr.Name + " failed"
	}
	var certInvalid x509.CertificateInvalidError
	if errors.As(err, &certInvalid) {
		switch certInvalid.Reason {
		case x509.Expired:
			if certInvalid.Cert != nil && time.Now().After(certInvalid.Cert.NotAfter) {
				return "x509: certificate has expired"
			}
			return "x509: certificate has expired or is not yet valid"
		}
		return short(certInvalid.Error())
	}
	var unknownAuth x509.UnknownAuthorityError
	if errors.As(err, &unknownAuth) {
		return "x509: certificate signed by unknown authority"
	}
	var hostErr x509.HostnameError
	if errors.As(err, &hostErr) {
		return short(hostErr.Error())
	}
	var recordErr tls.RecordHeaderError
	if errors.As(err, &recordErr) {
		return "tls: the server did not answer TLS (is it plain HTTP?)"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	return short(err.Error())
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
