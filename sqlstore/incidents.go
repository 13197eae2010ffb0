package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	firebreak "github.com/firebreak/firebreak"
)

// The incident roles are columns of incidents (one holder each).
type roleColumn struct {
	role firebreak.Role
	col  string
}

var roleColumns = []roleColumn{
	{firebreak.RoleCommander, "commander"},
	{firebreak.RoleTechLead, "tech_lead"},
	{firebreak.RoleCommsLead, "comms_lead"},
}

func init() {
	// A role added to the domain needs a column (a migration) and an entry above.
	for _, r := range firebreak.Roles {
		if !slices.ContainsFunc(roleColumns, func(c roleColumn) bool { return c.role == r }) {
			panic("sqlstore: no column for incident role " + string(r))
		}
	}
	if len(roleColumns) != 3 {
		panic("sqlstore: incidentCols and roleValues expect three role columns")
	}
}

const incidentCols = `i.id, i.number, i.title, i.summary, i.severity, i.status, i.commander, i.tech_lead,
	i.comms_lead, i.impact_started_at, i.detected_at, i.declared_at, i.acknowledged_at, i.mitigated_at,
	i.resolved_at, i.closed_at, i.created_by, i.created_at, i.updated_at, i.version, i.tags`

// scanIncidents reads rows of incidentCols plus one service slug (LEFT JOIN, ordered by incident then position)
// into incidents in row order.
func scanIncidents(rows *sql.Rows) ([]firebreak.Incident, error) {
	defer rows.Close()
	var out []firebreak.Incident
	for rows.Next() {
		var inc firebreak.Incident
		var roles [3]string
		var slug sql.NullString
		var tags string
		m := &inc.Milestones
		if err := rows.Scan(&inc.ID, &inc.Number, &inc.Title, &inc.Summary, &inc.Severity, &inc.Status,
			&roles[0], &roles[1], &roles[2], ntsCol(&m.ImpactStartedAt), ntsCol(&m.DetectedAt),
			ntsCol(&m.DeclaredAt), ntsCol(&m.AcknowledgedAt), ntsCol(&m.MitigatedAt), ntsCol(&m.ResolvedAt),
			ntsCol(&m.ClosedAt), &inc.CreatedBy, tsCol(&inc.CreatedAt), tsCol(&inc.UpdatedAt), &inc.Version,
			&tags, &slug); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != inc.ID {
			inc.Reference = firebreak.IncidentRef(inc.Number)
			inc.Services = []string{}
			inc.Tags = strings.Fields(tags)
			if inc.Tags == nil {
				inc.Tags = []string{}
			}
			inc.Roles = map[firebreak.Role]string{}
			for i, rc := range roleColumns {
				if roles[i] != "" {
					inc.Roles[rc.role] = roles[i]
				}
			}
			out = append(out, inc)
		}
		if slug.Valid {
			last := &out[len(out)-1]
			last.Services = append(last.Services, slug.String)
		}
	}
	return out, rows.Err()
}

// incidentRef turns a ref (UUID, "INC-42", "42") into a WHERE condition on incidents i, and the name used in
// "not found" messages.
func incidentRef(ref string) (cond string, arg any, name string, err error) {
	if n, ok := firebreak.ParseIncidentNumber(ref); ok {
		return "i.number = ?", n, firebreak.IncidentRef(n), nil
	}
	if id, e := uuid.Parse(strings.TrimSpace(ref)); e == nil {
		return "i.id = ?", id.String(), id.String(), nil
	}
	return "", nil, "", notFound("incident %s not found", strings.TrimSpace(ref))
}

