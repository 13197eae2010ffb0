package web

// Follow-through over HTTP: the follow-up reviews of published post-mortems (the overdue action items are the
// follow-up list, GET /action-items?overdue=true, in api_incidents.go).
//
//	GET  /api/v1/follow-up-reviews?due=&limit=&cursor=   (viewer)
//	POST /api/v1/action-items/{id}/verify                (responder; If-Match optional) verify a done item
//
// The route exists when the IncidentService is also a FollowThroughService (the SQL store is).

import (
	"net/http"

	"github.com/firebreak/firebreak"
)

func (s *Server) followThroughService() (firebreak.FollowThroughService, bool) {
	fs, ok := s.cfg.Incidents.(firebreak.FollowThroughService)
	return fs, ok
}

// followThroughPolicy is the store's follow-through policy (the defaults when it has none).
func (s *Server) followThroughPolicy() firebreak.FollowThroughPolicy {
	if p, ok := s.cfg.Incidents.(interface {
		FollowThroughPolicy() firebreak.FollowThroughPolicy
	}); ok {
		return p.FollowThroughPolicy()
	}
	return firebreak.DefaultFollowThroughPolicy()
}

// routesFollowThroughAPI registers GET /api/v1/follow-up-reviews.
func (s *Server) routesFollowThroughAPI() {
	if _, ok := s.followThroughService(); !ok {
		return
	}
	s.api("GET /follow-up-reviews", firebreak.RoleViewer, s.listFollowUpReviews)
	s.api("POST /action-items/{id}/verify", firebreak.RoleResponder, s.verifyActionItem)
}

// verifyActionItem verifies a done action item by its id, as the caller (never its owner: 422 on status).
func (s *Server) verifyActionItem(w http.ResponseWriter, r *http.Request) {
	fs, _ := s.followThroughService()
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	a, err := fs.VerifyActionItem(r.Context(), r.PathValue("id"), version)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, a.Version, a)
}

func (s *Server) listFollowUpReviews(w http.ResponseWriter, r *http.Request) {
	fs, _ := s.followThroughService()
	q := newAPIQuery(r, "due", "limit", "cursor")
	f := firebreak.FollowUpReviewFilter{Limit: q.limit(), Cursor: q.str("cursor")}
	switch q.str("due") {
	case "", "false":
	case "true":
		f.Due = true
	default:
		q.v.Add("due", "must be true or false")
	}
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	p, err := fs.ListFollowUpReviews(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}
