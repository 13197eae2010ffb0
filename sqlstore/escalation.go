package sqlstore

// Escalation (migration 00014): policies, the policy of a service, the escalations running for incidents and the
// severity escalation criteria watching them.
//
// Both kinds of background work are rows with a due time, claimed by package engine like the update reminders
// (PostgreSQL: FOR UPDATE SKIP LOCKED, the due time moved to the lease's end; SQLite: the single writer). Firing
// a step locks the incident and the escalation row and compares the claimed (round, step) with the stored one, so
// each step of each round fires once however many replicas claim it; a replica that dies mid-step leaves the row
// due again when its lease ends. A criterion row fires once: fired_at is set under the same locks.
//
// Starting and stopping happen inside insertEvents (escalationOnEvents), so they are in the very transaction that
// opens, acknowledges, resolves, closes or cancels the incident, whichever way it happens (the API, the console,
// an alert, a PagerDuty acknowledge, an acknowledgement link).

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/oncall"
)

var _ firebreak.EscalationService = (*Store)(nil)

// reachWindow is how far ahead a schedule must have someone on call for a policy naming it to be accepted.
const reachWindow = 7 * 24 * time.Hour

// --- settings --------------------------------------------------------------------------------------------------

type escalationSettings struct {
	mu       sync.RWMutex
	set      bool
	criteria firebreak.EscalationCriteria
	targets  map[firebreak.Severity]time.Duration // response targets
}

// SetEscalationSettings sets the severity escalation criteria and the response target of each severity (from
// the severity policies). Until it is called the defaults apply.
func (s *Store) SetEscalationSettings(c firebreak.EscalationCriteria, severities []firebreak.SeverityPolicy) {
	e := &s.escalation
	e.mu.Lock()
	defer e.mu.Unlock()
	e.set, e.criteria, e.targets = true, c, map[firebreak.Severity]time.Duration{}
	for _, p := range severities {
		e.targets[p.Severity] = p.ResponseTarget
	}
}

func (s *Store) escalationSettings() (firebreak.EscalationCriteria, map[firebreak.Severity]time.Duration) {
	e := &s.escalation
	e.mu.RLock()
	defer e.mu.RUnlock()
	if !e.set {
		targets := map[firebreak.Severity]time.Duration{}
		for _, p := range firebreak.DefaultSeverityPolicies() {
			targets[p.Severity] = p.ResponseTarget
		}
		return firebreak.DefaultEscalationCriteria(), targets
	}
	return e.criteria, e.targets
}

// --- targets ---------------------------------------------------------------------------------------------------

// targetRow is a resolved target: the ID of what it names and its current name.
type targetRow struct {
	kind firebreak.EscalationTargetType
	id   string // user, schedule or channel ID
	name string // username, schedule name, channel name
}

func (r targetRow) public() firebreak.EscalationTarget {
	t := firebreak.EscalationTarget{Type: r.kind, Ref: r.name}
	if r.kind != firebreak.TargetUser {
		t.ID = r.id
	}
	return t
}

func (r targetRow) label() string {
	switch r.kind {
	case firebreak.TargetSchedule:
		return "schedule " + r.name
	case firebreak.TargetChannel:
		return "channel " + r.name
	}
	return r.name
}

// resolveTarget finds what a target names; an unknown one is EInvalid on field.ref ("" when found).
func (x q) resolveTarget(t firebreak.EscalationTarget) (targetRow, string, error) {
	r := targetRow{kind: t.Type}
	ref := t.Ref
	byID := t.ID != ""
	if byID {
		ref = t.ID
	}
	var rows *sql.Rows
	var err error
	switch t.Type {
	case firebreak.TargetUser:
		if byID {
			rows, err = x.query(`SELECT id, username FROM users WHERE id = ?`, ref)
		} else {
			rows, err = x.query(`SELECT id, username FROM users WHERE username = ?`, strings.ToLower(ref))
		}
	case firebreak.TargetSchedule:
		if byID {
			rows, err = x.query(`SELECT id, name FROM schedules WHERE id = ?`, ref)
		} else {
			rows, err = x.query(`SELECT id, name FROM schedules WHERE id = ? OR name = ? ORDER BY id`, ref, ref)
		}
	case firebreak.TargetChannel:
		rows, err = x.query(`SELECT id, name FROM channels WHERE id = ? OR name = ? ORDER BY id`, ref, ref)
	default:
		return r, "must be one of user, schedule, channel", nil
	}
	if err != nil {
		return r, "", wrap(err, "resolve escalation target")
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if err := rows.Scan(&r.id, &r.name); err != nil {
			return r, "", wrap(err, "resolve escalation target")
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return r, "", wrap(err, "resolve escalation target")
	}
	switch {
	case n == 0:
		return r, fmt.Sprintf("unknown %s %q", t.Type, ref), nil
	case n > 1:
		return r, fmt.Sprintf("%d schedules are named %q: give the schedule's id", n, ref), nil
	}
	return r, "", nil
}

// contactMethods lists the enabled contact methods of a user by username (none for an unknown user).
func (x q) contactMethods(username string) ([]string, error) {
	var id string
	err := x.row(`SELECT id FROM users WHERE username = ?`, username).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "load user")
	}
	return x.userChannelIDs(id)
}

// reachable reports whether a target could be paged: a user with a contact method, a schedule on which someone
// with a contact method is on call in the coming week, an enabled channel. why explains a refusal.
func (x q) reachable(r targetRow, now time.Time) (ok bool, why string, err error) {
	switch r.kind {
	case firebreak.TargetUser:
		ids, err := x.userChannelIDs(r.id)
		if err != nil || len(ids) > 0 {
			return len(ids) > 0, "", err
		}
		return false, r.name + " has no contact method", nil
	case firebreak.TargetChannel:
		var enabled bool
		if err := x.row(`SELECT enabled FROM channels WHERE id = ?`, r.id).Scan(&enabled); err != nil {
			return false, "", wrap(err, "load channel")
		}
		if !enabled {
			return false, "channel " + r.name + " is disabled", nil
		}
		return true, "", nil
	}
	sc, err := x.loadSchedule(r.id, false)
	if err != nil {
		return false, "", err
	}
	p, err := oncall.Compile(sc)
	if err != nil {
		return false, "schedule " + r.name + " cannot be computed: " + firebreak.ErrorMessage(err), nil
	}
	var users []string
	for _, sh := range p.Shifts(now, now.Add(reachWindow)) {
		for _, u := range sh.Users {
			if !slices.Contains(users, u) {
				users = append(users, u)
			}
		}
	}
	if len(users) == 0 {
		return false, "nobody is on call on schedule " + r.name + " in the next 7 days", nil
	}
	for _, u := range users {
		ids, err := x.contactMethods(u)
		if err != nil {
			return false, "", err
		}
		if len(ids) > 0 {
			return true, "", nil
		}
	}
	return false, "nobody on call on schedule " + r.name + " has a contact method", nil
}

