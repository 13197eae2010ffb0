package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak"
)

// Administration in the console: users (/admin/users) and API tokens (/admin/tokens) for admins, and every
// user's own tokens (/account/tokens). A new token's secret is shown once, on the page the create form redirects
// to: it travels there in a short-lived flash cookie, encrypted with a key derived from the session secret, so it
// never appears in a URL, a log line or the browser's history, and a reload does not show it again.

// ---- flash: a one-time message for the page after a redirect ----

const flashCookie = "firebreak_flash"

type flash struct {
	Path   string `json:"p"` // the page that shows it
	Notice string `json:"n,omitempty"`
	User   string `json:"u,omitempty"` // the user just created, or the one the new token acts as
	// A token just created: its secret, shown this once.
	TokenName string `json:"t,omitempty"`
	TokenID   string `json:"i,omitempty"`
	Secret    string `json:"s,omitempty"`
}

func flashAEAD(sessionSecret string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("firebreak-flash:" + sessionSecret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// setFlash stores f for the next page of this session. It reports false when the caller has no session cookie
// (a bearer-token client), which then gets the page directly.
func (c *console) setFlash(w http.ResponseWriter, r *http.Request, f flash) bool {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	aead, err := flashAEAD(ck.Value)
	if err != nil {
		return false
	}
	plain, err := json.Marshal(f)
	if err != nil {
		return false
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return false
	}
	sealed := aead.Seal(nonce, nonce, plain, []byte(flashCookie))
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.s.cfg.SecureCookies, MaxAge: 120})
	return true
}

// takeFlash returns the flash meant for this page and deletes it, so it shows once.
func (c *console) takeFlash(w http.ResponseWriter, r *http.Request) flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return flash{}
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.s.cfg.SecureCookies})
	sess, err := r.Cookie(SessionCookie)
	if err != nil {
		return flash{}
	}
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return flash{}
	}
	aead, err := flashAEAD(sess.Value)
	if err != nil || len(sealed) < aead.NonceSize() {
		return flash{}
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(flashCookie))
	if err != nil {
		return flash{}
	}
	var f flash
	if json.Unmarshal(plain, &f) != nil || f.Path != r.URL.Path {
		return flash{}
	}
	return f
}

// ---- users ----

type userFormInput struct {
	Username string
	Name     string
	Email    string
	Role     string
}

type adminUsersPage struct {
	Users   []firebreak.User
	Tokens  map[string]int // API tokens per username
	In      userFormInput
	Errors  formErrors
	Error   string
	Notice  string
	Created string // the username just created, highlighted
}

func (c *console) adminUsers(w http.ResponseWriter, r *http.Request, v viewer) {
	f := c.takeFlash(w, r)
	c.renderAdminUsers(w, r, v, http.StatusOK, adminUsersPage{In: userFormInput{Role: string(firebreak.RoleResponder)},
		Notice: f.Notice, Created: f.User})
}

func (c *console) renderAdminUsers(w http.ResponseWriter, r *http.Request, v viewer, status int, d adminUsersPage) {
	ctx := r.Context()
	var err error
	if d.Users, err = c.s.cfg.Users.ListUsers(ctx); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	tokens, err := c.s.cfg.Users.ListTokens(ctx, "")
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d.Tokens = map[string]int{}
	for _, t := range tokens {
		d.Tokens[t.Username]++
	}
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	c.render(w, r, status, "admin_users", layoutData{Title: "Users", Nav: "admin", Viewer: v, Page: d})
}

