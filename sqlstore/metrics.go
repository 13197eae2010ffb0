package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

var _ firebreak.MetricsService = (*Store)(nil)

// metricsWindow selects the incidents whose life may overlap [from, to): they started before to, and ended at or
// after from or have not ended (unresolved, not cancelled). Start and end are the expressions of the indexes
// incidents_metrics_start (start, end) and incidents_metrics_end (end, start) (migration 00018), and the three
// disjoint parts each read one index range, testing both ends in the index and reading the table only for the
// incidents they return, so that a window reads the incidents near it rather than every incident ever declared:
//
//	started in the window                          (start index)
//	started before it, ended in or after it        (end index)
//	started before it, ended before it, unresolved (the partial index of unresolved, uncancelled incidents)
//
// The first part may start later than the window (IncidentsForDashboard reads the months before from their
// copies). cols are the columns each part returns; on SQLite each part names its index (its planner, without
// histograms, cannot tell that "started before the window" is nearly every incident). Arguments: the first
// part's start (from), to, from, from, from, from, from.
func (d *dialect) metricsWindow(cols string) string {
	by := func(index string) string {
		if d.name == dialectSQLite {
			return " INDEXED BY " + index
		}
		return ""
	}
	return `SELECT ` + cols + ` FROM incidents` + by("incidents_metrics_start") + `
	WHERE ` + metricsStart + ` >= ? AND ` + metricsStart + ` < ?
	AND (` + metricsEnd + ` >= ? OR (resolved_at IS NULL AND closed_at IS NULL AND status <> 'cancelled'))
	UNION ALL SELECT ` + cols + ` FROM incidents` + by("incidents_metrics_end") + `
	WHERE ` + metricsEnd + ` >= ? AND ` + metricsStart + ` < ?
	UNION ALL SELECT ` + cols + ` FROM incidents` + by("incidents_unresolved") + `
	WHERE resolved_at IS NULL AND closed_at IS NULL AND status <> 'cancelled'
	AND COALESCE(mitigated_at, updated_at) < ? AND ` + metricsStart + ` < ?`
}

// metricsCols are the columns of incidents the metrics read, the title only if asked for; readMetrics reads
// them, then the service, the post-mortem's published_at and the service's position.
func metricsCols(title bool) string {
	cols := `id, number, severity, status, impact_started_at, detected_at, declared_at, acknowledged_at,
		mitigated_at, resolved_at, closed_at, created_at, updated_at`
	if title {
		cols += `, title`
	}
	return cols
}

// metricsJoins adds to incidents i (metricsCols) their services and post-mortems, looked up incident by incident:
// PostgreSQL's planner, which cannot tell how many incidents a window holds, would otherwise hash every row of
// incident_services (a million or more) for a few thousand incidents (0.5 s instead of 60 ms); OFFSET 0 keeps it
// from turning the lookups back into that join. SQLite has no LATERAL, and needs none.
func (d *dialect) metricsJoins() string {
	if d.name == dialectPostgres {
		return ` i LEFT JOIN LATERAL (SELECT service_slug, position FROM incident_services
			WHERE incident_id = i.id OFFSET 0) x ON true
		LEFT JOIN LATERAL (SELECT published_at FROM postmortems WHERE incident_id = i.id OFFSET 0) pm ON true`
	}
	return ` i LEFT JOIN incident_services x ON x.incident_id = i.id
	LEFT JOIN postmortems pm ON pm.incident_id = i.id`
}

// metricsIncident is an incident as the metrics read it, with what orders and filters it.
type metricsIncident struct {
	firebreak.MetricsIncident
	number    int64
	updatedAt time.Time
}

// end is the incident's end as the window reads it (metricsEnd).
func (m *metricsIncident) end() time.Time {
	ms := &m.Milestones
	for _, t := range []*time.Time{ms.ResolvedAt, ms.ClosedAt, ms.MitigatedAt} {
		if t != nil {
			return *t
		}
	}
	return m.updatedAt
}

