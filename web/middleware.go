package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/firebreak/firebreak"
)

// reqInfo travels in the request context: ids for logs and the route for metrics.
type reqInfo struct {
	requestID string
	traceID   string
	spanID    string
	route     string
	user      string
}

type reqInfoKey struct{}

func infoFrom(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(reqInfoKey{}).(*reqInfo)
	return i
}

var traceparentRE = regexp.MustCompile(`^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$`)

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// withRequestContext gives every request a request id and a trace id (continuing a W3C traceparent when the
// caller sends one), echoes both in response headers, and writes one access log line.
func (s *Server) withRequestContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{requestID: randomHex(8), spanID: randomHex(8)}
		if m := traceparentRE.FindStringSubmatch(r.Header.Get("traceparent")); m != nil &&
			m[1] != "00000000000000000000000000000000" {
			info.traceID = m[1]
		} else {
			info.traceID = randomHex(16)
		}
		if id := r.Header.Get("X-Request-Id"); id != "" && len(id) <= 64 {
			info.requestID = id
		}
		w.Header().Set("X-Request-Id", info.requestID)
		w.Header().Set("traceparent", "00-"+info.traceID+"-"+info.spanID+"-01")
		ctx := context.WithValue(r.Context(), reqInfoKey{}, info)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(ctx))
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(ctx, level, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", info.route), slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", time.Since(start)), slog.String("user", info.user))
	})
}

// statusWriter records the status and size of a response. It keeps http.Flusher working for SSE.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withRecover turns a panic into a logged 500 problem instead of a dropped connection.
func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				s.problem(w, r, firebreak.Errorf(firebreak.EInternal, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// routeCapture runs innermost, right around the mux, and records the matched pattern for metrics and logs.
func routeCapture(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if i := infoFrom(r.Context()); i != nil {
			i.route = r.Pattern
		}
	})
}

type httpMetrics struct {
	reg      prometheus.Registerer
	duration *prometheus.HistogramVec
	gatherer prometheus.Gatherer
}

func newHTTPMetrics(reg prometheus.Registerer, counts func(context.Context) (map[firebreak.Status]map[firebreak.Severity]int, error)) (*httpMetrics, error) {
	m := &httpMetrics{reg: reg}
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "firebreak_http_request_duration_seconds",
		Help:    "Latency of HTTP requests by method, route pattern and status code.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"method", "route", "code"})
	if err := reg.Register(m.duration); err != nil {
		return nil, err
	}
	if err := reg.Register(&incidentCollector{counts: counts}); err != nil {
		return nil, err
	}
	if g, ok := reg.(prometheus.Gatherer); ok {
		m.gatherer = g
	} else {
		m.gatherer = prometheus.DefaultGatherer
	}
	return m, nil
}

func (m *httpMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.gatherer, promhttp.HandlerOpts{})
}

func (s *Server) withMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw, ok := w.(*statusWriter)
		if !ok {
			sw = &statusWriter{ResponseWriter: w}
		}
		next.ServeHTTP(sw, r)
		route := "unmatched"
		if i := infoFrom(r.Context()); i != nil && i.route != "" {
			route = i.route
		}
		code := sw.status
		if code == 0 {
			code = http.StatusOK
		}
		s.metrics.duration.WithLabelValues(r.Method, route, strconv.Itoa(code)).Observe(time.Since(start).Seconds())
	})
}

// incidentCollector reads incident counts from the database at scrape time, so every replica reports the truth.
type incidentCollector struct {
	counts func(context.Context) (map[firebreak.Status]map[firebreak.Severity]int, error)
}

var incidentsDesc = prometheus.NewDesc("firebreak_incidents", "Incidents by status and severity.",
	[]string{"status", "severity"}, nil)

func (c *incidentCollector) Describe(ch chan<- *prometheus.Desc) { ch <- incidentsDesc }

func (c *incidentCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(incidentsDesc, err)
		return
	}
	for _, st := range firebreak.Statuses {
		for _, sev := range firebreak.Severities {
			ch <- prometheus.MustNewConstMetric(incidentsDesc, prometheus.GaugeValue, float64(counts[st][sev]),
				string(st), string(sev))
		}
	}
}

// LogHandler wraps a slog handler so that every record logged with a request's context carries its request_id
// and trace_id.
type LogHandler struct{ slog.Handler }

// NewLogHandler returns a LogHandler around h.
func NewLogHandler(h slog.Handler) *LogHandler { return &LogHandler{h} }

func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if i := infoFrom(ctx); i != nil {
		r.AddAttrs(slog.String("request_id", i.requestID), slog.String("trace_id", i.traceID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *LogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &LogHandler{h.Handler.WithAttrs(as)}
}
func (h *LogHandler) WithGroup(name string) slog.Handler {
	return &LogHandler{h.Handler.WithGroup(name)}
}
