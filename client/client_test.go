package client_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

// server starts the real HTTP server on st and returns its URL and an admin token.
func server(t *testing.T, st *sqlstore.Store) (string, string) {
	t.Helper()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	secret := "fbt_" + hex.EncodeToString(b)
	if err := st.EnsureAdminToken(context.Background(), secret); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{Incidents: st, Catalog: st, Users: st, Sessions: st, Live: st, Ready: st.Ping,
		IncidentCounts: st.IncidentCounts})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL, secret
}

// front is a proxy in front of the real server that can fail requests the way networks and load balancers do.
type front struct {
	mu    sync.Mutex
	calls []string // "METHOD path" of every request it received
	// fail decides, for the n-th request (1-based), what goes wrong: "" (nothing), "503", "502-html",
	// "lose-response" (forward, then answer 502 as if the answer were lost) or "drop" (close the connection).
	fail func(n int, r *http.Request) string
	url  string
}

func newFront(t *testing.T, target string, fail func(n int, r *http.Request) string) *front {
	t.Helper()
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	f := &front{fail: fail}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, r.Method+" "+r.URL.Path)
		n := len(f.calls)
		f.mu.Unlock()
		switch f.fail(n, r) {
		case "503":
			w.Header().Set("Retry-After", "0")
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
		case "502-html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html><body>Bad Gateway</body></html>"))
		case "lose-response":
			rec := httptest.NewRecorder()
			proxy.ServeHTTP(rec, r)
			http.Error(w, "upstream timed out", http.StatusGatewayTimeout)
		case "drop":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

func (f *front) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

func fast() client.Option { return client.WithRetries(4, time.Millisecond) }

func TestClientRetriesReads(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		base, tok := server(t, st)
		inc, err := client.New(base, tok).DeclareIncident(ctx, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3})
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{"503", "502-html", "lose-response", "drop"} {
			t.Run(mode, func(t *testing.T) {
				f := newFront(t, base, func(n int, r *http.Request) string {
					if n <= 2 {
						return mode
					}
					return ""
				})
				got, err := client.New(f.url, tok, fast()).GetIncident(ctx, inc.ID)
				if err != nil {
					t.Fatalf("GET after two failures: %v", err)
				}
				if got.ID != inc.ID || f.count() != 3 {
					t.Fatalf("got %s after %d requests", got.ID, f.count())
				}
			})
		}
	})
}

func TestClientGivesUp(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	base, tok := server(t, st)
	f := newFront(t, base, func(int, *http.Request) string { return "503" })
	_, err := client.New(f.url, tok, client.WithRetries(3, time.Millisecond)).ListIncidents(context.Background(),
		firebreak.IncidentFilter{})
	if firebreak.ErrorCode(err) != firebreak.EInternal || f.count() != 3 {
		t.Fatalf("after %d attempts: %v", f.count(), err)
	}
	// A 502 page that is not problem+json still becomes a *firebreak.Error that says what happened.
	f = newFront(t, base, func(int, *http.Request) string { return "502-html" })
	_, err = client.New(f.url, tok, client.WithRetries(1, 0)).GetIncident(context.Background(), "1")
	var fe *firebreak.Error
	if !errors.As(err, &fe) || fe.Code != firebreak.EInternal || !strings.Contains(fe.Message, "502") ||
		!strings.Contains(fe.Message, "Bad Gateway") {
		t.Fatalf("502 page: %#v", err)
	}
}

func TestClientDoesNotRetryUnsafeWrites(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		base, tok := server(t, st)
		// The first POST is forwarded and done, but its answer is lost: without an idempotency key the client must
		// not send it again (it would declare twice).
		f := newFront(t, base, func(n int, r *http.Request) string {
			if n == 1 {
				return "lose-response"
			}
			return ""
		})
		c := client.New(f.url, tok, fast())
		_, err := c.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Once", Severity: firebreak.SEV2})
		if firebreak.ErrorCode(err) != firebreak.EInternal || f.count() != 1 {
			t.Fatalf("POST without key: %v after %d requests", err, f.count())
		}
		// Neither are status changes, patches or other writes.
		p, _ := client.New(base, tok).ListIncidents(ctx, firebreak.IncidentFilter{})
		if len(p.Items) != 1 {
			t.Fatalf("%d incidents", len(p.Items))
		}
		g := newFront(t, base, func(int, *http.Request) string { return "503" })
		_, err = client.New(g.url, tok, fast()).ChangeStatus(ctx, p.Items[0].ID, firebreak.StatusInvestigating, "", 0)
		if err == nil || g.count() != 1 {
			t.Fatalf("status change through 503: %v after %d requests", err, g.count())
		}
	})
}

