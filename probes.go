package firebreak

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Health probes (Gatus-style): Firebreak checks an endpoint itself on an interval and evaluates conditions on the
// answer. A probe that fails FailureThreshold times in a row raises an alert (source "probe", dedup key
// "probe:<id>") through the same intake pipeline as every other alert, so routing, grouping, maintenance windows
// and flapping apply to it; SuccessThreshold successes in a row resolve it.
//
// The URL's scheme decides the kind: http:// and https:// make an HTTP probe (the request is sent, then the
// conditions are evaluated on the answer); tcp://host:port a TCP probe (a connection is opened and closed).
//
// Conditions are Gatus' syntax: "<left> <op> <right>", op one of == != < <= > >=, left and right a placeholder
// or a value. Placeholders: [STATUS] (HTTP status code), [RESPONSE_TIME] (milliseconds), [BODY] (the whole body)
// and [BODY].a.b[0].c (a JSON path into it), [CONNECTED] (true/false), [CERTIFICATE_EXPIRATION] (duration until
// the server certificate expires, compared with durations such as 48h). Functions: len([BODY].items) (length of
// a string or array), has([BODY].field) (present or not), pat(...) a pattern with * on the right side of == / !=.
// With no conditions an HTTP probe requires [STATUS] < 400 and a TCP probe [CONNECTED] == true.

// ProbeKind is what a probe checks; the URL's scheme decides it.
type ProbeKind string

const (
	ProbeHTTP ProbeKind = "http" // http:// or https://
	ProbeTCP  ProbeKind = "tcp"  // tcp://host:port
)

// ProbeState is where a probe's thresholds put it.
type ProbeState string

const (
	ProbeUnknown ProbeState = "unknown" // not checked enough yet
	ProbeUp      ProbeState = "up"
	ProbeDown    ProbeState = "down" // failed FailureThreshold times in a row: its alert fires
)

// Defaults and limits of a probe.
const (
	DefaultProbeInterval         = time.Minute
	DefaultProbeTimeout          = 10 * time.Second
	DefaultProbeFailureThreshold = 3
	DefaultProbeSuccessThreshold = 2
	MinProbeInterval             = time.Second
	MaxProbeInterval             = 24 * time.Hour
	MaxProbeTimeout              = time.Minute
	MaxProbeConditions           = 32
	MaxProbeThreshold            = 100
	// ProbeRecentResults is how many of its latest results a probe keeps.
	ProbeRecentResults = 100
)

// Duration is a time.Duration written in JSON (and YAML) as a Go duration string such as "30s" or "1m30s".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a duration such as \"30s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("must be a duration such as \"30s\"")
	}
	*d = Duration(v)
	return nil
}

// Probe is one health check.
type Probe struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`    // unique within the service
	Service string    `json:"service"` // slug
	Kind    ProbeKind `json:"kind"`    // from the URL
	URL     string    `json:"url"`
	// Method, Headers and Body are sent by HTTP probes (method default GET).
	Method     string            `json:"method"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body,omitempty"`
	Interval   Duration          `json:"interval"`
	Timeout    Duration          `json:"timeout"`
	Conditions []string          `json:"conditions"`
	// FailureThreshold failures in a row raise the alert; SuccessThreshold successes in a row resolve it.
	FailureThreshold int `json:"failure_threshold"`
	SuccessThreshold int `json:"success_threshold"`
	// Severity of the alert the probe raises (default critical: routed to a SEV2 by the default policy).
	Severity AlertSeverity `json:"severity"`
	// InsecureSkipVerify accepts any server certificate (the expiry condition still sees it).
	InsecureSkipVerify bool `json:"insecure_skip_verify"`
	Enabled            bool `json:"enabled"`

	State                ProbeState   `json:"state"`
	ConsecutiveFailures  int          `json:"consecutive_failures"`
	ConsecutiveSuccesses int          `json:"consecutive_successes"`
	LastResult           *ProbeResult `json:"last_result"`
	CreatedAt            time.Time    `json:"created_at"`
	UpdatedAt            time.Time    `json:"updated_at"`
}

