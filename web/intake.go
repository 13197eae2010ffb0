package web

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/intake"
)

// Alert intake: the endpoints monitoring tools post alerts to. They take no bearer token: the integration key
// (PagerDuty's routing_key, or the last path segment of a webhook URL) authenticates the sender.
//
//	POST /v2/enqueue                          PagerDuty Events API v2 (routing_key in the body)
//	POST /api/v1/intake/alertmanager/{key}    Prometheus Alertmanager webhook v4
//	POST /api/v1/intake/grafana/{key}         Grafana Alerting webhook (HMAC-verified when the integration has a secret)
//	POST /api/v1/intake/generic/{key}         Firebreak's generic JSON (intake/GENERIC.md)
//
// Every delivery is stored durably (IngestAlerts) before the answer. Each integration key may post
// IntakeRate requests per second on average, in bursts of up to IntakeBurst; beyond that the PagerDuty endpoint
// answers 429 (PagerDuty senders retry a 429) and the webhooks 503 (Alertmanager retries only 5xx), both with
// Retry-After.

// Per-key intake rate limit (a token bucket per integration, in this process's memory).
const (
	IntakeRate  = 120 // requests per second, sustained
	IntakeBurst = 240 // requests at once
)

// PagerDutyEnqueuePath is the PagerDuty-compatible Events API v2 endpoint.
const PagerDutyEnqueuePath = "/v2/enqueue"

// intakeLimiter is a token bucket per integration ID.
type intakeLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newIntakeLimiter(rate, burst float64, now func() time.Time) *intakeLimiter {
	return &intakeLimiter{rate: rate, burst: burst, buckets: map[string]*bucket{}, now: now}
}

