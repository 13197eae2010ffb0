package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// Alerting in the console:
//
//	GET  /alerts                          alerts, filtered by service, status and incident, newest first
//	GET  /alerts/{id}                     one alert: labels, annotations, details, links, its incident
//	GET  /services/{slug}/integrations    a service's integrations; admins create one (the key is shown once)
//	POST /services/{slug}/integrations
//	GET  /services/{slug}/routing         a service's alert routing policy; admins edit it as JSON
//	POST /services/{slug}/routing
//
// Without an AlertService the pages say that alert intake is not configured.

// routesAlerts registers the alerting pages.
func (c *console) routesAlerts() {
	s := c.s
	s.mux.HandleFunc("GET /alerts", c.page(c.authed(firebreak.RoleViewer, c.alertList)))
	s.mux.HandleFunc("GET /alerts/{id}", c.page(c.authed(firebreak.RoleViewer, c.alertPage)))
	s.mux.HandleFunc("GET /services/{slug}/integrations", c.page(c.authed(firebreak.RoleViewer, c.integrationsPage)))
	s.mux.HandleFunc("POST /services/{slug}/integrations",
		c.page(c.authed(firebreak.RoleAdmin, c.createIntegration)))
	s.mux.HandleFunc("GET /services/{slug}/routing", c.page(c.authed(firebreak.RoleViewer, c.routingPage)))
	s.mux.HandleFunc("POST /services/{slug}/routing", c.page(c.authed(firebreak.RoleAdmin, c.saveRouting)))
	c.routesNoise()
}

// alertsOff answers a page that needs the AlertService when there is none.
func (c *console) alertsOff(w http.ResponseWriter, r *http.Request, v viewer) bool {
	if c.s.cfg.Alerts != nil {
		return false
	}
	c.render(w, r, http.StatusNotFound, "error", layoutData{Title: "Alerts are not configured", Nav: "alerts",
		Viewer: v, Page: errorPageData{Status: http.StatusNotFound, Heading: "Alerts are not configured",
			Message: "This server does not receive alerts: it runs without an alert store."}})
	return true
}

// ---- alert rows ----

// alertRow is one alert as the tables show it, with the reference of its incident.
type alertRow struct {
	A           firebreak.Alert
	StatusClass string
	IncidentRef string
}

func alertStatusClass(s firebreak.AlertStatus) string {
	switch s {
	case firebreak.AlertFiring:
		return "ast-firing"
	case firebreak.AlertAcknowledged:
		return "ast-acknowledged"
	}
	return "ast-resolved"
}

// alertRows turns alerts into rows, reading each distinct incident once for its reference (INC-n).
func (c *console) alertRows(ctx context.Context, alerts []firebreak.Alert, refs map[string]string) []alertRow {
	if refs == nil {
		refs = map[string]string{}
	}
	rows := make([]alertRow, 0, len(alerts))
	for _, a := range alerts {
		row := alertRow{A: a, StatusClass: alertStatusClass(a.Status)}
		if a.IncidentID != "" {
			ref, ok := refs[a.IncidentID]
			if !ok {
				ref = a.IncidentID
				if inc, err := c.s.cfg.Incidents.GetIncident(ctx, a.IncidentID); err == nil {
					ref = firebreak.IncidentRef(inc.Number)
				}
				refs[a.IncidentID] = ref
			}
			row.IncidentRef = ref
		}
		rows = append(rows, row)
	}
	return rows
}

// ---- the alerts list ----

type alertFilterForm struct {
	Service  string
	Status   string
	Incident string
}

type alertListPage struct {
	Filter   alertFilterForm
	Rows     []alertRow
	Services []firebreak.Service
	Statuses []firebreak.AlertStatus
	NextURL  string
	FirstURL string
	Filtered bool
	Problem  string
}

func alertFilterQuery(f alertFilterForm) url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"service": f.Service, "status": f.Status, "incident": f.Incident} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func alertsURL(q url.Values) string {
	if len(q) == 0 {
		return "/alerts"
	}
	return "/alerts?" + q.Encode()
}