// loadIncident reads one incident with its services; lock (in a write) locks its row until COMMIT.
func (x q) loadIncident(ref string, lock bool) (*firebreak.Incident, error) {
	cond, arg, name, err := incidentRef(ref)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + incidentCols + `, s.service_slug FROM incidents i
		LEFT JOIN incident_services s ON s.incident_id = i.id WHERE ` + cond + ` ORDER BY s.position`
	if lock {
		query += x.s.d.lockOf("i")
	}
	rows, err := x.query(query, arg)
	if err != nil {
		return nil, wrap(err, "load incident")
	}
	incs, err := scanIncidents(rows)
	if err != nil {
		return nil, wrap(err, "load incident")
	}
	if len(incs) == 0 {
		return nil, notFound("incident %s not found", name)
	}
	return &incs[0], nil
}

// incidentHead is what appends to an incident need: its ID, number and status.
type incidentHead struct {
	id     string
	number int64
	status firebreak.Status
}

func (h incidentHead) ref() string { return firebreak.IncidentRef(h.number) }

// loadHead resolves ref; lock (in a write) locks the incident's row until COMMIT.
func (x q) loadHead(ref string, lock bool) (incidentHead, error) {
	cond, arg, name, err := incidentRef(ref)
	if err != nil {
		return incidentHead{}, err
	}
	query := `SELECT i.id, i.number, i.status FROM incidents i WHERE ` + cond
	if lock {
		query += x.s.d.lockOf("")
	}
	var h incidentHead
	err = x.row(query, arg).Scan(&h.id, &h.number, &h.status)
	if errors.Is(err, sql.ErrNoRows) {
		return h, notFound("incident %s not found", name)
	}
	return h, wrap(err, "load incident")
}

// checkServices refuses slugs that name no service (EInvalid on field).
func (x q) checkServices(field string, slugs []string) error {
	if len(slugs) == 0 {
		return nil
	}
	rows, err := x.query(`SELECT slug FROM services WHERE slug IN (`+placeholders(len(slugs))+`)`, anys(slugs)...)
	if err != nil {
		return wrap(err, "check services")
	}
	defer rows.Close()
	found := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return wrap(err, "check services")
		}
		found[s] = true
	}
	if err := rows.Err(); err != nil {
		return wrap(err, "check services")
	}
	var v firebreak.Validation
	for _, s := range slugs {
		if !found[s] {
			v.Add(field, "unknown service %q", s)
		}
	}
	return v.Err()
}

