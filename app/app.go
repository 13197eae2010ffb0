// Package app wires Firebreak together: configuration, database, HTTP server, metrics and logging. main builds an
// App; tests build one on 127.0.0.1:0 with a temporary data directory.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/probe"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/web"
)

// Config is the server's configuration. Load fills it from flags and FIREBREAK_* variables.
type Config struct {
	Addr        string // FIREBREAK_ADDR, default 127.0.0.1:8080
	DataDir     string // FIREBREAK_DATA_DIR, default ./firebreak-data
	DatabaseURL string // FIREBREAK_DATABASE_URL; empty: SQLite in DataDir
	AdminToken  string // FIREBREAK_ADMIN_TOKEN: an admin API token with exactly this value exists after start
	// Notifications configures notification delivery (SMTP, attempt timeout, update reminders).
	Notifications NotificationConfig
	// Escalation is the severity escalation criteria and whom they page; nil: firebreak.DefaultEscalationCriteria.
	Escalation *firebreak.EscalationCriteria
	// EscalationLease is how long a replica's claim on a due escalation step or criterion lasts (zero: 30 s): a
	// replica that dies holding a claim delays that step by up to this long.
	EscalationLease time.Duration
	// FollowThrough is the overdue and follow-up review reminder cadence, the close policy and the post-mortem
	// on-time target (zero fields: the defaults).
	FollowThrough firebreak.FollowThroughPolicy
	// PublicURL is where users reach the server (for links and cookies); default http://<Addr>.
	PublicURL string // FIREBREAK_PUBLIC_URL
	Demo      bool   // load demo data on start (once)
	// ShutdownTimeout bounds how long in-flight requests may finish after a stop signal.
	ShutdownTimeout time.Duration
	Severities      []firebreak.SeverityPolicy
	LogLevel        slog.Level
	// IntakeRate and IntakeBurst override the per-integration alert intake rate limit (zero: web.IntakeRate
	// and web.IntakeBurst); the load command's --local server raises them.
	IntakeRate  float64
	IntakeBurst float64
	// Probes are health probes from the configuration file, applied (created or replaced, matched by service
	// and name) when the app opens.
	Probes []firebreak.ProbeInput
}

// Defaults returns the built-in defaults overlaid with FIREBREAK_* environment variables.
func Defaults() Config {
	c := BuiltinDefaults()
	c.ApplyEnv()
	return c
}

// BuiltinDefaults returns the configuration used when nothing is set.
func BuiltinDefaults() Config {
	return Config{Addr: "127.0.0.1:8080", DataDir: "./firebreak-data", ShutdownTimeout: 30 * time.Second,
		Severities: firebreak.DefaultSeverityPolicies()}
}

// ApplyEnv overrides c with the FIREBREAK_* environment variables that are set.
func (c *Config) ApplyEnv() {
	for name, dst := range map[string]*string{"FIREBREAK_ADDR": &c.Addr, "FIREBREAK_DATA_DIR": &c.DataDir,
		"FIREBREAK_DATABASE_URL": &c.DatabaseURL, "FIREBREAK_ADMIN_TOKEN": &c.AdminToken,
		"FIREBREAK_PUBLIC_URL": &c.PublicURL} {
		if v := os.Getenv(name); v != "" {
			*dst = v
		}
	}
}

