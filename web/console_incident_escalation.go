package web

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firebreak/firebreak"
)

// The "Escalation" panel of the incident page (templates/incident_parts.html, "incident_escalation"): while an
// unacknowledged incident's policy is paging, which step paged last and whom, and which step pages next, whom and
// when ("Step 2 of 3 pages schedule Primary (on call: alice) at 14:05 UTC, in 3m"); once the paging ended, how and
// by whom ("Escalation stopped: acknowledged by alice at 14:03 UTC"). It sits in the side column, which the live
// script refreshes on every timeline event, so a step that fires or an acknowledgement shows without a reload;
// the countdown ticks in the browser (data-countdown-to).

// escalationPanel is what the panel shows.
type escalationPanel struct {
	State    firebreak.EscalationState
	Policies []string
	Running  []runningPanel
	Ended    []firebreak.EscalationEnd
	// Criteria are the severity escalation criteria still armed (with their due time) and those that fired.
	Criteria []criterionPanel
	Open     bool // the incident is open
}

type runningPanel struct {
	R firebreak.RunningEscalation
	// Current: "Step 1 of 3 paged bob"; Next: "Step 2 of 3 pages schedule Primary (on call: alice)" (empty when
	// the escalation is exhausted at NextAt instead).
	Current string
	Next    string
	NextAt  time.Time
	In      string // "in 3m", "due now"
}

type criterionPanel struct {
	C  firebreak.CriterionStatus
	In string
}

// Label is the state as the panel's tag shows it.
func (p *escalationPanel) Label() string {
	switch p.State {
	case firebreak.EscalationRunning:
		return "Paging"
	case firebreak.EscalationStopped:
		return "Stopped"
	case firebreak.EscalationExhausted:
		return "Exhausted"
	}
	return "No policy"
}

// countdown says how long until at: "in 3m", or "due now" once it has passed (the script keeps it current).
func countdown(at, now time.Time) string {
	if d := at.Sub(now); d > 0 {
		return "in " + fmtDuration(d)
	}
	return "due now"
}

func stepPhrase(s *firebreak.EscalationStepState, steps, rounds int) string {
	out := fmt.Sprintf("Step %d of %d", s.Step, steps)
	if rounds > 1 {
		out += fmt.Sprintf(" (round %d of %d)", s.Round, rounds)
	}
	return out
}

// escalationPanelOf builds the panel; nil when the store cannot say or nothing would be shown (no policy pages
// the incident and it is no longer open).
func (c *console) escalationPanelOf(ctx context.Context, inc *firebreak.Incident, now time.Time) (*escalationPanel,
	error) {
	es, ok := c.s.escalationStatus()
	if !ok {
		return nil, nil
	}
	e, err := es.IncidentEscalation(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	p := &escalationPanel{State: e.State, Policies: e.Policies, Ended: e.Ended, Open: inc.Status.Open()}
	for _, r := range e.Running {
		rp := runningPanel{R: r, NextAt: r.NextAt, In: countdown(r.NextAt, now)}
		if cur := r.Current; cur != nil {
			rp.Current = stepPhrase(cur, r.Steps, r.Rounds) + " paged "
			if len(cur.Paged) > 0 {
				rp.Current += strings.Join(cur.Paged, ", ")
			} else {
				rp.Current += "nobody: " + cur.TargetsText() + " could not be reached"
			}
		}
		if next := r.Next; next != nil {
			rp.Next = stepPhrase(next, r.Steps, r.Rounds) + " pages " + next.TargetsText()
		}
		p.Running = append(p.Running, rp)
	}
	for _, cr := range e.Criteria {
		cp := criterionPanel{C: cr}
		if cr.DueAt != nil {
			cp.In = countdown(*cr.DueAt, now)
		}
		p.Criteria = append(p.Criteria, cp)
	}
	if p.State == firebreak.EscalationNone && !p.Open && len(p.Criteria) == 0 {
		return nil, nil
	}
	return p, nil
}
