package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// apiStatus calls GET /api/v1/me with a bearer token and returns the status.
func apiStatus(t *testing.T, e *consoleEnv, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestConsoleAdminAccess(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	for _, name := range []string{"alice", "vera"} {
		b := e.browser()
		b.login(name)
		home := b.get("/incidents")
		if home.find(t, ".topbar a[href='/admin/users']").Length() != 0 {
			t.Fatalf("%s sees the Admin link", name)
		}
		if home.find(t, ".topbar a.me[href='/account/tokens']").Length() != 1 {
			t.Fatalf("%s has no link to their account", name)
		}
		for _, path := range []string{"/admin", "/admin/users", "/admin/tokens", "/admin/tokens?user=bob"} {
			p := b.get(path)
			wantStatus(t, p, http.StatusForbidden)
			if !strings.Contains(p.text(t, "main"), "it needs admin") {
				t.Fatalf("%s %s: 403 page says %q", name, path, p.text(t, "main"))
			}
		}
		csrf := home.attr(t, "form[action='/logout'] input[name=csrf_token]", "value")
		wantStatus(t, b.post("/admin/users", url.Values{"csrf_token": {csrf}, "username": {"mallory"},
			"role": {"admin"}}), http.StatusForbidden)
		wantStatus(t, b.post("/admin/tokens", url.Values{"csrf_token": {csrf}, "username": {name},
			"name": {"x"}}), http.StatusForbidden)
	}
	if _, err := st.GetUser(context.Background(), "mallory"); err == nil {
		t.Fatal("a non-admin created a user")
	}
	if ts, _ := st.ListTokens(context.Background(), ""); len(ts) != 0 {
		t.Fatalf("a non-admin created a token: %+v", ts)
	}
	// Signed out, the admin pages send you to the login page like every other.
	anon := e.browser()
	wantStatus(t, anon.get("/admin/users"), http.StatusSeeOther)

	a := e.browser()
	a.login("ada")
	home := a.get("/incidents")
	if home.find(t, ".topbar a[href='/admin/users']").Length() != 1 {
		t.Fatal("an admin has no Admin link")
	}
	r := a.get("/admin")
	wantStatus(t, r, http.StatusSeeOther)
	if r.location() != "/admin/users" {
		t.Fatalf("/admin redirects to %q", r.location())
	}
}

func TestConsoleAdminUsers(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	if _, err := st.CreateToken(context.Background(), firebreak.TokenInput{Username: "bob", Name: "laptop"}); err != nil {
		t.Fatal(err)
	}
	a := e.browser()
	a.login("ada")
	p := a.get("/admin/users")
	wantStatus(t, p, http.StatusOK)
	if got := p.find(t, ".user-table tbody tr").Length(); got != 4 {
		t.Fatalf("%d users listed", got)
	}
	row := p.find(t, "#user-bob")
	for sel, want := range map[string]string{".u-name": "Bob Diaz", ".u-username": "bob", ".c-role": "responder",
		".c-tokens": "1 token"} {
		if got := strings.TrimSpace(row.Find(sel).Text()); got != want {
			t.Errorf("bob's %s = %q, want %q", sel, got, want)
		}
	}
	if got := p.attr(t, "#user-bob .c-tokens a", "href"); got != "/admin/tokens?user=bob" {
		t.Fatalf("tokens link %q", got)
	}
	if got := p.attr(t, "#u-role option[selected]", "value"); got != "responder" {
		t.Fatalf("default role %q", got)
	}

	// Refusals: next to the field, typed values kept, the password never sent back.
	for _, c := range []struct {
		set    url.Values
		status int
		sel    string
		want   string
	}{
		{url.Values{"username": {"Not Valid!"}, "name": {"Carol"}, "password": {"long enough pw"}},
			http.StatusUnprocessableEntity, "#u-username-error", "Username must be 1–40 lowercase letters"},
		{url.Values{"username": {"bob"}, "password": {"long enough pw"}}, http.StatusConflict, "#u-username-error",
			"Username bob is already taken"},
		{url.Values{"username": {"carol"}, "password": {"short"}}, http.StatusUnprocessableEntity,
			"#u-password ~ .field-error", "Password must be at least 8 characters"},
		{url.Values{"username": {"carol"}, "email": {"not-an-email"}}, http.StatusUnprocessableEntity,
			"#u-email ~ .field-error", "Email must be an email address"},
	} {
		res := a.submit(p, ".user-form", c.set)
		wantStatus(t, res, c.status)
		if got := res.text(t, c.sel); !strings.HasPrefix(got, c.want) {
			t.Fatalf("%v: error %q, want %q", c.set, got, c.want)
		}
		if res.attr(t, "#u-username", "value") != c.set.Get("username") || res.find(t, "#u-password[value]").Length() != 0 {
			t.Fatalf("%v: username not kept, or the password sent back", c.set)
		}
		if res.text(t, "#form-error") == "" {
			t.Fatal("no summary of the refusal")
		}
	}

	// Created: the list says so once and highlights the new user, who can sign in.
	ok := a.submit(p, ".user-form", url.Values{"username": {"Carol"}, "name": {"Carol Chen"},
		"email": {"carol@example.com"}, "role": {"viewer"}, "password": {consolePassword}})
	wantStatus(t, ok, http.StatusSeeOther)
	if ok.location() != "/admin/users#user-carol" {
		t.Fatalf("created, redirected to %q", ok.location())
	}
	p = a.get("/admin/users")
	if got := p.text(t, "#notice"); got != "User carol was created." {
		t.Fatalf("notice %q", got)
	}
	if !p.find(t, "#user-carol").HasClass("is-new") || p.text(t, "#user-carol .c-email") != "carol@example.com" {
		t.Fatalf("carol's row: %q", p.text(t, "#user-carol"))
	}
	if a.get("/admin/users").find(t, "#notice").Length() != 0 {
		t.Fatal("the notice shows again after a reload")
	}
	c := e.browser()
	c.login("carol")
	if got := c.get("/incidents").text(t, ".me-name"); got != "carol" {
		t.Fatalf("carol signed in as %q", got)
	}
	u, err := st.GetUser(context.Background(), "carol")
	if err != nil || u.Role != firebreak.RoleViewer || u.Name != "Carol Chen" {
		t.Fatalf("stored %+v, %v", u, err)
	}
}

func TestConsoleAdminTokens(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		ctx := context.Background()
		alices, err := st.CreateToken(ctx, firebreak.TokenInput{Username: "alice", Name: "alice-laptop"})
		if err != nil {
			t.Fatal(err)
		}
		a := e.browser()
		a.login("ada")
		p := a.get("/admin/tokens")
		wantStatus(t, p, http.StatusOK)
		if got := p.text(t, "#token-"+alices.ID+" .tok-name"); got != "alice-laptop" {
			t.Fatalf("alice's token row %q", got)
		}
		if p.find(t, "#new-token").Length() != 0 || strings.Contains(p.body, alices.Secret) {
			t.Fatal("the list shows a secret")
		}
		if got := p.attr(t, "#tok-exp option[selected]", "value"); got != "90" {
			t.Fatalf("default expiry %q", got)
		}

		// Refusals next to the fields.
		for _, c := range []struct {
			set  url.Values
			sel  string
			want string
		}{
			{url.Values{"username": {""}, "name": {"ci"}}, "#tok-user ~ .field-error", "Choose the user"},
			{url.Values{"username": {"bob"}, "name": {""}}, "#tok-name ~ .field-error", "Name the token"},
			{url.Values{"username": {"vera"}, "name": {"ci"}, "role": {"admin"}}, "#tok-role ~ .field-error",
				"Role must not be above the user's role (viewer)"},
			{url.Values{"username": {"bob"}, "name": {"ci"}, "expires_in": {"-3"}}, "#tok-exp ~ .field-error",
				"Choose when the token expires"},
			{url.Values{"username": {"ghost"}, "name": {"ci"}}, "#tok-user ~ .field-error", "There is no user ghost"},
		} {
			res := a.submit(p, ".token-form", c.set)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if got := res.text(t, c.sel); !strings.HasPrefix(got, c.want) {
				t.Fatalf("%v: error %q, want %q", c.set, got, c.want)
			}
			if res.attr(t, "#tok-name", "value") != c.set.Get("name") {
				t.Fatalf("%v: name not kept", c.set)
			}
		}

		// Created: the secret is on the next page, once, and works; the cookie that carried it does not show it.
		created := a.submit(p, ".token-form", url.Values{"username": {"bob"}, "name": {"ci-deploy"},
			"role": {"viewer"}, "expires_in": {"30"}})
		wantStatus(t, created, http.StatusSeeOther)
		if created.location() != "/admin/tokens#new-token" {
			t.Fatalf("created, redirected to %q", created.location())
		}
		for _, ck := range (&http.Response{Header: created.header}).Cookies() {
			if ck.Name == "firebreak_flash" && (!ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode) {
				t.Fatalf("flash cookie %+v", ck)
			}
		}
		shown := a.get("/admin/tokens")
		secret := shown.text(t, "#new-token-secret")
		if len(secret) < 20 || !strings.Contains(shown.text(t, "#new-token"), "only time it is shown") {
			t.Fatalf("new token panel: %q", shown.text(t, "#new-token"))
		}
		if strings.Contains(created.header.Get("Set-Cookie"), secret) {
			t.Fatal("the secret travels in the clear in a cookie")
		}
		if shown.find(t, "button[data-copy=new-token-secret]").Length() != 1 {
			t.Fatal("no copy button")
		}
		actor, err := st.AuthenticateToken(ctx, secret)
		if err != nil || actor.Username != "bob" || actor.Role != firebreak.RoleViewer {
			t.Fatalf("the new token authenticates %+v, %v", actor, err)
		}
		if s := apiStatus(t, e, secret); s != http.StatusOK {
			t.Fatalf("API with the new token: %d", s)
		}
		var row *goquery.Selection
		shown.find(t, ".token-table tbody tr").Each(func(_ int, s *goquery.Selection) {
			if strings.TrimSpace(s.Find(".tok-name").Text()) == "ci-deploy" {
				row = s
			}
		})
		if row == nil || !row.HasClass("is-new") || strings.TrimSpace(row.Find(".c-role").Text()) != "viewer" ||
			strings.TrimSpace(row.Find(".c-user").Text()) != "bob" || strings.Contains(row.Find(".c-expires").Text(), "Never") {
			t.Fatalf("new token row: %v", row)
		}
		again := a.get("/admin/tokens")
		if again.find(t, "#new-token").Length() != 0 || strings.Contains(again.body, secret) {
			t.Fatal("the secret is shown a second time")
		}

		// Filtered by user, and an unknown user is a 404.
		bobs := a.get("/admin/tokens?user=bob")
		if n := bobs.find(t, ".token-table tbody tr").Length(); n != 1 || bobs.attr(t, "#tok-user option[selected]", "value") != "bob" {
			t.Fatalf("bob's tokens: %d rows", n)
		}
		wantStatus(t, a.get("/admin/tokens?user=ghost"), http.StatusNotFound)

		// Revoked: it authenticates nobody, over the API too; revoking again is a 404.
		form := "form[action='/admin/tokens/" + row.AttrOr("id", "")[len("token-"):] + "/revoke']"
		if got := bobs.attr(t, form+" button", "data-confirm"); !strings.Contains(got, "ci-deploy") {
			t.Fatalf("revoke confirmation %q", got)
		}
		rv := a.submit(bobs, form, nil)
		wantStatus(t, rv, http.StatusSeeOther)
		if rv.location() != "/admin/tokens?user=bob" {
			t.Fatalf("revoked, redirected to %q", rv.location())
		}
		after := a.get(rv.location())
		if got := after.text(t, "#notice"); got != "Token “ci-deploy” of bob was revoked: it no longer works." {
			t.Fatalf("notice %q", got)
		}
		if after.find(t, ".token-table").Length() != 0 || after.find(t, ".empty-state").Length() != 1 {
			t.Fatal("the revoked token is still listed")
		}
		if _, err := st.AuthenticateToken(ctx, secret); firebreak.ErrorCode(err) != firebreak.EUnauthorized {
			t.Fatalf("a revoked token authenticates: %v", err)
		}
		if s := apiStatus(t, e, secret); s != http.StatusUnauthorized {
			t.Fatalf("API with the revoked token: %d", s)
		}
		wantStatus(t, a.submit(bobs, form, nil), http.StatusNotFound)
	})
}