func (c *console) createUser(w http.ResponseWriter, r *http.Request, v viewer) {
	in := userFormInput{
		Username: strings.TrimSpace(r.PostFormValue("username")), // the domain lowercases it
		Name:     strings.TrimSpace(r.PostFormValue("name")),
		Email:    strings.TrimSpace(r.PostFormValue("email")),
		Role:     r.PostFormValue("role"),
	}
	u, err := c.s.cfg.Users.CreateUser(r.Context(), firebreak.UserInput{Username: in.Username, Name: in.Name,
		Email: in.Email, Role: firebreak.UserRole(in.Role), Password: r.PostFormValue("password")})
	if err != nil {
		d := adminUsersPage{In: in, Error: "The user was not created: please correct the highlighted fields."}
		switch firebreak.ErrorCode(err) {
		case firebreak.EInvalid:
			d.Errors, _ = fieldErrors(err)
			c.renderAdminUsers(w, r, v, http.StatusUnprocessableEntity, d)
		case firebreak.EConflict:
			d.Errors = formErrors{"username": "Username " + strings.ToLower(in.Username) + " is already taken"}
			c.renderAdminUsers(w, r, v, http.StatusConflict, d)
		default:
			c.errorPage(w, r, v, err)
		}
		return
	}
	f := flash{Path: "/admin/users", Notice: "User " + u.Username + " was created.", User: u.Username}
	if !c.setFlash(w, r, f) {
		c.renderAdminUsers(w, r, v, http.StatusOK, adminUsersPage{Notice: f.Notice, Created: u.Username,
			In: userFormInput{Role: string(firebreak.RoleResponder)}})
		return
	}
	seeOther(w, r, "/admin/users#user-"+url.PathEscape(u.Username))
}

// ---- API tokens ----

type tokenRow struct {
	Tok     firebreak.Token
	Expired bool
	New     bool
}

type tokenFormInput struct {
	Username  string
	Name      string
	Role      string
	ExpiresIn string // days, "" for never
}

// newToken is a token just created, with the secret shown this once.
type newToken struct {
	Name     string
	Username string
	Secret   string
}

type tokensPage struct {
	// Admin is the admin page (every user's tokens, or User's, and the create form); otherwise the account page
	// (the viewer's own tokens).
	Admin  bool
	User   string // the user whose tokens are listed; "" for everyone's
	Me     *firebreak.User
	Rows   []tokenRow
	Users  []firebreak.User
	In     tokenFormInput
	Errors formErrors
	Error  string
	Notice string
	New    *newToken
	newID  string // the token just created, highlighted in the list
}

// tokenExpiries are the choices of the create form, in days.
var tokenExpiries = []struct{ Days, Label string }{
	{"7", "7 days"}, {"30", "30 days"}, {"90", "90 days"}, {"365", "1 year"}, {"", "Never"},
}

func (c *console) adminTokens(w http.ResponseWriter, r *http.Request, v viewer) {
	user := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("user")))
	d := tokensPage{Admin: true, User: user, In: tokenFormInput{Username: user, ExpiresIn: "90"}}
	c.applyFlash(&d, c.takeFlash(w, r))
	c.renderTokens(w, r, v, http.StatusOK, d)
}

func (c *console) accountTokens(w http.ResponseWriter, r *http.Request, v viewer) {
	d := tokensPage{User: v.Username}
	c.applyFlash(&d, c.takeFlash(w, r))
	c.renderTokens(w, r, v, http.StatusOK, d)
}

func (c *console) applyFlash(d *tokensPage, f flash) {
	d.Notice = f.Notice
	if f.Secret != "" {
		d.New = &newToken{Name: f.TokenName, Username: f.User, Secret: f.Secret}
	}
	d.newID = f.TokenID
}

func (c *console) renderTokens(w http.ResponseWriter, r *http.Request, v viewer, status int, d tokensPage) {
	ctx := r.Context()
	tokens, err := c.s.cfg.Users.ListTokens(ctx, d.User)
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			c.notFound(w, r, v, "User "+d.User)
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	now := c.s.cfg.Now()
	for _, t := range tokens {
		d.Rows = append(d.Rows, tokenRow{Tok: t, Expired: t.ExpiresAt != nil && !t.ExpiresAt.After(now),
			New: t.ID == d.newID})
	}
	if d.Admin {
		if d.Users, err = c.s.cfg.Users.ListUsers(ctx); err != nil {
			c.errorPage(w, r, v, err)
			return
		}
	} else if d.Me, err = c.s.cfg.Users.GetUser(ctx, v.Username); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	title, nav := "Your account", "account"
	if d.Admin {
		title, nav = "API tokens", "admin"
	}
	c.render(w, r, status, "tokens", layoutData{Title: title, Nav: nav, Viewer: v, Page: d})
}