// resolveSteps resolves every target of the steps and checks that each step can reach someone now. Unknown
// targets are reported on steps[i].targets[j].ref, steps that reach nobody on steps[i].targets.
func (x q) resolveSteps(steps []firebreak.EscalationStep, now time.Time) ([][]targetRow, error) {
	var v firebreak.Validation
	out := make([][]targetRow, len(steps))
	for i, st := range steps {
		unknown := false
		for j, t := range st.Targets {
			r, msg, err := x.resolveTarget(t)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				v.Add(fmt.Sprintf("steps[%d].targets[%d].ref", i, j), "%s", msg)
				unknown = true
				continue
			}
			if slices.ContainsFunc(out[i], func(o targetRow) bool { return o.kind == r.kind && o.id == r.id }) {
				v.Add(fmt.Sprintf("steps[%d].targets[%d]", i, j), "step %d names %s twice", i+1, r.label())
				continue
			}
			out[i] = append(out[i], r)
		}
		if unknown {
			continue
		}
		var whys []string
		reach := false
		for _, r := range out[i] {
			ok, why, err := x.reachable(r, now)
			if err != nil {
				return nil, err
			}
			if ok {
				reach = true
				break
			}
			whys = append(whys, why)
		}
		if !reach && len(out[i]) > 0 {
			v.Add(fmt.Sprintf("steps[%d].targets", i), "step %d has no reachable target: %s", i+1, strings.Join(whys, "; "))
		}
	}
	return out, v.Err()
}

// --- policies --------------------------------------------------------------------------------------------------

type stepRow struct {
	delay   time.Duration
	targets []targetRow
}

type policyRow struct {
	firebreak.EscalationPolicy
	steps []stepRow
}

const policyCols = `id, name, description, repeat_count, created_at, updated_at, version`

// loadPolicies reads the policies matching where (with their steps, targets and services), by name.
func (x q) loadPolicies(where string, args ...any) ([]*policyRow, error) {
	rows, err := x.query(`SELECT `+policyCols+` FROM escalation_policies`+where+` ORDER BY name`, args...)
	if err != nil {
		return nil, wrap(err, "load escalation policies")
	}
	var out []*policyRow
	byID := map[string]*policyRow{}
	for rows.Next() {
		p := &policyRow{}
		if err := rows.Scan(&p.ID, &p.Name, &p.Description, &p.Repeat, tsCol(&p.CreatedAt), tsCol(&p.UpdatedAt),
			&p.Version); err != nil {
			rows.Close()
			return nil, wrap(err, "load escalation policies")
		}
		p.Services = []string{}
		out = append(out, p)
		byID[p.ID] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, wrap(err, "load escalation policies")
	}
	ids := make([]string, 0, len(out))
	for _, p := range out {
		ids = append(ids, p.ID)
	}
	in := ` IN (` + placeholders(len(ids)) + `)`
	rows, err = x.query(`SELECT policy_id, delay_ms FROM escalation_steps WHERE policy_id`+in+
		` ORDER BY policy_id, position`, anys(ids)...)
	if err != nil {
		return nil, wrap(err, "load escalation steps")
	}
	for rows.Next() {
		var id string
		var ms int64
		if err := rows.Scan(&id, &ms); err != nil {
			rows.Close()
			return nil, wrap(err, "load escalation steps")
		}
		byID[id].steps = append(byID[id].steps, stepRow{delay: time.Duration(ms) * time.Millisecond})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "load escalation steps")
	}
	rows, err = x.query(`SELECT t.policy_id, t.step, t.kind, COALESCE(t.user_id, t.schedule_id, t.channel_id, ''),
		COALESCE(u.username, sc.name, c.name, '')
		FROM escalation_targets t LEFT JOIN users u ON u.id = t.user_id
		LEFT JOIN schedules sc ON sc.id = t.schedule_id LEFT JOIN channels c ON c.id = t.channel_id
		WHERE t.policy_id`+in+` ORDER BY t.policy_id, t.step, t.position`, anys(ids)...)
	if err != nil {
		return nil, wrap(err, "load escalation targets")
	}
	for rows.Next() {
		var id string
		var step int
		var r targetRow
		if err := rows.Scan(&id, &step, &r.kind, &r.id, &r.name); err != nil {
			rows.Close()
			return nil, wrap(err, "load escalation targets")
		}
		if p := byID[id]; step < len(p.steps) {
			p.steps[step].targets = append(p.steps[step].targets, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "load escalation targets")
	}
	rows, err = x.query(`SELECT escalation_policy_id, slug FROM services WHERE escalation_policy_id`+in+
		` ORDER BY slug`, anys(ids)...)
	if err != nil {
		return nil, wrap(err, "load escalation policy services")
	}
	defer rows.Close()
	for rows.Next() {
		var id, slug string
		if err := rows.Scan(&id, &slug); err != nil {
			return nil, wrap(err, "load escalation policy services")
		}
		byID[id].Services = append(byID[id].Services, slug)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "load escalation policy services")
	}
	for _, p := range out {
		p.Steps = make([]firebreak.EscalationStep, len(p.steps))
		for i, st := range p.steps {
			p.Steps[i] = firebreak.EscalationStep{Delay: firebreak.Duration(st.delay),
				Targets: make([]firebreak.EscalationTarget, len(st.targets))}
			for j, r := range st.targets {
				p.Steps[i].Targets[j] = r.public()
			}
		}
	}
	return out, nil
}

func (x q) loadPolicy(ref string, lock bool) (*policyRow, error) {
	ref = strings.TrimSpace(ref)
	if lock && x.s.d.name == dialectPostgres {
		var id string
		if err := x.row(`SELECT id FROM escalation_policies WHERE id = ? OR name = ?`+x.s.d.lockOf(""), ref,
			ref).Scan(&id); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, wrap(err, "lock escalation policy")
		}
	}
	ps, err := x.loadPolicies(` WHERE id = ? OR name = ?`, ref, ref)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, notFound("escalation policy %s not found", ref)
	}
	return ps[0], nil
}