func (c *console) alertList(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.alertsOff(w, r, v) {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	ff := alertFilterForm{Service: strings.TrimSpace(q.Get("service")), Status: q.Get("status"),
		Incident: strings.TrimSpace(q.Get("incident"))}
	f := firebreak.AlertFilter{Service: ff.Service, Incident: ff.Incident, Limit: 50, Cursor: q.Get("cursor")}
	if slices.Contains(alertStatuses, firebreak.AlertStatus(ff.Status)) {
		f.Status = []firebreak.AlertStatus{firebreak.AlertStatus(ff.Status)}
	} else {
		ff.Status = ""
	}
	d := alertListPage{Filter: ff, Statuses: alertStatuses, Filtered: ff != alertFilterForm{}}
	services, err := c.allServices(ctx)
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d.Services = services
	status := http.StatusOK
	page, err := c.s.cfg.Alerts.ListAlerts(ctx, f)
	switch code := firebreak.ErrorCode(err); {
	case err == nil:
	case (code == firebreak.EInvalid || code == firebreak.EBadRequest) && f.Cursor != "":
		// A stale or mangled cursor: start again from the first page of the same filter.
		seeOther(w, r, alertsURL(alertFilterQuery(ff)))
		return
	case code == firebreak.EInvalid || code == firebreak.ENotFound:
		fe, general := fieldErrors(err)
		if m := fe.Get("incident"); m != "" {
			general = "Incident " + ff.Incident + " is not an incident reference (e.g. INC-12)."
		} else if general == "" {
			general = firebreak.ErrorMessage(err)
		}
		d.Problem, status = general, http.StatusUnprocessableEntity
		page = &firebreak.Page[firebreak.Alert]{}
	default:
		c.errorPage(w, r, v, err)
		return
	}
	d.Rows = c.alertRows(ctx, page.Items, nil)
	if page.NextCursor != "" {
		nq := alertFilterQuery(ff)
		nq.Set("cursor", page.NextCursor)
		d.NextURL = alertsURL(nq)
	}
	if f.Cursor != "" {
		d.FirstURL = alertsURL(alertFilterQuery(ff))
	}
	c.render(w, r, status, "alerts", layoutData{Title: "Alerts", Nav: "alerts", Viewer: v, Page: d})
}

// ---- one alert ----

type alertDetailPage struct {
	Row      alertRow
	Details  string // indented JSON
	Incident *firebreak.Incident
	Events   []firebreak.TimelineEvent // the incident's timeline entries about this alert
}

func (c *console) alertPage(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.alertsOff(w, r, v) {
		return
	}
	ctx := r.Context()
	a, err := c.s.cfg.Alerts.GetAlert(ctx, r.PathValue("id"))
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d := alertDetailPage{Row: c.alertRows(ctx, []firebreak.Alert{*a}, nil)[0]}
	if a.Details != "" {
		var buf bytes.Buffer
		if json.Indent(&buf, []byte(a.Details), "", "  ") == nil {
			d.Details = buf.String()
		} else {
			d.Details = a.Details
		}
	}
	if a.IncidentID != "" {
		inc, err := c.s.cfg.Incidents.GetIncident(ctx, a.IncidentID)
		if err != nil && firebreak.ErrorCode(err) != firebreak.ENotFound {
			c.errorPage(w, r, v, err)
			return
		}
		d.Incident = inc
		if inc != nil {
			tf := firebreak.TimelineFilter{Limit: firebreak.MaxLimit}
			for range 20 {
				p, err := c.s.cfg.Incidents.ListTimeline(ctx, inc.ID, tf)
				if err != nil {
					c.errorPage(w, r, v, err)
					return
				}
				for _, ev := range p.Items {
					if (ev.Kind == firebreak.EventAlertAttached && ev.Data["alert_id"] == a.ID) ||
						ev.Kind == firebreak.EventAlertsResolved {
						d.Events = append(d.Events, ev)
					}
				}
				if p.NextCursor == "" {
					break
				}
				tf.Cursor = p.NextCursor
			}
		}
	}
	c.render(w, r, http.StatusOK, "alert", layoutData{Title: "Alert: " + a.Summary, Nav: "alerts", Viewer: v, Page: d})
}

// ---- integrations ----

// snippet is one ready-to-paste piece of configuration.
type snippet struct {
	ID    string // element id, for the copy button
	Title string
	Lang  string // yaml, json, shell, text
	Text  string
	Note  string
}

// newIntegration is the integration just created, with its key: shown once.
type newIntegration struct {
	ID       string                    `json:"i"`
	Service  string                    `json:"v"`
	Kind     firebreak.IntegrationKind `json:"k"`
	Name     string                    `json:"n"`
	Key      string                    `json:"s"`
	Signed   bool                      `json:"g,omitempty"`
	Path     string                    `json:"p"`
	URL      string                    `json:"-"`
	Snippets []snippet                 `json:"-"`
}

// yq quotes s as a YAML double-quoted scalar (so a key of digits stays a string).
func yq(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a valid YAML double-quoted scalar
	return string(b)
}

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// integrationURL is where a tool sends to an integration (PagerDuty: the Events API URL; the key is in the body).
func integrationURL(base string, kind firebreak.IntegrationKind, key string) string {
	if kind == firebreak.IntegrationPagerDuty {
		return base + PagerDutyEnqueuePath
	}
	return base + APIPrefix + "/intake/" + string(kind) + "/" + key
}

// consoleSnippets is the configuration a new integration's page shows for its kind.
func consoleSnippets(base string, in *newIntegration) []snippet {
	name := "firebreak-" + in.Service
	u := integrationURL(base, in.Kind, in.Key)
	switch in.Kind {
	case firebreak.IntegrationAlertmanager:
		return []snippet{{ID: "snippet-alertmanager", Title: "Alertmanager (alertmanager.yml)", Lang: "yaml",
			Text: fmt.Sprintf("receivers:\n  - name: %s\n    webhook_configs:\n      - url: %s\n        send_resolved: true\n",
				name, yq(u)),
			Note: "Add the receiver under receivers:, then send alerts to it from a route, e.g. route: receiver: " +
				name + " (or a child route with matchers). To use Alertmanager's pagerduty_configs instead, create a " +
				"PagerDuty integration: its page shows that snippet."},
			{ID: "snippet-curl", Title: "Test it with curl", Lang: "shell",
				Text: "curl -sS -X POST " + shq(u) + " -H 'Content-Type: application/json' -d " +
					shq(`{"version":"4","status":"firing","receiver":"`+name+`","groupKey":"{}:{alertname=\"FirebreakTest\"}","alerts":[{"status":"firing","labels":{"alertname":"FirebreakTest","severity":"warning"},"annotations":{"summary":"Test alert from curl"},"startsAt":"`+time.Now().UTC().Format(time.RFC3339)+`","endsAt":"0001-01-01T00:00:00Z","fingerprint":"0000000000000001"}]}`) + "\n"}}
	case firebreak.IntegrationPagerDuty:
		cu := base + PagerDutyChangeEnqueuePath
		return []snippet{
			{ID: "snippet-alertmanager", Title: "Alertmanager (alertmanager.yml), pagerduty_configs", Lang: "yaml",
				Text: fmt.Sprintf("receivers:\n  - name: %s\n    pagerduty_configs:\n      - routing_key: %s\n        url: %s\n        send_resolved: true\n",
					name, yq(in.Key), yq(u)),
				Note: "Alertmanager honours url only with routing_key (Events API v2), not with service_key."},
			{ID: "snippet-grafana", Title: "Grafana PagerDuty contact point", Lang: "text",
				Text: "Integration: PagerDuty\nIntegration Key: " + in.Key + "\nOptional PagerDuty settings > API URL: " + u + "\n",
				Note: "Or provision it: type pagerduty with settings integrationKey and url."},
			{ID: "snippet-pagerduty", Title: "Any PagerDuty Events API v2 sender", Lang: "json",
				Text: "POST " + u + "\nContent-Type: application/json\n\n{\n  \"routing_key\": " + yq(in.Key) +
					",\n  \"event_action\": \"trigger\",\n  \"dedup_key\": \"disk-full/db-1\",\n  \"payload\": {\n" +
					"    \"summary\": \"Disk 95% full on db-1\",\n    \"source\": \"db-1\",\n    \"severity\": \"warning\"\n  }\n}\n",
				Note: "Point the sender's Events API URL at " + u + " and use the key as its integration (routing) key. " +
					"event_action may be trigger, acknowledge or resolve; change events go to " + cu + "."},
			{ID: "snippet-curl", Title: "Test it with curl", Lang: "shell",
				Text: "curl -sS -X POST " + shq(u) + " -H 'Content-Type: application/json' -d " +
					shq(`{"routing_key":"`+in.Key+`","event_action":"trigger","payload":{"summary":"Test alert from curl","source":"curl","severity":"info"}}`) + "\n"},
		}
	case firebreak.IntegrationGrafana:
		steps := "Alerting > Contact points > Add contact point\nIntegration: Webhook\nURL: " + u + "\nHTTP Method: POST\n"
		prov := fmt.Sprintf("apiVersion: 1\ncontactPoints:\n  - orgId: 1\n    name: %s\n    receivers:\n      - uid: %s\n        type: webhook\n        settings:\n          url: %s\n          httpMethod: POST\n",
			name, name, yq(u))
		note := "Without a signature secret, the URL alone authenticates Grafana: keep it private."
		if in.Signed {
			steps += "Optional Webhook settings > HMAC Signature: Secret = the signature secret you entered, " +
				"Header = " + "X-Grafana-Alerting-Signature" + ", Timestamp header = (leave empty)\n"
			prov += "          hmacConfig:\n            secret: \"REPLACE_WITH_YOUR_SIGNATURE_SECRET\"\n            header: X-Grafana-Alerting-Signature\n"
			note = "Deliveries without a valid X-Grafana-Alerting-Signature (hex HMAC-SHA256 of the body with your " +
				"secret) are refused with 401. Leave the timestamp header empty: Firebreak signs the body alone."
		}
		return []snippet{{ID: "snippet-grafana", Title: "Grafana webhook contact point", Lang: "text", Text: steps,
			Note: note},
			{ID: "snippet-grafana-provisioning", Title: "Or provision it (provisioning/alerting/firebreak.yaml)",
				Lang: "yaml", Text: prov}}
	}
	return []snippet{
		{ID: "snippet-curl", Title: "Send an alert with curl (generic format)", Lang: "shell",
			Text: "curl -sS -X POST " + shq(u) + " -H 'Content-Type: application/json' -d " +
				shq(`{"dedup_key":"disk-full/db-1","status":"firing","summary":"Disk 95% full on db-1","severity":"warning","source":"db-1","labels":{"host":"db-1"}}`) + "\n",
			Note: "Resolve it by sending the same dedup_key with \"status\": \"resolved\". The format is described in " +
				"intake/GENERIC.md: unknown fields are refused, and a batch is {\"alerts\": [...]}."},
	}
}

type integrationsPage struct {
	Svc          *firebreak.Service
	Integrations []firebreak.Integration
	Base         string
	New          *newIntegration
	Kind         string
	Name         string
	Errors       formErrors
	Error        string
}

// Endpoint is where a listed integration's tool sends, with the key shown as a placeholder.
func (p integrationsPage) Endpoint(kind firebreak.IntegrationKind) string {
	return integrationURL(p.Base, kind, "<key>")
}

const integrationCookie = "firebreak_integration"

// setNewIntegration keeps the new integration (and its key) for the page the form redirects to, encrypted with
// the session like the token flash; false without a session cookie.
func (c *console) setNewIntegration(w http.ResponseWriter, r *http.Request, n *newIntegration) bool {
	ck, err := r.Cookie(SessionCookie)
	if err != nil || ck.Value == "" {
		return false
	}
	aead, err := flashAEAD(ck.Value)
	if err != nil {
		return false
	}
	plain, err := json.Marshal(n)
	if err != nil {
		return false
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return false
	}
	sealed := aead.Seal(nonce, nonce, plain, []byte(integrationCookie))
	http.SetCookie(w, &http.Cookie{Name: integrationCookie, Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.s.cfg.SecureCookies, MaxAge: 120})
	return true
}

// takeNewIntegration returns the integration just created for this page, and forgets it.
func (c *console) takeNewIntegration(w http.ResponseWriter, r *http.Request) *newIntegration {
	ck, err := r.Cookie(integrationCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: integrationCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.s.cfg.SecureCookies})
	sess, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	sealed, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	aead, err := flashAEAD(sess.Value)
	if err != nil || len(sealed) < aead.NonceSize() {
		return nil
	}
	n := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(integrationCookie))
	if err != nil {
		return nil
	}
	var ni newIntegration
	if json.Unmarshal(plain, &ni) != nil || ni.Path != r.URL.Path {
		return nil
	}
	return &ni
}

