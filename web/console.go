package web

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// The web console: server-rendered pages (html/template, embedded), forms that post back with a CSRF token and
// the incident version, and a small embedded script that tails the timeline over Server-Sent Events. Every page
// works without JavaScript; the script only adds live updates, local times and a few conveniences.

// consoleCSP allows nothing but this origin: no inline scripts or styles, no frames, forms post only here.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; " +
	"object-src 'none'"

// maxFormBytes limits console form bodies; the longest field (a note) is MaxTextLen characters.
const maxFormBytes = 256 << 10

// console holds what the console handlers share: the server, the parsed templates, the static assets and the
// login throttle.
type console struct {
	s            *Server
	tmpl         *templates
	static       *staticAssets
	throttle     *loginThrottle // per address and account
	addrThrottle *loginThrottle // per address
}

// routesConsole registers the web console.
func (s *Server) routesConsole() {
	static := mustLoadStatic()
	c := &console{s: s, tmpl: mustParseTemplates(static), static: static, throttle: newLoginThrottle(loginMaxFailures),
		addrThrottle: newLoginThrottle(loginMaxAddrFailures)}
	s.mux.HandleFunc("GET /static/{path...}", c.serveStatic)
	s.mux.HandleFunc("GET /favicon.ico", c.serveFavicon)

	s.mux.HandleFunc("GET /login", c.page(c.loginPage))
	s.mux.HandleFunc("POST /login", c.page(c.login))
	s.mux.HandleFunc("POST /logout", c.page(c.logout))

	s.mux.HandleFunc("GET /{$}", c.page(c.authed(firebreak.RoleViewer, c.incidentList)))
	s.mux.HandleFunc("GET /incidents", c.page(c.authed(firebreak.RoleViewer, c.incidentList)))
	s.mux.HandleFunc("GET /incidents/new", c.page(c.authed(firebreak.RoleResponder, c.declareForm)))
	s.mux.HandleFunc("POST /incidents/new", c.page(c.authed(firebreak.RoleResponder, c.declare)))
	s.mux.HandleFunc("GET /incidents/{ref}", c.page(c.authed(firebreak.RoleViewer, c.incidentPage)))
	s.mux.HandleFunc("GET /incidents/{ref}/sections", c.page(c.authed(firebreak.RoleViewer, c.incidentSections)))
	s.mux.HandleFunc("GET /incidents/{ref}/events", c.authed(firebreak.RoleViewer, c.events))
	s.mux.HandleFunc("POST /incidents/{ref}/status", c.page(c.authed(firebreak.RoleResponder, c.changeStatus)))
	s.mux.HandleFunc("POST /incidents/{ref}/severity", c.page(c.authed(firebreak.RoleResponder, c.changeSeverity)))
	s.mux.HandleFunc("POST /incidents/{ref}/ack", c.page(c.authed(firebreak.RoleResponder, c.acknowledge)))
	s.mux.HandleFunc("POST /incidents/{ref}/roles", c.page(c.authed(firebreak.RoleResponder, c.assignRole)))
	s.mux.HandleFunc("POST /incidents/{ref}/notes", c.page(c.authed(firebreak.RoleResponder, c.addNote)))
	s.mux.HandleFunc("POST /incidents/{ref}/updates", c.page(c.authed(firebreak.RoleResponder, c.postUpdate)))
	s.mux.HandleFunc("POST /incidents/{ref}/actions", c.page(c.authed(firebreak.RoleResponder, c.addAction)))
	s.mux.HandleFunc("POST /incidents/{ref}/actions/{id}",
		c.page(c.authed(firebreak.RoleResponder, c.updateAction)))
	s.mux.HandleFunc("POST /incidents/{ref}/timeline/{id}/star",
		c.page(c.authed(firebreak.RoleResponder, c.star)))
	s.mux.HandleFunc("POST /incidents/{ref}/details", c.page(c.authed(firebreak.RoleResponder, c.editDetails)))
	s.mux.HandleFunc("POST /incidents/{ref}/milestones",
		c.page(c.authed(firebreak.RoleResponder, c.correctMilestones)))

	s.mux.HandleFunc("GET /services", c.page(c.authed(firebreak.RoleViewer, c.serviceList)))
	s.mux.HandleFunc("GET /services/new", c.page(c.authed(firebreak.RoleAdmin, c.serviceNewForm)))
	s.mux.HandleFunc("POST /services/new", c.page(c.authed(firebreak.RoleAdmin, c.serviceCreate)))
	s.mux.HandleFunc("GET /services/{slug}", c.page(c.authed(firebreak.RoleViewer, c.servicePage)))
	s.mux.HandleFunc("GET /services/{slug}/edit", c.page(c.authed(firebreak.RoleAdmin, c.serviceEditForm)))
	s.mux.HandleFunc("POST /services/{slug}/edit", c.page(c.authed(firebreak.RoleAdmin, c.serviceUpdate)))

	c.routesAlerts()

	c.routesProbes()

	c.routesMetrics() // the metrics dashboard (console_metrics.go)

	c.routesSearch() // the knowledge base search page (console_search.go)

	c.routesFollowUps() // the follow-up list: action items and follow-up reviews (console_followups.go)

	c.routesOnCall() // who is on call (console_oncall.go)

	c.routesEscalation() // escalation policies (console_escalation.go)

	c.routesPostmortems() // the post-mortem editor and print view (console_postmortems.go)

	c.routesChanges()  // change control on the incident page (console_changes.go)
	c.routesRunbooks() // runbooks (console_runbooks.go)
	c.routesChannels() // notification channels and dead letters (console_channels.go)

	c.routesContacts() // one-click acknowledgement links and users' contact methods (console_contacts.go)

	s.mux.HandleFunc("GET /admin", c.page(c.authed(firebreak.RoleAdmin, func(w http.ResponseWriter,
		r *http.Request, _ viewer) {
		seeOther(w, r, "/admin/users")
	})))
	s.mux.HandleFunc("GET /admin/users", c.page(c.authed(firebreak.RoleAdmin, c.adminUsers)))
	s.mux.HandleFunc("POST /admin/users", c.page(c.authed(firebreak.RoleAdmin, c.createUser)))
	s.mux.HandleFunc("GET /admin/tokens", c.page(c.authed(firebreak.RoleAdmin, c.adminTokens)))
	s.mux.HandleFunc("POST /admin/tokens", c.page(c.authed(firebreak.RoleAdmin, c.createToken)))
	s.mux.HandleFunc("POST /admin/tokens/{id}/revoke", c.page(c.authed(firebreak.RoleAdmin, c.adminRevokeToken)))
	s.mux.HandleFunc("GET /account/tokens", c.page(c.authed(firebreak.RoleViewer, c.accountTokens)))
	s.mux.HandleFunc("POST /account/tokens/{id}/revoke",
		c.page(c.authed(firebreak.RoleViewer, c.accountRevokeToken)))

	// Everything else that is not the API (/api/v1/ has its own problem+json fallback, a more specific pattern),
	// the assets or an operational endpoint gets the console's 404 page. The pattern has no method: "GET /" would
	// conflict with "/api/v1/" (neither is more specific), and the handler answers 405 itself where it must.
	s.mux.HandleFunc("/", c.page(c.fallback))
}

