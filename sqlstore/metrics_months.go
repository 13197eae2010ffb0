package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

// Months kept for the dashboard (migration 00018, docs/METRICS.md "Months kept for the dashboard"). The dashboard
// reads the incidents of its window (25,000 in 90 days at 274 a day) and the time to resolve of each of the
// twelve months of its trend (100,000 incidents), most of them in months that have ended and rarely change.
// metrics_months keeps, per month that has ended, a copy of what the metrics read of its incidents
// (metrics_copy.go) and the summary of their time to resolve (analysis.PeriodTTR, exact at any later moment until
// its valid_until). The triggers of the migration clear both and bump the month's generation in the same
// transaction as any change to what they copy (by whichever replica). A reader creates a month's row before it
// reads the month's incidents, reads the generation before them, and stores what it computed only if the
// generation is still that one, so a change that commits in between is never lost; nothing is kept in memory.

// MonthlyResolveTimes returns the time to resolve as of asOf (analysis.ResolveTimes, OpenMaxAge measured to
// asOf) of the incidents that started in each of n consecutive UTC months, the first starting at from; every
// month must have ended by asOf. A month's stored summary is used when it holds at asOf; otherwise the month's
// incidents are read (start, resolved_at, status) and the summary computed and stored for later readers.
func (s *Store) MonthlyResolveTimes(ctx context.Context, from time.Time, n int, asOf time.Time) (
	[]analysis.Distribution, error) {
	from, asOf = from.UTC(), asOf.UTC()
	if n < 0 || !from.Equal(analysis.PeriodStart(analysis.ByMonth, from)) {
		return nil, invalid("from", "must be the start of a month")
	}
	if from.AddDate(0, n, 0).After(asOf) {
		return nil, invalid("as_of", "must be after the last month's end")
	}
	out := make([]analysis.Distribution, n)
	if n == 0 {
		return out, nil
	}
	start := func(i int) time.Time { return from.AddDate(0, i, 0) }
	key := func(i int) string { return analysis.PeriodKey(analysis.ByMonth, start(i)) }
	keys := make([]string, n)
	for i := range keys {
		keys[i] = key(i)
	}
	stored, err := s.metricsMonths(ctx, keys, false)
	if err != nil {
		return nil, err
	}
	var todo []int
	for i := range n {
		if r, ok := stored[key(i)]; ok && r.ttr != nil && r.ttr.ValidAt(asOf) {
			out[i] = r.ttr.At(asOf)
			continue
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return out, nil
	}
	if stored, err = s.ensureMetricsMonths(ctx, keys, stored, false); err != nil {
		return nil, err
	}
	var builds []monthSummary
	for _, i := range todo {
		gen := stored[key(i)].gen // read before the incidents below
		incs, err := s.IncidentStartsForMetrics(ctx, start(i), start(i+1))
		if err != nil {
			return nil, err
		}
		p := analysis.ResolveTimes(incs, asOf)
		out[i] = p.At(asOf)
		builds = append(builds, monthSummary{key(i), gen, p})
	}
	if err := s.saveMetricsMonths(ctx, builds); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The summaries are right; only keeping them failed (the next reader computes them again).
		s.log.Warn("storing the metrics' monthly summaries failed", "error", err)
	}
	return out, nil
}

// monthSummary is a month's summary computed from its incidents read after its generation gen.
type monthSummary struct {
	month string
	gen   int64
	ttr   analysis.PeriodTTR
}

