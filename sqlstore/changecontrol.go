package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
)

// Change control during incidents (migration 00015): change_proposals rows, each step written with its timeline
// event in one transaction. Every write locks the incident's row first, so decisions on one incident are
// serialized on both databases and a proposal is decided exactly once.

var _ firebreak.ChangeControlService = (*Store)(nil)

const kindChangeProposal = "change_proposal"

const proposalCols = `p.id, p.incident_id, i.number, p.action, p.reason, p.risk, p.state, p.proposed_by,
	p.proposed_at, p.decided_by, p.decided_at, p.note`

const proposalFrom = ` FROM change_proposals p JOIN incidents i ON i.id = p.incident_id`

func scanProposal(r rowScanner) (firebreak.ChangeProposal, error) {
	var p firebreak.ChangeProposal
	var number int64
	err := r.Scan(&p.ID, &p.IncidentID, &number, &p.Action, &p.Reason, &p.Risk, &p.State, &p.ProposedBy,
		tsCol(&p.ProposedAt), &p.DecidedBy, ntsCol(&p.DecidedAt), &p.Note)
	p.Incident = firebreak.IncidentRef(number)
	return p, err
}

// decider reads what a decision on the (locked) incident needs.
func (t *txn) decider(h incidentHead, actor firebreak.Actor) (firebreak.ProposalDecider, error) {
	d := firebreak.ProposalDecider{Actor: actor, Status: h.status, Ref: h.ref()}
	err := t.row(`SELECT commander FROM incidents WHERE id = ?`, h.id).Scan(&d.Commander)
	return d, wrap(err, "load incident commander")
}

// ProposeChange records a proposed change on an open incident, with its timeline event.
func (s *Store) ProposeChange(ctx context.Context, ref string, in firebreak.ProposalInput) (
	*firebreak.ChangeProposal, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx)
	key := idemFrom(ctx)
	var out firebreak.ChangeProposal
	err := s.write(ctx, func(t *txn) error {
		if err := t.idemCheck(key, kindChangeProposal); err != nil {
			return err
		}
		h, err := t.loadHead(ref, true)
		if err != nil {
			return err
		}
		d, err := t.decider(h, actor)
		if err != nil {
			return err
		}
		now := s.clock()
		p, ev, err := firebreak.NewProposal(in, actor.Username, d, now)
		if err != nil {
			return err
		}
		p.ID, p.IncidentID = newID(), h.id
		ev.Data["proposal_id"] = p.ID
		if _, err := t.exec(`INSERT INTO change_proposals (id, incident_id, action, reason, risk, state, proposed_by,
			proposed_at, decided_by, decided_at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', NULL, '')`,
			p.ID, p.IncidentID, p.Action, p.Reason, string(p.Risk), string(p.State), p.ProposedBy,
			s.d.ts(p.ProposedAt)); err != nil {
			return wrap(err, "insert change proposal")
		}
		inc, err := t.loadIncident(h.id, false)
		if err != nil {
			return err
		}
		ann, err := t.proposalAnnouncement(inc, p, now)
		if err != nil {
			return err
		}
		ann.describe(ev.Data)
		if err := t.insertEvents(h.id, []firebreak.TimelineEvent{ev}); err != nil {
			return err
		}
		if err := ann.queue(t, inc, now); err != nil {
			return err
		}
		if err := t.idemRecord(key, kindChangeProposal, p.ID, now); err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil {
		return nil, wrap(err, "propose change")
	}
	return &out, nil
}

// ListProposals lists an incident's proposed changes, oldest first.
func (s *Store) ListProposals(ctx context.Context, ref string) ([]firebreak.ChangeProposal, error) {
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	rows, err := r.query(`SELECT `+proposalCols+proposalFrom+` WHERE p.incident_id = ? ORDER BY p.proposed_at, p.id`,
		h.id)
	if err != nil {
		return nil, wrap(err, "list change proposals")
	}
	defer rows.Close()
	out := []firebreak.ChangeProposal{}
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, wrap(err, "list change proposals")
		}
		out = append(out, p)
	}
	return out, wrap(rows.Err(), "list change proposals")
}

func (x q) loadProposal(h incidentHead, id string) (*firebreak.ChangeProposal, error) {
	u, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return nil, notFound("proposed change %s not found on %s", id, h.ref())
	}
	p, err := scanProposal(x.row(`SELECT `+proposalCols+proposalFrom+` WHERE p.id = ? AND p.incident_id = ?`,
		u.String(), h.id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("proposed change %s not found on %s", id, h.ref())
	}
	if err != nil {
		return nil, wrap(err, "load change proposal")
	}
	return &p, nil
}

// GetProposal reads one proposed change of an incident.
func (s *Store) GetProposal(ctx context.Context, ref, id string) (*firebreak.ChangeProposal, error) {
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	return r.loadProposal(h, id)
}