// serviceOr404 reads the service of the {slug} path value, answering the 404 page when there is none.
func (c *console) serviceOr404(w http.ResponseWriter, r *http.Request, v viewer) *firebreak.Service {
	svc, err := c.s.cfg.Catalog.GetService(r.Context(), r.PathValue("slug"))
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			c.notFound(w, r, v, "Service "+r.PathValue("slug"))
			return nil
		}
		c.errorPage(w, r, v, err)
		return nil
	}
	return svc
}

func (c *console) renderIntegrations(w http.ResponseWriter, r *http.Request, v viewer, status int, d integrationsPage) {
	list, err := c.s.cfg.Alerts.ListIntegrations(r.Context(), d.Svc.Slug)
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d.Integrations, d.Base = list, c.s.baseURL(r)
	if d.Errors == nil {
		d.Errors = formErrors{}
	}
	if d.New != nil {
		d.New.URL = integrationURL(d.Base, d.New.Kind, d.New.Key)
		d.New.Snippets = consoleSnippets(d.Base, d.New)
	}
	c.render(w, r, status, "integrations", layoutData{Title: "Integrations of " + d.Svc.Name, Nav: "services",
		Viewer: v, Page: d})
}

func (c *console) integrationsPage(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.alertsOff(w, r, v) {
		return
	}
	svc := c.serviceOr404(w, r, v)
	if svc == nil {
		return
	}
	c.renderIntegrations(w, r, v, http.StatusOK, integrationsPage{Svc: svc, New: c.takeNewIntegration(w, r),
		Kind: string(firebreak.IntegrationAlertmanager)})
}