// ProbeInput creates or replaces a probe. Zero values take the defaults; Enabled nil means true.
type ProbeInput struct {
	Name               string            `json:"name" yaml:"name"`
	Service            string            `json:"service" yaml:"service"`
	URL                string            `json:"url" yaml:"url"`
	Method             string            `json:"method,omitempty" yaml:"method"`
	Headers            map[string]string `json:"headers,omitempty" yaml:"headers"`
	Body               string            `json:"body,omitempty" yaml:"body"`
	Interval           Duration          `json:"interval,omitempty" yaml:"interval"`
	Timeout            Duration          `json:"timeout,omitempty" yaml:"timeout"`
	Conditions         []string          `json:"conditions,omitempty" yaml:"conditions"`
	FailureThreshold   int               `json:"failure_threshold,omitempty" yaml:"failure_threshold"`
	SuccessThreshold   int               `json:"success_threshold,omitempty" yaml:"success_threshold"`
	Severity           AlertSeverity     `json:"severity,omitempty" yaml:"severity"`
	InsecureSkipVerify bool              `json:"insecure_skip_verify,omitempty" yaml:"insecure_skip_verify"`
	Enabled            *bool             `json:"enabled,omitempty" yaml:"enabled"`
}

// ProbeConditionChecker validates one condition's syntax (the probe package provides it; the domain stays free
// of the condition language). Set by the probe package's init; nil skips the syntax check.
var ProbeConditionChecker func(cond string) error

// Validate checks the input and fills defaults. It returns the probe's kind.
func (in *ProbeInput) Validate() (ProbeKind, error) {
	var v Validation
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		v.Add("name", "is required")
	} else if strings.ContainsAny(in.Name, "\r\n") {
		v.Add("name", "must be one line")
	} else {
		v.Text("name", in.Name, MaxNameLen)
	}
	in.Service = strings.TrimSpace(in.Service)
	if in.Service == "" {
		v.Add("service", "is required")
	}
	kind := ProbeKind("")
	u, err := url.Parse(strings.TrimSpace(in.URL))
	switch {
	case strings.TrimSpace(in.URL) == "":
		v.Add("url", "is required")
	case err != nil || u.Host == "":
		v.Add("url", "must be an absolute http://, https:// or tcp://host:port URL")
	case u.Scheme == "http" || u.Scheme == "https":
		kind = ProbeHTTP
	case u.Scheme == "tcp":
		kind = ProbeTCP
		if _, port, err := net.SplitHostPort(u.Host); err != nil || port == "" {
			v.Add("url", "a tcp:// URL needs host:port")
		}
	default:
		v.Add("url", "scheme must be http, https or tcp")
	}
	in.URL = strings.TrimSpace(in.URL)
	v.Text("url", in.URL, 2048)
	in.Method = strings.ToUpper(strings.TrimSpace(in.Method))
	if kind == ProbeTCP && (in.Method != "" || in.Body != "" || len(in.Headers) > 0) {
		v.Add("method", "TCP probes send no HTTP request")
	}
	if kind == ProbeHTTP && in.Method == "" {
		in.Method = "GET"
	}
	switch in.Method {
	case "", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
	default:
		v.Add("method", "must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS")
	}
	for k, val := range in.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") || strings.ContainsAny(val, "\r\n") {
			v.Add("headers", "invalid header %q", k)
		}
	}
	v.Text("body", in.Body, 64<<10)
	if in.Interval == 0 {
		in.Interval = Duration(DefaultProbeInterval)
	}
	if in.Timeout == 0 {
		in.Timeout = Duration(min(DefaultProbeTimeout, time.Duration(in.Interval)))
	}
	if time.Duration(in.Interval) < MinProbeInterval || time.Duration(in.Interval) > MaxProbeInterval {
		v.Add("interval", "must be between 1s and 24h")
	}
	if in.Timeout <= 0 || time.Duration(in.Timeout) > MaxProbeTimeout {
		v.Add("timeout", "must be between 1ms and 1m")
	} else if in.Timeout > in.Interval {
		v.Add("timeout", "must not be longer than the interval")
	}
	if len(in.Conditions) > MaxProbeConditions {
		v.Add("conditions", "at most %d conditions", MaxProbeConditions)
	}
	for i, c := range in.Conditions {
		f := fmt.Sprintf("conditions[%d]", i)
		in.Conditions[i] = strings.TrimSpace(c)
		if v.Text(f, in.Conditions[i], 1024); ProbeConditionChecker != nil {
			if err := ProbeConditionChecker(in.Conditions[i]); err != nil {
				v.Add(f, "%s", err.Error())
			}
		}
	}
	if in.FailureThreshold == 0 {
		in.FailureThreshold = DefaultProbeFailureThreshold
	}
	if in.SuccessThreshold == 0 {
		in.SuccessThreshold = DefaultProbeSuccessThreshold
	}
	if in.FailureThreshold < 1 || in.FailureThreshold > MaxProbeThreshold {
		v.Add("failure_threshold", "must be between 1 and %d", MaxProbeThreshold)
	}
	if in.SuccessThreshold < 1 || in.SuccessThreshold > MaxProbeThreshold {
		v.Add("success_threshold", "must be between 1 and %d", MaxProbeThreshold)
	}
	if in.Severity == "" {
		in.Severity = AlertCritical
	}
	switch in.Severity {
	case AlertCritical, AlertError, AlertWarning, AlertInfo:
	default:
		v.Add("severity", "must be critical, error, warning or info")
	}
	if in.Enabled == nil {
		t := true
		in.Enabled = &t
	}
	return kind, v.Err()
}

