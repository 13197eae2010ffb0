package web_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

// apiEnv is a real server on a real store, with a client per role.
type apiEnv struct {
	t          *testing.T
	st         *sqlstore.Store
	srv        *web.Server
	url        string
	tokens     map[firebreak.UserRole]string
	admin      *client.Client
	responder  *client.Client
	viewer     *client.Client
	responderU string
}

func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "fbt_" + hex.EncodeToString(b)
}

func newServer(t testing.TB, st *sqlstore.Store, mod func(*web.Config)) *web.Server {
	t.Helper()
	cfg := web.Config{Incidents: st, Catalog: st, Users: st, Sessions: st, Live: st, Ready: st.Ping,
		IncidentCounts: st.IncidentCounts, Alerts: st}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// newAPIEnv starts the server and makes an admin (from EnsureAdminToken), a responder and a viewer.
func newAPIEnv(t *testing.T, st *sqlstore.Store) *apiEnv {
	t.Helper()
	ctx := context.Background()
	adminSecret := randomSecret()
	if err := st.EnsureAdminToken(ctx, adminSecret); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, st, nil)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	e := &apiEnv{t: t, st: st, srv: srv, url: ts.URL, tokens: map[firebreak.UserRole]string{firebreak.RoleAdmin: adminSecret}}
	e.admin = client.New(ts.URL, adminSecret)
	for _, role := range []firebreak.UserRole{firebreak.RoleResponder, firebreak.RoleViewer} {
		name := "test-" + string(role)
		if _, err := e.admin.CreateUser(ctx, firebreak.UserInput{Username: name, Role: role}); err != nil {
			t.Fatalf("create %s: %v", role, err)
		}
		tok, err := e.admin.CreateToken(ctx, firebreak.TokenInput{Username: name, Name: "tests"})
		if err != nil {
			t.Fatalf("token for %s: %v", role, err)
		}
		if tok.Secret == "" {
			t.Fatalf("token for %s has no secret in the creating answer", role)
		}
		e.tokens[role] = tok.Secret
	}
	e.responder = client.New(ts.URL, e.tokens[firebreak.RoleResponder])
	e.viewer = client.New(ts.URL, e.tokens[firebreak.RoleViewer])
	e.responderU = "test-responder"
	return e
}

// forEachStore runs fn on a fresh store of every dialect under test.
func forEachStore(t *testing.T, fn func(t *testing.T, st *sqlstore.Store)) { sqltest.ForEach(t, fn) }

// forEachAPI runs fn on a fresh API environment of every dialect under test.
func forEachAPI(t *testing.T, fn func(t *testing.T, e *apiEnv)) {
	t.Helper()
	forEachStore(t, func(t *testing.T, st *sqlstore.Store) { fn(t, newAPIEnv(t, st)) })
}

// rawResp is an answer read whole.
type rawResp struct {
	status int
	header http.Header
	body   []byte
}

func (r rawResp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// problem decodes a problem+json answer, checking its content type and status member.
func (r rawResp) problem(t *testing.T, wantStatus int) web.Problem {
	t.Helper()
	if r.status != wantStatus {
		t.Fatalf("status %d, want %d; body %s", r.status, wantStatus, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p web.Problem
	r.json(t, &p)
	if p.Status != wantStatus || p.Title == "" || !strings.HasPrefix(p.Type, web.ProblemTypeBase) || p.Detail == "" {
		t.Fatalf("incomplete problem: %+v", p)
	}
	return p
}

// fieldNamed fails unless the problem names field among its errors.
func fieldNamed(t *testing.T, p web.Problem, field string) {
	t.Helper()
	for _, f := range p.Errors {
		if f.Field == field && f.Message != "" {
			return
		}
	}
	t.Fatalf("problem does not name field %q: %+v", field, p)
}

// do sends a raw request. token "" sends no Authorization; headers come in name, value pairs.
func (e *apiEnv) do(method, path, token, body string, headers ...string) rawResp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return rawResp{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *apiEnv) asAdmin(method, path, body string, headers ...string) rawResp {
	e.t.Helper()
	return e.do(method, path, e.tokens[firebreak.RoleAdmin], body, headers...)
}

func (e *apiEnv) asResponder(method, path, body string, headers ...string) rawResp {
	e.t.Helper()
	return e.do(method, path, e.tokens[firebreak.RoleResponder], body, headers...)
}

func (e *apiEnv) asViewer(method, path, body string, headers ...string) rawResp {
	e.t.Helper()
	return e.do(method, path, e.tokens[firebreak.RoleViewer], body, headers...)
}

// declare declares an incident through the client as the responder.
func (e *apiEnv) declare(title string, sev firebreak.Severity, services ...string) *firebreak.Incident {
	e.t.Helper()
	inc, err := e.responder.DeclareIncident(context.Background(),
		firebreak.DeclareInput{Title: title, Severity: sev, Services: services})
	if err != nil {
		e.t.Fatalf("declare %q: %v", title, err)
	}
	return inc
}

func (e *apiEnv) service(slug string) *firebreak.Service {
	e.t.Helper()
	s, err := e.admin.CreateService(context.Background(), firebreak.ServiceInput{Slug: slug, Name: strings.ToUpper(slug)})
	if err != nil {
		e.t.Fatalf("create service %s: %v", slug, err)
	}
	return s
}

// wantCode fails unless err is a *firebreak.Error with code (and, when given, naming field).
func wantCode(t *testing.T, err error, code string, field ...string) *firebreak.Error {
	t.Helper()
	var fe *firebreak.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want *firebreak.Error %s", err, err, code)
	}
	if fe.Code != code {
		t.Fatalf("code %s (%v), want %s", fe.Code, fe, code)
	}
	for _, f := range field {
		if !slices.ContainsFunc(fe.Fields, func(x firebreak.FieldError) bool { return x.Field == f }) {
			t.Fatalf("error %v does not name field %q", fe, f)
		}
	}
	return fe
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
