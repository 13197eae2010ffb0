package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

const adminToken = "automation-token-0123456789"

func startApp(t *testing.T, dialect string, logs io.Writer) *app.App {
	t.Helper()
	o := sqltest.Options(t, dialect)
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: o.DataDir, DatabaseURL: o.DatabaseURL, AdminToken: adminToken,
		ShutdownTimeout: 10 * time.Second}
	var logger *slog.Logger
	if logs != nil {
		logger = slog.New(web.NewLogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}
	a, err := app.Open(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestAppServesOnBothDatabases(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := startApp(t, d, nil)
			if code, body := get(t, a.URL()+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
				t.Fatalf("healthz: %d %s", code, body)
			}
			if code, body := get(t, a.URL()+"/readyz"); code != 200 || !strings.Contains(body, "ready") {
				t.Fatalf("readyz: %d %s", code, body)
			}
			// A first start with FIREBREAK_ADMIN_TOKEN still gives the admin a console password.
			if a.AdminPassword == "" {
				t.Error("no admin password printed on a first start with an admin token")
			} else if _, err := a.Store.AuthenticatePassword(context.Background(), "admin", a.AdminPassword); err != nil {
				t.Errorf("admin password: %v", err)
			}
			// FIREBREAK_ADMIN_TOKEN is an admin token with exactly that value.
			c := client.New(a.URL(), adminToken)
			me, err := c.Me(context.Background())
			if err != nil || me.Role != firebreak.RoleAdmin {
				t.Fatalf("admin token: %+v %v", me, err)
			}
			inc, err := c.DeclareIncident(context.Background(), firebreak.DeclareInput{Title: "Checkout failing", Severity: firebreak.SEV1})
			if err != nil {
				t.Fatal(err)
			}
			// /metrics shows request latencies and incidents by status and severity.
			_, metrics := get(t, a.URL()+"/metrics")
			for _, want := range []string{
				`firebreak_incidents{severity="SEV1",status="detected"} 1`,
				`firebreak_http_request_duration_seconds_bucket{code="201",method="POST",route="POST /api/v1/incidents"`,
			} {
				if !strings.Contains(metrics, want) {
					t.Errorf("metrics lack %s", want)
				}
			}
			if inc.Number != 1 {
				t.Errorf("first incident is number %d", inc.Number)
			}
		})
	}
}

func TestFirstStartCreatesAdminWithPassword(t *testing.T) {
	dir := t.TempDir()
	open := func() *app.App {
		a, err := app.Open(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := open()
	pw := a.AdminPassword
	if len(pw) < 16 {
		t.Fatalf("first start password %q", pw)
	}
	actor, err := a.Store.AuthenticatePassword(context.Background(), "admin", pw)
	if err != nil || actor.Role != firebreak.RoleAdmin {
		t.Fatalf("admin login: %+v %v", actor, err)
	}
	a.Close()
	// The second start creates nothing and prints no password.
	b := open()
	defer b.Close()
	if b.AdminPassword != "" {
		t.Fatal("second start made another admin password")
	}
	if _, err := b.Store.AuthenticatePassword(context.Background(), "admin", pw); err != nil {
		t.Fatalf("password lost across restart: %v", err)
	}
}

// A request in flight when shutdown begins is finished and committed, and the server refuses new connections.
func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	a := startApp(t, "sqlite", nil)
	url := a.URL()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", url+"/api/v1/incidents", pr)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		done <- result{code: res.StatusCode, body: string(b)}
	}()
	body := `{"title":"Declared during shutdown","severity":"SEV2"}`
	if _, err := pw.Write([]byte(body[:10])); err != nil { // the server is now reading this request
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	shut := make(chan error, 1)
	go func() { shut <- a.Shutdown() }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-shut:
		t.Fatalf("shutdown returned while a request was in flight: %v", err)
	default:
	}
	if _, err := pw.Write([]byte(body[10:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	r := <-done
	if r.err != nil || r.code != http.StatusCreated {
		t.Fatalf("in-flight request: %d %s %v", r.code, r.body, r.err)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
	// Reopen the same data: the answered incident is there.
	b, err := app.Open(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: a.Config.DataDir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var created firebreak.Incident
	_ = json.Unmarshal([]byte(r.body), &created)
	got, err := b.Store.GetIncident(context.Background(), created.ID)
	if err != nil || got.Title != "Declared during shutdown" {
		t.Fatalf("after restart: %+v %v", got, err)
	}
}

func TestLogLinesCarryRequestAndTraceIDs(t *testing.T) {
	var logs bytes.Buffer
	a := startApp(t, "sqlite", &syncWriter{w: &logs})
	req, _ := http.NewRequest("GET", a.URL()+"/api/v1/incidents/INC-999", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 || res.Header.Get("X-Request-Id") == "" ||
		!strings.Contains(res.Header.Get("traceparent"), "4bf92f3577b34da6a3ce929d0e0e4736") {
		t.Fatalf("status %d headers %v", res.StatusCode, res.Header)
	}
	a.Close()
	found := false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["path"] == "/api/v1/incidents/INC-999" {
			found = true
			if rec["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || rec["request_id"] != res.Header.Get("X-Request-Id") {
				t.Fatalf("request log line without ids: %s", line)
			}
		}
	}
	if !found {
		t.Fatalf("no log line for the request in:\n%s", logs.String())
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// The background indexer tokenizes what is written to the knowledge base (SQLite's search scoring reads it).
func TestSearchIndexerTokenizesNewPieces(t *testing.T) {
	a := startApp(t, "sqlite", nil)
	ctx := context.Background()
	c := client.New(a.URL(), adminToken)
	if _, err := c.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Replica lag on the ledger",
		Summary: "Vacuum blocked the replica", Severity: firebreak.SEV2}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		n, err := a.Store.PendingSearchTerms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pieces still pending after 15 s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p, err := a.Store.Search(ctx, firebreak.SearchQuery{Q: "replica ledger"})
	if err != nil || len(p.Items) != 1 || p.Items[0].Rank <= 0 {
		t.Fatalf("search after indexing: %+v, %v", p, err)
	}
}
