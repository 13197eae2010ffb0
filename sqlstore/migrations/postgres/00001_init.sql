-- Firebreak schema, PostgreSQL flavour. Keep it table for table, column for column the same as
-- ../sqlite/00001_init.sql: timestamps are timestamptz, booleans boolean, JSON is text.

-- +goose Up
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident_number', 0);

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    owner_team  TEXT NOT NULL DEFAULT '',
    tier        INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    runbook_url TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX services_owner_team ON services (owner_team, slug);

CREATE TABLE service_dependencies (
    service_id      TEXT NOT NULL REFERENCES services (id),
    position        INTEGER NOT NULL,
    depends_on_slug TEXT NOT NULL REFERENCES services (slug),
    PRIMARY KEY (service_id, position)
);

CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,
    number            BIGINT NOT NULL UNIQUE,
    title             TEXT NOT NULL,
    summary           TEXT NOT NULL DEFAULT '',
    severity          TEXT NOT NULL,
    status            TEXT NOT NULL,
    commander         TEXT NOT NULL DEFAULT '',
    tech_lead         TEXT NOT NULL DEFAULT '',
    comms_lead        TEXT NOT NULL DEFAULT '',
    impact_started_at TIMESTAMPTZ,
    detected_at       TIMESTAMPTZ,
    declared_at       TIMESTAMPTZ,
    acknowledged_at   TIMESTAMPTZ,
    mitigated_at      TIMESTAMPTZ,
    resolved_at       TIMESTAMPTZ,
    closed_at         TIMESTAMPTZ,
    created_by        TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    version           BIGINT NOT NULL
);
CREATE INDEX incidents_status ON incidents (status, number);
CREATE INDEX incidents_declared_at ON incidents (declared_at);

CREATE TABLE incident_services (
    incident_id  TEXT NOT NULL REFERENCES incidents (id),
    position     INTEGER NOT NULL,
    service_slug TEXT NOT NULL REFERENCES services (slug),
    PRIMARY KEY (incident_id, position)
);
CREATE INDEX incident_services_slug ON incident_services (service_slug, incident_id);

CREATE TABLE timeline_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    occurred_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    kind        TEXT NOT NULL,
    message     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    starred     BOOLEAN NOT NULL DEFAULT FALSE,
    data        TEXT
);
CREATE INDEX timeline_events_incident ON timeline_events (incident_id, occurred_at, id);

CREATE TABLE status_updates (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    message     TEXT NOT NULL,
    audience    TEXT NOT NULL,
    status      TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX status_updates_incident ON status_updates (incident_id, created_at, id);

CREATE TABLE action_items (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    title       TEXT NOT NULL,
    owner       TEXT NOT NULL DEFAULT '',
    due_date    TEXT NOT NULL DEFAULT '',
    priority    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX action_items_incident ON action_items (incident_id, created_at, id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL DEFAULT '',
    role          TEXT NOT NULL,
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    secret_hash TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, expires_at);

CREATE TABLE idempotency_keys (
    username     TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    kind         TEXT NOT NULL,
    resource_id  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (username, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE sessions;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE action_items;
DROP TABLE status_updates;
DROP TABLE timeline_events;
DROP TABLE incident_services;
DROP TABLE incidents;
DROP TABLE service_dependencies;
DROP TABLE services;
DROP TABLE counters;
