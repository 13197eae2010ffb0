package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
	_ "github.com/firebreak/firebreak/probe" // registers the condition checker
	"github.com/firebreak/firebreak/web"
)

// probeAPIEnv is an apiEnv whose server also counts the probe runner's wake-ups.
func probeAPIEnv(t *testing.T, e *apiEnv) (*apiEnv, *atomic.Int64) {
	t.Helper()
	var wakes atomic.Int64
	srv := newServer(t, e.st, func(c *web.Config) { c.ProbeWake = func() { wakes.Add(1) } })
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	p := *e
	p.srv, p.url = srv, ts.URL
	p.admin = client.New(ts.URL, e.tokens[firebreak.RoleAdmin])
	p.responder = client.New(ts.URL, e.tokens[firebreak.RoleResponder])
	p.viewer = client.New(ts.URL, e.tokens[firebreak.RoleViewer])
	return &p, &wakes
}

func TestProbesAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e0 *apiEnv) {
		e, wakes := probeAPIEnv(t, e0)
		ctx := context.Background()
		e.service("api")
		e.service("db")

		// Created by a responder, with the defaults filled in; the runner is woken.
		p, err := e.responder.CreateProbe(ctx, firebreak.ProbeInput{Service: "api", Name: "health",
			URL: "http://127.0.0.1:9/healthz", Interval: firebreak.Duration(30 * time.Second),
			Conditions: []string{"[STATUS] == 200"}})
		if err != nil {
			t.Fatal(err)
		}
		if p.ID == "" || p.Kind != firebreak.ProbeHTTP || p.Method != "GET" ||
			time.Duration(p.Interval) != 30*time.Second || time.Duration(p.Timeout) != 10*time.Second ||
			p.FailureThreshold != 3 || p.SuccessThreshold != 2 || p.Severity != firebreak.AlertCritical ||
			!p.Enabled || p.State != firebreak.ProbeUnknown || !slices.Equal(p.Conditions, []string{"[STATUS] == 200"}) {
			t.Fatalf("created probe %+v", p)
		}
		if wakes.Load() != 1 {
			t.Fatalf("%d wake-ups after create, want 1", wakes.Load())
		}
		// Over HTTP: 201 with a Location, durations as strings, empty lists as [] and {}.
		r := e.asResponder("POST", "/api/v1/probes",
			`{"service":"db","name":"port","url":"tcp://127.0.0.1:5432","interval":"10s"}`)
		if r.status != http.StatusCreated {
			t.Fatalf("POST probe: %d %s", r.status, r.body)
		}
		var tcp firebreak.Probe
		r.json(t, &tcp)
		if r.header.Get("Location") != "/api/v1/probes/"+tcp.ID || tcp.Kind != firebreak.ProbeTCP ||
			!strings.Contains(string(r.body), `"interval":"10s"`) || !strings.Contains(string(r.body), `"conditions":[]`) ||
			!strings.Contains(string(r.body), `"headers":{}`) {
			t.Fatalf("POST probe: %s %s", r.header.Get("Location"), r.body)
		}

		// Listed in service then name order, filtered by service; viewers read.
		all, err := e.viewer.ListProbes(ctx, firebreak.ProbeFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all[0].ID != p.ID || all[1].ID != tcp.ID {
			t.Fatalf("list: %+v", all)
		}
		onlyDB, err := e.viewer.ListProbes(ctx, firebreak.ProbeFilter{Service: "db"})
		if err != nil || len(onlyDB) != 1 || onlyDB[0].ID != tcp.ID {
			t.Fatalf("list service=db: %+v %v", onlyDB, err)
		}
		var pg struct {
			Items      []firebreak.Probe `json:"items"`
			NextCursor string            `json:"next_cursor"`
		}
		e.asViewer("GET", "/api/v1/probes?limit=1", "").json(t, &pg)
		if len(pg.Items) != 1 || pg.NextCursor == "" {
			t.Fatalf("probe page: %+v", pg)
		}
		e.asViewer("GET", "/api/v1/probes?team=x", "").problem(t, http.StatusUnprocessableEntity)
		e.asViewer("GET", "/api/v1/probes?service=nope", "").problem(t, http.StatusNotFound)

		// Results recorded by the runner show on the probe: newest first, with window statistics.
		now := time.Now().UTC()
		runs := []firebreak.ProbeRun{
			{ProbeID: p.ID, Result: firebreak.ProbeResult{At: now.Add(-2 * time.Second), Success: true, LatencyMS: 12, StatusCode: 200}},
			{ProbeID: p.ID, Result: firebreak.ProbeResult{At: now.Add(-time.Second), Success: false, LatencyMS: 40, StatusCode: 503,
				FailedConditions: []string{"[STATUS] (503) == 200"}}},
		}
		if err := e.st.RecordProbeResults(ctx, runs); err != nil {
			t.Fatal(err)
		}
		st, err := e.viewer.GetProbe(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Probe.ID != p.ID || len(st.Recent) != 2 || st.Recent[0].StatusCode != 503 ||
			!slices.Equal(st.Recent[0].FailedConditions, []string{"[STATUS] (503) == 200"}) ||
			st.Probe.LastResult == nil || st.Probe.LastResult.Success || st.Probe.ConsecutiveFailures != 1 {
			t.Fatalf("probe status %+v", st)
		}
		var windows []string
		for _, w := range st.Windows {
			windows = append(windows, w.Window)
			if w.Checks != 2 || w.Successes != 1 || w.UptimePercent == nil || *w.UptimePercent != 50 || w.P50MS == nil {
				t.Fatalf("window %s: %+v", w.Window, w)
			}
		}
		if !slices.Equal(windows, []string{"24h", "7d"}) {
			t.Fatalf("windows %v", windows)
		}
		// A probe without results answers empty lists.
		if r := e.asViewer("GET", "/api/v1/probes/"+tcp.ID, ""); r.status != 200 ||
			!strings.Contains(string(r.body), `"recent":[]`) {
			t.Fatalf("GET unchecked probe: %d %s", r.status, r.body)
		}

		// PUT replaces the configuration (absent fields back to their defaults) and keeps the state.
		up, err := e.responder.UpdateProbe(ctx, p.ID, firebreak.ProbeInput{Service: "api", Name: "health",
			URL: "https://127.0.0.1:9/ready", FailureThreshold: 5, Severity: firebreak.AlertWarning})
		if err != nil {
			t.Fatal(err)
		}
		if up.ID != p.ID || up.URL != "https://127.0.0.1:9/ready" || up.FailureThreshold != 5 ||
			up.Severity != firebreak.AlertWarning || time.Duration(up.Interval) != time.Minute || len(up.Conditions) != 0 ||
			up.ConsecutiveFailures != 1 {
			t.Fatalf("updated probe %+v", up)
		}
		if wakes.Load() != 3 {
			t.Fatalf("%d wake-ups after two creates and an update, want 3", wakes.Load())
		}
		_, err = e.responder.UpdateProbe(ctx, "00000000-0000-0000-0000-000000000000",
			firebreak.ProbeInput{Service: "api", Name: "x", URL: "http://x"})
		wantCode(t, err, firebreak.ENotFound)
		// Renaming onto another probe's name in the same service is a conflict.
		_, err = e.responder.UpdateProbe(ctx, tcp.ID, firebreak.ProbeInput{Service: "api", Name: "health", URL: "tcp://h:1"})
		wantCode(t, err, firebreak.EConflict)

		// DELETE answers 204; the probe is gone.
		if r := e.asResponder("DELETE", "/api/v1/probes/"+tcp.ID, ""); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("DELETE: %d %s", r.status, r.body)
		}
		_, err = e.viewer.GetProbe(ctx, tcp.ID)
		wantCode(t, err, firebreak.ENotFound)
		wantCode(t, e.responder.DeleteProbe(ctx, tcp.ID), firebreak.ENotFound)
		e.asViewer("GET", "/api/v1/probes/"+tcp.ID, "").problem(t, http.StatusNotFound)
	})
}

