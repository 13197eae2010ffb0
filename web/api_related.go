package web

// Related and recurring incidents over HTTP:
//
//	GET /api/v1/incidents/{id}/related?limit=   (viewer)
//
// The route exists when the IncidentService is also a RelatedService (the SQL store is). The scoring is described
// in docs/API.md and implemented in analysis/related.go.

import (
	"net/http"
	"strconv"

	"github.com/firebreak/firebreak"
)

func (s *Server) relatedService() (firebreak.RelatedService, bool) {
	rs, ok := s.cfg.Incidents.(firebreak.RelatedService)
	return rs, ok
}

// routesRelatedAPI registers GET /api/v1/incidents/{id}/related.
func (s *Server) routesRelatedAPI() {
	if _, ok := s.relatedService(); !ok {
		return
	}
	s.api("GET /incidents/{id}/related", firebreak.RoleViewer, s.relatedIncidents)
}

func (s *Server) relatedIncidents(w http.ResponseWriter, r *http.Request) {
	rs, _ := s.relatedService()
	q := newAPIQuery(r, "limit")
	limit := firebreak.DefaultRelatedLimit
	if v := q.str("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > firebreak.MaxRelatedLimit {
			q.v.Add("limit", "must be a whole number from 1 to %d", firebreak.MaxRelatedLimit)
		}
		limit = n
	}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	rel, err := rs.RelatedIncidents(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rel)
}
