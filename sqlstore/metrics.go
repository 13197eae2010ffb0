package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"sort"
	"strings"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

var _ firebreak.MetricsService = (*Store)(nil)

// metricsWindowIDs selects the incidents whose life may overlap [from, to): they started before to, and ended at or
// after from or have not ended (unresolved, not cancelled). Start and end are the expressions of the indexes
// incidents_metrics_start and incidents_metrics_end (migration 00017), and the three disjoint parts each read
// one index range, so that a window reads the incidents near it rather than every incident ever declared:
//
//	started in the window                          (start index)
//	started before it, ended in or after it        (end index; the start test is written so as not to use its index)
//	started before it, ended before it, unresolved (the partial index of unresolved incidents)
//
// Arguments: from, to, from, from, from, from, from.
const metricsWindowIDs = `SELECT id FROM incidents
	WHERE COALESCE(impact_started_at, detected_at, declared_at, created_at) >= ?
	AND COALESCE(impact_started_at, detected_at, declared_at, created_at) < ?
	AND (COALESCE(resolved_at, closed_at, mitigated_at, updated_at) >= ?
		OR (resolved_at IS NULL AND closed_at IS NULL AND status <> 'cancelled'))
	UNION ALL SELECT id FROM incidents
	WHERE COALESCE(resolved_at, closed_at, mitigated_at, updated_at) >= ?
	AND COALESCE(impact_started_at, detected_at, declared_at, created_at, NULL) < ?
	UNION ALL SELECT id FROM incidents
	WHERE resolved_at IS NULL AND closed_at IS NULL AND status <> 'cancelled'
	AND COALESCE(mitigated_at, updated_at) < ?
	AND COALESCE(impact_started_at, detected_at, declared_at, created_at, NULL) < ?`

// IncidentsForMetrics returns the incidents whose life may overlap [from, to), with their services and the
// services' owner teams, in number order (see firebreak.MetricsService).
func (s *Store) IncidentsForMetrics(ctx context.Context, from, to time.Time) ([]firebreak.MetricsIncident, error) {
	if !from.Before(to) {
		var v firebreak.Validation
		v.Add("to", "must be after from")
		return nil, v.Err()
	}
	d := s.d
	rows, err := s.read(ctx).query(`SELECT i.id, i.number, i.title, i.severity, i.status, i.impact_started_at,
		i.detected_at, i.declared_at, i.acknowledged_at, i.mitigated_at, i.resolved_at, i.closed_at, i.created_at,
		x.service_slug, sv.owner_team, pm.published_at, x.position
		FROM (`+strings.ReplaceAll(metricsWindowIDs, "SELECT id", "SELECT "+d.rowKey()+" AS id")+`) w
		JOIN incidents i ON i.`+d.rowKey()+` = w.id
		LEFT JOIN incident_services x ON x.incident_id = i.id
		LEFT JOIN services sv ON sv.slug = x.service_slug
		LEFT JOIN postmortems pm ON pm.incident_id = i.id`, d.ts(from), d.ts(to), d.ts(from), d.ts(from), d.ts(from),
		d.ts(from), d.ts(from))
	if err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	defer rows.Close()
	// Rows come unsorted (sorting tens of thousands of wide rows cost more in SQL than in Go): an incident's rows
	// are gathered by id, its services put in position order, and the incidents sorted by number at the end.
	type svc struct {
		pos        int64
		slug, team string
	}
	var out []firebreak.MetricsIncident
	var numbers []int64
	var svcs [][]svc
	at := map[string]int{}
	for rows.Next() {
		var inc firebreak.MetricsIncident
		var number int64
		var slug, team sql.NullString
		var pos sql.NullInt64
		m := &inc.Milestones
		if err := rows.Scan(&inc.ID, &number, &inc.Title, &inc.Severity, &inc.Status, ntsCol(&m.ImpactStartedAt),
			ntsCol(&m.DetectedAt), ntsCol(&m.DeclaredAt), ntsCol(&m.AcknowledgedAt), ntsCol(&m.MitigatedAt),
			ntsCol(&m.ResolvedAt), ntsCol(&m.ClosedAt), tsCol(&inc.CreatedAt), &slug, &team,
			ntsCol(&inc.PostmortemPublishedAt), &pos); err != nil {
			return nil, wrap(err, "metrics incidents")
		}
		k, seen := at[inc.ID]
		if !seen {
			inc.Reference = firebreak.IncidentRef(number)
			k = len(out)
			at[inc.ID] = k
			out = append(out, inc)
			numbers = append(numbers, number)
			svcs = append(svcs, nil)
		}
		if slug.Valid {
			svcs[k] = append(svcs[k], svc{pos.Int64, slug.String, team.String})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	for k := range out {
		inc := &out[k]
		inc.Services, inc.Teams = []string{}, []string{}
		slices.SortFunc(svcs[k], func(a, b svc) int { return int(a.pos - b.pos) })
		for _, x := range svcs[k] {
			inc.Services = append(inc.Services, x.slug)
			if x.team != "" && !slices.Contains(inc.Teams, x.team) {
				inc.Teams = append(inc.Teams, x.team)
			}
		}
	}
	if out == nil {
		out = []firebreak.MetricsIncident{}
	}
	sort.Sort(byNumber{out, numbers})
	return out, nil
}

// byNumber sorts incidents by their numbers (a parallel slice).
type byNumber struct {
	incs []firebreak.MetricsIncident
	nums []int64
}

func (b byNumber) Len() int           { return len(b.incs) }
func (b byNumber) Less(i, j int) bool { return b.nums[i] < b.nums[j] }
func (b byNumber) Swap(i, j int) {
	b.incs[i], b.incs[j] = b.incs[j], b.incs[i]
	b.nums[i], b.nums[j] = b.nums[j], b.nums[i]
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