func (c *console) createIntegration(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.alertsOff(w, r, v) {
		return
	}
	svc := c.serviceOr404(w, r, v)
	if svc == nil {
		return
	}
	kind := r.PostFormValue("kind")
	name := strings.TrimSpace(r.PostFormValue("name"))
	secret := r.PostFormValue("signature_secret")
	d := integrationsPage{Svc: svc, Kind: kind, Name: name}
	in := firebreak.IntegrationInput{Service: svc.Slug, Kind: firebreak.IntegrationKind(kind), Name: name,
		SignatureSecret: secret}
	fail := func(err error) {
		d.Errors, d.Error = fieldErrors(err)
		if m, ok := d.Errors["signature_secret"]; ok {
			d.Errors["signature_secret"] = strings.Replace(m, "Signature secret", "The signature secret", 1)
		}
		if _, ok := d.Errors["kind"]; ok {
			d.Errors["kind"] = "Choose what will send the alerts"
		}
		if d.Error == "" {
			d.Error = "The integration was not created: please correct the highlighted fields."
		}
		c.renderIntegrations(w, r, v, http.StatusUnprocessableEntity, d)
	}
	if err := in.Validate(); err != nil {
		fail(err)
		return
	}
	integ, err := c.s.cfg.Alerts.CreateIntegration(r.Context(), in)
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.EInvalid {
			fail(err)
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	path := "/services/" + url.PathEscape(svc.Slug) + "/integrations"
	n := &newIntegration{ID: integ.ID, Service: integ.Service, Kind: integ.Kind, Name: integ.Name, Key: integ.Key,
		Signed: integ.Signed, Path: path}
	if !c.setNewIntegration(w, r, n) {
		d = integrationsPage{Svc: svc, New: n, Kind: string(firebreak.IntegrationAlertmanager)}
		c.renderIntegrations(w, r, v, http.StatusCreated, d)
		return
	}
	seeOther(w, r, path+"#new-integration")
}

// ---- routing policy ----

type routingRuleView struct {
	Match    []string // "label=value", sorted
	Action   firebreak.RoutingAction
	Severity firebreak.Severity
}

// routingView is the read-only view of a policy.
type routingView struct {
	Rules       []routingRuleView
	GroupWindow string
	GroupBy     []string
	AutoResolve []autoResolveView
}

type autoResolveView struct {
	Severity firebreak.Severity
	Auto     bool
}

func routingViewOf(p *firebreak.RoutingPolicy) routingView {
	rv := routingView{GroupWindow: fmtDuration(p.GroupWindow), GroupBy: p.GroupBy}
	for _, rule := range p.Rules {
		m := make([]string, 0, len(rule.Match))
		for k, val := range rule.Match {
			m = append(m, k+"="+val)
		}
		slices.Sort(m)
		rv.Rules = append(rv.Rules, routingRuleView{Match: m, Action: rule.Action, Severity: rule.Severity})
	}
	for _, sv := range firebreak.Severities {
		if auto, ok := p.AutoResolve[sv]; ok {
			rv.AutoResolve = append(rv.AutoResolve, autoResolveView{Severity: sv, Auto: auto})
		}
	}
	return rv
}

type routingPage struct {
	Svc    *firebreak.Service
	View   routingView
	JSON   string
	Errors []firebreak.FieldError
	Error  string
	Saved  bool
}

func policyJSON(p *firebreak.RoutingPolicy) string {
	b, _ := json.MarshalIndent(p, "", "  ")
	return string(b)
}

func (c *console) routingPage(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.alertsOff(w, r, v) {
		return
	}
	svc := c.serviceOr404(w, r, v)
	if svc == nil {
		return
	}
	p, err := c.s.cfg.Alerts.GetRoutingPolicy(r.Context(), svc.Slug)
	if err != nil {
		c.errorPage(w, r, v, err)
		return
	}
	d := routingPage{Svc: svc, View: routingViewOf(p), JSON: policyJSON(p), Saved: r.URL.Query().Get("saved") != ""}
	c.render(w, r, http.StatusOK, "routing", layoutData{Title: "Alert routing of " + svc.Name, Nav: "services",
		Viewer: v, Page: d})
}

// decodePolicy reads the policy JSON of the form, naming the line and column of a syntax error.
func decodePolicy(text string) (firebreak.RoutingPolicy, error) {
	var p firebreak.RoutingPolicy
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	err := dec.Decode(&p)
	if err == nil && dec.More() {
		err = errors.New("unexpected text after the policy")
	}
	if err == nil {
		return p, nil
	}
	var fe *firebreak.Error
	if errors.As(err, &fe) {
		return p, fe
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		line, col := lineCol(text, se.Offset)
		msg = fmt.Sprintf("is not valid JSON at line %d, column %d: %s", line, col, se.Error())
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "policy"
		}
		return p, &firebreak.Error{Code: firebreak.EInvalid, Message: "invalid policy",
			Fields: []firebreak.FieldError{{Field: field, Message: "must be " + jsonTypeName(te.Type)}}}
	case strings.Contains(msg, "unknown field"):
		msg = "has an " + msg + " (the fields are listed below the policy)"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		msg = "is empty or incomplete JSON"
	default:
		msg = "is not valid: " + msg
	}
	return p, &firebreak.Error{Code: firebreak.EInvalid, Message: "invalid policy",
		Fields: []firebreak.FieldError{{Field: "policy", Message: msg}}}
}