// fallback answers requests that match no console route: 405 (with Allow) when the path exists with other
// methods, else the 404 page, signed in or not (an unknown address reveals nothing, so it needs no login).
func (c *console) fallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := c.s.mux.Handler(probe); strings.HasPrefix(pattern, m+" ") {
			allow = append(allow, m)
		}
	}
	a := authFrom(r.Context())
	v := viewer{}
	if a.ok {
		v = viewer{Actor: a.actor, CSRF: a.csrf}
	}
	if len(allow) > 0 {
		if allow[0] == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		c.render(w, r, http.StatusMethodNotAllowed, "error", layoutData{Title: "Not allowed", Viewer: v,
			Page: errorPageData{Status: http.StatusMethodNotAllowed, Heading: "Not allowed",
				Message: "This address does not take " + r.Method + " requests."}})
		return
	}
	c.render(w, r, http.StatusNotFound, "error", layoutData{Title: "Page not found", Viewer: v,
		Page: errorPageData{Status: http.StatusNotFound, Heading: "Page not found", Path: r.URL.Path,
			Message: "There is no page at this address. It may have moved, or the link may be mistyped."}})
}

// page sets the headers every console HTML response carries and limits the size of form bodies.
func (c *console) page(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", consoleCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		h(w, r)
	}
}

// viewer is the signed-in person as the templates see them.
type viewer struct {
	firebreak.Actor
	CSRF string
}

// CanAct reports whether the viewer may act on incidents; IsAdmin whether they may change the catalog.
func (v viewer) CanAct() bool  { return v.Role.Allows(firebreak.RoleResponder) }
func (v viewer) IsAdmin() bool { return v.Role.Allows(firebreak.RoleAdmin) }

type authedHandler func(w http.ResponseWriter, r *http.Request, v viewer)

