-- Related and recurring incidents, and the metrics' window indexes (issue 6). Keep table for table, column for
-- column the same as ../sqlite/00017_related.sql, which describes the tables and indexes. The store's queries
-- repeat the indexes' expressions exactly.

-- +goose Up
CREATE INDEX incidents_metrics_start ON incidents (COALESCE(impact_started_at, detected_at, declared_at, created_at));
CREATE INDEX incidents_metrics_end ON incidents (COALESCE(resolved_at, closed_at, mitigated_at, updated_at));
CREATE INDEX incidents_unresolved ON incidents (number) WHERE resolved_at IS NULL AND closed_at IS NULL;

CREATE INDEX timeline_events_alert ON timeline_events (((data::jsonb) ->> 'alert_id'), incident_id)
    WHERE kind = 'alert_attached';

CREATE TABLE recurrence_checks (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    due_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX recurrence_checks_due ON recurrence_checks (due_at);

CREATE TABLE incident_recurrences (
    incident_id        TEXT PRIMARY KEY REFERENCES incidents (id),
    of_incident_id     TEXT NOT NULL REFERENCES incidents (id),
    similarity         DOUBLE PRECISION NOT NULL,
    open_items         INTEGER NOT NULL,
    message            TEXT NOT NULL,
    detected_at        TIMESTAMPTZ NOT NULL,
    notified_commander TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_recurrences_of ON incident_recurrences (of_incident_id);
-- Action items that still count against a recurrence (open, in progress, done but not verified): few, so the
-- recurrence check finds the earlier incidents that have them at once.
CREATE INDEX action_items_unverified ON action_items (incident_id) WHERE status IN ('open', 'in_progress', 'done');

-- +goose Down
DROP INDEX action_items_unverified;
DROP TABLE incident_recurrences;
DROP TABLE recurrence_checks;
DROP INDEX timeline_events_alert;
DROP INDEX incidents_unresolved;
DROP INDEX incidents_metrics_end;
DROP INDEX incidents_metrics_start;