func lineCol(text string, off int64) (int, int) {
	if off > int64(len(text)) {
		off = int64(len(text))
	}
	before := text[:off]
	line := strings.Count(before, "\n") + 1
	col := int(off) - strings.LastIndex(before, "\n")
	return line, col
}

func (c *console) saveRouting(w http.ResponseWriter, r *http.Request, v viewer) {
	if c.alertsOff(w, r, v) {
		return
	}
	svc := c.serviceOr404(w, r, v)
	if svc == nil {
		return
	}
	text := r.PostFormValue("policy")
	fail := func(err error) {
		cur, gerr := c.s.cfg.Alerts.GetRoutingPolicy(r.Context(), svc.Slug)
		if gerr != nil {
			c.errorPage(w, r, v, gerr)
			return
		}
		d := routingPage{Svc: svc, View: routingViewOf(cur), JSON: text,
			Error: "The policy was not saved: " + firebreak.ErrorMessage(err) + "."}
		var fe *firebreak.Error
		if errors.As(err, &fe) && len(fe.Fields) > 0 {
			d.Errors = fe.Fields
			d.Error = "The policy was not saved: please correct what is listed below."
		}
		c.render(w, r, http.StatusUnprocessableEntity, "routing", layoutData{Title: "Alert routing of " + svc.Name,
			Nav: "services", Viewer: v, Page: d})
	}
	p, err := decodePolicy(text)
	if err != nil {
		fail(err)
		return
	}
	if p.AutoResolve == nil {
		// Documented default for an omitted auto_resolve (filled here too: the store's Clone turns nil into {}).
		p.AutoResolve = firebreak.DefaultAutoResolve()
	}
	if _, err := c.s.cfg.Alerts.SetRoutingPolicy(r.Context(), svc.Slug, p); err != nil {
		if firebreak.ErrorCode(err) == firebreak.EInvalid {
			fail(err)
			return
		}
		c.errorPage(w, r, v, err)
		return
	}
	seeOther(w, r, "/services/"+url.PathEscape(svc.Slug)+"/routing?saved=1")
}