// writeSteps replaces a policy's steps and targets.
func (t *txn) writeSteps(policyID string, steps []firebreak.EscalationStep, targets [][]targetRow) error {
	for _, q := range []string{`DELETE FROM escalation_targets WHERE policy_id = ?`,
		`DELETE FROM escalation_steps WHERE policy_id = ?`} {
		if _, err := t.exec(q, policyID); err != nil {
			return wrap(err, "write escalation steps")
		}
	}
	for i, st := range steps {
		if _, err := t.exec(`INSERT INTO escalation_steps (policy_id, position, delay_ms) VALUES (?, ?, ?)`,
			policyID, i, time.Duration(st.Delay).Milliseconds()); err != nil {
			return wrap(err, "write escalation steps")
		}
		for j, r := range targets[i] {
			var user, schedule, channel any
			switch r.kind {
			case firebreak.TargetUser:
				user = r.id
			case firebreak.TargetSchedule:
				schedule = r.id
			default:
				channel = r.id
			}
			if _, err := t.exec(`INSERT INTO escalation_targets (policy_id, step, position, kind, user_id,
				schedule_id, channel_id) VALUES (?, ?, ?, ?, ?, ?, ?)`, policyID, i, j, string(r.kind), user, schedule,
				channel); err != nil {
				return wrap(err, "write escalation targets")
			}
		}
	}
	return nil
}

func policyNameTaken(name string) error {
	return firebreak.Errorf(firebreak.EConflict, "an escalation policy named %q already exists", name)
}

func cloneEscalationInput(in firebreak.EscalationPolicyInput) firebreak.EscalationPolicyInput {
	steps := make([]firebreak.EscalationStep, len(in.Steps))
	for i, s := range in.Steps {
		steps[i] = firebreak.EscalationStep{Delay: s.Delay, Targets: slices.Clone(s.Targets)}
	}
	in.Steps = steps
	return in
}

// CreateEscalationPolicy adds a policy. Every target must exist and every step must reach someone.
func (s *Store) CreateEscalationPolicy(ctx context.Context, in firebreak.EscalationPolicyInput) (
	*firebreak.EscalationPolicy, error) {
	in = cloneEscalationInput(in)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *firebreak.EscalationPolicy
	err := s.write(ctx, func(t *txn) error {
		now := s.clock()
		targets, err := t.resolveSteps(in.Steps, now)
		if err != nil {
			return err
		}
		id := newID()
		if _, err := t.exec(`INSERT INTO escalation_policies (id, name, description, repeat_count, created_at,
			updated_at, version) VALUES (?, ?, ?, ?, ?, ?, 1)`, id, in.Name, in.Description, in.Repeat, s.d.ts(now),
			s.d.ts(now)); err != nil {
			if isUniqueViolation(err) {
				return policyNameTaken(in.Name)
			}
			return wrap(err, "insert escalation policy")
		}
		if err := t.writeSteps(id, in.Steps, targets); err != nil {
			return err
		}
		p, err := t.loadPolicy(id, false)
		if err != nil {
			return err
		}
		out = &p.EscalationPolicy
		return nil
	})
	if err != nil {
		return nil, wrap(err, "create escalation policy")
	}
	return out, nil
}

// ListEscalationPolicies lists every policy by name.
func (s *Store) ListEscalationPolicies(ctx context.Context) ([]firebreak.EscalationPolicy, error) {
	ps, err := s.read(ctx).loadPolicies("")
	if err != nil {
		return nil, err
	}
	out := make([]firebreak.EscalationPolicy, len(ps))
	for i, p := range ps {
		out[i] = p.EscalationPolicy
	}
	return out, nil
}

// GetEscalationPolicy reads a policy by ID or name.
func (s *Store) GetEscalationPolicy(ctx context.Context, ref string) (*firebreak.EscalationPolicy, error) {
	p, err := s.read(ctx).loadPolicy(ref, false)
	if err != nil {
		return nil, err
	}
	return &p.EscalationPolicy, nil
}

