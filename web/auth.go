package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/firebreak/firebreak"
)

// SessionCookie is the name of the console's session cookie (HttpOnly, SameSite=Lax).
const SessionCookie = "firebreak_session"

// CSRFHeader carries the CSRF token on unsafe requests authenticated by the session cookie; HTML forms send it
// as the form field "csrf_token" instead.
const CSRFHeader = "X-CSRF-Token"

type authInfo struct {
	actor     firebreak.Actor
	ok        bool
	viaCookie bool
	csrf      string // expected CSRF token when viaCookie
	err       error  // why a presented credential was refused
}

type authKey struct{}

func authFrom(ctx context.Context) authInfo {
	a, _ := ctx.Value(authKey{}).(authInfo)
	return a
}

// csrfToken derives the CSRF token from the session secret: only someone who can read the cookie (the page
// itself, never another site) can compute it, and nothing extra is stored.
func csrfToken(sessionSecret string) string {
	sum := sha256.Sum256([]byte("firebreak-csrf:" + sessionSecret))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// withAuth identifies the caller from a bearer token or the console session cookie. It refuses nothing by itself:
// requireRole (API) and the console's own check decide what an anonymous caller gets.
func (s *Server) withAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var info authInfo
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, tok, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
				info.err = firebreak.Errorf(firebreak.EUnauthorized, "Authorization must be \"Bearer <token>\"")
			} else if a, err := s.cfg.Users.AuthenticateToken(ctx, strings.TrimSpace(tok)); err != nil {
				info.err = err
			} else {
				info.actor, info.ok = a, true
			}
		} else if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			if a, err := s.cfg.Sessions.AuthenticateSession(ctx, c.Value); err == nil {
				info.actor, info.ok, info.viaCookie, info.csrf = a, true, true, csrfToken(c.Value)
			}
		}
		if info.ok {
			ctx = firebreak.WithActor(ctx, info.actor)
			if i := infoFrom(ctx); i != nil {
				i.user = info.actor.Username
			}
		}
		ctx = context.WithValue(ctx, authKey{}, info)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// checkAccess returns nil when the request's caller may do what needs role need; otherwise the problem to answer.
// Unsafe requests authenticated by cookie must carry the CSRF token.
func checkAccess(r *http.Request, need firebreak.UserRole) error {
	a := authFrom(r.Context())
	if !a.ok {
		if a.err != nil {
			return a.err // "invalid token", "token expired", or a 500 when the database is down
		}
		return firebreak.Errorf(firebreak.EUnauthorized, "authentication required: send Authorization: Bearer <token>")
	}
	if !a.actor.Role.Allows(need) {
		return firebreak.Errorf(firebreak.EForbidden, "role %s may not do this (needs %s)", a.actor.Role, need)
	}
	if a.viaCookie && !safeMethod(r.Method) {
		got := r.Header.Get(CSRFHeader)
		if got == "" && isForm(r) {
			got = r.PostFormValue("csrf_token")
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(a.csrf)) != 1 {
			return firebreak.Errorf(firebreak.EForbidden, "missing or wrong CSRF token")
		}
	}
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func isForm(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

// requireRole wraps an API handler: 401 without valid credentials, 403 when the role is too low.
func (s *Server) requireRole(need firebreak.UserRole, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkAccess(r, need); err != nil {
			s.problem(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}
