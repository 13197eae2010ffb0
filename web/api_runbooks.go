package web

import (
	"net/http"
	"strings"

	"github.com/firebreak/firebreak"
)

// Runbooks: Markdown procedures per service, with revisions, an owner and a review date.
//
//	POST  /runbooks                      create {"service", "title", "body", "owner"?}        (responder)
//	GET   /runbooks?service=&stale=      list, by service and title                           (viewer)
//	GET   /runbooks/{id}                 one runbook (ETag = version)                         (viewer)
//	PATCH /runbooks/{id}                 save a new version (If-Match required; 412 + ETag)   (responder)
//	GET   /runbooks/{id}/revisions       every saved version                                  (viewer)
//	POST  /runbooks/{id}/review          record a review now (optional If-Match)              (responder)

func (s *Server) runbooks() (firebreak.RunbookService, bool) {
	rs, ok := s.cfg.Catalog.(firebreak.RunbookService)
	return rs, ok
}

func (s *Server) routesRunbooksAPI() {
	if _, ok := s.runbooks(); !ok {
		return
	}
	viewer, responder := firebreak.RoleViewer, firebreak.RoleResponder
	s.api("POST /runbooks", responder, s.createRunbook)
	s.api("GET /runbooks", viewer, s.listRunbooks)
	s.api("GET /runbooks/{id}", viewer, s.getRunbook)
	s.api("PATCH /runbooks/{id}", responder, s.updateRunbook)
	s.api("GET /runbooks/{id}/revisions", viewer, s.listRunbookRevisions)
	s.api("POST /runbooks/{id}/review", responder, s.reviewRunbook)
}

func apiRunbookPath(id string) string { return APIPrefix + "/runbooks/" + id }

// runbookProblem answers an error; a stale If-Match (412) also carries the current version as the ETag.
func (s *Server) runbookProblem(w http.ResponseWriter, r *http.Request, err error) {
	if firebreak.ErrorCode(err) == firebreak.EPreconditionFailed {
		rs, _ := s.runbooks()
		if rb, e := rs.GetRunbook(r.Context(), r.PathValue("id")); e == nil {
			w.Header().Set("ETag", apiETag(rb.Version))
		}
	}
	s.problem(w, r, err)
}

func (s *Server) createRunbook(w http.ResponseWriter, r *http.Request) {
	var in firebreak.RunbookInput
	if _, err := s.decodeRequest(w, r, &in, false); err != nil {
		s.problem(w, r, err)
		return
	}
	rs, _ := s.runbooks()
	rb, err := rs.CreateRunbook(r.Context(), in)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiRunbookPath(rb.ID), rb.Version, false, rb)
}

// parseRunbookFilter reads ?service= (repeatable or comma-separated slugs), ?stale=true|false, limit and cursor.
func parseRunbookFilter(q *apiQuery) firebreak.RunbookFilter {
	f := firebreak.RunbookFilter{Limit: q.limit(), Cursor: q.str("cursor")}
	for _, v := range q.list("service") {
		if !firebreak.ValidSlug(v) {
			q.v.Add("service", "%q is not a service slug", v)
			continue
		}
		f.Services = append(f.Services, v)
	}
	if v := q.str("stale"); v != "" {
		b := q.boolean("stale")
		f.Stale = &b
	}
	return f
}

func (s *Server) listRunbooks(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "service", "stale", "limit", "cursor")
	f := parseRunbookFilter(q)
	if err := q.err(); err != nil {
		s.problem(w, r, err)
		return
	}
	rs, _ := s.runbooks()
	p, err := rs.ListRunbooks(r.Context(), f)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiPageOf(p))
}

func (s *Server) getRunbook(w http.ResponseWriter, r *http.Request) {
	rs, _ := s.runbooks()
	rb, err := rs.GetRunbook(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	// No 304: a review changes last_reviewed_at and staleness changes with time, but not the version.
	apiRespond(w, http.StatusOK, rb.Version, rb)
}

func (s *Server) updateRunbook(w http.ResponseWriter, r *http.Request) {
	if strings.TrimSpace(r.Header.Get("If-Match")) == "" {
		s.problem(w, r, apiHeaderError("If-Match",
			`is required: send the ETag of the version you edited (or "*" to overwrite)`))
		return
	}
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	var p firebreak.RunbookPatch
	if _, err := s.decodeRequest(w, r, &p, false); err != nil {
		s.problem(w, r, err)
		return
	}
	rs, _ := s.runbooks()
	rb, err := rs.UpdateRunbook(r.Context(), r.PathValue("id"), p, version)
	if err != nil {
		s.runbookProblem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, rb.Version, rb)
}

func (s *Server) listRunbookRevisions(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "limit", "cursor")
	rs, _ := s.runbooks()
	revs, err := rs.ListRunbookRevisions(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, revs, func(v firebreak.RunbookRevision) string { return apiETag(v.Version) })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) reviewRunbook(w http.ResponseWriter, r *http.Request) {
	version, err := apiIfMatch(r)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if r.ContentLength != 0 {
		var none struct{}
		if _, err := s.decodeRequest(w, r, &none, false); err != nil {
			s.problem(w, r, err)
			return
		}
	}
	rs, _ := s.runbooks()
	rb, err := rs.ReviewRunbook(r.Context(), r.PathValue("id"), version)
	if err != nil {
		s.runbookProblem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, rb.Version, rb)
}