func TestProbesAPIValidation(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		e.service("api")
		for _, c := range []struct{ body, field string }{
			{`{"service":"api","name":"h"}`, "url"},
			{`{"service":"api","name":"h","url":"ftp://example.com"}`, "url"},
			{`{"service":"api","name":"h","url":"tcp://example.com"}`, "url"},
			{`{"service":"api","url":"http://example.com"}`, "name"},
			{`{"name":"h","url":"http://example.com"}`, "service"},
			{`{"service":"nope","name":"h","url":"http://example.com"}`, "service"},
			{`{"service":"api","name":"h","url":"http://example.com","conditions":["[STATUS] == 200","[STATUS] =="]}`, "conditions[1]"},
			{`{"service":"api","name":"h","url":"http://example.com","conditions":["[NOPE] == 1"]}`, "conditions[0]"},
			{`{"service":"api","name":"h","url":"http://example.com","interval":"fast"}`, "interval"},
			{`{"service":"api","name":"h","url":"http://example.com","interval":"100ms"}`, "interval"},
			{`{"service":"api","name":"h","url":"http://example.com","interval":"10s","timeout":"20s"}`, "timeout"},
			{`{"service":"api","name":"h","url":"http://example.com","failure_threshold":101}`, "failure_threshold"},
			{`{"service":"api","name":"h","url":"http://example.com","severity":"fatal"}`, "severity"},
			{`{"service":"api","name":"h","url":"http://example.com","method":"BREW"}`, "method"},
			{`{"service":"api","name":"h","url":"http://example.com","failure_threshold":"3"}`, "failure_threshold"},
		} {
			p := e.asResponder("POST", "/api/v1/probes", c.body).problem(t, http.StatusUnprocessableEntity)
			fieldNamed(t, p, c.field)
		}
		// Unknown fields and malformed JSON are refused.
		e.asResponder("POST", "/api/v1/probes", `{"service":"api","name":"h","url":"http://x","every":"1m"}`).
			problem(t, http.StatusUnprocessableEntity)
		e.asResponder("POST", "/api/v1/probes", `{"service":`).problem(t, http.StatusBadRequest)
		// Through the client, the same error names the field.
		_, err := e.responder.CreateProbe(ctx, firebreak.ProbeInput{Service: "api", Name: "h", URL: "http://x",
			Conditions: []string{"[STATUS] ?? 200"}})
		wantCode(t, err, firebreak.EInvalid, "conditions[0]")
		// A name is unique within its service.
		in := firebreak.ProbeInput{Service: "api", Name: "h", URL: "http://example.com"}
		if _, err := e.responder.CreateProbe(ctx, in); err != nil {
			t.Fatal(err)
		}
		_, err = e.responder.CreateProbe(ctx, in)
		wantCode(t, err, firebreak.EConflict)
		// Nothing invalid was stored.
		list, err := e.viewer.ListProbes(ctx, firebreak.ProbeFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("probes after validation: %+v %v", list, err)
		}
	})
}