// saveMetricsMonths stores summaries, each only if no incident of its month changed since its generation was
// read, and not over the summary of a later moment (another replica's clock may be ahead).
func (s *Store) saveMetricsMonths(ctx context.Context, sums []monthSummary) error {
	d := s.d
	return s.write(ctx, func(t *txn) error {
		for _, m := range sums {
			data, err := json.Marshal(m.ttr)
			if err != nil {
				return err
			}
			if _, err := t.exec(`UPDATE metrics_months SET ttr = ?, as_of = ?, valid_until = ?
				WHERE month = ? AND generation = ? AND (ttr IS NULL OR as_of < ?)`, string(data), d.ts(m.ttr.AsOf),
				d.nts(m.ttr.Until), m.month, m.gen, d.ts(m.ttr.AsOf)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ensureMetricsMonths creates the rows of the months of keys that stored (as metricsMonths read them) lacks,
// and returns the rows read again once they exist; with nothing missing it returns stored. A month gets its row
// before its incidents are read: from then on every change to them marks it.
func (s *Store) ensureMetricsMonths(ctx context.Context, keys []string, stored map[string]metricsMonth,
	incidents bool) (map[string]metricsMonth, error) {
	var missing []string
	for _, k := range keys {
		if _, ok := stored[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 {
		return stored, nil
	}
	err := s.write(ctx, func(t *txn) error {
		if s.d.name == dialectPostgres {
			// The transactions writing incidents at this moment found no row to mark: wait for them to commit
			// (SHARE conflicts with the ROW EXCLUSIVE lock they hold), so that the reads that follow see their
			// changes. It holds new incident writes back only until this commit. (Services and post-mortems are
			// written in transactions that write their incident too, or that wait for these rows.)
			if _, err := t.exec(`LOCK TABLE incidents, incident_services, postmortems IN SHARE MODE`); err != nil {
				return err
			}
		}
		for _, k := range missing {
			if _, err := t.exec(`INSERT INTO metrics_months (month) VALUES (?) ON CONFLICT (month) DO NOTHING`,
				k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap(err, "metrics months")
	}
	return s.metricsMonths(ctx, keys, incidents)
}

// metricsMonth is a row of metrics_months: its generation, its summary of the time to resolve (nil: none, or out
// of date) and its copy of the month's incidents (nil: none, not read, or out of date).
type metricsMonth struct {
	gen       int64
	ttr       *analysis.PeriodTTR
	incidents []byte
}

// metricsMonths reads the rows of metrics_months of the consecutive months keys, with the copies of their
// incidents only if incidents.
func (s *Store) metricsMonths(ctx context.Context, keys []string, incidents bool) (map[string]metricsMonth, error) {
	copyCol := "NULL"
	if incidents {
		copyCol = "incidents"
	}
	rows, err := s.read(ctx).query(`SELECT month, generation, ttr, as_of, valid_until, `+copyCol+`
		FROM metrics_months WHERE month >= ? AND month <= ?`, keys[0], keys[len(keys)-1])
	if err != nil {
		return nil, wrap(err, "metrics months")
	}
	defer rows.Close()
	out := map[string]metricsMonth{}
	for rows.Next() {
		var month string
		var r metricsMonth
		var data sql.NullString
		var asOf, until *time.Time
		if err := rows.Scan(&month, &r.gen, &data, ntsCol(&asOf), ntsCol(&until), &r.incidents); err != nil {
			return nil, wrap(err, "metrics months")
		}
		if data.Valid && asOf != nil {
			var p analysis.PeriodTTR
			if err := json.Unmarshal([]byte(data.String), &p); err != nil {
				s.log.Warn("unreadable monthly metrics summary; computing it again", "month", month, "error", err)
			} else {
				p.AsOf, p.Until = *asOf, until
				r.ttr = &p
			}
		}
		out[month] = r
	}
	return out, wrap(rows.Err(), "metrics months")
}

// IncidentsForDashboard is IncidentsForMetrics without the titles (Title is empty): the incidents that started
// in the months of the window that ended before to's month come from the copies metrics_months keeps (made, and
// kept for later readers, when missing or out of date), the others from the incidents table.
func (s *Store) IncidentsForDashboard(ctx context.Context, from, to time.Time) ([]firebreak.MetricsIncident, error) {
	if !from.Before(to) {
		return nil, invalid("to", "must be after from")
	}
	from, to = from.UTC(), to.UTC()
	d := s.d
	lo := from // where the incidents read from the table start
	var incs []metricsIncident
	if first, cur := analysis.PeriodStart(analysis.ByMonth, from), analysis.PeriodStart(analysis.ByMonth, to); first.Before(cur) {
		lo = cur
		copies, err := s.monthIncidents(ctx, first, cur)
		if err != nil {
			return nil, err
		}
		// The window's rule (metricsWindow's first part) on the copies.
		n := 0
		for _, month := range copies {
			n += len(month)
		}
		incs = make([]metricsIncident, 0, n+n/4)
		for _, month := range copies {
			for i := range month {
				inc := &month[i]
				if analysis.StartOf(&inc.MetricsIncident).Before(from) {
					continue
				}
				ms := &inc.Milestones
				if inc.end().Before(from) && (ms.ResolvedAt != nil || ms.ClosedAt != nil ||
					inc.Status == firebreak.StatusCancelled) {
					continue
				}
				incs = append(incs, *inc)
			}
		}
	}
	rest, err := s.readMetrics(ctx, false, `SELECT i.*, x.service_slug, pm.published_at, x.position
		FROM (`+d.metricsWindow(metricsCols(false))+`)`+d.metricsJoins(), d.ts(lo), d.ts(to), d.ts(from), d.ts(from),
		d.ts(from), d.ts(from), d.ts(from))
	if err != nil {
		return nil, err
	}
	if len(incs) == 0 {
		return s.withTeams(ctx, rest)
	}
	return s.withTeams(ctx, append(incs, rest...))
}

// monthIncidents returns the incidents that started in each month from first to last (exclusive), from the
// months' copies, making and keeping those missing or out of date.
func (s *Store) monthIncidents(ctx context.Context, first, last time.Time) ([][]metricsIncident, error) {
	var starts []time.Time
	var keys []string
	for m := first; m.Before(last); m = m.AddDate(0, 1, 0) {
		starts = append(starts, m)
		keys = append(keys, analysis.PeriodKey(analysis.ByMonth, m))
	}
	stored, err := s.metricsMonths(ctx, keys, true)
	if err != nil {
		return nil, err
	}
	out := make([][]metricsIncident, len(keys))
	var todo []int
	for i, k := range keys {
		if data := stored[k].incidents; data != nil {
			if out[i], err = decodeIncidents(data); err == nil {
				continue
			}
			s.log.Warn("unreadable copy of a month's incidents; reading them again", "month", k, "error", err)
		}
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return out, nil
	}
	if stored, err = s.ensureMetricsMonths(ctx, keys, stored, false); err != nil {
		return nil, err
	}
	var copies []monthCopy
	d := s.d
	for _, i := range todo {
		gen := stored[keys[i]].gen // read before the incidents below
		incs, err := s.readMetrics(ctx, false, `SELECT i.*, x.service_slug, pm.published_at, x.position
			FROM (SELECT `+metricsCols(false)+` FROM incidents WHERE `+metricsStart+` >= ? AND `+metricsStart+` < ?)`+
			d.metricsJoins(), d.ts(starts[i]), d.ts(starts[i].AddDate(0, 1, 0)))
		if err != nil {
			return nil, err
		}
		out[i] = incs
		copies = append(copies, monthCopy{keys[i], gen, encodeIncidents(incs)})
	}
	err = s.write(ctx, func(t *txn) error {
		for _, c := range copies {
			if _, err := t.exec(`UPDATE metrics_months SET incidents = ? WHERE month = ? AND generation = ?`,
				c.data, c.month, c.gen); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s.log.Warn("storing the copies of months' incidents failed", "error", err)
	}
	return out, nil
}

// monthCopy is a month's encoded incidents, read after its generation gen.
type monthCopy struct {
	month string
	gen   int64
	data  []byte
}
