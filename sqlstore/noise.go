package sqlstore

// The noise report (firebreak.NoiseService), computed with SQL aggregates on both databases. The one dialect
// difference, reading a label out of the labels JSON text, is alertRule below.

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

var _ firebreak.NoiseService = (*Store)(nil)

// alertRule is the SQL of an alert's rule: its alertname label when present and not empty, else its summary.
// Labels are JSON text: SQLite reads them with json_extract, PostgreSQL with ::jsonb ->>.
func (d *dialect) alertRule(alias string) string {
	if d.name == dialectPostgres {
		return `COALESCE(NULLIF(` + alias + `.labels::jsonb ->> 'alertname', ''), ` + alias + `.summary)`
	}
	return `COALESCE(NULLIF(json_extract(` + alias + `.labels, '$.alertname'), ''), ` + alias + `.summary)`
}

// noiseScope is the report's alert set: the alerts seen in [since, until], of one service if set.
type noiseScope struct {
	s            *Store
	x            q
	since, until time.Time
	serviceID    string
}

// where is the condition (on alerts a) and its arguments.
func (n *noiseScope) where() (string, []any) {
	// The period is read as a range of last_seen_at: of the service's index (alerts_service_seen), or of each
	// status's range of alerts_status (every alert has one of the three; naming them lets the index be used).
	cond := `a.status IN ('firing', 'acknowledged', 'resolved') AND a.last_seen_at >= ? AND a.first_seen_at <= ?`
	args := []any{n.s.d.ts(n.since), n.s.d.ts(n.until)}
	if n.serviceID != "" {
		cond = `a.service_id = ? AND a.last_seen_at >= ? AND a.first_seen_at <= ?`
		args = append([]any{n.serviceID}, args...)
	}
	return cond, args
}

// NoiseReport computes the alert noise of a period.
func (s *Store) NoiseReport(ctx context.Context, f firebreak.NoiseFilter) (*firebreak.NoiseReport, error) {
	now := s.clock()
	until := now
	if f.Until != nil {
		until = f.Until.UTC().Truncate(time.Microsecond)
	}
	since := until.Add(-firebreak.DefaultNoisePeriod)
	if f.Since != nil {
		since = f.Since.UTC().Truncate(time.Microsecond)
	}
	if until.Before(since) {
		return nil, invalid("until", "must not be before since")
	}
	if until.Sub(since) > firebreak.MaxNoisePeriod {
		return nil, invalid("since", "the period must be at most %s", firebreak.ShortDuration(firebreak.MaxNoisePeriod))
	}
	x := s.read(ctx)
	n := &noiseScope{s: s, x: x, since: since, until: until}
	r := &firebreak.NoiseReport{Since: since, Until: until, Sources: []firebreak.NoiseSource{},
		Rules: []firebreak.NoiseRule{}, Flapping: []firebreak.NoiseAlert{}, NeverIncident: []firebreak.NoiseAlert{},
		AlertsPerIncident: firebreak.AlertsPerIncident{Top: []firebreak.NoiseIncident{}}}
	if svc := strings.TrimSpace(f.Service); svc != "" {
		err := x.row(`SELECT id FROM services WHERE slug = ?`, svc).Scan(&n.serviceID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("service %s not found", svc)
		}
		if err != nil {
			return nil, wrap(err, "noise report")
		}
		r.Service = svc
	}
	for _, step := range []func(*firebreak.NoiseReport) error{n.totals, n.perIncident, n.sources, n.rules,
		n.flapping, n.neverIncident} {
		if err := step(r); err != nil {
			return nil, wrap(err, "noise report")
		}
	}
	return r, nil
}

func (n *noiseScope) totals(r *firebreak.NoiseReport) error {
	cond, args := n.where()
	t := &r.Totals
	err := n.x.row(`SELECT COUNT(*), CAST(COALESCE(SUM(a.occurrences), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN a.incident_id IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN a.incident_id IS NULL THEN a.occurrences ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN a.flapped_at >= ? OR a.flapping_since IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(CASE WHEN a.maintenance_suppressions > 0 THEN 1 ELSE 0 END), 0) AS BIGINT),
		CAST(COALESCE(SUM(a.maintenance_suppressions), 0) AS BIGINT)
		FROM alerts a WHERE `+cond,
		append([]any{n.s.d.ts(n.since)}, args...)...).Scan(&t.Alerts, &t.Occurrences, &t.AlertsWithIncident,
		&t.OccurrencesWithoutIncident, &t.FlappingAlerts, &t.MaintenanceAlerts, &t.MaintenanceFirings)
	if err != nil {
		return err
	}
	t.AlertsWithoutIncident = t.Alerts - t.AlertsWithIncident
	opened := `SELECT COUNT(*) FROM incident_alert_groups ag WHERE ag.opened_at >= ? AND ag.opened_at <= ?`
	oargs := []any{n.s.d.ts(n.since), n.s.d.ts(n.until)}
	if n.serviceID != "" {
		opened += ` AND ag.service_id = ?`
		oargs = append(oargs, n.serviceID)
	}
	return n.x.row(opened, oargs...).Scan(&t.IncidentsOpened)
}

