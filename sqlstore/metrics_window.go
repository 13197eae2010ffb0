package sqlstore

import (
	"context"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

// metricsStart is the incident's start as the metrics define it (the first expression of
// incidents_metrics_start); metricsEnd is its end as the window reads it (the first of incidents_metrics_end).
const (
	metricsStart = `COALESCE(impact_started_at, detected_at, declared_at, created_at)`
	metricsEnd   = `COALESCE(resolved_at, closed_at, mitigated_at, updated_at)`
)

// IncidentStartsForMetrics returns, for the time to resolve only, the incidents that started in [from, to), in
// start order: each with its ID, reference, severity, status, resolved_at, and its start (the first set of
// impact_started_at, detected_at, declared_at, created_at) as ImpactStartedAt; the other milestones, services
// and teams are left empty. Reading six columns through the start index, it serves the time to resolve of a
// month (MonthlyResolveTimes, the dashboard's current month) without reading every incident in full
// (analysis.ResolveTimes, and Build's counts, open counts and time to resolve, are the same as with
// IncidentsForMetrics; its other metrics are not meaningful).
func (s *Store) IncidentStartsForMetrics(ctx context.Context, from, to time.Time) ([]firebreak.MetricsIncident, error) {
	if !from.Before(to) {
		return nil, invalid("to", "must be after from")
	}
	rows, err := s.read(ctx).query(`SELECT id, number, severity, status, `+metricsStart+`, resolved_at
		FROM incidents WHERE `+metricsStart+` >= ? AND `+metricsStart+` < ?`, s.d.ts(from), s.d.ts(to))
	if err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	defer rows.Close()
	// Tens of thousands of rows: filled in blocks and copied once into a slice of the exact size (growing one
	// slice of these structs by doubling cost more than reading them).
	var blocks [][]firebreak.MetricsIncident
	block := make([]firebreak.MetricsIncident, 0, 4096)
	n := 0
	for rows.Next() {
		var inc firebreak.MetricsIncident
		var number int64
		var start time.Time
		if err := rows.Scan(&inc.ID, &number, &inc.Severity, &inc.Status, tsCol(&start),
			ntsCol(&inc.Milestones.ResolvedAt)); err != nil {
			return nil, wrap(err, "metrics incidents")
		}
		inc.Reference = firebreak.IncidentRef(number)
		inc.Milestones.ImpactStartedAt = &start
		inc.CreatedAt = start
		inc.Services, inc.Teams = noStrings, noStrings
		if len(block) == cap(block) {
			blocks = append(blocks, block)
			block = make([]firebreak.MetricsIncident, 0, 4096)
		}
		block = append(block, inc)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "metrics incidents")
	}
	out := make([]firebreak.MetricsIncident, 0, n)
	for _, b := range append(blocks, block) {
		out = append(out, b...)
	}
	return out, nil
}

// noStrings is the empty list the light reads share (never appended to).
var noStrings = []string{}
