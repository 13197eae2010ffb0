package sqlstore

import (
	"context"
	"time"

	"github.com/firebreak/firebreak/analysis"
)

// SaveMonthlySummary stores a month's summary as MonthlyResolveTimes does after reading the month's incidents
// following generation gen (stored only if the month's generation is still gen).
func SaveMonthlySummary(ctx context.Context, s *Store, month string, gen int64, p analysis.PeriodTTR) error {
	return s.saveMetricsMonths(ctx, []monthSummary{{month: month, gen: gen, ttr: p}})
}

// SaveMonthCopy reads the incidents that started in the month from the table and stores their copy as
// IncidentsForDashboard does after reading generation gen (stored only if the month's generation is still gen).
func SaveMonthCopy(ctx context.Context, s *Store, month time.Time, gen int64) error {
	d := s.d
	incs, err := s.readMetrics(ctx, false, `SELECT i.*, x.service_slug, pm.published_at, x.position
		FROM (SELECT `+metricsCols(false)+` FROM incidents WHERE `+metricsStart+` >= ? AND `+metricsStart+` < ?)`+
		d.metricsJoins(), d.ts(month), d.ts(month.AddDate(0, 1, 0)))
	if err != nil {
		return err
	}
	return Exec(ctx, s, `UPDATE metrics_months SET incidents = ? WHERE month = ? AND generation = ?`,
		encodeIncidents(incs), month.Format("2006-01"), gen)
}
