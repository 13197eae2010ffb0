package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// IntegrationCreated is the answer that creates an integration: the only answer that shows its key, with
// configuration snippets for the tool that will send to it.
type IntegrationCreated struct {
	ID        string                    `json:"id"`
	Service   string                    `json:"service"`
	Kind      firebreak.IntegrationKind `json:"kind"`
	Name      string                    `json:"name"`
	CreatedAt time.Time                 `json:"created_at"`
	Key       string                    `json:"key"`
	Signed    bool                      `json:"signed"`
	Snippets  IntegrationSnippets       `json:"snippets"`
}

// IntegrationSnippets is ready-to-paste configuration for a new integration.
type IntegrationSnippets struct {
	// URL is where the tool sends (for PagerDuty, the Events API v2 URL; the key goes in routing_key).
	URL string `json:"url"`
	// Alertmanager is an Alertmanager `receivers:` entry (webhook_configs, or pagerduty_configs for a
	// PagerDuty integration).
	Alertmanager string `json:"alertmanager,omitempty"`
	// Grafana tells how to set up a Grafana contact point.
	Grafana string `json:"grafana,omitempty"`
	// Curl is a command that sends a test alert.
	Curl string `json:"curl,omitempty"`
}

// baseURL is the configured public URL, or the one the request came in on.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0]); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func integrationSnippets(base string, in *firebreak.Integration) IntegrationSnippets {
	name := "firebreak-" + in.Service
	switch in.Kind {
	case firebreak.IntegrationPagerDuty:
		u := base + PagerDutyEnqueuePath
		return IntegrationSnippets{URL: u,
			Alertmanager: fmt.Sprintf("receivers:\n  - name: %s\n    pagerduty_configs:\n      - url: %s\n        routing_key: %s\n        send_resolved: true\n", name, u, in.Key),
			Grafana:      fmt.Sprintf("Contact point type: PagerDuty. Integration Key: %s. API URL (optional settings): %s", in.Key, u),
			Curl:         fmt.Sprintf("curl -sS -X POST %s -H 'Content-Type: application/json' -d '{\"routing_key\":\"%s\",\"event_action\":\"trigger\",\"payload\":{\"summary\":\"Test alert\",\"source\":\"curl\",\"severity\":\"info\"}}'", u, in.Key),
		}
	case firebreak.IntegrationAlertmanager:
		u := base + APIPrefix + "/intake/alertmanager/" + in.Key
		return IntegrationSnippets{URL: u,
			Alertmanager: fmt.Sprintf("receivers:\n  - name: %s\n    webhook_configs:\n      - url: %s\n        send_resolved: true\n", name, u),
		}
	case firebreak.IntegrationGrafana:
		u := base + APIPrefix + "/intake/grafana/" + in.Key
		g := fmt.Sprintf("Contact point type: Webhook. URL: %s. HTTP Method: POST.", u)
		if in.Signed {
			g += " HMAC signature: set Secret to this integration's signature secret, Header X-Grafana-Alerting-Signature, no timestamp header."
		}
		return IntegrationSnippets{URL: u, Grafana: g}
	}
	u := base + APIPrefix + "/intake/generic/" + in.Key
	return IntegrationSnippets{URL: u,
		Curl: fmt.Sprintf("curl -sS -X POST %s -H 'Content-Type: application/json' -d '{\"dedup_key\":\"test\",\"status\":\"firing\",\"summary\":\"Test alert\",\"severity\":\"info\"}'", u),
	}
}

func (s *Server) createIntegration(w http.ResponseWriter, r *http.Request) {
	var in firebreak.IntegrationInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	integ, err := s.cfg.Alerts.CreateIntegration(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, IntegrationCreated{ID: integ.ID, Service: integ.Service, Kind: integ.Kind,
		Name: integ.Name, CreatedAt: integ.CreatedAt, Key: integ.Key, Signed: integ.Signed,
		Snippets: integrationSnippets(s.baseURL(r), integ)})
}

func (s *Server) listIntegrations(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "service", "limit", "cursor")
	service := q.str("service")
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	list, err := s.cfg.Alerts.ListIntegrations(r.Context(), service)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	for i := range list {
		list[i].Key, list[i].SignatureSecret = "", ""
	}
	page, err := apiPageSlice(q, list, func(in firebreak.Integration) string { return in.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

var alertStatuses = []firebreak.AlertStatus{firebreak.AlertFiring, firebreak.AlertAcknowledged, firebreak.AlertResolved}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "service", "status", "incident", "flapping", "suppressed", "limit", "cursor")
	f := firebreak.AlertFilter{Service: q.str("service"), Incident: q.str("incident"), Limit: q.limit(),
		Cursor: q.str("cursor"), Suppressed: firebreak.AlertSuppression(q.str("suppressed"))}
	switch q.str("flapping") {
	case "", "false":
	case "true":
		f.Flapping = true
	default:
		q.v.Add("flapping", "must be true or false")
	}
	switch f.Suppressed {
	case "", firebreak.SuppressedMaintenance, firebreak.SuppressedFlapping:
	default:
		q.v.Add("suppressed", "must be maintenance or flapping")
	}
	for _, st := range q.list("status") {
		if !slices.Contains(alertStatuses, firebreak.AlertStatus(st)) {
			q.v.Add("status", "must be firing, acknowledged or resolved")
			break
		}
		f.Status = append(f.Status, firebreak.AlertStatus(st))
	}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Alerts.ListAlerts(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.cfg.Alerts.GetAlert(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// routingService resolves the {id} path value (a service slug or UUID) to the service's slug.
func (s *Server) routingService(r *http.Request) (string, error) {
	svc, err := s.cfg.Catalog.GetService(r.Context(), r.PathValue("id"))
	if err != nil {
		return "", err
	}
	return svc.Slug, nil
}

func (s *Server) getRoutingPolicy(w http.ResponseWriter, r *http.Request) {
	slug, err := s.routingService(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Alerts.GetRoutingPolicy(r.Context(), slug)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) setRoutingPolicy(w http.ResponseWriter, r *http.Request) {
	slug, err := s.routingService(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var in firebreak.RoutingPolicy
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.cfg.Alerts.SetRoutingPolicy(r.Context(), slug, in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}