// ProbeResult is one check of a probe.
type ProbeResult struct {
	At      time.Time `json:"at"`
	Success bool      `json:"success"`
	// LatencyMS is the time to the answer (HTTP: until the response headers arrive, as Gatus measures; TCP: the
	// connection), in milliseconds.
	LatencyMS  float64 `json:"latency_ms"`
	StatusCode int     `json:"status_code,omitempty"`
	// Error says why the check could not be made (timeout, refused, TLS ...); empty when it got an answer.
	Error string `json:"error,omitempty"`
	// FailedConditions are the conditions that did not hold, each with the value seen:
	// "[STATUS] (503) == 200".
	FailedConditions []string   `json:"failed_conditions,omitempty"`
	CertExpiresAt    *time.Time `json:"cert_expires_at,omitempty"`
}

// ProbeRun is one result of one probe, as the probe runner reports it.
type ProbeRun struct {
	ProbeID string
	Result  ProbeResult
}

// ProbeWindowStats summarizes a probe's results over a window ending now.
type ProbeWindowStats struct {
	Window        string   `json:"window"` // "24h" or "7d"
	Checks        int64    `json:"checks"`
	Successes     int64    `json:"successes"`
	UptimePercent *float64 `json:"uptime_percent"` // nil without checks
	// Latency percentiles in milliseconds (nil without checks), from a histogram with buckets about 10% wide.
	P50MS *float64 `json:"p50_ms"`
	P90MS *float64 `json:"p90_ms"`
	P99MS *float64 `json:"p99_ms"`
}

// ProbeStatus is a probe with its recent results and window statistics.
type ProbeStatus struct {
	Probe   Probe              `json:"probe"`
	Recent  []ProbeResult      `json:"recent"` // newest first, at most ProbeRecentResults
	Windows []ProbeWindowStats `json:"windows"`
}

// ProbeFilter selects probes, in service then name order.
type ProbeFilter struct {
	Service string
}

// ProbeService keeps probes, their schedule and their results. Probes are addressed by ID.
//
// Errors: EInvalid (bad input naming the field, unknown service); ENotFound; EConflict (a name already used in
// the service).
type ProbeService interface {
	CreateProbe(ctx context.Context, in ProbeInput) (*Probe, error)
	// UpdateProbe replaces a probe's configuration (not its state or results).
	UpdateProbe(ctx context.Context, id string, in ProbeInput) (*Probe, error)
	DeleteProbe(ctx context.Context, id string) error
	GetProbe(ctx context.Context, id string) (*ProbeStatus, error)
	ListProbes(ctx context.Context, f ProbeFilter) ([]Probe, error)
	// ApplyProbes makes the probes named in a configuration file exist as given (created or replaced, matched by
	// service and name); probes not in the list are left alone.
	ApplyProbes(ctx context.Context, ins []ProbeInput) ([]Probe, error)

	// ClaimDueProbes returns up to limit enabled probes whose next check is due at now and moves their next check
	// one interval on, so that no other runner (replica) claims them until then.
	ClaimDueProbes(ctx context.Context, now time.Time, limit int) ([]Probe, error)
	// NextProbeDue is when the earliest enabled probe is next due (zero: no enabled probe).
	NextProbeDue(ctx context.Context) (time.Time, error)
	// RecordProbeResults stores results (in one transaction): recent results, window statistics, consecutive
	// counts, state, and the alert that crossing a threshold raises or resolves. Results of deleted probes are
	// dropped.
	RecordProbeResults(ctx context.Context, runs []ProbeRun) error
}