func (t *txn) insertIncident(inc *firebreak.Incident) error {
	d := t.s.d
	m := &inc.Milestones
	roles := roleValues(inc.Roles)
	_, err := t.exec(`INSERT INTO incidents (id, number, title, summary, severity, status, commander, tech_lead,
		comms_lead, impact_started_at, detected_at, declared_at, acknowledged_at, mitigated_at, resolved_at,
		closed_at, created_by, created_at, updated_at, version, tags)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inc.ID, inc.Number, inc.Title, inc.Summary, inc.Severity, inc.Status, roles[0], roles[1], roles[2],
		d.nts(m.ImpactStartedAt), d.nts(m.DetectedAt), d.nts(m.DeclaredAt), d.nts(m.AcknowledgedAt),
		d.nts(m.MitigatedAt), d.nts(m.ResolvedAt), d.nts(m.ClosedAt), inc.CreatedBy, d.ts(inc.CreatedAt),
		d.ts(inc.UpdatedAt), inc.Version, strings.Join(inc.Tags, " "))
	if err != nil {
		return wrap(err, "insert incident")
	}
	if err := t.setIncidentServices(inc.ID, inc.Services, false); err != nil {
		return err
	}
	return t.scheduleRecurrenceCheck(inc.ID) // related.go: is it a recurrence of an earlier incident?
}

// updateIncident writes the incident's own fields.
func (t *txn) updateIncident(inc *firebreak.Incident) error {
	d := t.s.d
	m := &inc.Milestones
	roles := roleValues(inc.Roles)
	_, err := t.exec(`UPDATE incidents SET title = ?, summary = ?, severity = ?, status = ?, commander = ?,
		tech_lead = ?, comms_lead = ?, impact_started_at = ?, detected_at = ?, declared_at = ?, acknowledged_at = ?,
		mitigated_at = ?, resolved_at = ?, closed_at = ?, updated_at = ?, version = ?, tags = ? WHERE id = ?`,
		inc.Title, inc.Summary, inc.Severity, inc.Status, roles[0], roles[1], roles[2],
		d.nts(m.ImpactStartedAt), d.nts(m.DetectedAt), d.nts(m.DeclaredAt), d.nts(m.AcknowledgedAt),
		d.nts(m.MitigatedAt), d.nts(m.ResolvedAt), d.nts(m.ClosedAt), d.ts(inc.UpdatedAt), inc.Version,
		strings.Join(inc.Tags, " "), inc.ID)
	id := inc.ID
	t.afterCommit(func() { t.s.incidents.forget(id) })
	return wrap(err, "update incident")
}

func roleValues(r map[firebreak.Role]string) [3]string {
	var out [3]string
	for i, rc := range roleColumns {
		out[i] = r[rc.role]
	}
	return out
}

func (t *txn) setIncidentServices(id string, slugs []string, replace bool) error {
	if replace {
		t.afterCommit(func() { t.s.incidents.forget(id) })
		if _, err := t.exec(`DELETE FROM incident_services WHERE incident_id = ?`, id); err != nil {
			return wrap(err, "set incident services")
		}
	}
	for i, slug := range slugs {
		if _, err := t.exec(`INSERT INTO incident_services (incident_id, position, service_slug) VALUES (?, ?, ?)`,
			id, i, slug); err != nil {
			return wrap(err, "set incident services")
		}
	}
	return nil
}

// DeclareIncident creates an incident (numbered from a counter) with the timeline events of its declaration.
func (s *Store) DeclareIncident(ctx context.Context, in firebreak.DeclareInput) (*firebreak.Incident, error) {
	in.ImpactStartedAt, in.DetectedAt, in.DeclaredAt = truncTime(in.ImpactStartedAt), truncTime(in.DetectedAt),
		truncTime(in.DeclaredAt)
	in.Services = slices.Clone(in.Services)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx).Username
	key := idemFrom(ctx)
	var out firebreak.Incident
	err := s.write(ctx, func(t *txn) error {
		if err := t.idemCheck(key, kindIncident); err != nil {
			return err
		}
		if err := t.checkServices("services", in.Services); err != nil {
			return err
		}
		now := s.clock()
		inc, events := firebreak.NewIncident(in, actor, now)
		if err := t.row(`UPDATE counters SET value = value + 1 WHERE name = 'incident_number' RETURNING value`).
			Scan(&inc.Number); err != nil {
			return wrap(err, "next incident number")
		}
		inc.ID = newID()
		inc.Reference = firebreak.IncidentRef(inc.Number)
		if err := t.insertIncident(&inc); err != nil {
			return err
		}
		if err := t.insertEvents(inc.ID, events); err != nil {
			return err
		}
		if err := t.idemRecord(key, kindIncident, inc.ID, now); err != nil {
			return err
		}
		out = inc
		return nil
	})
	if err != nil {
		return nil, wrap(err, "declare incident")
	}
	return &out, nil
}

// GetIncident reads an incident by ref.
func (s *Store) GetIncident(ctx context.Context, ref string) (*firebreak.Incident, error) {
	var id string
	n, byNumber := firebreak.ParseIncidentNumber(ref)
	if !byNumber {
		if u, err := uuid.Parse(strings.TrimSpace(ref)); err == nil {
			id = u.String()
		}
	}
	if id == "" && !byNumber {
		return s.read(ctx).loadIncident(ref, false) // answers not found
	}
	inc, gen, ok := s.incidents.get(id, n)
	if ok {
		return &inc, nil
	}
	got, err := s.read(ctx).loadIncident(ref, false)
	if err == nil {
		s.incidents.put(got, gen)
	}
	return got, err
}

// mutateIncident loads and locks the incident, checks ifVersion, lets change apply a domain function and writes
// the incident and the events it returns, all in one transaction.
func (s *Store) mutateIncident(ctx context.Context, ref string, ifVersion int64,
	change func(t *txn, inc *firebreak.Incident) ([]firebreak.TimelineEvent, error)) (*firebreak.Incident, error) {
	var out firebreak.Incident
	err := s.write(ctx, func(t *txn) error {
		inc, err := t.loadIncident(ref, true)
		if err != nil {
			return err
		}
		if err := checkVersion(inc.Ref(), inc.Version, ifVersion); err != nil {
			return err
		}
		before := slices.Clone(inc.Services)
		events, err := change(t, inc)
		if err != nil {
			return err
		}
		if len(events) > 0 {
			if err := t.updateIncident(inc); err != nil {
				return err
			}
			if !slices.Equal(before, inc.Services) {
				if err := t.setIncidentServices(inc.ID, inc.Services, true); err != nil {
					return err
				}
			}
			if err := t.insertEvents(inc.ID, events); err != nil {
				return err
			}
		}
		out = *inc
		return nil
	})
	if err != nil {
		return nil, wrap(err, "change incident")
	}
	return &out, nil
}

// UpdateIncident applies a patch (title, summary, severity, services, milestone corrections).
func (s *Store) UpdateIncident(ctx context.Context, ref string, p firebreak.IncidentPatch,
	ifVersion int64) (*firebreak.Incident, error) {
	if p.Services != nil {
		sv := slices.Clone(*p.Services)
		p.Services = &sv
	}
	if p.Milestones != nil {
		ms := make(map[string]*time.Time, len(p.Milestones))
		for k, v := range p.Milestones {
			ms[k] = truncTime(v)
		}
		p.Milestones = ms
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx).Username
	return s.mutateIncident(ctx, ref, ifVersion, func(t *txn, inc *firebreak.Incident) ([]firebreak.TimelineEvent,
		error) {
		if p.Services != nil {
			if err := t.checkServices("services", *p.Services); err != nil {
				return nil, err
			}
		}
		return inc.Apply(p, actor, s.clock())
	})
}

// ChangeStatus moves the incident through its lifecycle.
func (s *Store) ChangeStatus(ctx context.Context, ref string, to firebreak.Status, message string,
	ifVersion int64) (*firebreak.Incident, error) {
	actor := firebreak.ActorFrom(ctx).Username
	return s.mutateIncident(ctx, ref, ifVersion, func(t *txn, inc *firebreak.Incident) ([]firebreak.TimelineEvent,
		error) {
		ev, err := inc.Transition(to, message, actor, s.clock())
		if err != nil {
			return nil, err
		}
		// By the close policy, a SEV1/SEV2 closes only when followed through (followthrough.go).
		if to == firebreak.StatusClosed {
			b, err := t.closeBlockers(inc)
			if err != nil {
				return nil, err
			}
			if len(b) > 0 {
				return nil, firebreak.CloseBlockedError(inc.Ref(), b)
			}
		}
		// A resolved SEV1/SEV2 gets its post-mortem draft in the same transaction (postmortems.go).
		if err := t.autoDraftPostmortem(inc, ev); err != nil {
			return nil, err
		}
		return []firebreak.TimelineEvent{ev}, nil
	})
}

// AssignRole gives an incident role to a user (assign, reassign, hand over).
func (s *Store) AssignRole(ctx context.Context, ref string, role firebreak.Role, user string,
	ifVersion int64) (*firebreak.Incident, error) {
	actor := firebreak.ActorFrom(ctx).Username
	return s.mutateIncident(ctx, ref, ifVersion, func(t *txn, inc *firebreak.Incident) ([]firebreak.TimelineEvent,
		error) {
		return inc.AssignRole(role, user, actor, s.clock())
	})
}

// ListIncidents pages through incidents, newest (highest number) first.
func (s *Store) ListIncidents(ctx context.Context, f firebreak.IncidentFilter) (*firebreak.Page[firebreak.Incident],
	error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var v firebreak.Validation
	var where []string
	var args []any
	if len(f.Status) > 0 {
		for _, st := range f.Status {
			if !st.Valid() {
				v.Add("status", "unknown status %q", st)
			}
		}
		where = append(where, `i.status IN (`+placeholders(len(f.Status))+`)`)
		args = append(args, anys(f.Status)...)
	}
	if len(f.Severity) > 0 {
		for _, sv := range f.Severity {
			if !sv.Valid() {
				v.Add("severity", "unknown severity %q", sv)
			}
		}
		where = append(where, `i.severity IN (`+placeholders(len(f.Severity))+`)`)
		args = append(args, anys(f.Severity)...)
	}
	if f.Service != "" {
		where = append(where, `EXISTS (SELECT 1 FROM incident_services x WHERE x.incident_id = i.id AND
			x.service_slug = ?)`)
		args = append(args, f.Service)
	}
	if f.Open {
		var open []firebreak.Status
		for _, st := range firebreak.Statuses {
			if st.Open() {
				open = append(open, st)
			}
		}
		where = append(where, `i.status IN (`+placeholders(len(open))+`)`)
		args = append(args, anys(open)...)
	}
	if f.DeclaredAfter != nil {
		where = append(where, `i.declared_at >= ?`)
		args = append(args, s.d.ts(*truncTime(f.DeclaredAfter)))
	}
	if f.DeclaredBefore != nil {
		where = append(where, `i.declared_at < ?`)
		args = append(args, s.d.ts(*truncTime(f.DeclaredBefore)))
	}
	if qs := strings.TrimSpace(f.Query); qs != "" {
		pat := "%" + escapeLike(strings.ToLower(qs)) + "%"
		where = append(where, `(`+s.d.lower("i.title")+` LIKE ? ESCAPE '\' OR `+s.d.lower("i.summary")+
			` LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(strings.TrimPrefix(c, "n|"), 10, 64)
		if err != nil || !strings.HasPrefix(c, "n|") {
			return nil, badCursor()
		}
		where = append(where, `i.number < ?`)
		args = append(args, n)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	rows, err := s.read(ctx).query(`SELECT `+incidentCols+`, s.service_slug
		FROM (SELECT * FROM incidents i`+cond+` ORDER BY i.number DESC LIMIT ?) i
		LEFT JOIN incident_services s ON s.incident_id = i.id
		ORDER BY i.number DESC, s.position`, args...)
	if err != nil {
		return nil, wrap(err, "list incidents")
	}
	items, err := scanIncidents(rows)
	if err != nil {
		return nil, wrap(err, "list incidents")
	}
	page := &firebreak.Page[firebreak.Incident]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = encodeCursor(fmt.Sprintf("n|%d", items[limit-1].Number))
	}
	if page.Items == nil {
		page.Items = []firebreak.Incident{}
	}
	return page, nil
}

// IncidentCounts counts incidents by status and severity (every combination present, zero or not), for the
// Prometheus gauges.
func (s *Store) IncidentCounts(ctx context.Context) (map[firebreak.Status]map[firebreak.Severity]int, error) {
	out := map[firebreak.Status]map[firebreak.Severity]int{}
	for _, st := range firebreak.Statuses {
		out[st] = map[firebreak.Severity]int{}
		for _, sv := range firebreak.Severities {
			out[st][sv] = 0
		}
	}
	rows, err := s.read(ctx).query(`SELECT status, severity, COUNT(*) FROM incidents GROUP BY status, severity`)
	if err != nil {
		return nil, wrap(err, "count incidents")
	}
	defer rows.Close()
	for rows.Next() {
		var st firebreak.Status
		var sv firebreak.Severity
		var n int
		if err := rows.Scan(&st, &sv, &n); err != nil {
			return nil, wrap(err, "count incidents")
		}
		if out[st] == nil {
			out[st] = map[firebreak.Severity]int{}
		}
		out[st][sv] = n
	}
	return out, wrap(rows.Err(), "count incidents")
}