// authed lets a handler run only for a signed-in caller with at least role need. A caller who is not signed in
// is sent to the login page (and back afterwards); a forbidden action or a missing CSRF token gets an
// explanatory page.
func (c *console) authed(need firebreak.UserRole, h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := authFrom(r.Context())
		if !a.ok {
			if a.err != nil && firebreak.ErrorCode(a.err) != firebreak.EUnauthorized {
				c.errorPage(w, r, viewer{}, a.err)
				return
			}
			next := r.URL.RequestURI()
			if r.Method != http.MethodGet {
				// After a login the form is gone; come back to the page it was on.
				next = refererPath(r)
			}
			if strings.HasSuffix(r.URL.Path, "/events") || strings.HasSuffix(r.URL.Path, "/sections") {
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
			return
		}
		v := viewer{Actor: a.actor, CSRF: a.csrf}
		if err := checkAccess(r, need); err != nil {
			if firebreak.ErrorCode(err) == firebreak.EForbidden {
				if a.actor.Role.Allows(need) { // the role is enough, so the CSRF token is what failed
					err = firebreak.Errorf(firebreak.EForbidden, "This form could not be verified (it may have "+
						"expired, or come from another site). Go back, reload the page and try again.")
				} else {
					err = firebreak.Errorf(firebreak.EForbidden, "Your role (%s) cannot do this: it needs %s.",
						a.actor.Role, need)
				}
			}
			c.errorPage(w, r, v, err)
			return
		}
		h(w, r, v)
	}
}

// refererPath returns the local path of the Referer header, or "/".
func refererPath(r *http.Request) string {
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host {
		if p := u.RequestURI(); safeNext(p) {
			return p
		}
	}
	return "/"
}

// safeNext reports whether next is a local path that a redirect may go to: it must start with one slash and
// name no other host.
func safeNext(next string) bool {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return false
	}
	if strings.ContainsAny(next, "\r\n\t\\") {
		return false
	}
	u, err := url.Parse(next)
	return err == nil && u.Scheme == "" && u.Host == ""
}

// layoutData is what every page template receives.
type layoutData struct {
	Title  string
	Nav    string // which top-level section is current: incidents, services
	Viewer viewer
	// Page holds the page's own data.
	Page any
}

