package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

var _ firebreak.MetricsService = (*Store)(nil)

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
		x.service_slug, sv.owner_team
		FROM incidents i
		LEFT JOIN incident_services x ON x.incident_id = i.id
		LEFT JOIN services sv ON sv.slug = x.service_slug
		WHERE COALESCE(i.impact_started_at, i.detected_at, i.declared_at, i.created_at) < ?
		AND (COALESCE(i.resolved_at, i.closed_at, i.mitigated_at, i.updated_at) >= ?
			OR (i.resolved_at IS NULL AND i.closed_at IS NULL AND i.status <> 'cancelled'))
		ORDER BY i.number, x.position`, d.ts(to), d.ts(from))
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
			ntsCol(&m.ResolvedAt), ntsCol(&m.ClosedAt), tsCol(&inc.CreatedAt), &slug, &team); err != nil {
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
