-- Change events (deploys, config pushes …) reported through an integration, for "what changed before this?".
-- Keep table for table, column for column the same as ../postgres/00004_changes.sql.
-- Change events have no deduplication key: every delivery is a row of its own.

-- +goose Up
-- details: compact JSON or ''; links: JSON array.
CREATE TABLE changes (
    id             TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    service_id     TEXT NOT NULL REFERENCES services (id),
    summary        TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    details        TEXT NOT NULL DEFAULT '',
    links          TEXT NOT NULL DEFAULT '[]',
    occurred_at    TEXT NOT NULL,
    recorded_at    TEXT NOT NULL
);
CREATE INDEX changes_occurred ON changes (occurred_at, id);
CREATE INDEX changes_service ON changes (service_id, occurred_at, id);

-- +goose Down
DROP TABLE changes;