// UpdateEscalationPolicy changes a policy. Escalations running with it use the new steps from their next step on.
func (s *Store) UpdateEscalationPolicy(ctx context.Context, ref string, p firebreak.EscalationPolicyPatch,
	ifVersion int64) (*firebreak.EscalationPolicy, error) {
	var out *firebreak.EscalationPolicy
	err := s.write(ctx, func(t *txn) error {
		cur, err := t.loadPolicy(ref, true)
		if err != nil {
			return err
		}
		if err := checkVersion("escalation policy "+cur.Name, cur.Version, ifVersion); err != nil {
			return err
		}
		in := p.Apply(&cur.EscalationPolicy)
		if err := in.Validate(); err != nil {
			return err
		}
		now := s.clock()
		targets, err := t.resolveSteps(in.Steps, now)
		if err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE escalation_policies SET name = ?, description = ?, repeat_count = ?, updated_at = ?,
			version = version + 1 WHERE id = ?`, in.Name, in.Description, in.Repeat, s.d.ts(now), cur.ID); err != nil {
			if isUniqueViolation(err) {
				return policyNameTaken(in.Name)
			}
			return wrap(err, "update escalation policy")
		}
		if err := t.writeSteps(cur.ID, in.Steps, targets); err != nil {
			return err
		}
		np, err := t.loadPolicy(cur.ID, false)
		if err != nil {
			return err
		}
		out = &np.EscalationPolicy
		return nil
	})
	if err != nil {
		return nil, wrap(err, "update escalation policy")
	}
	return out, nil
}

// DeleteEscalationPolicy deletes a policy no service uses; escalations still running with it stop, with a timeline
// event.
func (s *Store) DeleteEscalationPolicy(ctx context.Context, ref string) error {
	return s.write(ctx, func(t *txn) error {
		p, err := t.loadPolicy(ref, true)
		if err != nil {
			return err
		}
		if len(p.Services) > 0 {
			return firebreak.Errorf(firebreak.EConflict, "escalation policy %s is used by %s; detach it first "+
				"(PATCH /api/v1/services/{slug} {\"escalation_policy\": \"\"})", p.Name, strings.Join(p.Services, ", "))
		}
		runs, err := t.runsOf(`policy_id = ?`, p.ID)
		if err != nil {
			return err
		}
		now := s.clock()
		actor := firebreak.ActorFrom(ctx).Username
		for _, r := range runs {
			if err := t.lockIncident(r.incidentID); err != nil {
				return err
			}
			if err := t.endRun(r, p.Name, firebreak.EventEscalationStopped, fmt.Sprintf(
				"Escalation (policy %s) stopped: the policy was deleted", p.Name), actor, "policy deleted", now); err != nil {
				return err
			}
		}
		_, err = t.exec(`DELETE FROM escalation_policies WHERE id = ?`, p.ID)
		return wrap(err, "delete escalation policy")
	})
}

// setServiceEscalationPolicy attaches the policy named ref (name or ID; "" detaches) to a service, reporting
// whether that changed anything.
func (t *txn) setServiceEscalationPolicy(sv *firebreak.Service, ref string) (bool, error) {
	ref = strings.TrimSpace(ref)
	var id any
	name := ""
	if ref != "" {
		var pid string
		err := t.row(`SELECT id, name FROM escalation_policies WHERE id = ? OR name = ?`, ref, ref).Scan(&pid, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return false, invalid("escalation_policy", "unknown escalation policy %q", ref)
		}
		if err != nil {
			return false, wrap(err, "load escalation policy")
		}
		id = pid
	}
	if name == sv.EscalationPolicy {
		return false, nil
	}
	if _, err := t.exec(`UPDATE services SET escalation_policy_id = ? WHERE id = ?`, id, sv.ID); err != nil {
		return false, wrap(err, "set escalation policy")
	}
	sv.EscalationPolicy = name
	return true, nil
}

// --- running escalations ---------------------------------------------------------------------------------------

type runRow struct {
	incidentID, policyID string
	round, step          int
}

func (x q) runsOf(where string, args ...any) ([]runRow, error) {
	rows, err := x.query(`SELECT incident_id, policy_id, round_no, step_no FROM escalations WHERE `+where+
		` ORDER BY started_at, policy_id`, args...)
	if err != nil {
		return nil, wrap(err, "load escalations")
	}
	defer rows.Close()
	var out []runRow
	for rows.Next() {
		var r runRow
		if err := rows.Scan(&r.incidentID, &r.policyID, &r.round, &r.step); err != nil {
			return nil, wrap(err, "load escalations")
		}
		out = append(out, r)
	}
	return out, wrap(rows.Err(), "load escalations")
}

// endRun deletes a running escalation and records why on its incident's timeline (the incident is locked).
func (t *txn) endRun(r runRow, policy string, kind firebreak.EventKind, text, actor, reason string,
	now time.Time) error {
	if _, err := t.exec(`DELETE FROM escalations WHERE incident_id = ? AND policy_id = ?`, r.incidentID,
		r.policyID); err != nil {
		return wrap(err, "end escalation")
	}
	return t.insertEvents(r.incidentID, []firebreak.TimelineEvent{{Kind: kind, Actor: actor, OccurredAt: now,
		RecordedAt: now, Message: text, Data: map[string]string{"policy": policy, "policy_id": r.policyID,
			"reason": reason, "round": strconv.Itoa(r.round + 1), "step": strconv.Itoa(r.step)}}})
}

// escalationOnEvents runs inside insertEvents, in the transaction of the change: an incident that opens (or gets
// services) starts the policies of its services, paging their first step at once; acknowledging, resolving,
// closing or cancelling it stops them; and the severity escalation criteria are re-armed for its new state.
// Events that change none of this cost nothing.
func (t *txn) escalationOnEvents(incidentID string, events []firebreak.TimelineEvent) error {
	start, declared, relevant := false, false, false
	actor := ""
	var added []string // services added to the incident: their policies start
	for _, ev := range events {
		switch ev.Kind {
		case firebreak.EventDeclared:
			start, declared = true, true
		case firebreak.EventServicesChanged:
			from := strings.Split(ev.Data["from"], ",")
			for _, s := range strings.Split(ev.Data["to"], ",") {
				if s != "" && !slices.Contains(from, s) {
					added, start = append(added, s), true
				}
			}
		case firebreak.EventStatusChanged, firebreak.EventSeverityChanged, firebreak.EventMilestoneChanged,
			firebreak.EventRoleAssigned:
		default:
			continue
		}
		relevant = true
		if actor == "" {
			actor = ev.Actor
		}
	}
	if !relevant {
		return nil
	}
	inc, err := t.loadIncident(incidentID, false)
	if err != nil {
		return err
	}
	now := t.s.clock()
	if !inc.Status.Open() || inc.Milestones.AcknowledgedAt != nil {
		runs, err := t.runsOf(`incident_id = ?`, inc.ID)
		if err != nil {
			return err
		}
		reason := stopReason(inc, events)
		for _, r := range runs {
			name, err := t.policyName(r.policyID)
			if err != nil {
				return err
			}
			text := fmt.Sprintf("Escalation (policy %s) stopped after step %d of round %d: %s", name, r.step,
				r.round+1, reason)
			if err := t.endRun(r, name, firebreak.EventEscalationStopped, text, actor, reason, now); err != nil {
				return err
			}
		}
		if declared && inc.Status.Open() {
			if err := t.notStarted(inc, now); err != nil {
				return err
			}
		}
	} else if start {
		if declared {
			added = nil // every service's policy
		}
		if err := t.startEscalations(inc, added, now); err != nil {
			return err
		}
	}
	return t.armCriteria(inc, now)
}

func stopReason(inc *firebreak.Incident, events []firebreak.TimelineEvent) string {
	if !inc.Status.Open() {
		return "the incident is " + string(inc.Status)
	}
	for _, ev := range events {
		if by := ev.Data["acknowledged_by"]; by != "" {
			return "acknowledged by " + by
		}
	}
	for _, ev := range events {
		switch {
		case ev.Kind == firebreak.EventRoleAssigned && ev.Data["role"] == string(firebreak.RoleCommander):
			return "acknowledged: " + ev.Data["user"] + " is the incident commander"
		case ev.Kind == firebreak.EventStatusChanged && ev.Actor != "":
			return "acknowledged by " + ev.Actor + " (status " + ev.Data["to"] + ")"
		case ev.Kind == firebreak.EventMilestoneChanged && ev.Data["milestone"] == "acknowledged_at" && ev.Actor != "":
			return "acknowledged by " + ev.Actor
		}
	}
	return "acknowledged"
}

func (x q) policyName(id string) (string, error) {
	var name string
	err := x.row(`SELECT name FROM escalation_policies WHERE id = ?`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return id, nil
	}
	return name, wrap(err, "load escalation policy")
}

// incidentPolicies lists the IDs of the escalation policies of an incident's services (only of the services
// given, when any are).
func (x q) incidentPolicies(incidentID string, only []string) ([]string, error) {
	query := `SELECT DISTINCT s.escalation_policy_id FROM incident_services isv
		JOIN services s ON s.slug = isv.service_slug
		WHERE isv.incident_id = ? AND s.escalation_policy_id IS NOT NULL`
	args := []any{incidentID}
	if len(only) > 0 {
		query += ` AND s.slug IN (` + placeholders(len(only)) + `)`
		args = append(args, anys(only)...)
	}
	return x.column("load incident escalation policies", query+` ORDER BY s.escalation_policy_id`, args...)
}

// notStarted records that an incident opened already acknowledged (declared as investigating, or with a
// commander) does not page its services' policies.
func (t *txn) notStarted(inc *firebreak.Incident, now time.Time) error {
	ids, err := t.incidentPolicies(inc.ID, nil)
	if err != nil || len(ids) == 0 {
		return err
	}
	var names []string
	for _, id := range ids {
		n, err := t.policyName(id)
		if err != nil {
			return err
		}
		names = append(names, n)
	}
	return t.insertEvents(inc.ID, []firebreak.TimelineEvent{{Kind: firebreak.EventEscalationStopped,
		OccurredAt: now, RecordedAt: now, Message: fmt.Sprintf("Escalation (policy %s) not started: %s was "+
			"acknowledged when it was declared", strings.Join(names, ", "), inc.Ref()),
		Data: map[string]string{"policy": strings.Join(names, ","), "reason": "acknowledged at declaration"}}})
}

// startEscalations starts the policies of an open, unacknowledged incident's services (of the services given,
// when any are) that are not running yet, firing their first step now.
func (t *txn) startEscalations(inc *firebreak.Incident, services []string, now time.Time) error {
	ids, err := t.incidentPolicies(inc.ID, services)
	if err != nil || len(ids) == 0 {
		return err
	}
	for _, id := range ids {
		res, err := t.exec(`INSERT INTO escalations (incident_id, policy_id, round_no, step_no, due_at, started_at)
			VALUES (?, ?, 0, 0, ?, ?) ON CONFLICT (incident_id, policy_id) DO NOTHING`, inc.ID, id, t.s.d.ts(now),
			t.s.d.ts(now))
		if err != nil {
			return wrap(err, "start escalation")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		if err := t.fireStep(inc, runRow{incidentID: inc.ID, policyID: id}, now); err != nil {
			return err
		}
	}
	return nil
}

// pageDest is one channel a page goes to, and why.
type pageDest struct {
	channelID string
	via       string // "" (the user's own contact method or the channel itself) or "on call on schedule X"
}

// pageResolution is the outcome of resolving targets at fire time.
type pageResolution struct {
	dests       []pageDest
	paged       []string // who or what was paged, for the timeline
	unreachable []string
}

func (p *pageResolution) add(ch, via string) {
	if !slices.ContainsFunc(p.dests, func(d pageDest) bool { return d.channelID == ch }) {
		p.dests = append(p.dests, pageDest{channelID: ch, via: via})
	}
}

// pageUser adds a user's contact methods.
func (x q) pageUser(p *pageResolution, username, via string) error {
	ids, err := x.contactMethods(username)
	if err != nil {
		return err
	}
	label := username
	if via != "" {
		label += " (" + via + ")"
	}
	if len(ids) == 0 {
		p.unreachable = append(p.unreachable, label+": no contact method")
		return nil
	}
	for _, id := range ids {
		p.add(id, via)
	}
	if !slices.Contains(p.paged, label) {
		p.paged = append(p.paged, label)
	}
	return nil
}

// resolvePage turns targets into channels as of now: a schedule's people on call now, a user's contact methods, an
// enabled channel.
func (x q) resolvePage(targets []targetRow, now time.Time) (*pageResolution, error) {
	p := &pageResolution{}
	for _, r := range targets {
		switch r.kind {
		case firebreak.TargetUser:
			if err := x.pageUser(p, r.name, ""); err != nil {
				return nil, err
			}
		case firebreak.TargetChannel:
			var enabled bool
			err := x.row(`SELECT enabled FROM channels WHERE id = ?`, r.id).Scan(&enabled)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				p.unreachable = append(p.unreachable, "channel "+r.name+": deleted")
			case err != nil:
				return nil, wrap(err, "load channel")
			case !enabled:
				p.unreachable = append(p.unreachable, "channel "+r.name+": disabled")
			default:
				p.add(r.id, "")
				p.paged = append(p.paged, "channel "+r.name)
			}
		case firebreak.TargetSchedule:
			sc, err := x.loadSchedule(r.id, false)
			if firebreak.ErrorCode(err) == firebreak.ENotFound {
				p.unreachable = append(p.unreachable, "schedule "+r.name+": deleted")
				continue
			}
			if err != nil {
				return nil, err
			}
			plan, err := oncall.Compile(sc)
			if err != nil {
				p.unreachable = append(p.unreachable, "schedule "+sc.Name+": "+firebreak.ErrorMessage(err))
				continue
			}
			users := plan.UsersAt(now)
			if len(users) == 0 {
				p.unreachable = append(p.unreachable, "schedule "+sc.Name+": nobody on call")
				continue
			}
			for _, u := range users {
				if err := x.pageUser(p, u, "on call on "+sc.Name); err != nil {
					return nil, err
				}
			}
		}
	}
	return p, nil
}

// resolveConfigTargets resolves targets of the configuration (by ref, as written); unknown ones are unreachable.
func (t *txn) resolveConfigTargets(ts []firebreak.EscalationTarget) ([]targetRow, []string, error) {
	var rows []targetRow
	var unknown []string
	for _, ct := range ts {
		r, msg, err := t.resolveTarget(ct)
		if err != nil {
			return nil, nil, err
		}
		if msg != "" {
			unknown = append(unknown, ct.String()+": "+msg)
			continue
		}
		rows = append(rows, r)
	}
	return rows, unknown, nil
}

// queuePages queues a page to every destination; ack adds that acknowledging stops the paging.
func (t *txn) queuePages(inc *firebreak.Incident, p *pageResolution, text string, ack bool, now time.Time) error {
	publicURL, _ := t.s.outboxSettings().get()
	ni := notifyIncident(inc, publicURL)
	for _, d := range p.dests {
		msg := text
		if d.via != "" {
			msg += " You are paged as " + d.via + "."
		}
		if ack {
			msg += " Acknowledge the incident to stop the paging."
		}
		if _, err := t.insertNotification(d.channelID, inc.ID, notify.Message{Kind: notify.KindPage, Incident: ni,
			Text: msg, OccurredAt: now}, now); err != nil {
			return err
		}
	}
	return nil
}

// fireStep pages the step run.step of run.round (run.step == the number of steps: the last step's delay has
// passed, so the next round starts or the escalation is exhausted), records it on the timeline and schedules what
// comes next. The caller holds the incident's lock and has checked that the incident still needs paging.
func (t *txn) fireStep(inc *firebreak.Incident, run runRow, now time.Time) error {
	ps, err := t.loadPolicies(` WHERE id = ?`, run.policyID)
	if err != nil {
		return err
	}
	if len(ps) == 0 || len(ps[0].steps) == 0 {
		_, err := t.exec(`DELETE FROM escalations WHERE incident_id = ? AND policy_id = ?`, run.incidentID, run.policyID)
		return wrap(err, "end escalation")
	}
	p := ps[0]
	if run.step >= len(p.steps) {
		if run.round >= p.Repeat {
			text := fmt.Sprintf("Escalation exhausted (policy %s): %s was not acknowledged after %d round(s) of %d "+
				"step(s)", p.Name, inc.Ref(), run.round+1, len(p.steps))
			return t.endRun(run, p.Name, firebreak.EventEscalationExhausted, text, "", "exhausted", now)
		}
		run.round, run.step = run.round+1, 0
	}
	st := p.steps[run.step]
	res, err := t.resolvePage(st.targets, now)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("step %d of %d, round %d of %d (policy %s)", run.step+1, len(p.steps), run.round+1,
		p.Repeat+1, p.Name)
	text := fmt.Sprintf("Paged by escalation policy %s: step %d of %d, round %d of %d.", p.Name, run.step+1,
		len(p.steps), run.round+1, p.Repeat+1)
	if err := t.queuePages(inc, res, text, true, now); err != nil {
		return err
	}
	var msg string
	if len(res.paged) > 0 {
		msg = "Paged " + strings.Join(res.paged, ", ") + " — " + where
	} else {
		msg = "Nobody could be paged at " + where
	}
	if len(res.unreachable) > 0 {
		msg += "; unreachable: " + strings.Join(res.unreachable, "; ")
	}
	if err := t.insertEvents(inc.ID, []firebreak.TimelineEvent{{Kind: firebreak.EventEscalationPaged,
		OccurredAt: now, RecordedAt: now, Message: msg, Data: map[string]string{"policy": p.Name,
			"policy_id": p.ID, "round": strconv.Itoa(run.round + 1), "step": strconv.Itoa(run.step + 1),
			"paged": strings.Join(res.paged, ", "), "unreachable": strings.Join(res.unreachable, "; "),
			"notifications": strconv.Itoa(len(res.dests))}}}); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE escalations SET round_no = ?, step_no = ?, due_at = ? WHERE incident_id = ? AND
		policy_id = ?`, run.round, run.step+1, t.s.d.ts(now.Add(st.delay)), run.incidentID, run.policyID); err != nil {
		return wrap(err, "schedule escalation step")
	}
	t.wakeJobs()
	return nil
}

// --- severity escalation criteria ------------------------------------------------------------------------------

// criterionDue is when a criterion should fire for the incident as it is now (ok false: it should not).
func criterionDue(c firebreak.Criterion, inc *firebreak.Incident, cfg firebreak.EscalationCriteria,
	targets map[firebreak.Severity]time.Duration, lastStatus func() (time.Time, error)) (time.Time, bool, error) {
	if !inc.Status.Open() || inc.Milestones.DeclaredAt == nil {
		return time.Time{}, false, nil
	}
	declared := *inc.Milestones.DeclaredAt
	switch c {
	case firebreak.CriterionUnacknowledged, firebreak.CriterionUnacknowledgedLeadership:
		rt := targets[inc.Severity]
		if !cfg.Unacknowledged.Watches(inc.Severity) || rt <= 0 || inc.Milestones.AcknowledgedAt != nil {
			return time.Time{}, false, nil
		}
		if c == firebreak.CriterionUnacknowledged {
			return declared.Add(rt), true, nil
		}
		after := cfg.Unacknowledged.After
		if after <= 0 {
			after = rt
		}
		return declared.Add(rt + after), true, nil
	case firebreak.CriterionStaleStatus, firebreak.CriterionMitigationStalled:
		rule := cfg.StaleStatus
		if c == firebreak.CriterionMitigationStalled {
			rule = cfg.MitigationStalled
			if inc.Status != firebreak.StatusMitigating {
				return time.Time{}, false, nil
			}
		}
		if !rule.Watches(inc.Severity) || rule.After <= 0 {
			return time.Time{}, false, nil
		}
		since, err := lastStatus()
		if err != nil {
			return time.Time{}, false, err
		}
		return since.Add(rule.After), true, nil
	case firebreak.CriterionLongRunning:
		if !cfg.LongRunning.Watches(inc.Severity) || cfg.LongRunning.After <= 0 {
			return time.Time{}, false, nil
		}
		return declared.Add(cfg.LongRunning.After), true, nil
	}
	return time.Time{}, false, nil
}

// lastStatusChange is when the incident's status last changed (its declaration when it never did).
func (x q) lastStatusChange(inc *firebreak.Incident) func() (time.Time, error) {
	var got *time.Time
	return func() (time.Time, error) {
		if got != nil {
			return *got, nil
		}
		var at *time.Time
		// The kind is a literal, not a parameter: SQLite checks whether a WHERE clause makes a partial index
		// (timeline_events_alert, kind = 'alert_attached') usable from the bound value, and then prepares the
		// statement again after every new binding (a tenth of the writer's time per new incident).
		if err := x.row(`SELECT MAX(occurred_at) FROM timeline_events WHERE incident_id = ? AND kind = '`+
			string(firebreak.EventStatusChanged)+`'`, inc.ID).Scan(ntsCol(&at)); err != nil {
			return time.Time{}, wrap(err, "last status change")
		}
		if at == nil || (inc.Milestones.DeclaredAt != nil && at.Before(*inc.Milestones.DeclaredAt)) {
			at = inc.Milestones.DeclaredAt
		}
		got = at
		return *got, nil
	}
}

type criterionRow struct {
	due, fired *time.Time
}

// armCriteria sets the due time of each criterion that has not fired for the incident to what its state implies,
// and removes the ones that no longer apply.
func (t *txn) armCriteria(inc *firebreak.Incident, now time.Time) error {
	rows, err := t.query(`SELECT criterion, due_at, fired_at FROM escalation_criteria WHERE incident_id = ?`, inc.ID)
	if err != nil {
		return wrap(err, "load escalation criteria")
	}
	have := map[firebreak.Criterion]criterionRow{}
	for rows.Next() {
		var c firebreak.Criterion
		var r criterionRow
		if err := rows.Scan(&c, ntsCol(&r.due), ntsCol(&r.fired)); err != nil {
			rows.Close()
			return wrap(err, "load escalation criteria")
		}
		have[c] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap(err, "load escalation criteria")
	}
	cfg, targets := t.s.escalationSettings()
	last := t.lastStatusChange(inc)
	for _, c := range firebreak.Criteria {
		cur, exists := have[c]
		if cur.fired != nil {
			continue
		}
		due, ok, err := criterionDue(c, inc, cfg, targets, last)
		if err != nil {
			return err
		}
		switch {
		case ok && exists && cur.due != nil && cur.due.Equal(due):
		case ok:
			if _, err := t.exec(`INSERT INTO escalation_criteria (incident_id, criterion, due_at) VALUES (?, ?, ?)
				ON CONFLICT (incident_id, criterion) DO UPDATE SET due_at = excluded.due_at`, inc.ID, string(c),
				t.s.d.ts(due)); err != nil {
				return wrap(err, "arm escalation criterion")
			}
			t.wakeJobs()
		case exists:
			if _, err := t.exec(`DELETE FROM escalation_criteria WHERE incident_id = ? AND criterion = ?`, inc.ID,
				string(c)); err != nil {
				return wrap(err, "disarm escalation criterion")
			}
		}
	}
	return nil
}

// incidentChannels lists the enabled announcement channels of an incident's services.
func (x q) incidentChannels(incidentID string) ([]string, error) {
	rows, err := x.query(`SELECT DISTINCT sc.channel_id FROM incident_services isv
		JOIN services s ON s.slug = isv.service_slug
		JOIN service_channels sc ON sc.service_id = s.id
		JOIN channels c ON c.id = sc.channel_id
		WHERE isv.incident_id = ? AND c.enabled = ? ORDER BY sc.channel_id`, incidentID, true)
	if err != nil {
		return nil, wrap(err, "load announcement channels")
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, wrap(err, "load announcement channels")
		}
		ids = append(ids, id)
	}
	return ids, wrap(rows.Err(), "load announcement channels")
}

