package web

import (
	"net/http"
	"strings"

	"github.com/firebreak/firebreak"
)

// The post-mortem API. One post-mortem per incident, addressed through the incident:
//
//	GET    /incidents/{id}/postmortem            the document (ETag = version)
//	POST   /incidents/{id}/postmortem            draft it now (any incident; 409 if it exists)
//	PATCH  /incidents/{id}/postmortem            save sections (If-Match required; 412 + current ETag when stale)
//	POST   /incidents/{id}/postmortem/submit     draft → in_review
//	POST   /incidents/{id}/postmortem/approve    an approver approves (with lint overrides and reasons)
//	POST   /incidents/{id}/postmortem/publish    → published (422 listing every missing field and blocking finding)
//	POST   /incidents/{id}/postmortem/close      published → closed after the follow-up review
//	GET    /incidents/{id}/postmortem/revisions  every saved version
//	GET    /incidents/{id}/postmortem.md         Markdown export
//
// The workflow steps take an optional If-Match.

// PostmortemClose is the body of POST /incidents/{id}/postmortem/close.
type PostmortemClose struct {
	Notes string `json:"notes,omitempty"`
}

// postmortems returns the post-mortem service: the incident service, when it implements one.
func (s *Server) postmortems() (firebreak.PostmortemService, bool) {
	p, ok := s.cfg.Incidents.(firebreak.PostmortemService)
	return p, ok
}

func (s *Server) routesPostmortemsAPI() {
	if _, ok := s.postmortems(); !ok {
		return
	}
	const (
		viewer    = firebreak.RoleViewer
		responder = firebreak.RoleResponder
	)
	s.api("GET /incidents/{id}/postmortem", viewer, s.getPostmortem)
	s.api("POST /incidents/{id}/postmortem", responder, s.createPostmortem)
	s.api("PATCH /incidents/{id}/postmortem", responder, s.updatePostmortem)
	s.api("POST /incidents/{id}/postmortem/submit", responder, s.postmortemStep("submit"))
	s.api("POST /incidents/{id}/postmortem/approve", responder, s.postmortemStep("approve"))
	s.api("POST /incidents/{id}/postmortem/publish", responder, s.postmortemStep("publish"))
	s.api("POST /incidents/{id}/postmortem/close", responder, s.postmortemStep("close"))
	s.api("GET /incidents/{id}/postmortem/revisions", viewer, s.listPostmortemRevisions)
	s.api("GET /incidents/{id}/postmortem.md", viewer, s.postmortemMarkdown)
}

func apiPostmortemPath(ref string) string { return APIPrefix + "/incidents/" + ref + "/postmortem" }

// postmortemProblem answers an error; a stale If-Match (412) also carries the current version as the ETag.
func (s *Server) postmortemProblem(w http.ResponseWriter, r *http.Request, err error) {
	if firebreak.ErrorCode(err) == firebreak.EPreconditionFailed {
		pms, _ := s.postmortems()
		if pm, e := pms.GetPostmortem(r.Context(), r.PathValue("id")); e == nil {
			w.Header().Set("ETag", apiETag(pm.Version))
		}
	}
	s.problem(w, r, err)
}

func (s *Server) getPostmortem(w http.ResponseWriter, r *http.Request) {
	pms, _ := s.postmortems()
	pm, err := pms.GetPostmortem(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, pm.Version) {
		return
	}
	apiRespond(w, http.StatusOK, pm.Version, pm)
}

func (s *Server) createPostmortem(w http.ResponseWriter, r *http.Request) {
	pms, _ := s.postmortems()
	pm, err := pms.CreatePostmortem(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiPostmortemPath(pm.IncidentRef), pm.Version, false, pm)
}

func (s *Server) updatePostmortem(w http.ResponseWriter, r *http.Request) {
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
	var p firebreak.PostmortemPatch
	if _, err := s.decodeRequest(w, r, &p, false); err != nil {
		s.problem(w, r, err)
		return
	}
	pms, _ := s.postmortems()
	pm, err := pms.UpdatePostmortem(r.Context(), r.PathValue("id"), p, version)
	if err != nil {
		s.postmortemProblem(w, r, err)
		return
	}
	apiRespond(w, http.StatusOK, pm.Version, pm)
}

// postmortemStep handles the workflow steps: submit and publish take no body; approve takes an ApproveInput,
// close a PostmortemClose (both optional when empty).
func (s *Server) postmortemStep(step string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		version, err := apiIfMatch(r)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		var approve firebreak.ApproveInput
		var closing PostmortemClose
		if r.ContentLength != 0 && (step == "approve" || step == "close") {
			var dst any = &approve
			if step == "close" {
				dst = &closing
			}
			if _, err := s.decodeRequest(w, r, dst, false); err != nil {
				s.problem(w, r, err)
				return
			}
		}
		pms, _ := s.postmortems()
		ref := r.PathValue("id")
		var pm *firebreak.Postmortem
		switch step {
		case "submit":
			pm, err = pms.SubmitPostmortem(r.Context(), ref, version)
		case "approve":
			pm, err = pms.ApprovePostmortem(r.Context(), ref, approve, version)
		case "publish":
			pm, err = pms.PublishPostmortem(r.Context(), ref, version)
		default:
			pm, err = pms.ClosePostmortem(r.Context(), ref, closing.Notes, version)
		}
		if err != nil {
			s.postmortemProblem(w, r, err)
			return
		}
		apiRespond(w, http.StatusOK, pm.Version, pm)
	}
}

func (s *Server) listPostmortemRevisions(w http.ResponseWriter, r *http.Request) {
	pms, _ := s.postmortems()
	revs, err := pms.ListPostmortemRevisions(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiList[firebreak.PostmortemRevision]{Items: revs})
}

func (s *Server) postmortemMarkdown(w http.ResponseWriter, r *http.Request) {
	pms, _ := s.postmortems()
	pm, err := pms.GetPostmortem(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	if apiNotModified(w, r, pm.Version) {
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="`+pm.IncidentRef+`-postmortem.md"`)
	w.Header().Set("ETag", apiETag(pm.Version))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(firebreak.PostmortemMarkdown(pm)))
}
