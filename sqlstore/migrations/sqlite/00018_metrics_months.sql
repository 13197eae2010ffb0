-- The metrics dashboard over a long history (issue 6). Keep table for table, column for column the same as
-- ../postgres/00018_metrics_months.sql.
--
-- The window indexes of 00017 gain a second expression so that the window's three index ranges
-- (sqlstore/metrics.go, metricsWindow) test both ends of an incident's life in the index, and read the table only
-- for the incidents they return; the partial index of unresolved incidents leaves out the cancelled ones (2 % of
-- all incidents, which that range then read one by one only to drop them).
--
-- metrics_months: one row per calendar month (UTC, 'YYYY-MM': the month an incident started in, the first of
-- impact_started_at, detected_at, declared_at, created_at), caching what the dashboard reads of the months that
-- have ended (sqlstore/metrics_months.go; docs/METRICS.md, "Months kept for the dashboard"):
--   incidents: a copy of what the metrics read of every incident that started in the month (milestones,
--     created_at, updated_at, severity, status, number, services, its post-mortem's published_at), encoded;
--   ttr: the time to resolve of those incidents as of as_of (JSON, analysis.PeriodTTR), which stays exact at any
--     later moment before valid_until (the first resolved_at after as_of; NULL: none).
-- A reader creates the row of a month the first time it needs it, then fills these from the incidents it reads.
-- Every change to what they copy — an incident inserted or deleted or any of those columns changed, its services
-- changed, its post-mortem's published_at set or changed — bumps generation and clears both in the same
-- transaction, through the triggers below, for the month(s) the incident started in before and after the change.
-- A reader stores what it computed only if generation is still the one it read before reading the incidents.
-- Months without a row (the current one) cost a write nothing but an index probe.

-- +goose Up
DROP INDEX incidents_metrics_start;
DROP INDEX incidents_metrics_end;
DROP INDEX incidents_unresolved;
CREATE INDEX incidents_metrics_start ON incidents (COALESCE(impact_started_at, detected_at, declared_at, created_at),
    COALESCE(resolved_at, closed_at, mitigated_at, updated_at));
CREATE INDEX incidents_metrics_end ON incidents (COALESCE(resolved_at, closed_at, mitigated_at, updated_at),
    COALESCE(impact_started_at, detected_at, declared_at, created_at));
CREATE INDEX incidents_unresolved ON incidents (number)
    WHERE resolved_at IS NULL AND closed_at IS NULL AND status <> 'cancelled';

CREATE TABLE metrics_months (
    month       TEXT PRIMARY KEY,
    generation  INTEGER NOT NULL DEFAULT 0,
    incidents   BLOB,
    ttr         TEXT,
    as_of       TEXT,
    valid_until TEXT
);

-- +goose StatementBegin
CREATE TRIGGER metrics_months_ai AFTER INSERT ON incidents BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month = substr(COALESCE(NEW.impact_started_at, NEW.detected_at, NEW.declared_at, NEW.created_at), 1, 7);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER metrics_months_au AFTER UPDATE OF id, number, severity, status, impact_started_at, detected_at,
    declared_at, acknowledged_at, mitigated_at, resolved_at, closed_at, created_at, updated_at ON incidents
    WHEN OLD.id IS NOT NEW.id OR OLD.number IS NOT NEW.number OR OLD.severity IS NOT NEW.severity
        OR OLD.status IS NOT NEW.status OR OLD.impact_started_at IS NOT NEW.impact_started_at
        OR OLD.detected_at IS NOT NEW.detected_at OR OLD.declared_at IS NOT NEW.declared_at
        OR OLD.acknowledged_at IS NOT NEW.acknowledged_at OR OLD.mitigated_at IS NOT NEW.mitigated_at
        OR OLD.resolved_at IS NOT NEW.resolved_at OR OLD.closed_at IS NOT NEW.closed_at
        OR OLD.created_at IS NOT NEW.created_at OR OLD.updated_at IS NOT NEW.updated_at BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month IN (substr(COALESCE(OLD.impact_started_at, OLD.detected_at, OLD.declared_at, OLD.created_at), 1, 7),
            substr(COALESCE(NEW.impact_started_at, NEW.detected_at, NEW.declared_at, NEW.created_at), 1, 7));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER metrics_months_ad AFTER DELETE ON incidents BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month = substr(COALESCE(OLD.impact_started_at, OLD.detected_at, OLD.declared_at, OLD.created_at), 1, 7);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER metrics_months_services_ai AFTER INSERT ON incident_services BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month = (SELECT substr(COALESCE(impact_started_at, detected_at, declared_at, created_at), 1, 7)
            FROM incidents WHERE id = NEW.incident_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER metrics_months_services_au AFTER UPDATE ON incident_services BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month IN (SELECT substr(COALESCE(impact_started_at, detected_at, declared_at, created_at), 1, 7)
            FROM incidents WHERE id IN (OLD.incident_id, NEW.incident_id));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER metrics_months_services_ad AFTER DELETE ON incident_services BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month = (SELECT substr(COALESCE(impact_started_at, detected_at, declared_at, created_at), 1, 7)
            FROM incidents WHERE id = OLD.incident_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER metrics_months_postmortems_ai AFTER INSERT ON postmortems WHEN NEW.published_at IS NOT NULL BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month = (SELECT substr(COALESCE(impact_started_at, detected_at, declared_at, created_at), 1, 7)
            FROM incidents WHERE id = NEW.incident_id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER metrics_months_postmortems_au AFTER UPDATE OF incident_id, published_at ON postmortems
    WHEN OLD.incident_id IS NOT NEW.incident_id OR OLD.published_at IS NOT NEW.published_at BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month IN (SELECT substr(COALESCE(impact_started_at, detected_at, declared_at, created_at), 1, 7)
            FROM incidents WHERE id IN (OLD.incident_id, NEW.incident_id));
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER metrics_months_postmortems_ad AFTER DELETE ON postmortems WHEN OLD.published_at IS NOT NULL BEGIN
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month = (SELECT substr(COALESCE(impact_started_at, detected_at, declared_at, created_at), 1, 7)
            FROM incidents WHERE id = OLD.incident_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER metrics_months_postmortems_ad;
DROP TRIGGER metrics_months_postmortems_au;
DROP TRIGGER metrics_months_postmortems_ai;
DROP TRIGGER metrics_months_services_ad;
DROP TRIGGER metrics_months_services_au;
DROP TRIGGER metrics_months_services_ai;
DROP TRIGGER metrics_months_ad;
DROP TRIGGER metrics_months_au;
DROP TRIGGER metrics_months_ai;
DROP TABLE metrics_months;
DROP INDEX incidents_unresolved;
DROP INDEX incidents_metrics_end;
DROP INDEX incidents_metrics_start;
CREATE INDEX incidents_metrics_start ON incidents (COALESCE(impact_started_at, detected_at, declared_at, created_at));
CREATE INDEX incidents_metrics_end ON incidents (COALESCE(resolved_at, closed_at, mitigated_at, updated_at));
CREATE INDEX incidents_unresolved ON incidents (number) WHERE resolved_at IS NULL AND closed_at IS NULL;