// ---- on the service page ----

// serviceAlerting is what the service page shows about alerts: its integrations and routing policy.
type serviceAlerting struct {
	Integrations []firebreak.Integration
	Routing      routingView
}

// serviceAlertingOf reads a service's integrations and routing policy; nil without an AlertService.
func (c *console) serviceAlertingOf(ctx context.Context, slug string) (*serviceAlerting, error) {
	if c.s.cfg.Alerts == nil {
		return nil, nil
	}
	list, err := c.s.cfg.Alerts.ListIntegrations(ctx, slug)
	if err != nil {
		return nil, err
	}
	p, err := c.s.cfg.Alerts.GetRoutingPolicy(ctx, slug)
	if err != nil {
		return nil, err
	}
	return &serviceAlerting{Integrations: list, Routing: routingViewOf(p)}, nil
}

// ---- on the incident page ----

// incidentAlerting is what the incident page shows about alerts and changes.
type incidentAlerting struct {
	Alerts       []alertRow
	MoreAlerts   bool
	Changes      []firebreak.Change
	ChangeWindow string
	HasChanges   bool // a ChangeService exists
}

const incidentAlertsShown = 100

func (c *console) incidentAlertingOf(ctx context.Context, inc *firebreak.Incident) (*incidentAlerting, error) {
	if c.s.cfg.Alerts == nil {
		return nil, nil
	}
	ref := firebreak.IncidentRef(inc.Number)
	p, err := c.s.cfg.Alerts.ListAlerts(ctx, firebreak.AlertFilter{Incident: ref, Limit: incidentAlertsShown})
	if err != nil {
		return nil, err
	}
	ia := &incidentAlerting{Alerts: c.alertRows(ctx, p.Items, map[string]string{inc.ID: ref}),
		MoreAlerts: p.NextCursor != "", ChangeWindow: fmtDuration(firebreak.DefaultChangeWindow)}
	if cs, ok := c.s.changeService(); ok {
		ia.HasChanges = true
		if ia.Changes, err = cs.ChangesBefore(ctx, ref, 0); err != nil {
			return nil, err
		}
	}
	return ia, nil
}
