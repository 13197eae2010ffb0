package web_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

// statusClock is the web layer's clock in these tests, so that they can step past the page's cache.
type statusClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *statusClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *statusClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type statusEnv struct {
	url   string
	clk   *statusClock
	admin *client.Client
	st    *sqlstore.Store
	srv   *web.Server
}

// newStatusEnv starts a server whose clock the test moves, with an admin client and the services api, db and
// secret.
func newStatusEnv(t testing.TB, st *sqlstore.Store) *statusEnv {
	t.Helper()
	ctx := context.Background()
	secret := randomSecret()
	if err := st.EnsureAdminToken(ctx, secret); err != nil {
		t.Fatal(err)
	}
	for _, s := range []firebreak.ServiceInput{{Slug: "api", Name: "Public API"}, {Slug: "db", Name: "Database"},
		{Slug: "secret", Name: "Secret backend"}} {
		if _, err := st.CreateService(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	clk := &statusClock{t: time.Now()}
	srv := newServer(t, st, func(c *web.Config) { c.Now = clk.Now })
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &statusEnv{url: ts.URL, clk: clk, admin: client.New(ts.URL, secret), st: st, srv: srv}
}

// get fetches a public status document without credentials (and without transparent gzip).
func (e *statusEnv) get(t testing.TB, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+path, nil)
	req.Header.Set("Accept-Encoding", "identity")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestStatusPage(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		e := newStatusEnv(t, st)

		// Before any configuration: public, overall status only.
		resp, body := e.get(t, "/status")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /status: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
			resp.Header.Get("Cache-Control") != "public, max-age=5" || resp.Header.Get("ETag") == "" ||
			resp.Header.Get("Last-Modified") == "" {
			t.Fatalf("headers %v", resp.Header)
		}
		if !strings.Contains(body, "All Systems Operational") || !strings.Contains(body, "No components are published") {
			t.Fatalf("unconfigured page:\n%s", body)
		}

		// The components API: viewers read, only admins change it; bad input names the field.
		cfg, err := e.admin.GetStatusPageConfig(ctx)
		if err != nil || cfg.Version != 0 || len(cfg.Components) != 0 {
			t.Fatalf("config %+v, %v", cfg, err)
		}
		in := firebreak.StatusPageInput{Name: "Acme <b>status</b>", Components: []firebreak.StatusComponentInput{
			{Service: "api", Group: "Core"}, {Service: "db", Name: "Primary database", Group: "Core"}}}
		if _, err := client.New(e.url, "").SetStatusPageConfig(ctx, in, 0); firebreak.ErrorCode(err) != firebreak.EUnauthorized {
			t.Fatalf("anonymous PUT: %v", err)
		}
		statusMust(e.admin.CreateUser(ctx, firebreak.UserInput{Username: "rita", Role: firebreak.RoleResponder}))
		rt := statusMust(e.admin.CreateToken(ctx, firebreak.TokenInput{Username: "rita", Name: "t"}))
		responder := client.New(e.url, rt.Secret)
		if _, err := responder.GetStatusPageConfig(ctx); err != nil {
			t.Fatalf("a responder reads the config: %v", err)
		}
		if _, err := responder.SetStatusPageConfig(ctx, in, 0); firebreak.ErrorCode(err) != firebreak.EForbidden {
			t.Fatalf("responder PUT: %v", err)
		}
		_, err = e.admin.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Components: []firebreak.StatusComponentInput{
			{Service: "nope"}}}, 0)
		if fe := asError(err); fe == nil || fe.Code != firebreak.EInvalid || len(fe.Fields) != 1 ||
			fe.Fields[0].Field != "components[0].service" {
			t.Fatalf("unknown service: %v", err)
		}
		cfg, err = e.admin.SetStatusPageConfig(ctx, in, 0)
		if err != nil || cfg.Version != 1 || len(cfg.Components) != 2 || cfg.Components[0].Name != "Public API" {
			t.Fatalf("set config %+v, %v", cfg, err)
		}
		if _, err := e.admin.SetStatusPageConfig(ctx, in, 9); firebreak.ErrorCode(err) != firebreak.EPreconditionFailed {
			t.Fatalf("stale If-Match: %v", err)
		}

		// An incident on a public and a non-public service, with internal and external updates and a commander.
		actor := firebreak.WithActor(ctx, firebreak.Actor{Username: "carol", Role: firebreak.RoleResponder})
		inc := statusMust(st.DeclareIncident(actor, firebreak.DeclareInput{Title: "Checkout <i>errors</i>",
			Summary: "internal summary", Severity: firebreak.SEV2, Services: []string{"api", "secret"},
			Roles: map[firebreak.Role]string{firebreak.RoleCommander: "carol"}}))
		statusMust(st.PostUpdate(actor, inc.ID, firebreak.UpdateInput{Message: "We see <script>alert(1)</script> errors",
			Audience: firebreak.AudienceExternal}))
		statusMust(st.PostUpdate(actor, inc.ID, firebreak.UpdateInput{Message: "INTERNAL: blame deploy 42",
			Audience: firebreak.AudienceInternal}))
		statusMust(st.AddTimelineEvent(actor, inc.ID, firebreak.TimelineInput{Message: "PRIVATE NOTE"}))
		statusMust(st.ChangeStatus(actor, inc.ID, firebreak.StatusMitigating, "", 0))
		statusMust(st.PostUpdate(actor, inc.ID, firebreak.UpdateInput{Message: "A fix is out; watching.",
			Audience: firebreak.AudienceAll}))
		// Maintenance on the database right now.
		statusMust(st.CreateMaintenance(actor, firebreak.MaintenanceInput{Services: []string{"db"}, Title: "DB upgrade",
			StartsAt: time.Now().Add(-time.Minute), EndsAt: time.Now().Add(time.Hour)}))

		// The admin's change cleared this replica's cache; the incident came later: step past the cache.
		e.clk.Advance(6 * time.Second)
		resp, body = e.get(t, "/status")
		for _, want := range []string{"Acme &lt;b&gt;status&lt;/b&gt;", "Checkout &lt;i&gt;errors&lt;/i&gt;",
			"We see &lt;script&gt;alert(1)&lt;/script&gt; errors", "A fix is out; watching.", "Monitoring",
			"Partial outage", "Under maintenance", "DB upgrade", "Partial System Outage"} {
			if !strings.Contains(body, want) {
				t.Errorf("status page lacks %q", want)
			}
		}
		for _, leak := range []string{"INTERNAL", "PRIVATE NOTE", "internal summary", "carol", "Secret backend",
			"secret", "<script>alert", "<i>errors", "SEV2", "INC-"} {
			if strings.Contains(body, leak) {
				t.Errorf("status page leaks %q", leak)
			}
		}
		etag := resp.Header.Get("ETag")

		// The cache: within the TTL, a new update is not yet shown and the ETag holds; 304 on If-None-Match and
		// on If-Modified-Since; gzip when asked.
		statusMust(st.PostUpdate(actor, inc.ID, firebreak.UpdateInput{Message: "Second public update",
			Audience: firebreak.AudienceExternal}))
		resp, body = e.get(t, "/status")
		if resp.Header.Get("ETag") != etag || strings.Contains(body, "Second public update") {
			t.Fatal("the page was rebuilt within its cache time")
		}
		if resp, _ := e.get(t, "/status", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", resp.StatusCode)
		}
		if resp, _ := e.get(t, "/status", "If-Modified-Since", resp.Header.Get("Last-Modified")); resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-Modified-Since: %d", resp.StatusCode)
		}
		resp, gz := e.get(t, "/status", "Accept-Encoding", "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || gz != body || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("gzip: %v", resp.Header)
		}
		e.clk.Advance(6 * time.Second)
		resp, body = e.get(t, "/status", "If-None-Match", etag)
		if resp.StatusCode != 200 || resp.Header.Get("ETag") == etag || !strings.Contains(body, "Second public update") {
			t.Fatalf("after the cache time: %d, update shown %v", resp.StatusCode, strings.Contains(body, "Second public update"))
		}

		// The feed and the summary are public too, and carry only external updates.
		resp, feed := e.get(t, "/status/feed.atom")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" ||
			strings.Count(feed, "<entry>") != 3 || strings.Contains(feed, "INTERNAL") ||
			!strings.Contains(feed, "&amp;lt;script&amp;gt;") {
			t.Fatalf("feed %d %s:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), feed)
		}
		resp, sum := e.get(t, "/status/summary.json")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" ||
			!strings.Contains(sum, `"status":"monitoring"`) || !strings.Contains(sum, `"indicator":"major"`) ||
			strings.Contains(sum, "INTERNAL") || strings.Contains(sum, "carol") || strings.Contains(sum, "secret") {
			t.Fatalf("summary %d:\n%s", resp.StatusCode, sum)
		}

		// Resolved: the incident moves to the history and the component is operational again.
		statusMust(st.ChangeStatus(actor, inc.ID, firebreak.StatusResolved, "", 0))
		e.clk.Advance(6 * time.Second)
		_, body = e.get(t, "/status")
		if !strings.Contains(body, "Past incidents") || !strings.Contains(body, "Resolved") ||
			strings.Contains(body, "Current incidents") || strings.Contains(body, "Partial outage") {
			t.Fatalf("after resolution:\n%s", body)
		}
	})
}