// Validate reports every problem with the configuration at once.
func (c Config) Validate() error {
	var problems []string
	if c.Addr == "" {
		problems = append(problems, "addr must not be empty")
	} else if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		problems = append(problems, fmt.Sprintf("addr %q must be host:port", c.Addr))
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		problems = append(problems, "data dir must not be empty when no database URL is set")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		problems = append(problems, "admin token must be at least 16 characters")
	}
	if err := firebreak.ValidateSeverityPolicies(c.Severities); err != nil {
		problems = append(problems, err.Error())
	}
	if c.Escalation != nil {
		if err := c.Escalation.Validate(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if c.EscalationLease < 0 {
		problems = append(problems, fmt.Sprintf("escalation.lease must be a positive duration, not %s", c.EscalationLease))
	}
	if p := c.Notifications.leaseProblem(); p != "" {
		problems = append(problems, p)
	}
	if err := c.FollowThrough.Validate(); err != nil {
		problems = append(problems, "follow_through: "+err.Error())
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		problems = append(problems, "public URL must start with http:// or https://")
	}
	if len(problems) > 0 {
		return errors.New("invalid configuration: " + strings.Join(problems, "; "))
	}
	return nil
}

// Clock is the App's clock: real time, unless a loader of historical data (the demo) pins it.
type Clock struct{ pinned atomic.Pointer[time.Time] }

// Now returns the pinned time or the real time.
func (c *Clock) Now() time.Time {
	if t := c.pinned.Load(); t != nil {
		return *t
	}
	return time.Now().UTC()
}

// Pin makes Now return t until Unpin.
func (c *Clock) Pin(t time.Time) { c.pinned.Store(&t) }

// Unpin returns the clock to real time.
func (c *Clock) Unpin() { c.pinned.Store(nil) }

// App is a running Firebreak server.
type App struct {
	Config   Config
	Store    *sqlstore.Store
	Web      *web.Server
	Logger   *slog.Logger
	Clock    *Clock
	Registry *prometheus.Registry

	// AdminPassword is set when this start created the first admin account.
	AdminPassword string

	srv       *http.Server
	listener  net.Listener
	stopMaint context.CancelFunc
	probes    *probe.Runner // nil when the store keeps no probes
	wg        sync.WaitGroup
	serveErr  chan error
}

// Open builds the App: opens (and migrates) the database, bootstraps the admin and builds the HTTP server. It
// does not listen yet; call Start.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*App, error) {
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if len(cfg.Severities) == 0 {
		cfg.Severities = firebreak.DefaultSeverityPolicies()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &App{Config: cfg, Logger: logger, Clock: &Clock{}, Registry: prometheus.NewRegistry()}
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st, err := sqlstore.Open(ctx, sqlstore.Options{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir,
		Now: a.Clock.Now, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("opening database: %w", err)
	}
	a.Store = st
	st.SetEscalationSettings(cfg.escalationCriteria(), cfg.Severities) // app/escalation.go
	st.SetFollowThroughPolicy(cfg.FollowThrough)
	pw, created, err := st.BootstrapAdmin(ctx)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("creating the first admin: %w", err)
	}
	// The first admin gets a password (for the console) before FIREBREAK_ADMIN_TOKEN adds its token to it.
	if created {
		a.AdminPassword = pw
	}
	if cfg.AdminToken != "" {
		if err := st.EnsureAdminToken(ctx, cfg.AdminToken); err != nil {
			st.Close()
			return nil, fmt.Errorf("creating the admin token: %w", err)
		}
	}
	probeWake, err := a.openProbes(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	a.Web, err = web.New(web.Config{
		Incidents: st, Catalog: st, Users: st, Sessions: st, Live: st,
		Alerts: st, PublicURL: cfg.PublicURL,
		Ready: st.Ping, IncidentCounts: st.IncidentCounts,
		Severities: cfg.Severities, Now: a.Clock.Now, Logger: logger, Registry: a.Registry,
		SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"),
		IntakeRate:    cfg.IntakeRate, IntakeBurst: cfg.IntakeBurst,
		ProbeWake: probeWake,
	})
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

// Start listens on the configured address and serves in the background. URL is valid afterwards.
func (a *App) Start() error {
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", a.Config.Addr, err)
	}
	a.listener = ln
	a.srv = &http.Server{
		Handler:           a.Web,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	a.srv.RegisterOnShutdown(a.Web.CloseStreams)
	maintCtx, stop := context.WithCancel(context.Background())
	a.stopMaint = stop
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.maintain(maintCtx) }()
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.runProbes(maintCtx) }()
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.runSearchIndexer(maintCtx) }()
	a.wg.Add(1)
	// Paging work has database connections of its own (sqlstore.Reserved): an alert storm must not starve it.
	go func() { defer a.wg.Done(); a.runNotifications(sqlstore.Reserved(maintCtx)) }()
	a.wg.Add(1)
	go func() { defer a.wg.Done(); a.runEscalations(sqlstore.Reserved(maintCtx)) }() // app/escalation.go
	a.serveErr = make(chan error, 1)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.serveErr <- err
		}
		close(a.serveErr)
	}()
	return nil
}