func TestClientRetriesIdempotentCreation(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		base, tok := server(t, st)
		// The declaration is done but its answer lost, then the connection drops: the client retries with the same
		// Idempotency-Key and gets the incident the first request created.
		f := newFront(t, base, func(n int, r *http.Request) string {
			switch n {
			case 1:
				return "lose-response"
			case 2:
				return "drop"
			}
			return ""
		})
		c := client.New(f.url, tok, fast())
		kctx := firebreak.WithIdempotency(ctx, firebreak.Idempotency{Key: "alert-42"})
		inc, err := c.DeclareIncident(kctx, firebreak.DeclareInput{Title: "Once only", Severity: firebreak.SEV1})
		if err != nil {
			t.Fatalf("declare with key through failures: %v", err)
		}
		if f.count() != 3 {
			t.Fatalf("%d requests, want 3", f.count())
		}
		p, err := client.New(base, tok).ListIncidents(ctx, firebreak.IncidentFilter{})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != inc.ID {
			t.Fatalf("incidents after retried declaration: %+v %v", p, err)
		}
		// The same for notes, updates, action items and services.
		f = newFront(t, base, func(n int, r *http.Request) string {
			if n%2 == 1 {
				return "lose-response"
			}
			return ""
		})
		c = client.New(f.url, tok, fast())
		if _, err := c.AddTimelineEvent(firebreak.WithIdempotency(ctx, firebreak.Idempotency{Key: "n1"}), inc.ID,
			firebreak.TimelineInput{Message: "one note"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PostUpdate(firebreak.WithIdempotency(ctx, firebreak.Idempotency{Key: "u1"}), inc.ID,
			firebreak.UpdateInput{Message: "one update"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddActionItem(firebreak.WithIdempotency(ctx, firebreak.Idempotency{Key: "a1"}), inc.ID,
			firebreak.ActionItemInput{Title: "one item"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateService(firebreak.WithIdempotency(ctx, firebreak.Idempotency{Key: "s1"}),
			firebreak.ServiceInput{Slug: "one"}); err != nil {
			t.Fatal(err)
		}
		if f.count() != 8 {
			t.Fatalf("%d requests for 4 creations that each lost one answer", f.count())
		}
		direct := client.New(base, tok)
		tl, _ := direct.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{})
		notes := 0
		for _, ev := range tl.Items {
			if ev.Kind == firebreak.EventNote {
				notes++
			}
		}
		ups, _ := direct.ListUpdates(ctx, inc.ID)
		items, _ := direct.ListActionItems(ctx, inc.ID)
		svcs, _ := direct.ListServices(ctx, firebreak.ServiceFilter{})
		if notes != 1 || len(ups) != 1 || len(items) != 1 || len(svcs.Items) != 1 {
			t.Fatalf("after retries: %d notes, %d updates, %d items, %d services", notes, len(ups), len(items),
				len(svcs.Items))
		}
	})
}

func TestClientErrors(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		base, tok := server(t, st)
		c := client.New(base, tok)
		_, err := c.DeclareIncident(ctx, firebreak.DeclareInput{Title: strings.Repeat("t", 300), Severity: "SEV0"})
		var fe *firebreak.Error
		if !errors.As(err, &fe) || fe.Code != firebreak.EInvalid || fe.Message == "" {
			t.Fatalf("invalid declaration: %#v", err)
		}
		var fields []string
		for _, f := range fe.Fields {
			fields = append(fields, f.Field)
		}
		slices.Sort(fields)
		if !slices.Equal(fields, []string{"severity", "title"}) {
			t.Fatalf("fields %v", fields)
		}
		inc, err := c.DeclareIncident(ctx, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ChangeStatus(ctx, inc.ID, firebreak.StatusClosed, "", 0)
		if !errors.As(err, &fe) || fe.Code != firebreak.EConflict || !slices.Contains(fe.Allowed, "resolved") {
			t.Fatalf("invalid transition: %#v", err)
		}
		_, err = c.UpdateIncident(ctx, inc.ID, firebreak.IncidentPatch{Summary: new("s")}, inc.Version+5)
		if firebreak.ErrorCode(err) != firebreak.EPreconditionFailed {
			t.Fatalf("stale ifVersion: %v", err)
		}
		if _, err := c.UpdateIncident(ctx, inc.ID, firebreak.IncidentPatch{Summary: new("s")}, inc.Version); err != nil {
			t.Fatalf("current ifVersion: %v", err)
		}
		_, err = c.GetService(ctx, "nope")
		if firebreak.ErrorCode(err) != firebreak.ENotFound {
			t.Fatalf("unknown service: %v", err)
		}
		_, err = client.New(base, "").Me(ctx)
		if firebreak.ErrorCode(err) != firebreak.EUnauthorized {
			t.Fatalf("no token: %v", err)
		}
		// The error message is the problem's detail.
		if _, err = c.GetIncident(ctx, "INC-777"); !strings.Contains(firebreak.ErrorMessage(err), "777") {
			t.Fatalf("message %q", firebreak.ErrorMessage(err))
		}
	})
}

func TestClientBaseURLAndCancel(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	base, tok := server(t, st)
	ctx := context.Background()
	for _, b := range []string{base, base + "/", base + "/api/v1", base + "/api/v1/"} {
		if _, err := client.New(b, tok).Me(ctx); err != nil {
			t.Fatalf("base %q: %v", b, err)
		}
	}
	// Cancelling the context stops the retries at once.
	f := newFront(t, base, func(int, *http.Request) string { return "503" })
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.New(f.url, tok, client.WithRetries(50, time.Second)).Me(cctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled retries: %v after %s", err, time.Since(start))
	}
	// A client's own http.Client is used, with its timeout.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	var calls atomic.Int32
	hc := &http.Client{Timeout: 50 * time.Millisecond, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return http.DefaultTransport.RoundTrip(r)
	})}
	_, err = client.New(slow.URL, tok, client.WithHTTPClient(hc), client.WithRetries(2, time.Millisecond)).Me(ctx)
	if err == nil || calls.Load() != 2 {
		t.Fatalf("timeout: %v after %d calls", err, calls.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