// allow takes a token for key; when none is left it returns false and how long until one is.
func (l *intakeLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 100000 { // forget idle buckets rather than grow without bound
			for k, ob := range l.buckets {
				if now.Sub(ob.last).Seconds()*l.rate >= l.burst {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// intake registers an intake route under /api/v1 without bearer authentication, and records it for the
// OpenAPI document like api does.
func (s *Server) intake(pattern string, h http.HandlerFunc) {
	method, path, _ := cutPattern(pattern)
	full := method + " " + APIPrefix + path
	s.apiRoutes = append(s.apiRoutes, full)
	s.mux.Handle(full, h)
}

func (s *Server) routesIntake() {
	s.mux.HandleFunc("POST "+PagerDutyEnqueuePath, s.pagerDutyEnqueue)
	s.intake("POST /intake/alertmanager/{key}", s.webhookIntake(firebreak.IntegrationAlertmanager, intake.ParseAlertmanagerV4))
	s.intake("POST /intake/grafana/{key}", s.webhookIntake(firebreak.IntegrationGrafana, intake.ParseGrafana))
	s.intake("POST /intake/generic/{key}", s.webhookIntake(firebreak.IntegrationGeneric, intake.ParseGeneric))
}

// readIntakeBody reads at most intake.MaxBodyBytes; tooLarge reports a longer body.
func readIntakeBody(w http.ResponseWriter, r *http.Request) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, intake.MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, true, nil
	}
	return body, false, err
}

// toAlertEvents converts parsed events to the domain's.
func toAlertEvents(evs []intake.Event) []firebreak.AlertEvent {
	out := make([]firebreak.AlertEvent, 0, len(evs))
	for _, e := range evs {
		labels := e.Labels
		if e.Format == intake.FormatPagerDuty {
			// PD-CEF fields that have no home of their own become labels.
			for k, v := range map[string]string{"component": e.Component, "group": e.Group, "class": e.Class} {
				if v == "" {
					continue
				}
				if labels == nil {
					labels = map[string]string{}
				}
				labels[k] = v
			}
		}
		links := make([]firebreak.AlertLink, 0, len(e.Links)+1)
		for _, l := range e.Links {
			links = append(links, firebreak.AlertLink{Href: l.Href, Text: l.Text})
		}
		if e.ClientURL != "" {
			links = append(links, firebreak.AlertLink{Href: e.ClientURL, Text: e.Client})
		}
		out = append(out, firebreak.AlertEvent{
			Action: e.Action, DedupKey: e.DedupKey, Summary: e.Summary, Severity: firebreak.AlertSeverity(e.Severity),
			Source: e.Source, Labels: labels, Annotations: e.Annotations, Details: string(e.Details), Links: links,
			StartsAt: e.StartsAt, EndsAt: e.EndsAt,
		})
	}
	return out
}

// pagerDutyAnswer writes a PagerDuty-style body.
func pagerDutyAnswer(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func pagerDutyInvalid(msg string) []byte {
	return (&intake.PagerDutyError{Status: "invalid event", Message: "Event object is invalid", Errors: []string{msg}}).Body()
}

// pagerDutyEnqueue is the PagerDuty Events API v2 endpoint. Answers are PagerDuty's: 202 with
// {"status","message","dedup_key"}; 400 with {"status","message","errors"} for an invalid event, an unknown
// routing key or a key of another kind of integration (the same answer for every key we do not accept, so the
// answer never tells which keys exist); 413 for a body over 512 KiB; 429 with Retry-After over the rate limit;
// 500 when the event could not be stored (senders retry it).
func (s *Server) pagerDutyEnqueue(w http.ResponseWriter, r *http.Request) {
	var ev intake.Event
	integ, ok := s.pagerDutyIntake(w, r, "pagerduty intake", func(body []byte) (string, error) {
		var err error
		ev, err = intake.ParsePagerDutyV2(body)
		return ev.RoutingKey, err
	})
	if !ok {
		return
	}
	err := s.cfg.Alerts.RecordAlerts(r.Context(), integ.ID, toAlertEvents([]intake.Event{ev}))
	if !s.pagerDutyStored(w, r, "pagerduty intake", err) {
		return
	}
	pagerDutyAnswer(w, http.StatusAccepted, intake.PagerDutyAccepted(ev.DedupKey))
}

// pagerDutyIntake does what both PagerDuty endpoints share: read the body within the limit, parse it, check that
// the routing key is a PagerDuty integration's and that the integration is within its rate. It answers every
// refusal itself, with PagerDuty's bodies, and then returns ok=false.
func (s *Server) pagerDutyIntake(w http.ResponseWriter, r *http.Request, what string,
	parse func(body []byte) (routingKey string, err error)) (integ *firebreak.Integration, ok bool) {
	body, tooLarge, err := readIntakeBody(w, r)
	if tooLarge {
		pagerDutyAnswer(w, http.StatusRequestEntityTooLarge,
			pagerDutyInvalid(fmt.Sprintf("Request body is larger than %d bytes", intake.MaxBodyBytes)))
		return nil, false
	}
	if err != nil {
		pagerDutyAnswer(w, http.StatusBadRequest, pagerDutyInvalid("Request body could not be read"))
		return nil, false
	}
	key, err := parse(body)
	var pde *intake.PagerDutyError
	if errors.As(err, &pde) {
		status := pde.StatusCode()
		if errors.Is(err, intake.ErrBodyTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		pagerDutyAnswer(w, status, pde.Body())
		return nil, false
	}
	if err != nil {
		pagerDutyAnswer(w, http.StatusBadRequest, pagerDutyInvalid(err.Error()))
		return nil, false
	}
	integ, err = s.cfg.Alerts.AuthenticateIntegration(r.Context(), key)
	if err != nil || integ.Kind != firebreak.IntegrationPagerDuty {
		if err != nil && firebreak.ErrorCode(err) != firebreak.EUnauthorized && firebreak.ErrorCode(err) != firebreak.ENotFound {
			s.pagerDutyInternal(w, r, what+": authenticating", err)
			return nil, false
		}
		pagerDutyAnswer(w, http.StatusBadRequest, pagerDutyInvalid("Invalid routing key"))
		return nil, false
	}
	if allowed, wait := s.intakeLimit.allow(integ.ID); !allowed {
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		pagerDutyAnswer(w, http.StatusTooManyRequests, (&intake.PagerDutyError{Status: "throttle event",
			Message: "Requests for this service are arriving too quickly. Please retry later.", Errors: []string{}}).Body())
		return nil, false
	}
	return integ, true
}

// pagerDutyStored answers a failure to store a PagerDuty event (400 for bad input, 500 otherwise, which senders
// retry) and reports whether storing succeeded.
func (s *Server) pagerDutyStored(w http.ResponseWriter, r *http.Request, what string, err error) bool {
	if err == nil {
		return true
	}
	if code := firebreak.ErrorCode(err); code == firebreak.EInvalid || code == firebreak.EBadRequest {
		pagerDutyAnswer(w, http.StatusBadRequest, pagerDutyInvalid(firebreak.ErrorMessage(err)))
		return false
	}
	s.pagerDutyInternal(w, r, what+": storing", err)
	return false
}

func (s *Server) pagerDutyInternal(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), what, "err", err.Error())
	pagerDutyAnswer(w, http.StatusInternalServerError, (&intake.PagerDutyError{Status: "error",
		Message: "Internal error", Errors: []string{}}).Body())
}

// IntakeResult is the answer of the webhook intake endpoints.
type IntakeResult struct {
	// Alerts is how many alerts the delivery held (all stored).
	Alerts int `json:"alerts"`
}

var errUnknownIntegration = firebreak.Errorf(firebreak.ENotFound, "unknown integration")

// webhookIntake serves one webhook format. Answers: 200 {"alerts":N} once stored; 400 naming the field for a
// payload that does not parse; 401 for a missing or bad Grafana signature; 404 for a key that is unknown or
// belongs to another kind of integration; 413 over 512 KiB or 10,000 alerts; 503 with Retry-After over the rate
// limit and 500 when storing fails (Alertmanager retries only 5xx).
func (s *Server) webhookIntake(kind firebreak.IntegrationKind, parse func([]byte) ([]intake.Event, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, tooLarge, err := readIntakeBody(w, r)
		if tooLarge {
			s.problem(w, r, firebreak.Errorf(firebreak.ETooLarge, "request body is larger than %d bytes", intake.MaxBodyBytes))
			return
		}
		if err != nil {
			s.problem(w, r, firebreak.Errorf(firebreak.EBadRequest, "request body could not be read"))
			return
		}
		integ, err := s.cfg.Alerts.AuthenticateIntegration(r.Context(), r.PathValue("key"))
		if err != nil {
			if c := firebreak.ErrorCode(err); c == firebreak.EUnauthorized || c == firebreak.ENotFound || c == firebreak.EInvalid {
				err = errUnknownIntegration
			}
			s.problem(w, r, err)
			return
		}
		if integ.Kind != kind {
			s.problem(w, r, errUnknownIntegration)
			return
		}
		if ok, wait := s.intakeLimit.allow(integ.ID); !ok {
			w.Header().Set("Retry-After", retryAfterSeconds(wait))
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			apiWriteBody(w, Problem{Type: ProblemTypeBase + "rate_limited", Title: http.StatusText(http.StatusServiceUnavailable),
				Status: http.StatusServiceUnavailable, Detail: "too many deliveries for this integration; retry later",
				Instance: r.URL.Path})
			return
		}
		if kind == firebreak.IntegrationGrafana && integ.SignatureSecret != "" {
			sig := r.Header.Get(intake.GrafanaSignatureHeader)
			if sig == "" || intake.VerifyGrafanaSignature([]byte(integ.SignatureSecret), body, "", sig) != nil {
				w.Header().Set("WWW-Authenticate", `HMAC-SHA256 header="`+intake.GrafanaSignatureHeader+`"`)
				s.problem(w, r, &firebreak.Error{Code: firebreak.EUnauthorized,
					Message: "missing or invalid " + intake.GrafanaSignatureHeader + " signature",
					Fields:  []firebreak.FieldError{{Field: intake.GrafanaSignatureHeader, Message: "must be the HMAC-SHA256 of the body"}}})
				return
			}
		}
		evs, err := parse(body)
		if err != nil {
			s.problem(w, r, intakeParseError(err))
			return
		}
		if err := s.cfg.Alerts.RecordAlerts(r.Context(), integ.ID, toAlertEvents(evs)); err != nil {
			s.problem(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, IntakeResult{Alerts: len(evs)})
	}
}

// intakeParseError turns a parser error into a problem: 413 for too much, 400 naming the field otherwise.
func intakeParseError(err error) error {
	code := firebreak.EBadRequest
	if errors.Is(err, intake.ErrBodyTooLarge) || errors.Is(err, intake.ErrTooManyAlerts) {
		code = firebreak.ETooLarge
	}
	var fe *intake.FieldError
	if errors.As(err, &fe) {
		return &firebreak.Error{Code: code, Message: fe.Field + ": " + fe.Msg,
			Fields: []firebreak.FieldError{{Field: fe.Field, Message: fe.Msg}}}
	}
	return &firebreak.Error{Code: code, Message: err.Error(), Fields: []firebreak.FieldError{{Field: "body", Message: err.Error()}}}
}
