package sqlstore

// Where an incident's escalation stands (firebreak.IncidentEscalation), for the incident page's "next escalation
// step" panel, GET /api/v1/incidents/{id}/escalation and "firebreak incident show". It is read, never stored: the
// running escalations' rows say which step pages next and when, the policies say what that step pages, the
// rotations say who is on call then, and the timeline says whom the last step paged and how the paging ended.

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
)

var _ firebreak.EscalationStatusService = (*Store)(nil)

// runningRow is a running escalation as stored: the next (round, step) to fire and when.
type runningRow struct {
	policyID   string
	round      int
	step       int
	due        time.Time
	startedAt  time.Time
	policyName string
}

// IncidentEscalation reads where an incident's escalation stands.
func (s *Store) IncidentEscalation(ctx context.Context, ref string) (*firebreak.IncidentEscalation, error) {
	r := s.read(ctx)
	inc, err := r.loadIncident(ref, false)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	out := &firebreak.IncidentEscalation{Incident: inc.Reference, State: firebreak.EscalationNone,
		Policies: []string{}, Running: []firebreak.RunningEscalation{}, Ended: []firebreak.EscalationEnd{},
		Criteria: []firebreak.CriterionStatus{}, AcknowledgedAt: inc.Milestones.AcknowledgedAt, AsOf: now}

	ids, err := r.incidentPolicies(inc.ID, nil)
	if err != nil {
		return nil, err
	}
	runs, err := r.runningEscalations(inc.ID)
	if err != nil {
		return nil, err
	}
	need := slices.Clone(ids)
	for _, run := range runs {
		if !slices.Contains(need, run.policyID) {
			need = append(need, run.policyID) // a policy detached from the service keeps paging until stopped
		}
	}
	policies := map[string]*policyRow{}
	if len(need) > 0 {
		ps, err := r.loadPolicies(` WHERE id IN (`+placeholders(len(need))+`)`, anys(need)...)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			policies[p.ID] = p
		}
	}
	for _, id := range ids {
		if p := policies[id]; p != nil {
			out.Policies = append(out.Policies, p.Name)
		}
	}
	slices.Sort(out.Policies)

	paged, ends, err := r.escalationHistory(inc.ID)
	if err != nil {
		return nil, err
	}
	for _, run := range runs {
		p := policies[run.policyID]
		if p == nil {
			continue // deleted meanwhile
		}
		re, err := r.runningEscalation(p, run, paged)
		if err != nil {
			return nil, err
		}
		out.Running = append(out.Running, re)
	}
	out.Ended = ends
	switch {
	case len(out.Running) > 0:
		out.State = firebreak.EscalationRunning
	case len(ends) > 0:
		out.State = ends[0].State
	}
	if out.Criteria, err = r.criteriaOf(inc.ID); err != nil {
		return nil, err
	}
	return out, nil
}

