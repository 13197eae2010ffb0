package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/firebreak/firebreak"
)

// loginCookie holds a random value that the login form repeats (double submit): another site cannot make a
// browser sign in to an account of the attacker's choosing.
const loginCookie = "firebreak_login"

// loginFailMessage is the one answer to every failed login, whether the user exists or not.
const loginFailMessage = "Invalid username or password."

type loginPageData struct {
	Username string
	Next     string
	Token    string
	Error    string
}

func (c *console) setLoginCookie(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(loginCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	v := randomHex(16)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: v, Path: "/login", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.s.cfg.SecureCookies, MaxAge: 3600})
	return v
}

func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !safeNext(next) {
		next = "/"
	}
	if a := authFrom(r.Context()); a.ok && a.viaCookie {
		seeOther(w, r, next)
		return
	}
	d := loginPageData{Next: next, Token: c.setLoginCookie(w, r)}
	c.render(w, r, http.StatusOK, "login", layoutData{Title: "Sign in", Page: d})
}

func (c *console) login(w http.ResponseWriter, r *http.Request) {
	username := strings.ToLower(strings.TrimSpace(r.PostFormValue("username")))
	password := r.PostFormValue("password")
	next := r.PostFormValue("next")
	if !safeNext(next) {
		next = "/"
	}
	d := loginPageData{Username: username, Next: next}
	fail := func(status int, msg string) {
		d.Token = c.setLoginCookie(w, r)
		d.Error = msg
		c.render(w, r, status, "login", layoutData{Title: "Sign in", Page: d})
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("login_token"))) != 1 {
		fail(http.StatusForbidden, "Your sign-in form expired. Please try again.")
		return
	}
	// Failures count per address and account (a colleague mistyping behind the same proxy as everyone else locks
	// out only their own account), and per address with a higher limit (password spraying across accounts).
	ip := clientIP(r)
	account := ip + "|" + strings.ToLower(strings.TrimSpace(username))
	if c.throttle.blocked(account, c.s.cfg.Now()) > 0 || c.addrThrottle.blocked(ip, c.s.cfg.Now()) > 0 {
		fail(http.StatusTooManyRequests, "Too many failed sign-in attempts. Try again in a few minutes.")
		return
	}
	if username == "" || password == "" {
		fail(http.StatusUnauthorized, loginFailMessage)
		return
	}
	actor, err := c.s.cfg.Users.AuthenticatePassword(r.Context(), username, password)
	if err != nil {
		switch firebreak.ErrorCode(err) {
		case firebreak.EUnauthorized, firebreak.ENotFound, firebreak.EInvalid:
			c.throttle.fail(account, c.s.cfg.Now())
			c.addrThrottle.fail(ip, c.s.cfg.Now())
			c.s.log.InfoContext(r.Context(), "console login failed", "username", username)
			fail(http.StatusUnauthorized, loginFailMessage)
		default:
			c.errorPage(w, r, viewer{}, err)
		}
		return
	}
	secret, err := c.s.cfg.Sessions.CreateSession(r.Context(), actor.UserID, c.s.cfg.SessionTTL)
	if err != nil {
		c.errorPage(w, r, viewer{}, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.s.cfg.SecureCookies, MaxAge: int(c.s.cfg.SessionTTL.Seconds())})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.s.cfg.SecureCookies})
	seeOther(w, r, next)
}

func (c *console) logout(w http.ResponseWriter, r *http.Request) {
	a := authFrom(r.Context())
	if a.ok && a.viaCookie {
		if err := checkAccess(r, firebreak.RoleViewer); err != nil {
			c.errorPage(w, r, viewer{Actor: a.actor, CSRF: a.csrf}, firebreak.Errorf(firebreak.EForbidden,
				"This form could not be verified. Reload the page and try again."))
			return
		}
		if ck, err := r.Cookie(SessionCookie); err == nil {
			if err := c.s.cfg.Sessions.DeleteSession(r.Context(), ck.Value); err != nil {
				c.errorPage(w, r, viewer{}, err)
				return
			}
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: c.s.cfg.SecureCookies})
	seeOther(w, r, "/login")
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginThrottle slows password guessing: after max failures for one key (an address and account, or an address)
// within loginFailWindow, further attempts with it are refused until the window has passed. It holds no business
// state, only recent failures in memory, and forgets them as they age.
type loginThrottle struct {
	mu       sync.Mutex
	max      int
	failures map[string][]time.Time
}

const (
	loginMaxFailures     = 10  // per address and account
	loginMaxAddrFailures = 100 // per address, across accounts
	loginFailWindow      = 5 * time.Minute
)

func newLoginThrottle(max int) *loginThrottle {
	return &loginThrottle{max: max, failures: map[string][]time.Time{}}
}

func (t *loginThrottle) recent(ip string, now time.Time) []time.Time {
	fs := t.failures[ip]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) > loginFailWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, ip)
		return nil
	}
	t.failures[ip] = fs
	return fs
}

// blocked returns how long ip must wait, or zero.
func (t *loginThrottle) blocked(ip string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.recent(ip, now)
	if len(fs) < t.max {
		return 0
	}
	return loginFailWindow - now.Sub(fs[0])
}

func (t *loginThrottle) fail(ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fs := t.recent(ip, now)
	t.failures[ip] = append(fs, now)
	if len(t.failures) > 10000 { // a flood of addresses: forget the oldest entries rather than grow
		for k := range t.failures {
			delete(t.failures, k)
			if len(t.failures) <= 5000 {
				break
			}
		}
	}
}