// statusMust returns v, failing the test (by panic, with the caller's line in the trace) on an error.
func statusMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func asError(err error) *firebreak.Error {
	fe, _ := err.(*firebreak.Error)
	return fe
}

// TestStatusOpenAPISchemas keeps the status page schemas equal to the Go types.
func TestStatusOpenAPISchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{"StatusPageConfig": firebreak.StatusPageConfig{},
		"StatusComponent": firebreak.StatusComponent{}, "StatusPageInput": firebreak.StatusPageInput{},
		"StatusComponentInput": firebreak.StatusComponentInput{}} {
		props, _ := d.Components.Schemas[name]["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := jsonFields(reflect.TypeOf(typ)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
		}
	}
}

// BenchmarkStatusPage measures the page as served during an outage: mostly from the cache, rebuilt every few
// seconds. BenchmarkStatusPage/build rebuilds it every time (the cost of one store read and three renders).
func BenchmarkStatusPage(b *testing.B) {
	st := sqltest.Open(b, "sqlite")
	e := newStatusEnv(b, st)
	ctx := context.Background()
	var comps []firebreak.StatusComponentInput
	for _, s := range []string{"api", "db"} {
		comps = append(comps, firebreak.StatusComponentInput{Service: s})
	}
	if _, err := e.admin.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Components: comps}, 0); err != nil {
		b.Fatal(err)
	}
	actor := firebreak.WithActor(ctx, firebreak.Actor{Username: "carol", Role: firebreak.RoleResponder})
	for i := range 20 {
		inc := statusMust(st.DeclareIncident(actor, firebreak.DeclareInput{Title: "Incident", Severity: firebreak.SEV2,
			Services: []string{"api"}}))
		for range 3 {
			statusMust(st.PostUpdate(actor, inc.ID, firebreak.UpdateInput{Message: "Update", Audience: firebreak.AudienceAll}))
		}
		if i%2 == 0 {
			statusMust(st.ChangeStatus(actor, inc.ID, firebreak.StatusResolved, "", 0))
		}
	}
	for _, bc := range []struct {
		name    string
		advance time.Duration
	}{{"cached", 0}, {"build", 6 * time.Second}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				e.clk.Advance(bc.advance)
				req := httptest.NewRequest(http.MethodGet, "/status", nil)
				req.Header.Set("Accept-Encoding", "gzip")
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
