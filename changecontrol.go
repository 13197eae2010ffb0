package firebreak

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Change control during an incident (the seed runbook: the incident commander "approves all production changes
// during incident" and "can halt any remediation action deemed risky"). A responder proposes a mitigation action;
// the incident's commander (or an admin) approves or rejects it; the proposer may withdraw it while it waits.
// Every step is a timeline event, written in the same transaction as the proposal's new state.

// Timeline event kinds of change control.
const (
	EventChangeProposed  EventKind = "change_proposed"
	EventChangeApproved  EventKind = "change_approved"
	EventChangeRejected  EventKind = "change_rejected"
	EventChangeWithdrawn EventKind = "change_withdrawn"
)

// ProposalState is where a proposed change is: proposed (waiting for the commander), then approved, rejected or
// withdrawn (by its proposer). Only proposed moves on; the other three are final.
type ProposalState string

const (
	ProposalProposed  ProposalState = "proposed"
	ProposalApproved  ProposalState = "approved"
	ProposalRejected  ProposalState = "rejected"
	ProposalWithdrawn ProposalState = "withdrawn"
)

// ProposalStates lists every state.
var ProposalStates = []ProposalState{ProposalProposed, ProposalApproved, ProposalRejected, ProposalWithdrawn}

// ChangeRisk is how risky the proposer judges a change: low, medium or high (empty: not stated).
type ChangeRisk string

const (
	RiskLow    ChangeRisk = "low"
	RiskMedium ChangeRisk = "medium"
	RiskHigh   ChangeRisk = "high"
)

// ChangeRisks lists every risk, lowest first.
var ChangeRisks = []ChangeRisk{RiskLow, RiskMedium, RiskHigh}

// Limits of a proposal's text.
const (
	MaxProposalActionLen = 1000
	MaxProposalReasonLen = 5000
	MaxDecisionNoteLen   = 5000
)

// ChangeProposal is a production change proposed during an incident, with its decision.
type ChangeProposal struct {
	ID         string        `json:"id"`
	IncidentID string        `json:"incident_id"`
	Incident   string        `json:"incident"` // the incident's reference, e.g. INC-7
	Action     string        `json:"action"`   // what will be done, e.g. "restart the orders pods"
	Reason     string        `json:"reason"`   // why: what it should fix, what was seen
	Risk       ChangeRisk    `json:"risk,omitempty"`
	State      ProposalState `json:"state"`
	ProposedBy string        `json:"proposed_by"`
	ProposedAt time.Time     `json:"proposed_at"`
	// DecidedBy and DecidedAt say who approved, rejected or withdrew it, and when; Note is their comment.
	DecidedBy string     `json:"decided_by,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
	Note      string     `json:"note,omitempty"`
}

// ProposalInput proposes a change.
type ProposalInput struct {
	Action string     `json:"action"`
	Reason string     `json:"reason"`
	Risk   ChangeRisk `json:"risk,omitempty"`
}

// Validate checks the input (action and reason are required).
func (in *ProposalInput) Validate() error {
	var v Validation
	in.Action = strings.TrimSpace(in.Action)
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Action == "" {
		v.Add("action", "is required: say what change will be made")
	} else {
		v.Text("action", in.Action, MaxProposalActionLen)
	}
	if in.Reason == "" {
		v.Add("reason", "is required: say why the change should help")
	} else {
		v.Text("reason", in.Reason, MaxProposalReasonLen)
	}
	if in.Risk != "" && !slices.Contains(ChangeRisks, in.Risk) {
		v.Add("risk", "must be low, medium or high")
	}
	return v.Err()
}

// DecisionInput is the body of an approval, a rejection or a withdrawal: an optional note.
type DecisionInput struct {
	Note string `json:"note,omitempty"`
}

// Validate checks the note.
func (in *DecisionInput) Validate() error {
	var v Validation
	in.Note = strings.TrimSpace(in.Note)
	v.Text("note", in.Note, MaxDecisionNoteLen)
	return v.Err()
}

// Decision is what happens to a proposal: approve, reject or withdraw.
type Decision string

const (
	DecisionApprove  Decision = "approve"
	DecisionReject   Decision = "reject"
	DecisionWithdraw Decision = "withdraw"
)

// State is the state a decision leads to.
func (d Decision) State() ProposalState {
	switch d {
	case DecisionApprove:
		return ProposalApproved
	case DecisionReject:
		return ProposalRejected
	case DecisionWithdraw:
		return ProposalWithdrawn
	}
	return ""
}

// ProposalDecider is what a decision needs to know about the incident and the person deciding.
type ProposalDecider struct {
	Actor     Actor
	Commander string // the incident's commander (empty: none assigned)
	Status    Status // the incident's status
	Ref       string // the incident's reference
}

// Decide applies decision d by the decider to proposal p at now and returns the timeline event recording it. It
// refuses, changing nothing: a decision on a proposal that is no longer proposed (EConflict, naming who decided
// it); an approval or rejection by anyone but the incident's commander or an admin, and a withdrawal by anyone
// but the proposer or an admin (EForbidden); an approval once the incident is no longer open (EConflict).
func (p *ChangeProposal) Decide(d Decision, in DecisionInput, by ProposalDecider, now time.Time) (TimelineEvent, error) {
	if err := in.Validate(); err != nil {
		return TimelineEvent{}, err
	}
	if d.State() == "" {
		return TimelineEvent{}, Errorf(EInvalid, "unknown decision %q", d)
	}
	if p.State != ProposalProposed {
		e := Errorf(EConflict, "this change was already %s", p.State)
		if p.DecidedBy != "" {
			e.Message += " by " + p.DecidedBy
		}
		if p.DecidedAt != nil {
			e.Message += " at " + p.DecidedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		e.Message += "; propose it again if it is still needed"
		return TimelineEvent{}, e
	}
	admin := by.Actor.Role.Allows(RoleAdmin)
	user := by.Actor.Username
	switch d {
	case DecisionWithdraw:
		if user != p.ProposedBy && !admin {
			return TimelineEvent{}, Errorf(EForbidden, "only %s, who proposed this change, or an admin may withdraw it",
				p.ProposedBy)
		}
	default:
		if !admin && (by.Commander == "" || user != by.Commander) {
			if by.Commander == "" {
				return TimelineEvent{}, Errorf(EForbidden, "%s has no incident commander: assign one, who then approves "+
					"or rejects proposed changes (admins may too)", by.Ref)
			}
			return TimelineEvent{}, Errorf(EForbidden, "only the incident commander of %s (%s) may %s proposed "+
				"changes; you are %s", by.Ref, by.Commander, d, user)
		}
		if d == DecisionApprove && !by.Status.Open() {
			return TimelineEvent{}, Errorf(EConflict, "%s is %s: changes are no longer approved on it", by.Ref, by.Status)
		}
	}
	now = now.UTC()
	p.State = d.State()
	p.DecidedBy = user
	p.DecidedAt = &now
	p.Note = in.Note
	var kind EventKind
	var text string
	switch d {
	case DecisionApprove:
		kind, text = EventChangeApproved, "Change approved: "+p.Action
	case DecisionReject:
		kind, text = EventChangeRejected, "Change rejected: "+p.Action
	default:
		kind, text = EventChangeWithdrawn, "Change withdrawn: "+p.Action
	}
	if in.Note != "" {
		text += " (" + in.Note + ")"
	}
	return TimelineEvent{Kind: kind, Actor: user, OccurredAt: now, RecordedAt: now, Message: text,
		Data: map[string]string{"proposal_id": p.ID, "action": p.Action, "state": string(p.State),
			"proposed_by": p.ProposedBy, "note": in.Note}}, nil
}

// NewProposal builds a proposal on an incident (ID and IncidentID are set by the store) and the timeline event
// recording it. Proposals are refused (EConflict) once the incident is resolved, closed or cancelled.
func NewProposal(in ProposalInput, actor string, inc ProposalDecider, now time.Time) (ChangeProposal, TimelineEvent, error) {
	if err := in.Validate(); err != nil {
		return ChangeProposal{}, TimelineEvent{}, err
	}
	if !inc.Status.Open() {
		return ChangeProposal{}, TimelineEvent{}, Errorf(EConflict,
			"%s is %s: changes are proposed only while an incident is open", inc.Ref, inc.Status)
	}
	now = now.UTC()
	p := ChangeProposal{Incident: inc.Ref, Action: in.Action, Reason: in.Reason, Risk: in.Risk,
		State: ProposalProposed, ProposedBy: actor, ProposedAt: now}
	text := "Change proposed: " + in.Action
	if in.Risk != "" {
		text += fmt.Sprintf(" (%s risk)", in.Risk)
	}
	text += ". Reason: " + in.Reason
	if inc.Commander != "" {
		text += ". Awaiting approval by " + inc.Commander
	}
	ev := TimelineEvent{Kind: EventChangeProposed, Actor: actor, OccurredAt: now, RecordedAt: now, Message: text,
		Data: map[string]string{"action": in.Action, "reason": in.Reason, "risk": string(in.Risk),
			"state": string(ProposalProposed)}}
	return p, ev, nil
}

// ChangeControlService keeps the changes proposed during incidents. Proposals are addressed through their
// incident (UUID, "INC-42" or "42") and their own ID.
//
// Errors: ENotFound (unknown incident or proposal); EInvalid (bad input); EConflict (the incident is not open, or
// the proposal was already decided); EForbidden (a decision by someone who may not make it); *IdempotentReplay
// from ProposeChange with an idempotency key seen before.
type ChangeControlService interface {
	ProposeChange(ctx context.Context, incidentRef string, in ProposalInput) (*ChangeProposal, error)
	ListProposals(ctx context.Context, incidentRef string) ([]ChangeProposal, error)
	GetProposal(ctx context.Context, incidentRef, id string) (*ChangeProposal, error)
	// DecideProposal approves, rejects or withdraws a proposal (see ChangeProposal.Decide for who may).
	DecideProposal(ctx context.Context, incidentRef, id string, d Decision, in DecisionInput) (*ChangeProposal, error)
}