func (c *console) createToken(w http.ResponseWriter, r *http.Request, v viewer) {
	in := tokenFormInput{
		Username:  strings.ToLower(strings.TrimSpace(r.PostFormValue("username"))),
		Name:      strings.TrimSpace(r.PostFormValue("name")),
		Role:      r.PostFormValue("role"),
		ExpiresIn: r.PostFormValue("expires_in"),
	}
	filter := strings.ToLower(strings.TrimSpace(r.PostFormValue("filter")))
	d := tokensPage{Admin: true, User: filter, In: in, Errors: formErrors{}}
	fail := func(status int) {
		d.Error = "The token was not created: please correct the highlighted fields."
		c.renderTokens(w, r, v, status, d)
	}
	ti := firebreak.TokenInput{Username: in.Username, Name: in.Name, Role: firebreak.UserRole(in.Role)}
	if in.Username == "" {
		d.Errors["username"] = "Choose the user the token acts as"
	}
	if in.Name == "" {
		d.Errors["name"] = "Name the token after what will use it (e.g. ci-deploy)"
	}
	if in.ExpiresIn != "" {
		days, err := strconv.Atoi(in.ExpiresIn)
		if err != nil || days < 1 || days > 3650 {
			d.Errors["expires_in"] = "Choose when the token expires"
		} else {
			at := c.s.cfg.Now().UTC().AddDate(0, 0, days)
			ti.ExpiresAt = &at
		}
	}
	if d.Errors.Any() {
		fail(http.StatusUnprocessableEntity)
		return
	}
	tok, err := c.s.cfg.Users.CreateToken(r.Context(), ti)
	if err != nil {
		switch firebreak.ErrorCode(err) {
		case firebreak.EInvalid:
			d.Errors, _ = fieldErrors(err)
			if m, ok := d.Errors["expires_at"]; ok {
				d.Errors["expires_in"] = m
			}
			fail(http.StatusUnprocessableEntity)
		case firebreak.ENotFound:
			d.Errors["username"] = "There is no user " + in.Username
			fail(http.StatusUnprocessableEntity)
		default:
			c.errorPage(w, r, v, err)
		}
		return
	}
	f := flash{Path: "/admin/tokens", TokenID: tok.ID, TokenName: tok.Name, User: tok.Username, Secret: tok.Secret}
	if !c.setFlash(w, r, f) {
		d = tokensPage{Admin: true, User: filter, In: tokenFormInput{Username: filter, ExpiresIn: "90"}}
		c.applyFlash(&d, f)
		c.renderTokens(w, r, v, http.StatusCreated, d)
		return
	}
	seeOther(w, r, tokensURL(filter)+"#new-token")
}

func tokensURL(user string) string {
	if user == "" {
		return "/admin/tokens"
	}
	return "/admin/tokens?user=" + url.QueryEscape(user)
}

func (c *console) adminRevokeToken(w http.ResponseWriter, r *http.Request, v viewer) {
	c.revokeToken(w, r, v, "", tokensURL(strings.ToLower(strings.TrimSpace(r.PostFormValue("filter")))))
}

func (c *console) accountRevokeToken(w http.ResponseWriter, r *http.Request, v viewer) {
	c.revokeToken(w, r, v, v.Username, "/account/tokens")
}

// revokeToken revokes the token {id} of owner (anyone's for "": admins only) and goes back to the list.
func (c *console) revokeToken(w http.ResponseWriter, r *http.Request, v viewer, owner, back string) {
	id := r.PathValue("id")
	tokens, err := c.s.cfg.Users.ListTokens(r.Context(), owner)
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	i := slices.IndexFunc(tokens, func(t firebreak.Token) bool { return t.ID == id })
	if i < 0 {
		c.errorPage(w, r, v, firebreak.Errorf(firebreak.ENotFound,
			"This token does not exist: it may have been revoked already."))
		return
	}
	tok := tokens[i]
	if err := c.s.cfg.Users.RevokeToken(r.Context(), id); err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	msg := "Token “" + tok.Name + "” of " + tok.Username + " was revoked: it no longer works."
	path, _, _ := strings.Cut(back, "?")
	c.setFlash(w, r, flash{Path: path, Notice: msg}) // without a session cookie, the list alone shows it
	seeOther(w, r, back)
}
