// Package web serves Firebreak over HTTP: the JSON API under /api/v1, the web console, the operational endpoints
// (/healthz, /readyz, /metrics) and the public status page (/status). It depends only on the domain interfaces.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/firebreak/firebreak"
)

// Sessions stores web console login sessions (secrets are stored hashed).
type Sessions interface {
	CreateSession(ctx context.Context, userID string, ttl time.Duration) (string, error)
	AuthenticateSession(ctx context.Context, secret string) (firebreak.Actor, error)
	DeleteSession(ctx context.Context, secret string) error
}

// Live tells when an incident's timeline has new events, in this process or (PostgreSQL) another replica.
type Live interface {
	Subscribe(incidentID string) (<-chan struct{}, func())
}

// Config is everything the HTTP layer needs. All fields but Now, Logger, Registry and Severities are required.
type Config struct {
	Incidents firebreak.IncidentService
	Catalog   firebreak.CatalogService
	Users     firebreak.UserService
	Sessions  Sessions
	Live      Live
	// Alerts receives alerts from monitoring tools (optional: without it the intake, integration and alert routes
	// are not registered).
	Alerts firebreak.AlertService
	// Probes keeps health probes (optional: when nil and Alerts is also a ProbeService, that is used; without
	// one the probe routes and pages are not registered).
	Probes firebreak.ProbeService
	// ProbeWake is called after a probe is created or changed so that the probe runner checks it at once
	// (optional).
	ProbeWake func()
	// PublicURL is where users and monitoring tools reach the server, e.g. https://firebreak.example.com; it
	// prefixes the configuration snippets of new integrations. Empty: taken from the request (Host,
	// X-Forwarded-Proto).
	PublicURL string
	// Ready reports whether the database is reachable and its migrations current (/readyz).
	Ready func(ctx context.Context) error
	// IncidentCounts feeds the firebreak_incidents gauge.
	IncidentCounts func(ctx context.Context) (map[firebreak.Status]map[firebreak.Severity]int, error)
	Severities     []firebreak.SeverityPolicy
	Now            func() time.Time
	Logger         *slog.Logger
	Registry       prometheus.Registerer
	// MaxBodyBytes limits request bodies (default 1 MiB).
	MaxBodyBytes int64
	// SessionTTL is how long a console login lasts (default 12 h).
	SessionTTL time.Duration
	// SecureCookies marks cookies Secure (set when served over HTTPS).
	SecureCookies bool
	// LivePollInterval is how often a live timeline stream re-reads the timeline in case a wake-up from Live was
	// missed (default 10 s). Wake-ups deliver new events at once; the poll is only a safety net.
	LivePollInterval time.Duration
	// IntakeRate and IntakeBurst override the per-integration intake rate limit (requests per second, sustained,
	// and at once); zero: the defaults IntakeRate and IntakeBurst. Load tests raise them.
	IntakeRate  float64
	IntakeBurst float64
}

// Server is the HTTP handler of Firebreak.
type Server struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	handler http.Handler
	metrics *httpMetrics
	// routes records every API route pattern registered, for the OpenAPI consistency test.
	apiRoutes []string
	// closing is closed by CloseStreams when the server shuts down: long-lived responses (SSE) must end then,
	// or a graceful shutdown would wait for them until its timeout.
	closing   chan struct{}
	closeOnce sync.Once
	// intakeLimit rate-limits alert intake per integration.
	intakeLimit *intakeLimiter
}

// CloseStreams ends every long-lived response (Server-Sent Events). Call it when shutdown begins
// (http.Server.RegisterOnShutdown); ordinary in-flight requests are unaffected and finish normally.
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.closing) }) }

// Closing is closed when the server shuts down; streaming handlers select on it.
func (s *Server) Closing() <-chan struct{} { return s.closing }

// New builds the server and registers every route.
func New(cfg Config) (*Server, error) {
	if cfg.Incidents == nil || cfg.Catalog == nil || cfg.Users == nil || cfg.Sessions == nil || cfg.Live == nil ||
		cfg.Ready == nil || cfg.IncidentCounts == nil {
		return nil, errors.New("web: Config is missing a required service")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.LivePollInterval <= 0 {
		cfg.LivePollInterval = defaultLivePollInterval
	}
	if len(cfg.Severities) == 0 {
		cfg.Severities = firebreak.DefaultSeverityPolicies()
	}
	if cfg.IntakeRate <= 0 {
		cfg.IntakeRate = IntakeRate
	}
	if cfg.IntakeBurst <= 0 {
		cfg.IntakeBurst = IntakeBurst
	}
	m, err := newHTTPMetrics(cfg.Registry, cfg.IncidentCounts)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), metrics: m, closing: make(chan struct{})}
	s.intakeLimit = newIntakeLimiter(cfg.IntakeRate, cfg.IntakeBurst, cfg.Now)
	s.routesOps()
	if cfg.Alerts != nil {
		s.routesIntake()
	}
	if cfg.Probes == nil {
		s.cfg.Probes, _ = cfg.Alerts.(firebreak.ProbeService)
	}
	s.routesAPI()
	s.routesProbesAPI()
	s.routesPostmortemsAPI() // post-mortems, when Incidents is also a PostmortemService (api_postmortems.go)
	// Teams, on-call schedules and calendar feeds (api_oncall.go).
	s.routesOnCallAPI()
	if cfg.Alerts != nil {
		s.routesNoise() // maintenance windows and the noise report (api_noise.go)
	}
	// The public status page and its components API (status_page.go).
	s.routesStatus()
	// Knowledge base search (api_search.go).
	s.routesSearchAPI()
	s.routesFollowThroughAPI() // follow-up reviews (api_followthrough.go)
	// Related and recurring incidents (api_related.go).
	s.routesRelatedAPI()
	// Notification channels and the outbox's operator view (api_channels.go).
	s.routesChannelsAPI()
	s.routesEscalationAPI() // escalation policies (api_escalation.go)
	// Change control during incidents and runbooks (api_changecontrol.go, api_runbooks.go).
	s.routesChangeControlAPI()
	s.routesRunbooksAPI()
	if err := s.routesMetrics(); err != nil { // incident metrics and their gauges (api_metrics.go)
		return nil, err
	}
	s.routesConsole()
	s.handler = s.withRequestContext(s.withRecover(s.withMetrics(s.withAuth(routeCapture(s.mux)))))
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// api registers an API route under /api/v1 that needs at least role need.
// pattern is "METHOD /path" without the /api/v1 prefix, e.g. "GET /incidents/{id}".
func (s *Server) api(pattern string, need firebreak.UserRole, h http.HandlerFunc) {
	method, path, _ := cutPattern(pattern)
	full := method + " /api/v1" + path
	s.apiRoutes = append(s.apiRoutes, full)
	s.mux.Handle(full, s.requireRole(need, h))
}

// APIRoutes returns the registered API route patterns ("METHOD /api/v1/…").
func (s *Server) APIRoutes() []string { return append([]string(nil), s.apiRoutes...) }

func cutPattern(p string) (method, path string, ok bool) {
	for i := 0; i < len(p); i++ {
		if p[i] == ' ' {
			return p[:i], p[i+1:], true
		}
	}
	return "", p, false
}

func (s *Server) routesOps() {
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			// The detail (database address, user) goes to the log only: /readyz needs no login.
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	s.mux.Handle("GET /metrics", s.metrics.handler())
}