func TestConsoleAccountTokens(t *testing.T) {
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	ctx := context.Background()
	mine, err := st.CreateToken(ctx, firebreak.TokenInput{Username: "bob", Name: "bob-cli"})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := st.CreateToken(ctx, firebreak.TokenInput{Username: "alice", Name: "alice-cli"})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("bob")
	p := b.get("/account/tokens")
	wantStatus(t, p, http.StatusOK)
	if n := p.find(t, ".token-table tbody tr").Length(); n != 1 || p.text(t, ".tok-name") != "bob-cli" {
		t.Fatalf("bob sees %d tokens: %q", n, p.text(t, ".tok-name"))
	}
	if p.find(t, ".token-form, .tabs").Length() != 0 || !strings.Contains(p.text(t, ".lead"), "Ask an admin") {
		t.Fatal("a responder is offered to create tokens")
	}
	if _, cur := p.find(t, "a.me").Attr("aria-current"); !cur {
		t.Fatal("the account link is not marked current")
	}

	// Someone else's token cannot be revoked from here (it looks not found), and keeps working.
	csrf := p.attr(t, "input[name=csrf_token]", "value")
	wantStatus(t, b.post("/account/tokens/"+theirs.ID+"/revoke", url.Values{"csrf_token": {csrf}}), http.StatusNotFound)
	if _, err := st.AuthenticateToken(ctx, theirs.Secret); err != nil {
		t.Fatalf("alice's token stopped working: %v", err)
	}
	// Without the CSRF token, nothing happens.
	wantStatus(t, b.post("/account/tokens/"+mine.ID+"/revoke", nil), http.StatusForbidden)

	rv := b.submit(p, "form[action='/account/tokens/"+mine.ID+"/revoke']", nil)
	wantStatus(t, rv, http.StatusSeeOther)
	if rv.location() != "/account/tokens" {
		t.Fatalf("revoked, redirected to %q", rv.location())
	}
	after := b.get("/account/tokens")
	if !strings.Contains(after.text(t, "#notice"), "bob-cli") || after.find(t, ".token-table").Length() != 0 {
		t.Fatalf("after revoking: %q", after.text(t, "main"))
	}
	if s := apiStatus(t, e, mine.Secret); s != http.StatusUnauthorized {
		t.Fatalf("API with bob's revoked token: %d", s)
	}

	// A viewer has the page too; an admin is pointed at the admin page to create one.
	v := e.browser()
	v.login("vera")
	wantStatus(t, v.get("/account/tokens"), http.StatusOK)
	a := e.browser()
	a.login("ada")
	if got := a.get("/account/tokens").attr(t, ".lead a", "href"); got != "/admin/tokens?user=ada#create" {
		t.Fatalf("admin's create link %q", got)
	}
}
