-- Alert intake: integrations (a monitoring tool's way in, per service) and the deduplicated alerts they deliver.
-- Keep table for table, column for column the same as ../postgres/00002_alerts.sql.

-- +goose Up
-- secret_hash is SHA-256 (hex) of the integration key; the key itself is never stored. signature_secret is the
-- Grafana webhook HMAC key: it must be usable to verify signatures, so it is stored as given (not a password).
CREATE TABLE integrations (
    id               TEXT PRIMARY KEY,
    service_id       TEXT NOT NULL REFERENCES services (id),
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    secret_hash      TEXT NOT NULL UNIQUE,
    signature_secret TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL
);
CREATE INDEX integrations_service ON integrations (service_id, created_at, id);

-- labels, annotations: JSON objects; links: JSON array; details: compact JSON or ''.
CREATE TABLE alerts (
    id             TEXT PRIMARY KEY,
    integration_id TEXT NOT NULL REFERENCES integrations (id),
    dedup_key      TEXT NOT NULL,
    status         TEXT NOT NULL,
    summary        TEXT NOT NULL DEFAULT '',
    severity       TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    labels         TEXT NOT NULL DEFAULT '{}',
    annotations    TEXT NOT NULL DEFAULT '{}',
    details        TEXT NOT NULL DEFAULT '',
    links          TEXT NOT NULL DEFAULT '[]',
    first_seen_at  TEXT NOT NULL,
    last_seen_at   TEXT NOT NULL,
    resolved_at    TEXT,
    occurrences    INTEGER NOT NULL,
    incident_id    TEXT REFERENCES incidents (id),
    UNIQUE (integration_id, dedup_key)
);
CREATE INDEX alerts_last_seen ON alerts (last_seen_at, id);
CREATE INDEX alerts_status ON alerts (status, last_seen_at, id);
CREATE INDEX alerts_incident ON alerts (incident_id);

-- +goose Down
DROP TABLE alerts;
DROP TABLE integrations;