// readMetrics runs a query of `SELECT i.<metricsCols(title)>, x.service_slug, pm.published_at, x.position FROM
// (…)` + metricsJoins() and gathers each incident's rows, its services in position order; Teams is left nil.
func (s *Store) readMetrics(ctx context.Context, title bool, query string, args ...any) ([]metricsIncident, error) {
	rows, err := s.read(ctx).query(query, args...)
	if err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	defer rows.Close()
	// Rows come unsorted (sorting tens of thousands of wide rows cost more in SQL than in Go): an incident's rows
	// are gathered by id (on SQLite they come one after the other); its services are sorted by position after.
	type svc struct {
		k    int // the incident
		pos  int64
		slug string
	}
	var blocks [][]metricsIncident // filled in blocks: growing one slice of these structs cost more than reading
	block := make([]metricsIncident, 0, 1024)
	n := 0
	var svcs []svc
	at := map[string]int{}
	last, lastID := -1, "" // the incident of the previous row
	var inc metricsIncident
	var slug sql.NullString
	var pos sql.NullInt64
	m := &inc.Milestones
	dest := []any{&inc.ID, &inc.number, &inc.Severity, &inc.Status, ntsCol(&m.ImpactStartedAt),
		ntsCol(&m.DetectedAt), ntsCol(&m.DeclaredAt), ntsCol(&m.AcknowledgedAt), ntsCol(&m.MitigatedAt),
		ntsCol(&m.ResolvedAt), ntsCol(&m.ClosedAt), tsCol(&inc.CreatedAt), tsCol(&inc.updatedAt)}
	if title {
		dest = append(dest, &inc.Title)
	}
	dest = append(dest, &slug, ntsCol(&inc.PostmortemPublishedAt), &pos)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, wrap(err, "metrics incidents")
		}
		k := last
		if k < 0 || inc.ID != lastID {
			var seen bool
			if k, seen = at[inc.ID]; !seen {
				inc.Reference = firebreak.IncidentRef(inc.number)
				if len(block) == cap(block) {
					blocks = append(blocks, block)
					block = make([]metricsIncident, 0, 4096)
				}
				block = append(block, inc)
				k = n
				n++
				at[inc.ID] = k
			}
			last, lastID = k, inc.ID
		}
		if slug.Valid {
			svcs = append(svcs, svc{k, pos.Int64, slug.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	out := make([]metricsIncident, 0, n)
	for _, b := range append(blocks, block) {
		out = append(out, b...)
	}
	slices.SortFunc(svcs, func(a, b svc) int {
		if a.k != b.k {
			return a.k - b.k
		}
		return int(a.pos - b.pos)
	})
	names := make([]string, len(svcs)) // one array for every incident's services
	for i, x := range svcs {
		names[i] = x.slug
	}
	for i := range out {
		out[i].Services = noStrings
	}
	for i := 0; i < len(svcs); {
		j := i
		for j < len(svcs) && svcs[j].k == svcs[i].k {
			j++
		}
		out[svcs[i].k].Services = names[i:j:j]
		i = j
	}
	return out, nil
}

// withTeams sets each incident's Teams (the owner teams of its services, distinct, in service order) from one
// read of the services (few) rather than a join on every row, and returns the incidents in number order.
func (s *Store) withTeams(ctx context.Context, incs []metricsIncident) ([]firebreak.MetricsIncident, error) {
	teams := map[string]string{}
	rows, err := s.read(ctx).query(`SELECT slug, owner_team FROM services WHERE owner_team <> ''`)
	if err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	defer rows.Close()
	for rows.Next() {
		var slug, team string
		if err := rows.Scan(&slug, &team); err != nil {
			return nil, wrap(err, "metrics incidents")
		}
		teams[slug] = team
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	// In number order: the numbers are sorted with the incidents' places, and each incident copied once (sorting
	// the wide structs themselves moved them around many times).
	order := make([][2]int64, len(incs))
	for i := range incs {
		order[i] = [2]int64{incs[i].number, int64(i)}
	}
	slices.SortFunc(order, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	out := make([]firebreak.MetricsIncident, len(incs))
	for i, o := range order {
		out[i] = incs[o[1]].MetricsIncident
		inc := &out[i]
		inc.Teams = noStrings
		for _, slug := range inc.Services {
			if team := teams[slug]; team != "" && !slices.Contains(inc.Teams, team) {
				inc.Teams = append(inc.Teams, team)
			}
		}
	}
	return out, nil
}

// IncidentsForMetrics returns the incidents whose life may overlap [from, to), with their services and the
// services' owner teams, in number order (see firebreak.MetricsService).
func (s *Store) IncidentsForMetrics(ctx context.Context, from, to time.Time) ([]firebreak.MetricsIncident, error) {
	if !from.Before(to) {
		return nil, invalid("to", "must be after from")
	}
	d := s.d
	incs, err := s.readMetrics(ctx, true, `SELECT i.*, x.service_slug, pm.published_at, x.position
		FROM (`+d.metricsWindow(metricsCols(true))+`)`+d.metricsJoins(), d.ts(from), d.ts(to), d.ts(from), d.ts(from),
		d.ts(from), d.ts(from), d.ts(from))
	if err != nil {
		return nil, err
	}
	return s.withTeams(ctx, incs)
}

// OverdueActionItems counts open and in-progress action items due before asOf's UTC date, by priority (every
// priority present).
func (s *Store) OverdueActionItems(ctx context.Context, asOf time.Time) (map[firebreak.Priority]int, error) {
	out := map[firebreak.Priority]int{}
	for _, p := range firebreak.Priorities {
		out[p] = 0
	}
	rows, err := s.read(ctx).query(`SELECT priority, COUNT(*) FROM action_items
		WHERE status IN (?, ?) AND due_date <> '' AND due_date < ? GROUP BY priority`,
		firebreak.ActionOpen, firebreak.ActionInProgress, asOf.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, wrap(err, "count overdue action items")
	}
	defer rows.Close()
	for rows.Next() {
		var p firebreak.Priority
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, wrap(err, "count overdue action items")
		}
		out[p] = n
	}
	return out, wrap(rows.Err(), "count overdue action items")
}

// ActionItemsForMetrics returns the action items due on or before through's UTC date, with their incident's
// severity, status and services, ordered by item.
func (s *Store) ActionItemsForMetrics(ctx context.Context, through time.Time) ([]firebreak.MetricsActionItem, error) {
	rows, err := s.read(ctx).query(`SELECT a.id, a.incident_id, i.status, i.severity, a.status, a.due_date,
		COALESCE(a.done_at, a.verified_at), x.service_slug
		FROM action_items a JOIN incidents i ON i.id = a.incident_id
		LEFT JOIN incident_services x ON x.incident_id = i.id
		WHERE a.due_date <> '' AND a.due_date <= ?
		ORDER BY a.id, x.position`, through.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, wrap(err, "metrics action items")
	}
	defer rows.Close()
	out := []firebreak.MetricsActionItem{}
	for rows.Next() {
		var a firebreak.MetricsActionItem
		var slug sql.NullString
		if err := rows.Scan(&a.ID, &a.IncidentID, &a.IncidentStatus, &a.Severity, &a.Status, &a.DueDate,
			ntsCol(&a.DoneAt), &slug); err != nil {
			return nil, wrap(err, "metrics action items")
		}
		if n := len(out); n == 0 || out[n-1].ID != a.ID {
			a.Services = []string{}
			out = append(out, a)
		}
		if slug.Valid {
			last := &out[len(out)-1]
			last.Services = append(last.Services, slug.String)
		}
	}
	return out, wrap(rows.Err(), "metrics action items")
}
