-- The metrics dashboard over a long history (issue 6). Keep table for table, column for column the same as
-- ../sqlite/00018_metrics_months.sql, which describes the indexes, the metrics_months table and its triggers. The
-- store's queries repeat the indexes' expressions exactly. A month is the UTC 'YYYY-MM' of the incident's start.
-- The triggers clear a month's row in the same transaction as any change to what it copies.

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
    generation  BIGINT NOT NULL DEFAULT 0,
    incidents   BYTEA,
    ttr         TEXT,
    as_of       TIMESTAMPTZ,
    valid_until TIMESTAMPTZ
);

-- +goose StatementBegin
CREATE FUNCTION metrics_months_touch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    months TEXT[] := '{}';
BEGIN
    IF TG_OP <> 'INSERT' THEN
        months := months || to_char(COALESCE(OLD.impact_started_at, OLD.detected_at, OLD.declared_at,
            OLD.created_at) AT TIME ZONE 'UTC', 'YYYY-MM');
    END IF;
    IF TG_OP <> 'DELETE' THEN
        months := months || to_char(COALESCE(NEW.impact_started_at, NEW.detected_at, NEW.declared_at,
            NEW.created_at) AT TIME ZONE 'UTC', 'YYYY-MM');
    END IF;
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL WHERE month = ANY (months);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER metrics_months_insert_delete AFTER INSERT OR DELETE ON incidents
    FOR EACH ROW EXECUTE FUNCTION metrics_months_touch();
CREATE TRIGGER metrics_months_update AFTER UPDATE OF id, number, severity, status, impact_started_at, detected_at,
    declared_at, acknowledged_at, mitigated_at, resolved_at, closed_at, created_at, updated_at ON incidents
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.number IS DISTINCT FROM NEW.number
        OR OLD.severity IS DISTINCT FROM NEW.severity OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.impact_started_at IS DISTINCT FROM NEW.impact_started_at
        OR OLD.detected_at IS DISTINCT FROM NEW.detected_at OR OLD.declared_at IS DISTINCT FROM NEW.declared_at
        OR OLD.acknowledged_at IS DISTINCT FROM NEW.acknowledged_at
        OR OLD.mitigated_at IS DISTINCT FROM NEW.mitigated_at OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at
        OR OLD.closed_at IS DISTINCT FROM NEW.closed_at OR OLD.created_at IS DISTINCT FROM NEW.created_at
        OR OLD.updated_at IS DISTINCT FROM NEW.updated_at)
    EXECUTE FUNCTION metrics_months_touch();

-- Services and post-mortems: the month of the incident they belong to.
-- +goose StatementBegin
CREATE FUNCTION metrics_months_touch_incident() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids TEXT[] := '{}';
BEGIN
    IF TG_OP <> 'INSERT' THEN
        ids := ids || OLD.incident_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        ids := ids || NEW.incident_id;
    END IF;
    UPDATE metrics_months SET generation = generation + 1, incidents = NULL, ttr = NULL
        WHERE month IN (SELECT to_char(COALESCE(impact_started_at, detected_at, declared_at, created_at)
            AT TIME ZONE 'UTC', 'YYYY-MM') FROM incidents WHERE id = ANY (ids));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER metrics_months_services AFTER INSERT OR UPDATE OR DELETE ON incident_services
    FOR EACH ROW EXECUTE FUNCTION metrics_months_touch_incident();
CREATE TRIGGER metrics_months_postmortems_insert_delete AFTER INSERT OR DELETE ON postmortems
    FOR EACH ROW EXECUTE FUNCTION metrics_months_touch_incident();
CREATE TRIGGER metrics_months_postmortems_update AFTER UPDATE OF incident_id, published_at ON postmortems
    FOR EACH ROW WHEN (OLD.incident_id IS DISTINCT FROM NEW.incident_id
        OR OLD.published_at IS DISTINCT FROM NEW.published_at)
    EXECUTE FUNCTION metrics_months_touch_incident();

-- +goose Down
DROP TRIGGER metrics_months_postmortems_update ON postmortems;
DROP TRIGGER metrics_months_postmortems_insert_delete ON postmortems;
DROP TRIGGER metrics_months_services ON incident_services;
DROP FUNCTION metrics_months_touch_incident();
DROP TRIGGER metrics_months_update ON incidents;
DROP TRIGGER metrics_months_insert_delete ON incidents;
DROP FUNCTION metrics_months_touch();
DROP TABLE metrics_months;
DROP INDEX incidents_unresolved;
DROP INDEX incidents_metrics_end;
DROP INDEX incidents_metrics_start;
CREATE INDEX incidents_metrics_start ON incidents (COALESCE(impact_started_at, detected_at, declared_at, created_at));
CREATE INDEX incidents_metrics_end ON incidents (COALESCE(resolved_at, closed_at, mitigated_at, updated_at));
CREATE INDEX incidents_unresolved ON incidents (number) WHERE resolved_at IS NULL AND closed_at IS NULL;
