package sqlstore

import (
	"context"
	"database/sql"
	"slices"
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
		x.service_slug, sv.owner_team, pm.published_at
		FROM (`+strings.ReplaceAll(metricsWindowIDs, "SELECT id", "SELECT "+d.rowKey()+" AS id")+`) w
		JOIN incidents i ON i.`+d.rowKey()+` = w.id
		LEFT JOIN incident_services x ON x.incident_id = i.id
		LEFT JOIN services sv ON sv.slug = x.service_slug
		LEFT JOIN postmortems pm ON pm.incident_id = i.id
		ORDER BY i.number, x.position`, d.ts(from), d.ts(to), d.ts(from), d.ts(from), d.ts(from), d.ts(from),
		d.ts(from))
	if err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	defer rows.Close()
	var out []firebreak.MetricsIncident
	var lastNumber int64 = -1
	for rows.Next() {
		var inc firebreak.MetricsIncident
		var number int64
		var slug, team sql.NullString
		m := &inc.Milestones
		if err := rows.Scan(&inc.ID, &number, &inc.Title, &inc.Severity, &inc.Status, ntsCol(&m.ImpactStartedAt),
			ntsCol(&m.DetectedAt), ntsCol(&m.DeclaredAt), ntsCol(&m.AcknowledgedAt), ntsCol(&m.MitigatedAt),
			ntsCol(&m.ResolvedAt), ntsCol(&m.ClosedAt), tsCol(&inc.CreatedAt), &slug, &team,
			ntsCol(&inc.PostmortemPublishedAt)); err != nil {
			return nil, wrap(err, "metrics incidents")
		}
		if number != lastNumber {
			inc.Reference = firebreak.IncidentRef(number)
			inc.Services, inc.Teams = []string{}, []string{}
			out = append(out, inc)
			lastNumber = number
		}
		last := &out[len(out)-1]
		if slug.Valid {
			last.Services = append(last.Services, slug.String)
		}
		if team.Valid && team.String != "" && !slices.Contains(last.Teams, team.String) {
			last.Teams = append(last.Teams, team.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	if out == nil {
		out = []firebreak.MetricsIncident{}
	}
	return out, nil
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