// criterionText says what a criterion found.
func criterionText(c firebreak.Criterion, inc *firebreak.Incident, cfg firebreak.EscalationCriteria,
	targets map[firebreak.Severity]time.Duration, now time.Time) string {
	short := firebreak.ShortDuration
	switch c {
	case firebreak.CriterionUnacknowledged:
		return fmt.Sprintf("%s (%s) has not been acknowledged within its %s response target.", inc.Ref(),
			inc.Severity, short(targets[inc.Severity]))
	case firebreak.CriterionUnacknowledgedLeadership:
		return fmt.Sprintf("%s (%s) is still not acknowledged %s after it was declared.", inc.Ref(), inc.Severity,
			short(now.Sub(*inc.Milestones.DeclaredAt).Round(time.Minute)))
	case firebreak.CriterionStaleStatus:
		return fmt.Sprintf("%s has had no status change for %s (still %s): is the cause understood?", inc.Ref(),
			short(cfg.StaleStatus.After), inc.Status)
	case firebreak.CriterionMitigationStalled:
		return fmt.Sprintf("%s has been mitigating for %s without being resolved: is the mitigation effective?",
			inc.Ref(), short(cfg.MitigationStalled.After))
	}
	return fmt.Sprintf("%s has been open for over %s.", inc.Ref(), short(cfg.LongRunning.After))
}

