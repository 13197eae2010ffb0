package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/web"
)

// consolePassword is every console test user's password.
const consolePassword = "correct horse battery"

// consoleEnv is a real server on a real store, with users for every role and a small catalog.
type consoleEnv struct {
	t   testing.TB
	st  *sqlstore.Store
	url string
}

// newConsoleEnv starts the server with users alice and bob (responders), vera (viewer) and ada (admin), and the
// services api, db and web (web depends on api, api on db).
func newConsoleEnv(t testing.TB, st *sqlstore.Store) *consoleEnv {
	t.Helper()
	return newConsoleEnvWith(t, st, nil)
}

// newConsoleEnvWith is newConsoleEnv with a chance to change the server's configuration first.
func newConsoleEnvWith(t testing.TB, st *sqlstore.Store, configure func(*web.Config)) *consoleEnv {
	t.Helper()
	ctx := context.Background()
	for _, u := range []firebreak.UserInput{
		{Username: "alice", Name: "Alice Ng", Role: firebreak.RoleResponder},
		{Username: "bob", Name: "Bob Diaz", Role: firebreak.RoleResponder},
		{Username: "vera", Name: "Vera Viewer", Role: firebreak.RoleViewer},
		{Username: "ada", Name: "Ada Admin", Role: firebreak.RoleAdmin},
	} {
		u.Password = consolePassword
		if _, err := st.CreateUser(ctx, u); err != nil {
			t.Fatalf("create user %s: %v", u.Username, err)
		}
	}
	for _, s := range []firebreak.ServiceInput{
		{Slug: "db", Name: "Primary database", OwnerTeam: "platform", Tier: 1},
		{Slug: "api", Name: "Public API", OwnerTeam: "core", Tier: 1, DependsOn: []string{"db"},
			RunbookURL: "https://runbooks.example.com/api"},
		{Slug: "web", Name: "Web frontend", OwnerTeam: "frontend", Tier: 2, DependsOn: []string{"api"}},
	} {
		if _, err := st.CreateService(ctx, s); err != nil {
			t.Fatalf("create service %s: %v", s.Slug, err)
		}
	}
	cfg := web.Config{Incidents: st, Catalog: st, Users: st, Sessions: st, Live: st, Ready: st.Ping,
		IncidentCounts: st.IncidentCounts}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := web.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &consoleEnv{t: t, st: st, url: ts.URL}
}

// as returns a context acting as the user (for changes made "by someone else" straight through the store).
func as(username string, role firebreak.UserRole) context.Context {
	return firebreak.WithActor(context.Background(), firebreak.Actor{Username: username, Role: role})
}

// browser is an HTTP client with its own cookie jar that does not follow redirects, so tests see them.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func (e *consoleEnv) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.url, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is one response with its parsed HTML.
type page struct {
	status int
	header http.Header
	body   string
	doc    *goquery.Document
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := &page{status: res.StatusCode, header: res.Header, body: string(body)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		p.doc, err = goquery.NewDocumentFromReader(strings.NewReader(p.body))
		if err != nil {
			b.t.Fatalf("parse %s: %v", req.URL, err)
		}
	}
	return p
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submit posts the form matched by selector on p, with its hidden and filled fields, overridden by set.
func (b *browser) submit(p *page, selector string, set url.Values) *page {
	b.t.Helper()
	form := p.find(b.t, selector)
	if form.Length() != 1 {
		b.t.Fatalf("%d forms match %q", form.Length(), selector)
	}
	vals := url.Values{}
	form.Find("input, textarea, select").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if !ok {
			return
		}
		typ, _ := s.Attr("type")
		switch {
		case goquery.NodeName(s) == "textarea":
			vals.Add(name, s.Text())
		case goquery.NodeName(s) == "select":
			if v, ok := s.Find("option[selected]").Attr("value"); ok {
				vals.Add(name, v)
			} else if v, ok := s.Find("option").First().Attr("value"); ok {
				vals.Add(name, v)
			}
		case typ == "checkbox" || typ == "radio":
			if _, checked := s.Attr("checked"); checked {
				v, _ := s.Attr("value")
				vals.Add(name, v)
			}
		case typ == "submit":
		default:
			v, _ := s.Attr("value")
			vals.Add(name, v)
		}
	})
	for k, v := range set {
		vals[k] = v
	}
	action, _ := form.Attr("action")
	return b.post(action, vals)
}

// login signs in through the login form and fails the test unless it worked.
func (b *browser) login(username string) {
	b.t.Helper()
	p := b.get("/login")
	res := b.submit(p, "form[action='/login']", url.Values{"username": {username}, "password": {consolePassword}})
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("login as %s: status %d: %s", username, res.status, res.text(b.t, ".alert"))
	}
}

func (p *page) find(t testing.TB, selector string) *goquery.Selection {
	t.Helper()
	if p.doc == nil {
		t.Fatalf("not an HTML page (status %d): %.300s", p.status, p.body)
	}
	return p.doc.Find(selector)
}

// text returns the whitespace-normalized text of everything matching selector.
func (p *page) text(t testing.TB, selector string) string {
	t.Helper()
	return strings.Join(strings.Fields(p.find(t, selector).Text()), " ")
}

// attr returns an attribute of the first element matching selector, failing when there is none.
func (p *page) attr(t testing.TB, selector, name string) string {
	t.Helper()
	s := p.find(t, selector).First()
	v, ok := s.Attr(name)
	if !ok {
		t.Fatalf("no %s attribute on %q (matches: %d)", name, selector, p.find(t, selector).Length())
	}
	return v
}

func (p *page) location() string { return p.header.Get("Location") }

func wantStatus(t testing.TB, p *page, want int) {
	t.Helper()
	if p.status != want {
		t.Fatalf("status %d, want %d; body: %.600s", p.status, want, p.body)
	}
}