// DecideProposal approves, rejects or withdraws a proposed change, with its timeline event.
func (s *Store) DecideProposal(ctx context.Context, ref, id string, d firebreak.Decision,
	in firebreak.DecisionInput) (*firebreak.ChangeProposal, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx)
	var out firebreak.ChangeProposal
	err := s.write(ctx, func(t *txn) error {
		h, err := t.loadHead(ref, true)
		if err != nil {
			return err
		}
		p, err := t.loadProposal(h, id)
		if err != nil {
			return err
		}
		by, err := t.decider(h, actor)
		if err != nil {
			return err
		}
		ev, err := p.Decide(d, in, by, s.clock())
		if err != nil {
			return err
		}
		res, err := t.exec(`UPDATE change_proposals SET state = ?, decided_by = ?, decided_at = ?, note = ?
			WHERE id = ? AND state = ?`, string(p.State), p.DecidedBy, s.d.nts(p.DecidedAt), p.Note, p.ID,
			string(firebreak.ProposalProposed))
		if err != nil {
			return wrap(err, "decide change proposal")
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			// The incident's row lock makes this unreachable; never record a decision twice regardless.
			return firebreak.Errorf(firebreak.EConflict, "this change was decided by someone else meanwhile; reload")
		}
		inc, err := t.loadIncident(h.id, false)
		if err != nil {
			return err
		}
		now := *p.DecidedAt
		ann, err := t.decisionAnnouncement(inc, p, now)
		if err != nil {
			return err
		}
		ann.describe(ev.Data)
		if err := t.insertEvents(h.id, []firebreak.TimelineEvent{ev}); err != nil {
			return err
		}
		if err := ann.queue(t, inc, now); err != nil {
			return err
		}
		out = *p
		return nil
	})
	if err != nil {
		return nil, wrap(err, "decide change proposal")
	}
	return &out, nil
}

// --- telling people -------------------------------------------------------------------------------------------

// Change control is announced through the outbox like every other message, in the transaction of the step it
// announces: a proposal goes to the incident commander's contact methods (the commander decides it), or, on an
// incident without a commander, to its announcement channels (someone must take command to decide it); an
// approval or a rejection goes to the proposer's contact methods. Nobody is told of their own step. Who was told
// (or could not be) is kept on the step's timeline event ("notified", "unreachable").

// changeAnnouncement is one message and where it goes.
type changeAnnouncement struct {
	msg         notify.Message
	channels    []string // the recipient's contact methods, or the incident's announcement channels
	notified    string   // who, for the timeline
	unreachable string
}

// describe records on the step's timeline event who is told.
func (a *changeAnnouncement) describe(data map[string]string) {
	if a == nil {
		return
	}
	if a.notified != "" {
		data["notified"] = a.notified
	}
	if a.unreachable != "" {
		data["unreachable"] = a.unreachable
	}
}

// queue inserts the notifications.
func (a *changeAnnouncement) queue(t *txn, inc *firebreak.Incident, now time.Time) error {
	if a == nil {
		return nil
	}
	publicURL, _ := t.s.outboxSettings().get()
	a.msg.Incident = notifyIncident(inc, publicURL)
	for _, ch := range a.channels {
		if _, err := t.insertNotification(ch, inc.ID, a.msg, now); err != nil {
			return err
		}
	}
	return nil
}

// toUser addresses the announcement to a user's contact methods (unreachable when they have none).
func (a *changeAnnouncement) toUser(x q, username string) (*changeAnnouncement, error) {
	ids, err := x.contactMethods(username)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		a.unreachable = username + ": no contact method"
		return a, nil
	}
	a.channels, a.notified = ids, username
	return a, nil
}

// proposalAnnouncement asks the incident's commander to decide a proposed change (nil: the commander proposed it).
func (t *txn) proposalAnnouncement(inc *firebreak.Incident, p firebreak.ChangeProposal, now time.Time) (
	*changeAnnouncement, error) {
	what := p.Action
	if p.Risk != "" {
		what += fmt.Sprintf(" (%s risk)", p.Risk)
	}
	commander := inc.Roles[firebreak.RoleCommander]
	a := &changeAnnouncement{msg: notify.Message{Kind: notify.KindChangeProposed, Actor: p.ProposedBy,
		OccurredAt: now}}
	if commander == "" {
		a.msg.Text = fmt.Sprintf("%s proposes a change on %s: %s. Reason: %s. %s has no incident commander to "+
			"approve or reject it: assign one (admins may decide too).", p.ProposedBy, inc.Reference, what, p.Reason,
			inc.Reference)
		ids, err := t.incidentChannels(inc.ID)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			a.unreachable = "nobody: no incident commander and no announcement channel"
			return a, nil
		}
		a.channels, a.notified = ids, fmt.Sprintf("%d announcement channel(s) (no incident commander)", len(ids))
		return a, nil
	}
	if commander == p.ProposedBy {
		return nil, nil
	}
	a.msg.Text = fmt.Sprintf("%s proposes a change on %s and needs your approval as incident commander: %s. "+
		"Reason: %s. Approve or reject it on the incident page.", p.ProposedBy, inc.Reference, what, p.Reason)
	return a.toUser(t.q, commander)
}

// decisionAnnouncement tells the proposer that their change was approved or rejected (nil for a withdrawal, or
// when the proposer decided it themselves).
func (t *txn) decisionAnnouncement(inc *firebreak.Incident, p *firebreak.ChangeProposal, now time.Time) (
	*changeAnnouncement, error) {
	var kind notify.Kind
	switch p.State {
	case firebreak.ProposalApproved:
		kind = notify.KindChangeApproved
	case firebreak.ProposalRejected:
		kind = notify.KindChangeRejected
	default:
		return nil, nil
	}
	if p.DecidedBy == p.ProposedBy {
		return nil, nil
	}
	text := fmt.Sprintf("%s %s your proposed change on %s: %s.", p.DecidedBy, p.State, inc.Reference, p.Action)
	if p.Note != "" {
		text += " Note: " + p.Note
		if !strings.ContainsAny(p.Note[len(p.Note)-1:], ".!?") {
			text += "."
		}
	}
	if p.State == firebreak.ProposalApproved {
		text += " Go ahead, and note on the timeline what it did."
	}
	a := &changeAnnouncement{msg: notify.Message{Kind: kind, Actor: p.DecidedBy, Text: text, OccurredAt: now}}
	return a.toUser(t.q, p.ProposedBy)
}
