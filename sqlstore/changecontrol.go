package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"

	firebreak "github.com/firebreak/firebreak"
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
		if err := t.insertEvents(h.id, []firebreak.TimelineEvent{ev}); err != nil {
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
		if err := t.insertEvents(h.id, []firebreak.TimelineEvent{ev}); err != nil {
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