// URL is the base URL the server answers on.
func (a *App) URL() string {
	if a.Config.PublicURL != "" {
		return strings.TrimRight(a.Config.PublicURL, "/")
	}
	if a.listener == nil {
		return "http://" + a.Config.Addr
	}
	return "http://" + a.listener.Addr().String()
}

// Run serves until ctx is cancelled or the server fails, then shuts down gracefully: it stops accepting
// connections and lets in-flight requests finish (up to ShutdownTimeout) before closing the database.
func (a *App) Run(ctx context.Context) error {
	if a.srv == nil {
		if err := a.Start(); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
	case err, ok := <-a.serveErr:
		if ok && err != nil {
			return err
		}
	}
	return a.Shutdown()
}

// Shutdown stops the HTTP server gracefully and closes the database.
func (a *App) Shutdown() error {
	var errs []error
	if a.srv != nil {
		a.Logger.Info("shutting down: finishing in-flight requests", "timeout", a.Config.ShutdownTimeout)
		ctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
		defer cancel()
		if err := a.srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
		a.stopMaint()
		a.wg.Wait()
		a.srv = nil
	}
	if a.Store != nil {
		if err := a.Store.Close(); err != nil {
			errs = append(errs, err)
		}
		a.Store = nil
	}
	return errors.Join(errs...)
}

// Close is Shutdown for callers that only need cleanup.
func (a *App) Close() error { return a.Shutdown() }

// runSearchIndexer tokenizes the knowledge-base pieces written or edited since it last ran, which SQLite's
// search scoring reads (sqlstore.IndexSearchTerms): batches one after another while there is a backlog (after
// the upgrade that added it, every existing piece), then every two seconds. Every five minutes it also reads
// the common words' document counts (sqlstore.RefreshSearchStats) and prunes the log of edited pieces that
// searches read to forget cached counts (sqlstore.PruneSearchTermsLog). The pending pieces are rows in the
// database, and a search tokenizes those it needs itself, so a crash or a slow indexer only costs searches a
// little time. Nothing to do on PostgreSQL.
func (a *App) runSearchIndexer(ctx context.Context) {
	if a.Store.Dialect() == "postgres" {
		return
	}
	const batch = 500
	var refreshed time.Time
	for {
		n, err := a.Store.IndexSearchTerms(ctx, batch)
		if err != nil && ctx.Err() == nil {
			a.Logger.Warn("indexing search terms failed", "err", err)
		}
		// The common words' document counts, read at once so that no search pays for counting one.
		if time.Since(refreshed) >= 5*time.Minute && (n < batch || time.Since(refreshed) >= 30*time.Minute) {
			if err := a.Store.RefreshSearchStats(ctx); err != nil && ctx.Err() == nil {
				a.Logger.Warn("reading search statistics failed", "err", err)
			}
			if err := a.Store.PruneSearchTermsLog(ctx); err != nil && ctx.Err() == nil {
				a.Logger.Warn("pruning the search terms log failed", "err", err)
			}
			refreshed = time.Now()
		}
		wait := 2 * time.Second
		if err == nil && n == batch {
			wait = 20 * time.Millisecond // a backlog: leave the CPU to requests between batches
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// maintain prunes expired idempotency keys and sessions now and then. It holds no business state: the work is an
// idempotent DELETE, so a replica dying mid-way loses nothing and any replica may do it.
func (a *App) maintain(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		keys, sessions, err := a.Store.Prune(ctx)
		if err != nil && ctx.Err() == nil {
			a.Logger.Warn("pruning expired keys and sessions failed", "err", err)
		} else if keys+sessions > 0 {
			a.Logger.Info("pruned expired keys and sessions", "idempotency_keys", keys, "sessions", sessions)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