// fireCriterion notifies whom the criterion names — the commander (targets of the configuration and the
// incident's commander) for an unacknowledged incident, leadership when it stays unacknowledged, the incident's
// commander or else leadership for the others — falling back to the incident's announcement channels when nobody
// can be reached, and records it on the timeline.
func (t *txn) fireCriterion(inc *firebreak.Incident, c firebreak.Criterion, now time.Time) error {
	cfg, targets := t.s.escalationSettings()
	text := criterionText(c, inc, cfg, targets, now)
	commander := inc.Roles[firebreak.RoleCommander]
	type audience struct {
		who     string
		targets []firebreak.EscalationTarget
	}
	var tries []audience
	switch c {
	case firebreak.CriterionUnacknowledged:
		ts := slices.Clone(cfg.Commander)
		if commander != "" {
			ts = append(ts, firebreak.EscalationTarget{Type: firebreak.TargetUser, Ref: commander})
		}
		tries = []audience{{"the incident commander", ts}, {"leadership", cfg.Leadership}}
	case firebreak.CriterionUnacknowledgedLeadership:
		tries = []audience{{"leadership", cfg.Leadership}}
	default:
		if commander != "" {
			tries = append(tries, audience{"the incident commander",
				[]firebreak.EscalationTarget{{Type: firebreak.TargetUser, Ref: commander}}})
		}
		tries = append(tries, audience{"leadership", cfg.Leadership})
	}
	var res *pageResolution
	var unreachable []string
	who := ""
	for _, a := range tries {
		rows, unknown, err := t.resolveConfigTargets(a.targets)
		if err != nil {
			return err
		}
		r, err := t.resolvePage(rows, now)
		if err != nil {
			return err
		}
		unreachable = append(append(unreachable, unknown...), r.unreachable...)
		if len(r.dests) > 0 {
			res, who = r, a.who
			break
		}
	}
	msg := "Escalation criterion: " + text
	if res != nil {
		msg += " Notified " + who + ": " + strings.Join(res.paged, ", ") + "."
	} else {
		ids, err := t.incidentChannels(inc.ID)
		if err != nil {
			return err
		}
		res = &pageResolution{}
		for _, id := range ids {
			res.add(id, "")
		}
		if len(ids) > 0 {
			who = "the announcement channels"
			msg += fmt.Sprintf(" Nobody configured could be reached; notified the incident's %d announcement "+
				"channel(s).", len(ids))
		} else {
			msg += " Nobody could be notified (configure escalation.commander and escalation.leadership)."
		}
	}
	if len(unreachable) > 0 {
		msg += " Unreachable: " + strings.Join(unreachable, "; ") + "."
	}
	unacked := c == firebreak.CriterionUnacknowledged || c == firebreak.CriterionUnacknowledgedLeadership
	if err := t.queuePages(inc, res, text, unacked, now); err != nil {
		return err
	}
	return t.insertEvents(inc.ID, []firebreak.TimelineEvent{{Kind: firebreak.EventEscalationCriterion,
		OccurredAt: now, RecordedAt: now, Message: msg, Data: map[string]string{"criterion": string(c),
			"notified": who, "paged": strings.Join(res.paged, ", "), "unreachable": strings.Join(unreachable, "; "),
			"notifications": strconv.Itoa(len(res.dests))}}})
}

