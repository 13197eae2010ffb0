package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/firebreak/firebreak"
)

// APIPrefix is where the JSON API lives.
const APIPrefix = "/api/v1"

// routesAPI registers the JSON API. Handlers are thin: they parse the request, call the domain service and write
// the answer; every rule lives in the domain and the store. The OpenAPI document (openapi.json) describes exactly
// these routes; TestOpenAPIMatchesRoutes keeps the two equal.
func (s *Server) routesAPI() {
	const (
		viewer    = firebreak.RoleViewer
		responder = firebreak.RoleResponder
		admin     = firebreak.RoleAdmin
	)
	// Incidents.
	s.api("POST /incidents", responder, s.declareIncident)
	s.api("GET /incidents", viewer, s.listIncidents)
	s.api("GET /incidents/{id}", viewer, s.getIncident)
	s.api("PATCH /incidents/{id}", responder, s.updateIncident)
	s.api("POST /incidents/{id}/status", responder, s.changeStatus)
	s.api("POST /incidents/{id}/ack", responder, s.acknowledgeIncident)
	s.api("POST /incidents/{id}/roles", responder, s.assignRole)
	// Timeline.
	s.api("POST /incidents/{id}/timeline", responder, s.addTimelineEvent)
	s.api("GET /incidents/{id}/timeline", viewer, s.listTimeline)
	s.api("GET /incidents/{id}/timeline/{event}", viewer, s.getTimelineEvent)
	s.api("POST /incidents/{id}/timeline/{event}/star", responder, s.starTimelineEvent)
	s.api("DELETE /incidents/{id}/timeline/{event}/star", responder, s.starTimelineEvent)
	// Status updates.
	s.api("POST /incidents/{id}/updates", responder, s.postUpdate)
	s.api("GET /incidents/{id}/updates", viewer, s.listUpdates)
	s.api("GET /incidents/{id}/updates/{update}", viewer, s.getUpdate)
	// Action items.
	s.api("POST /incidents/{id}/action-items", responder, s.addActionItem)
	s.api("GET /incidents/{id}/action-items", viewer, s.listActionItems)
	s.api("GET /action-items", viewer, s.listFollowUps)
	s.api("GET /incidents/{id}/action-items/{item}", viewer, s.getActionItem)
	s.api("PATCH /incidents/{id}/action-items/{item}", responder, s.updateActionItem)
	// Service catalog.
	s.api("POST /services", admin, s.createService)
	s.api("GET /services", viewer, s.listServices)
	s.api("GET /services/{id}", viewer, s.getService)
	s.api("PATCH /services/{id}", admin, s.updateService)
	// Severity policies.
	s.api("GET /severities", viewer, s.listSeverities)
	// Users and tokens.
	s.api("GET /me", viewer, s.me)
	s.api("POST /users", admin, s.createUser)
	s.api("GET /users", admin, s.listUsers)
	s.api("GET /users/{username}", admin, s.getUser)
	s.api("POST /tokens", admin, s.createToken)
	s.api("GET /tokens", viewer, s.listTokens)
	s.api("DELETE /tokens/{id}", viewer, s.revokeToken)
	// Alert integrations and alerts (when an AlertService is configured; intake routes are in routesIntake).
	if s.cfg.Alerts != nil {
		s.api("POST /integrations", admin, s.createIntegration)
		s.api("GET /integrations", viewer, s.listIntegrations)
		s.api("GET /alerts", viewer, s.listAlerts)
		s.api("GET /alerts/{id}", viewer, s.getAlert)
		s.api("GET /services/{id}/routing", viewer, s.getRoutingPolicy)
		s.api("PUT /services/{id}/routing", admin, s.setRoutingPolicy)
		// Change events (when the AlertService is also a ChangeService; handlers in intake_change.go).
		if _, ok := s.changeService(); ok {
			s.mux.HandleFunc("POST "+PagerDutyChangeEnqueuePath, s.pagerDutyChangeEnqueue)
			s.api("GET /changes", viewer, s.listChanges)
			s.api("GET /incidents/{id}/changes", viewer, s.listIncidentChanges)
		}
	}

	// The OpenAPI document is public and is part of the API it describes, so it is listed in APIRoutes too.
	s.apiRoutes = append(s.apiRoutes, "GET "+APIPrefix+"/openapi.json")
	s.mux.HandleFunc("GET "+APIPrefix+"/openapi.json", s.openAPI)

	// Anything else under the prefix gets a problem+json 404 or 405 instead of the mux's plain text.
	s.mux.HandleFunc(APIPrefix+"/", s.apiFallback)
}

// apiFallback answers requests that match no API route: 405 (with Allow) when the path exists with other
// methods, 404 otherwise.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && strings.HasPrefix(pattern, m+" ") {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.problemStatus(w, r, http.StatusMethodNotAllowed,
			"method "+r.Method+" is not allowed here; allowed: "+strings.Join(allow, ", "))
		return
	}
	s.problem(w, r, firebreak.Errorf(firebreak.ENotFound, "no API endpoint at %s", r.URL.Path))
}

// problemStatus writes a problem for an HTTP status that has no domain error code (405).
func (s *Server) problemStatus(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	apiWriteBody(w, Problem{Type: ProblemTypeBase + "method_not_allowed", Title: http.StatusText(status),
		Status: status, Detail: detail, Instance: r.URL.Path})
}
