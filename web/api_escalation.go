package web

import (
	"net/http"
	"net/url"

	"github.com/firebreak/firebreak"
)

// Escalation policies (escalation.go in the root package). Admins manage them; everyone reads them. A service
// gets one with PATCH /services/{slug} {"escalation_policy": "name"}.

func (s *Server) routesEscalationAPI() {
	if _, ok := s.escalationStatus(); ok {
		s.api("GET /incidents/{id}/escalation", firebreak.RoleViewer, s.getIncidentEscalation)
	}
	if s.escalations() == nil {
		return
	}
	viewer, admin := firebreak.RoleViewer, firebreak.RoleAdmin
	s.api("POST /escalation-policies", admin, s.createEscalationPolicy)
	s.api("GET /escalation-policies", viewer, s.listEscalationPolicies)
	s.api("GET /escalation-policies/{id}", viewer, s.getEscalationPolicy)
	s.api("PATCH /escalation-policies/{id}", admin, s.updateEscalationPolicy)
	s.api("DELETE /escalation-policies/{id}", admin, s.deleteEscalationPolicy)
}

// escalations is the escalation service, when the catalog is one.
func (s *Server) escalations() firebreak.EscalationService {
	e, _ := s.cfg.Catalog.(firebreak.EscalationService)
	return e
}

// escalationStatus reads where incidents' escalations stand, when the incident service can.
func (s *Server) escalationStatus() (firebreak.EscalationStatusService, bool) {
	e, ok := s.cfg.Incidents.(firebreak.EscalationStatusService)
	return e, ok
}

// getIncidentEscalation answers where an incident's escalation stands: the step that paged last and whom, the
// next one and when, or how the paging ended (acknowledged by whom).
func (s *Server) getIncidentEscalation(w http.ResponseWriter, r *http.Request) {
	es, _ := s.escalationStatus()
	e, err := es.IncidentEscalation(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func escalationPolicyPath(id string) string {
	return APIPrefix + "/escalation-policies/" + url.PathEscape(id)
}

func (s *Server) createEscalationPolicy(w http.ResponseWriter, r *http.Request) {
	var in firebreak.EscalationPolicyInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.escalations().CreateEscalationPolicy(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, escalationPolicyPath(p.ID), p.Version, false, p)
}

func (s *Server) listEscalationPolicies(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "limit", "cursor")
	ps, err := s.escalations().ListEscalationPolicies(r.Context())
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, ps, func(p firebreak.EscalationPolicy) string { return p.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getEscalationPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.escalations().GetEscalationPolicy(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, p.Version) {
		return
	}
	apiRespond(w, http.StatusOK, p.Version, p)
}

func (s *Server) updateEscalationPolicy(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var patch firebreak.EscalationPolicyPatch
	if _, err := s.decodeRequest(w, r, &patch, false); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := s.escalations().UpdateEscalationPolicy(r.Context(), r.PathValue("id"), patch, version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, p.Version, p)
}

func (s *Server) deleteEscalationPolicy(w http.ResponseWriter, r *http.Request) {
	if err := s.escalations().DeleteEscalationPolicy(r.Context(), r.PathValue("id")); err != nil {
		s.problem(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