// --- the engine's side -----------------------------------------------------------------------------------------

// EscalationClaim is a due escalation step (PolicyID set) or criterion (Criterion set) leased to one engine.
type EscalationClaim struct {
	IncidentID string
	PolicyID   string
	Round      int // 0-based
	Step       int // 0-based; the number of steps: the last step's delay has passed
	Criterion  firebreak.Criterion
	LeaseUntil time.Time
}

// ClaimEscalations leases up to limit due escalation steps and criteria until now+lease (their due time becomes
// the lease's end). On PostgreSQL, FOR UPDATE SKIP LOCKED keeps concurrent claims from overlapping.
func (s *Store) ClaimEscalations(ctx context.Context, now time.Time, lease time.Duration, limit int) (
	[]EscalationClaim, error) {
	now = now.UTC().Truncate(time.Microsecond)
	until := now.Add(lease)
	var out []EscalationClaim
	err := s.write(ctx, func(t *txn) error {
		out = out[:0]
		lock := ""
		if s.d.name == dialectPostgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rows, err := t.query(`SELECT incident_id, policy_id, round_no, step_no FROM escalations WHERE due_at <= ?
			ORDER BY due_at LIMIT ?`+lock, s.d.ts(now), limit)
		if err != nil {
			return wrap(err, "claim escalations")
		}
		for rows.Next() {
			c := EscalationClaim{LeaseUntil: until}
			if err := rows.Scan(&c.IncidentID, &c.PolicyID, &c.Round, &c.Step); err != nil {
				rows.Close()
				return wrap(err, "claim escalations")
			}
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "claim escalations")
		}
		steps := len(out)
		if left := limit - steps; left > 0 {
			rows, err := t.query(`SELECT incident_id, criterion FROM escalation_criteria WHERE due_at IS NOT NULL
				AND due_at <= ? ORDER BY due_at LIMIT ?`+lock, s.d.ts(now), left)
			if err != nil {
				return wrap(err, "claim escalation criteria")
			}
			for rows.Next() {
				c := EscalationClaim{LeaseUntil: until}
				if err := rows.Scan(&c.IncidentID, &c.Criterion); err != nil {
					rows.Close()
					return wrap(err, "claim escalation criteria")
				}
				out = append(out, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return wrap(err, "claim escalation criteria")
			}
		}
		for i, c := range out {
			var err error
			if i < steps {
				_, err = t.exec(`UPDATE escalations SET due_at = ? WHERE incident_id = ? AND policy_id = ?`,
					s.d.ts(until), c.IncidentID, c.PolicyID)
			} else {
				_, err = t.exec(`UPDATE escalation_criteria SET due_at = ? WHERE incident_id = ? AND criterion = ?`,
					s.d.ts(until), c.IncidentID, string(c.Criterion))
			}
			if err != nil {
				return wrap(err, "claim escalations")
			}
		}
		return nil
	})
	return out, err
}

