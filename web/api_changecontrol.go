package web

import (
	"net/http"

	"github.com/firebreak/firebreak"
)

// Change control during an incident: responders propose production changes, the incident commander (or an
// admin) approves or rejects them, the proposer may withdraw one that waits.
//
//	POST /incidents/{id}/proposals                     propose {"action", "reason", "risk"?}   (responder)
//	GET  /incidents/{id}/proposals                     every proposal with its state           (viewer)
//	GET  /incidents/{id}/proposals/{pid}               one proposal                            (viewer)
//	POST /incidents/{id}/proposals/{pid}/approve       the commander approves {"note"?}        (responder)
//	POST /incidents/{id}/proposals/{pid}/reject        the commander rejects {"note"?}         (responder)
//	POST /incidents/{id}/proposals/{pid}/withdraw      its proposer withdraws it {"note"?}     (responder)
//
// Decisions by anyone else are 403; a second decision is 409, as is a proposal on an incident that is not open.

// changeControl returns the change control service: the incident service, when it implements one.
func (s *Server) changeControl() (firebreak.ChangeControlService, bool) {
	c, ok := s.cfg.Incidents.(firebreak.ChangeControlService)
	return c, ok
}

func (s *Server) routesChangeControlAPI() {
	if _, ok := s.changeControl(); !ok {
		return
	}
	viewer, responder := firebreak.RoleViewer, firebreak.RoleResponder
	s.api("POST /incidents/{id}/proposals", responder, s.proposeChange)
	s.api("GET /incidents/{id}/proposals", viewer, s.listProposals)
	s.api("GET /incidents/{id}/proposals/{pid}", viewer, s.getProposal)
	s.api("POST /incidents/{id}/proposals/{pid}/approve", responder, s.decideProposal(firebreak.DecisionApprove))
	s.api("POST /incidents/{id}/proposals/{pid}/reject", responder, s.decideProposal(firebreak.DecisionReject))
	s.api("POST /incidents/{id}/proposals/{pid}/withdraw", responder, s.decideProposal(firebreak.DecisionWithdraw))
}

func (s *Server) proposeChange(w http.ResponseWriter, r *http.Request) {
	var in firebreak.ProposalInput
	idem, err := s.decodeRequest(w, r, &in, true)
	if err != nil {
		s.problem(w, r, err)
		return
	}
	cc, _ := s.changeControl()
	ref := r.PathValue("id")
	p, err := cc.ProposeChange(apiWithIdem(r.Context(), idem), ref, in)
	rp, err := apiReplayOf(err, "change_proposal")
	if rp != nil {
		p, err = cc.GetProposal(r.Context(), ref, rp.ID)
	}
	if err != nil {
		s.problem(w, r, err)
		return
	}
	apiCreated(w, apiIncidentPath(p.Incident)+"/proposals/"+p.ID, 0, rp != nil, p)
}

func (s *Server) listProposals(w http.ResponseWriter, r *http.Request) {
	q := newAPIQuery(r, "limit", "cursor")
	cc, _ := s.changeControl()
	ps, err := cc.ListProposals(r.Context(), r.PathValue("id"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	page, err := apiPageSlice(q, ps, func(p firebreak.ChangeProposal) string { return p.ID })
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getProposal(w http.ResponseWriter, r *http.Request) {
	cc, _ := s.changeControl()
	p, err := cc.GetProposal(r.Context(), r.PathValue("id"), r.PathValue("pid"))
	if err != nil {
		s.problem(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// decideProposal handles approve, reject and withdraw; the body ({"note"}) is optional.
func (s *Server) decideProposal(d firebreak.Decision) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in firebreak.DecisionInput
		if r.ContentLength != 0 {
			if _, err := s.decodeRequest(w, r, &in, false); err != nil {
				s.problem(w, r, err)
				return
			}
		}
		cc, _ := s.changeControl()
		p, err := cc.DecideProposal(r.Context(), r.PathValue("id"), r.PathValue("pid"), d, in)
		if err != nil {
			s.problem(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	}
}