// perIncident is the distribution of alerts over the incidents declared in the period that have any (of the
// service, when one is set).
func (n *noiseScope) perIncident(r *firebreak.NoiseReport) error {
	inner := `SELECT a.incident_id AS incident_id, COUNT(*) AS n, SUM(a.occurrences) AS occ FROM alerts a
		JOIN incidents i ON i.id = a.incident_id
		WHERE i.created_at >= ? AND i.created_at <= ?`
	args := []any{n.s.d.ts(n.since), n.s.d.ts(n.until)}
	if n.serviceID != "" {
		inner += ` AND a.service_id = ?`
		args = append(args, n.serviceID)
	}
	inner += ` GROUP BY a.incident_id`
	d := &r.AlertsPerIncident
	var mean sql.NullFloat64
	var maxN sql.NullInt64
	if err := n.x.row(`SELECT COUNT(*), CAST(AVG(x.n) AS DOUBLE PRECISION), MAX(x.n) FROM (`+inner+`) x`,
		args...).Scan(&d.Incidents, &mean, &maxN); err != nil {
		return err
	}
	if d.Incidents == 0 {
		return nil
	}
	d.Mean, d.Max = mean.Float64, maxN.Int64
	if err := n.x.row(`SELECT x.n FROM (`+inner+`) x ORDER BY x.n LIMIT 1 OFFSET ?`,
		append(args, (d.Incidents-1)/2)...).Scan(&d.P50); err != nil {
		return err
	}
	rows, err := n.x.query(`SELECT i.id, i.number, i.title, i.severity, i.status, x.n, CAST(x.occ AS BIGINT)
		FROM (`+inner+`) x JOIN incidents i ON i.id = x.incident_id ORDER BY x.n DESC, i.number DESC LIMIT ?`,
		append(args, firebreak.NoiseTop)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var it firebreak.NoiseIncident
		var number int64
		if err := rows.Scan(&it.ID, &number, &it.Title, &it.Severity, &it.Status, &it.Alerts,
			&it.Occurrences); err != nil {
			return err
		}
		it.Reference = firebreak.IncidentRef(number)
		d.Top = append(d.Top, it)
	}
	return rows.Err()
}

func (n *noiseScope) sources(r *firebreak.NoiseReport) error {
	cond, args := n.where()
	rows, err := n.x.query(`SELECT g.id, g.name, g.kind, sv.slug, COUNT(*), CAST(SUM(a.occurrences) AS BIGINT),
		COUNT(DISTINCT a.incident_id)
		FROM alerts a JOIN integrations g ON g.id = a.integration_id JOIN services sv ON sv.id = g.service_id
		WHERE `+cond+` GROUP BY g.id, g.name, g.kind, sv.slug ORDER BY 5 DESC, 6 DESC, 1 LIMIT ?`,
		append(args, firebreak.NoiseTop)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var it firebreak.NoiseSource
		if err := rows.Scan(&it.IntegrationID, &it.Name, &it.Kind, &it.Service, &it.Alerts, &it.Occurrences,
			&it.Incidents); err != nil {
			return err
		}
		r.Sources = append(r.Sources, it)
	}
	return rows.Err()
}

func (n *noiseScope) rules(r *firebreak.NoiseReport) error {
	cond, args := n.where()
	rule := n.s.d.alertRule("a")
	rows, err := n.x.query(`SELECT `+rule+`, sv.slug, COUNT(*), CAST(SUM(a.occurrences) AS BIGINT),
		COUNT(DISTINCT a.incident_id)
		FROM alerts a JOIN integrations g ON g.id = a.integration_id JOIN services sv ON sv.id = g.service_id
		WHERE `+cond+` GROUP BY `+rule+`, sv.slug ORDER BY 3 DESC, 4 DESC, 1, 2 LIMIT ?`,
		append(args, firebreak.NoiseTop)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var it firebreak.NoiseRule
		if err := rows.Scan(&it.Rule, &it.Service, &it.Alerts, &it.Occurrences, &it.Incidents); err != nil {
			return err
		}
		r.Rules = append(r.Rules, it)
	}
	return rows.Err()
}

// noiseAlerts lists alerts of the scope that also meet extra, in order.
func (n *noiseScope) noiseAlerts(extra string, extraArgs []any, order string) ([]firebreak.NoiseAlert, error) {
	cond, args := n.where()
	args = append(append(args, extraArgs...), firebreak.NoiseTop)
	rows, err := n.x.query(`SELECT a.id, sv.slug, g.kind, a.dedup_key, a.summary, `+n.s.d.alertRule("a")+`,
		a.status, a.occurrences, a.last_seen_at, a.flapping_since, a.flapped_at, a.incident_id
		FROM alerts a JOIN integrations g ON g.id = a.integration_id JOIN services sv ON sv.id = g.service_id
		WHERE `+cond+` AND `+extra+` ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []firebreak.NoiseAlert{}
	for rows.Next() {
		var it firebreak.NoiseAlert
		var since *time.Time
		var incident sql.NullString
		if err := rows.Scan(&it.ID, &it.Service, &it.Source, &it.DedupKey, &it.Summary, &it.Rule, &it.Status,
			&it.Occurrences, tsCol(&it.LastSeenAt), ntsCol(&since), ntsCol(&it.FlappedAt), &incident); err != nil {
			return nil, err
		}
		it.Flapping, it.IncidentID = since != nil, incident.String
		out = append(out, it)
	}
	return out, rows.Err()
}

func (n *noiseScope) flapping(r *firebreak.NoiseReport) (err error) {
	r.Flapping, err = n.noiseAlerts(`(a.flapped_at >= ? OR a.flapping_since IS NOT NULL)`,
		[]any{n.s.d.ts(n.since)}, `a.flapped_at DESC, a.id DESC`)
	return err
}

func (n *noiseScope) neverIncident(r *firebreak.NoiseReport) (err error) {
	r.NeverIncident, err = n.noiseAlerts(`a.incident_id IS NULL`, nil,
		`a.occurrences DESC, a.last_seen_at DESC, a.id DESC`)
	return err
}