// NextEscalationDue is when the earliest escalation step or criterion is due (zero: none).
func (s *Store) NextEscalationDue(ctx context.Context) (time.Time, error) {
	var a, b *time.Time
	r := s.read(ctx)
	if err := r.row(`SELECT MIN(due_at) FROM escalations`).Scan(ntsCol(&a)); err != nil {
		return time.Time{}, wrap(err, "next escalation due")
	}
	if err := r.row(`SELECT MIN(due_at) FROM escalation_criteria WHERE due_at IS NOT NULL`).Scan(ntsCol(&b)); err != nil {
		return time.Time{}, wrap(err, "next escalation criterion due")
	}
	switch {
	case a == nil && b == nil:
		return time.Time{}, nil
	case a == nil:
		return *b, nil
	case b == nil || a.Before(*b):
		return *a, nil
	}
	return *b, nil
}

// FireEscalation fires a claimed step or criterion at now, once: a step whose (round, step) no longer matches
// the stored one was fired (or stopped) already, and a criterion fires only while it has not. It does nothing
// for an incident that no longer needs it (the stop removed the row).
func (s *Store) FireEscalation(ctx context.Context, c EscalationClaim, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	return s.write(ctx, func(t *txn) error {
		if err := t.lockIncident(c.IncidentID); err != nil {
			return err
		}
		if c.PolicyID == "" {
			return t.fireClaimedCriterion(c, now)
		}
		var round, step int
		err := t.row(`SELECT round_no, step_no FROM escalations WHERE incident_id = ? AND policy_id = ?`+
			s.d.lockOf(""), c.IncidentID, c.PolicyID).Scan(&round, &step)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return wrap(err, "load escalation")
		}
		if round != c.Round || step != c.Step {
			return nil // another engine fired it after this claim's lease ran out
		}
		inc, err := t.loadIncident(c.IncidentID, false)
		if err != nil {
			return err
		}
		run := runRow{incidentID: c.IncidentID, policyID: c.PolicyID, round: round, step: step}
		if !inc.Status.Open() || inc.Milestones.AcknowledgedAt != nil {
			_, err := t.exec(`DELETE FROM escalations WHERE incident_id = ? AND policy_id = ?`, c.IncidentID, c.PolicyID)
			return wrap(err, "end escalation")
		}
		return t.fireStep(inc, run, now)
	})
}

func (t *txn) fireClaimedCriterion(c EscalationClaim, now time.Time) error {
	var r criterionRow
	err := t.row(`SELECT due_at, fired_at FROM escalation_criteria WHERE incident_id = ? AND criterion = ?`+
		t.s.d.lockOf(""), c.IncidentID, string(c.Criterion)).Scan(ntsCol(&r.due), ntsCol(&r.fired))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return wrap(err, "load escalation criterion")
	}
	if r.fired != nil {
		return nil
	}
	inc, err := t.loadIncident(c.IncidentID, false)
	if err != nil {
		return err
	}
	cfg, targets := t.s.escalationSettings()
	due, ok, err := criterionDue(c.Criterion, inc, cfg, targets, t.lastStatusChange(inc))
	if err != nil {
		return err
	}
	switch {
	case !ok:
		_, err := t.exec(`DELETE FROM escalation_criteria WHERE incident_id = ? AND criterion = ?`, c.IncidentID,
			string(c.Criterion))
		return wrap(err, "disarm escalation criterion")
	case due.After(now):
		_, err := t.exec(`UPDATE escalation_criteria SET due_at = ? WHERE incident_id = ? AND criterion = ?`,
			t.s.d.ts(due), c.IncidentID, string(c.Criterion))
		t.wakeJobs()
		return wrap(err, "re-arm escalation criterion")
	}
	if err := t.fireCriterion(inc, c.Criterion, now); err != nil {
		return err
	}
	_, err = t.exec(`UPDATE escalation_criteria SET due_at = NULL, fired_at = ? WHERE incident_id = ? AND
		criterion = ?`, t.s.d.ts(now), c.IncidentID, string(c.Criterion))
	return wrap(err, "fire escalation criterion")
}