func (x q) runningEscalations(incidentID string) ([]runningRow, error) {
	rows, err := x.query(`SELECT policy_id, round_no, step_no, due_at, started_at FROM escalations
		WHERE incident_id = ? ORDER BY started_at, policy_id`, incidentID)
	if err != nil {
		return nil, wrap(err, "load escalations")
	}
	defer rows.Close()
	var out []runningRow
	for rows.Next() {
		var r runningRow
		if err := rows.Scan(&r.policyID, &r.round, &r.step, tsCol(&r.due), tsCol(&r.startedAt)); err != nil {
			return nil, wrap(err, "load escalations")
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err(), "load escalations")
}

// pagedKey finds the escalation_paged event of a policy's round and step (both from 1).
type pagedKey struct {
	policyID    string
	round, step int
}

// escalationHistory reads the incident's escalation events: the paged ones by policy, round and step, and how
// each policy's paging ended (the latest ending per policy, latest first).
func (x q) escalationHistory(incidentID string) (map[pagedKey]firebreak.TimelineEvent, []firebreak.EscalationEnd,
	error) {
	// Literal kinds, as in lastStatusChange: bound ones would have SQLite prepare the statement again every time.
	rows, err := x.query(`SELECT `+eventCols+` FROM timeline_events WHERE incident_id = ? AND kind IN ('`+
		string(firebreak.EventEscalationPaged)+`', '`+string(firebreak.EventEscalationStopped)+`', '`+
		string(firebreak.EventEscalationExhausted)+`') ORDER BY id`, incidentID)
	if err != nil {
		return nil, nil, wrap(err, "load escalation events")
	}
	defer rows.Close()
	paged := map[pagedKey]firebreak.TimelineEvent{}
	var ended []firebreak.TimelineEvent
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, nil, wrap(err, "load escalation events")
		}
		if ev.Kind == firebreak.EventEscalationPaged {
			round, _ := strconv.Atoi(ev.Data["round"])
			step, _ := strconv.Atoi(ev.Data["step"])
			paged[pagedKey{ev.Data["policy_id"], round, step}] = ev
			continue
		}
		ended = append(ended, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, wrap(err, "load escalation events")
	}
	out := []firebreak.EscalationEnd{}
	seen := map[string]bool{}
	for i := len(ended) - 1; i >= 0; i-- {
		ev := ended[i]
		name := ev.Data["policy"]
		if name == "" && ev.Data["policy_id"] != "" { // written before the policy's name was recorded
			if name, err = x.policyName(ev.Data["policy_id"]); err != nil {
				return nil, nil, err
			}
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		e := firebreak.EscalationEnd{Policy: name, State: firebreak.EscalationStopped, At: ev.OccurredAt,
			By: ev.Actor, Reason: ev.Data["reason"], Message: ev.Message}
		if ev.Kind == firebreak.EventEscalationExhausted {
			e.State = firebreak.EscalationExhausted
		}
		out = append(out, e)
	}
	return paged, out, nil
}

// runningEscalation describes a running escalation: the step that paged last (round, step-1) and the one due
// next — the next step, the first step of the next round, or none (exhausted) after the last round.
func (x q) runningEscalation(p *policyRow, run runningRow, paged map[pagedKey]firebreak.TimelineEvent) (
	firebreak.RunningEscalation, error) {
	n := len(p.steps)
	re := firebreak.RunningEscalation{Policy: p.Name, PolicyID: p.ID, Steps: n, Rounds: p.Repeat + 1,
		StartedAt: run.startedAt, NextAt: run.due}
	if run.step >= 1 {
		cur := &firebreak.EscalationStepState{Step: run.step, Round: run.round + 1, Paged: []string{}}
		if ev, ok := paged[pagedKey{p.ID, run.round + 1, run.step}]; ok {
			at := ev.OccurredAt
			cur.PagedAt = &at
			cur.Paged = splitList(ev.Data["paged"], ", ")
			cur.Unreachable = splitList(ev.Data["unreachable"], "; ")
		}
		if i := run.step - 1; i < n {
			cur.Delay = firebreak.Duration(p.steps[i].delay)
			when := run.due
			if cur.PagedAt != nil {
				when = *cur.PagedAt
			}
			ts, err := x.targetStates(p.steps[i].targets, when)
			if err != nil {
				return re, err
			}
			cur.Targets = ts
		} else {
			cur.Targets = []firebreak.EscalationTargetState{} // the policy lost that step since
		}
		re.Current = cur
	}
	round, step := run.round, run.step
	if n == 0 {
		return re, nil // a policy without steps ends when its row fires
	}
	if step >= n {
		if round >= p.Repeat {
			return re, nil // exhausted at NextAt
		}
		round, step = round+1, 0
	}
	next := &firebreak.EscalationStepState{Step: step + 1, Round: round + 1,
		Delay: firebreak.Duration(p.steps[step].delay)}
	ts, err := x.targetStates(p.steps[step].targets, run.due)
	if err != nil {
		return re, err
	}
	next.Targets = ts
	res, err := x.resolvePage(p.steps[step].targets, run.due)
	if err != nil {
		return re, err
	}
	next.Paged = res.paged
	if next.Paged == nil {
		next.Paged = []string{}
	}
	next.Unreachable = res.unreachable
	re.Next = next
	return re, nil
}

// targetStates lists a step's targets with who is on call on each schedule at at.
func (x q) targetStates(targets []targetRow, at time.Time) ([]firebreak.EscalationTargetState, error) {
	out := make([]firebreak.EscalationTargetState, 0, len(targets))
	for _, t := range targets {
		ts := firebreak.EscalationTargetState{EscalationTarget: t.public()}
		if t.kind == firebreak.TargetSchedule {
			sc, err := x.loadSchedule(t.id, false)
			switch {
			case firebreak.ErrorCode(err) == firebreak.ENotFound:
			case err != nil:
				return nil, err
			default:
				if plan, err := oncall.Compile(sc); err == nil {
					ts.OnCall = plan.UsersAt(at)
				}
			}
		}
		out = append(out, ts)
	}
	return out, nil
}

// criteriaOf lists the incident's armed and fired severity escalation criteria, in the order they usually fire.
func (x q) criteriaOf(incidentID string) ([]firebreak.CriterionStatus, error) {
	rows, err := x.query(`SELECT criterion, due_at, fired_at FROM escalation_criteria WHERE incident_id = ?`,
		incidentID)
	if err != nil {
		return nil, wrap(err, "load escalation criteria")
	}
	defer rows.Close()
	got := map[firebreak.Criterion]firebreak.CriterionStatus{}
	for rows.Next() {
		var c firebreak.CriterionStatus
		if err := rows.Scan(&c.Criterion, ntsCol(&c.DueAt), ntsCol(&c.FiredAt)); err != nil {
			return nil, wrap(err, "load escalation criteria")
		}
		c.Description = firebreak.CriterionDescription(c.Criterion)
		got[c.Criterion] = c
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "load escalation criteria")
	}
	out := []firebreak.CriterionStatus{}
	for _, c := range firebreak.Criteria {
		if st, ok := got[c]; ok && (st.DueAt != nil || st.FiredAt != nil) {
			out = append(out, st)
		}
	}
	return out, nil
}

func splitList(s, sep string) []string {
	out := []string{}
	for _, part := range strings.Split(s, sep) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
