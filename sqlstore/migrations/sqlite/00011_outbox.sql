-- Notification channels, the durable outbox of notifications, per-destination circuit breakers and update
-- reminders. Keep table for table, column for column the same as ../postgres/00011_outbox.sql.

-- +goose Up
-- A channel is a destination (notify.Destination) with a name. url and secret are secrets: the API masks them.
-- dest_key is notify.Destination.Key() (kind + hash of the URL or address), the breaker's and limiter's key.
CREATE TABLE channels (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    url        TEXT NOT NULL DEFAULT '',
    address    TEXT NOT NULL DEFAULT '',
    secret     TEXT NOT NULL DEFAULT '',
    dest_key   TEXT NOT NULL,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

-- The announcement channels of a service.
CREATE TABLE service_channels (
    service_id TEXT NOT NULL REFERENCES services (id),
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, channel_id)
);
CREATE INDEX service_channels_channel ON service_channels (channel_id);

-- The outbox. id is the idempotency key sent on every attempt. message: notify.Message as JSON; last_attempt:
-- notify.Attempt as JSON. status: queued | sending | retrying | delivered | dead. While sending, next_attempt_at
-- is the claim's lease: a replica that dies mid-attempt leaves a row that is due again when the lease ends.
CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    channel_id      TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    incident_id     TEXT REFERENCES incidents (id),
    kind            TEXT NOT NULL,
    message         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_attempt    TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    delivered_at    TEXT,
    dead_at         TEXT
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status IN ('queued', 'sending', 'retrying');
CREATE INDEX notifications_incident ON notifications (incident_id, created_at);
CREATE INDEX notifications_status ON notifications (status, created_at);

-- One circuit breaker per destination key: notify.BreakerSnapshot as JSON, shared by every replica.
CREATE TABLE destination_breakers (
    key        TEXT PRIMARY KEY,
    snapshot   TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The next update reminder of an open incident whose severity has a reminder cadence.
CREATE TABLE reminders (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    due_at      TEXT NOT NULL
);
CREATE INDEX reminders_due ON reminders (due_at);

-- +goose Down
DROP TABLE reminders;
DROP TABLE destination_breakers;
DROP TABLE notifications;
DROP TABLE service_channels;
DROP TABLE channels;
