package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/firebreak/firebreak"
)

// Change control and runbooks on the incident page (templates/change_parts.html): the changes proposed during the
// incident with approve and reject buttons for its commander (and admins), a withdraw button for the proposer and
// a propose form for responders; and the runbooks of the affected services, stale ones flagged. Both are sections
// the live script refreshes, since every proposal and decision is a timeline event.
//
//	POST /incidents/{ref}/proposals                   propose
//	POST /incidents/{ref}/proposals/{pid}/approve     the commander approves (note)
//	POST /incidents/{ref}/proposals/{pid}/reject      the commander rejects (note)
//	POST /incidents/{ref}/proposals/{pid}/withdraw    the proposer withdraws

// incidentChanges is what the two sections show.
type incidentChanges struct {
	Enabled    bool // change control is available
	Proposals  []proposalView
	Pending    int
	Commander  string
	CanPropose bool // the viewer may propose (a responder, on an open incident)
	// Runbooks of the affected services (nil when runbooks are not available).
	Runbooks     []firebreak.Runbook
	HasRunbooks  bool
	StaleCount   int
	NoneServices []string // affected services without a runbook
}

type proposalView struct {
	P           firebreak.ChangeProposal
	N           int  // its number on the incident, from 1
	CanDecide   bool // the viewer is the commander or an admin, and it waits
	CanWithdraw bool // the viewer proposed it (or is an admin), and it waits
}

// RiskClass is the CSS class of the proposal's risk tag.
func (p proposalView) RiskClass() string {
	if p.P.Risk == "" {
		return ""
	}
	return "risk-" + string(p.P.Risk)
}

func (c *console) routesChanges() {
	if _, ok := c.s.changeControl(); !ok {
		return
	}
	responder := firebreak.RoleResponder
	c.s.mux.HandleFunc("POST /incidents/{ref}/proposals", c.page(c.authed(responder, c.propose)))
	for _, d := range []firebreak.Decision{firebreak.DecisionApprove, firebreak.DecisionReject,
		firebreak.DecisionWithdraw} {
		c.s.mux.HandleFunc("POST /incidents/{ref}/proposals/{pid}/"+string(d), c.page(c.authed(responder,
			func(w http.ResponseWriter, r *http.Request, v viewer) { c.decide(w, r, v, d) })))
	}
}

// changesOf loads the incident's proposals and the runbooks of its services for the page.
func (c *console) changesOf(ctx context.Context, inc *firebreak.Incident, v viewer) (*incidentChanges, error) {
	cc, ccOK := c.s.changeControl()
	rs, rsOK := c.s.runbooks()
	if !ccOK && !rsOK {
		return nil, nil
	}
	ch := &incidentChanges{Enabled: ccOK, Commander: inc.Roles[firebreak.RoleCommander],
		CanPropose: ccOK && v.CanAct() && inc.Status.Open()}
	if ccOK {
		ps, err := cc.ListProposals(ctx, inc.ID)
		if err != nil {
			return nil, err
		}
		admin := v.IsAdmin()
		for i, p := range ps {
			waiting := p.State == firebreak.ProposalProposed
			pv := proposalView{P: p, N: i + 1,
				CanDecide:   waiting && v.CanAct() && (admin || (ch.Commander != "" && v.Username == ch.Commander)),
				CanWithdraw: waiting && v.CanAct() && (admin || v.Username == p.ProposedBy)}
			if waiting {
				ch.Pending++
			}
			ch.Proposals = append(ch.Proposals, pv)
		}
	}
	if rsOK && len(inc.Services) > 0 {
		ch.HasRunbooks = true
		p, err := rs.ListRunbooks(ctx, firebreak.RunbookFilter{Services: inc.Services, Limit: 100})
		if err != nil {
			return nil, err
		}
		ch.Runbooks = p.Items
		have := map[string]bool{}
		for _, rb := range p.Items {
			have[rb.Service] = true
			if rb.Stale {
				ch.StaleCount++
			}
		}
		for _, s := range inc.Services {
			if !have[s] {
				ch.NoneServices = append(ch.NoneServices, s)
			}
		}
	}
	return ch, nil
}

func (c *console) propose(w http.ResponseWriter, r *http.Request, v viewer) {
	cc, _ := c.s.changeControl()
	in := firebreak.ProposalInput{Action: strings.TrimSpace(r.PostFormValue("action")),
		Reason: strings.TrimSpace(r.PostFormValue("reason")), Risk: firebreak.ChangeRisk(r.PostFormValue("risk"))}
	p, err := cc.ProposeChange(r.Context(), r.PathValue("ref"), in)
	if err != nil {
		c.actionFailed(w, r, v, "proposal", err)
		return
	}
	seeOther(w, r, "/incidents/"+p.Incident+"#proposal-"+p.ID)
}

func (c *console) decide(w http.ResponseWriter, r *http.Request, v viewer, d firebreak.Decision) {
	cc, _ := c.s.changeControl()
	pid := r.PathValue("pid")
	p, err := cc.DecideProposal(r.Context(), r.PathValue("ref"), pid, d,
		firebreak.DecisionInput{Note: strings.TrimSpace(r.PostFormValue("note"))})
	if err != nil {
		c.actionFailed(w, r, v, "decide-"+pid, err)
		return
	}
	seeOther(w, r, "/incidents/"+p.Incident+"#proposal-"+p.ID)
}