func TestProbesAPIRoles(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		e.service("api")
		body := `{"service":"api","name":"h","url":"http://example.com"}`
		// A viewer reads but cannot create, replace or delete.
		p := e.asViewer("POST", "/api/v1/probes", body).problem(t, http.StatusForbidden)
		if !strings.Contains(p.Detail, "viewer") {
			t.Fatalf("403 detail: %q", p.Detail)
		}
		_, err := e.viewer.CreateProbe(ctx, firebreak.ProbeInput{Service: "api", Name: "h", URL: "http://example.com"})
		wantCode(t, err, firebreak.EForbidden)
		e.do("POST", "/api/v1/probes", "", body).problem(t, http.StatusUnauthorized)
		e.do("GET", "/api/v1/probes", "", "").problem(t, http.StatusUnauthorized)

		created, err := e.responder.CreateProbe(ctx, firebreak.ProbeInput{Service: "api", Name: "h", URL: "http://example.com"})
		if err != nil {
			t.Fatal(err)
		}
		path := "/api/v1/probes/" + created.ID
		e.asViewer("PUT", path, body).problem(t, http.StatusForbidden)
		e.asViewer("DELETE", path, "").problem(t, http.StatusForbidden)
		if r := e.asViewer("GET", path, ""); r.status != http.StatusOK {
			t.Fatalf("viewer GET probe: %d %s", r.status, r.body)
		}
		if r := e.asViewer("GET", "/api/v1/probes", ""); r.status != http.StatusOK {
			t.Fatalf("viewer list probes: %d %s", r.status, r.body)
		}
		// PATCH is not a method of probes: 405 with Allow.
		r := e.asResponder("PATCH", path, `{}`)
		r.problem(t, http.StatusMethodNotAllowed)
		if allow := r.header.Get("Allow"); !strings.Contains(allow, "PUT") || !strings.Contains(allow, "DELETE") {
			t.Fatalf("Allow %q", allow)
		}
		// An admin may do what a responder does.
		if err := e.admin.DeleteProbe(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// TestProbesClientApply checks the client's ApplyProbes: matched by service and name, others left alone.
func TestProbesClientApply(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		e.service("api")
		keep, err := e.responder.CreateProbe(ctx, firebreak.ProbeInput{Service: "api", Name: "keep", URL: "http://k"})
		if err != nil {
			t.Fatal(err)
		}
		old, err := e.responder.CreateProbe(ctx, firebreak.ProbeInput{Service: "api", Name: "health", URL: "http://old"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.responder.ApplyProbes(ctx, []firebreak.ProbeInput{
			{Service: "api", Name: "health", URL: "http://new"},
			{Service: "api", Name: "ready", URL: "http://ready"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != old.ID || got[0].URL != "http://new" || got[1].Name != "ready" {
			t.Fatalf("applied %+v", got)
		}
		list, _ := e.viewer.ListProbes(ctx, firebreak.ProbeFilter{})
		if len(list) != 3 || !slices.ContainsFunc(list, func(p firebreak.Probe) bool { return p.ID == keep.ID }) {
			t.Fatalf("after apply: %+v", list)
		}
	})
}

// TestOpenAPIProbeSchemas keeps the probe schemas equal to the JSON of the Go types (as
// TestOpenAPISchemasMatchTypes does for the others).
func TestOpenAPIProbeSchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{"Probe": firebreak.Probe{}, "ProbeInput": firebreak.ProbeInput{},
		"ProbeResult": firebreak.ProbeResult{}, "ProbeWindowStats": firebreak.ProbeWindowStats{},
		"ProbeStatus": firebreak.ProbeStatus{}} {
		s := d.Components.Schemas[name]
		if s == nil {
			t.Errorf("schema %s missing", name)
			continue
		}
		props, _ := s["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := jsonFields(reflect.TypeOf(typ)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
		}
	}
	for _, op := range []string{"post", "get"} {
		if d.Paths["/api/v1/probes"][op] == nil {
			t.Errorf("%s /api/v1/probes is not documented", op)
		}
	}
}