// render executes a page template into a buffer first, so a template error becomes a clean 500 instead of half
// a page.
func (c *console) render(w http.ResponseWriter, r *http.Request, status int, name string, d layoutData) {
	var buf bytes.Buffer
	if err := c.tmpl.execute(&buf, name, d); err != nil {
		c.s.log.ErrorContext(r.Context(), "rendering page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderFragment executes one named partial template with data.
func (c *console) renderFragment(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := c.tmpl.fragment(&buf, name, data); err != nil {
		c.s.log.ErrorContext(r.Context(), "rendering fragment", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

type errorPageData struct {
	Status  int
	Heading string
	Message string
	Path    string // the address that was not found (404 for an unknown address)
}

// errorPage shows an error as a page with the status its code maps to.
func (c *console) errorPage(w http.ResponseWriter, r *http.Request, v viewer, err error) {
	code := firebreak.ErrorCode(err)
	status := statusOf(code)
	msg := firebreak.ErrorMessage(err)
	heading := http.StatusText(status)
	switch status {
	case http.StatusNotFound:
		heading = "Not found"
	case http.StatusForbidden:
		heading = "Not allowed"
	}
	if status >= 500 {
		c.s.log.ErrorContext(r.Context(), "console request failed", "err", err)
		msg = "Something went wrong on our side."
		if i := infoFrom(r.Context()); i != nil {
			msg += " Request id: " + i.requestID + "."
		}
	}
	c.render(w, r, status, "error", layoutData{Title: heading, Viewer: v,
		Page: errorPageData{Status: status, Heading: heading, Message: msg}})
}

// notFound is the console's 404 page for a missing incident or service.
func (c *console) notFound(w http.ResponseWriter, r *http.Request, v viewer, what string) {
	c.errorPage(w, r, v, firebreak.Errorf(firebreak.ENotFound, "%s does not exist (or was never created).", what))
}

// formErrors maps field names to messages for display next to the fields.
type formErrors map[string]string

// Get returns the message for field.
func (fe formErrors) Get(field string) string { return fe[field] }

// Any reports whether there is any error.
func (fe formErrors) Any() bool { return len(fe) > 0 }

// fieldLabels name fields in error sentences where the field name itself reads badly.
var fieldLabels = map[string]string{
	"occurred_at":       "The time",
	"impact_started_at": "Impact start",
	"runbook_url":       "Runbook URL",
	"depends_on":        "Dependencies:",
	"services":          "Services:",
}

// sentence turns a field's message ("is required") into one a person reads on its own ("Title is required").
func sentence(field, msg string) string {
	label, ok := fieldLabels[field]
	if !ok {
		label = strings.ReplaceAll(field, "_", " ")
		if label != "" {
			label = strings.ToUpper(label[:1]) + label[1:]
		}
	}
	return label + " " + msg
}

// fieldErrors turns an application error into sentences by field and a general message for the rest.
func fieldErrors(err error) (formErrors, string) {
	fe := formErrors{}
	var e *firebreak.Error
	if !errors.As(err, &e) {
		return fe, firebreak.ErrorMessage(err)
	}
	for _, f := range e.Fields {
		name := f.Field
		if ms, ok := strings.CutPrefix(name, "milestones."); ok && milestoneLabels[ms] != "" {
			// Each milestone is its own field on the form that corrects them.
			if _, dup := fe[name]; !dup {
				fe[name] = milestoneLabels[ms] + " " + milestoneMessage(f.Message)
			}
			continue
		}
		if i := strings.IndexAny(name, ".["); i > 0 {
			name = name[:i]
		}
		if _, dup := fe[name]; !dup {
			fe[name] = sentence(name, f.Message)
		}
	}
	general := ""
	if len(e.Fields) == 0 {
		general = e.Message
	}
	return fe, general
}

// ifMatch reads the version a form was rendered with: the If-Match header (an ETag such as "3" or W/"3") or the
// form field if_match. Zero means "no precondition".
func ifMatch(r *http.Request) int64 {
	v := r.Header.Get("If-Match")
	if v == "" {
		v = r.PostFormValue("if_match")
	}
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	v = strings.Trim(v, `"`)
	var n int64
	for _, ch := range v {
		if ch < '0' || ch > '9' {
			return 0
		}
		n = n*10 + int64(ch-'0')
		if n > 1<<53 {
			return 0
		}
	}
	return n
}

// milestoneMessage rewrites a domain message about milestones for the form that corrects them: milestone names
// become their labels, and the time in parentheses goes, since the form shows it beside the field in the
// reader's own time zone ("must not be before mitigated_at (2026-03-01T12:00:00Z)" → "must not be before
// mitigated").
func milestoneMessage(msg string) string {
	msg = rfc3339RE.ReplaceAllString(msg, "")
	for _, name := range firebreak.MilestoneNames {
		msg = strings.ReplaceAll(msg, name, strings.ToLower(milestoneLabels[name]))
	}
	return msg
}

var rfc3339RE = regexp.MustCompile(` ?\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\)`)

// formTime reads a datetime-local field. The browser sends local wall time without a zone; the script adds the
// browser's offset from UTC in minutes (tz_offset, as JavaScript's getTimezoneOffset). Without it, UTC is
// assumed. An empty field is nil.
func formTime(r *http.Request, field string) (*time.Time, error) {
	return formTimeIn(r, field, "tz_offset")
}

// formTimeIn is formTime with the offset read from offsetField, for forms with several times: each has its own
// offset, since daylight saving time may start or end between them. Without offsetField, tz_offset is used.
func formTimeIn(r *http.Request, field, offsetField string) (*time.Time, error) {
	v := strings.TrimSpace(r.PostFormValue(field))
	if v == "" {
		return nil, nil
	}
	var t time.Time
	var err error
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err = time.Parse(layout, v); err == nil {
			break
		}
	}
	if err != nil {
		return nil, errors.New("must be a date and time")
	}
	if layoutHasZone(v) {
		t = t.UTC()
		return &t, nil
	}
	var off int
	o := strings.TrimSpace(r.PostFormValue(offsetField))
	if o == "" {
		o = strings.TrimSpace(r.PostFormValue("tz_offset"))
	}
	if o != "" {
		for i, ch := range o {
			if i == 0 && ch == '-' {
				continue
			}
			if ch < '0' || ch > '9' {
				return nil, errors.New("has an unreadable time zone")
			}
		}
		var sign = 1
		if o[0] == '-' {
			sign, o = -1, o[1:]
		}
		for _, ch := range o {
			off = off*10 + int(ch-'0')
			if off > 24*60 {
				return nil, errors.New("has an unreadable time zone")
			}
		}
		off *= sign
	}
	t = t.Add(time.Duration(off) * time.Minute).UTC()
	return &t, nil
}

func layoutHasZone(v string) bool {
	return strings.HasSuffix(v, "Z") || strings.LastIndexAny(v, "+-") > len("2006-01-02T")
}

// seeOther ends a successful form post with a redirect (Post/Redirect/Get), so a reload does not post again.
func seeOther(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}
