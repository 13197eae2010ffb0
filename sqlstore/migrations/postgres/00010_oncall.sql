-- On-call: teams and their members, schedules (layers as JSON), overrides and calendar feed tokens.
-- Keep table for table, column for column the same as ../sqlite/00010_oncall.sql.

-- +goose Up
-- A service belongs to the team whose slug equals its owner_team (kept as free text for compatibility).
CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version    BIGINT NOT NULL
);

CREATE TABLE team_members (
    team_id    TEXT NOT NULL REFERENCES teams (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

-- layers: the JSON array of firebreak.Layer (rotation, length, start, handoff_time, participants as usernames,
-- restriction). They are always read and written whole, with the schedule, and validated in Go.
CREATE TABLE schedules (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    team_id     TEXT REFERENCES teams (id),
    time_zone   TEXT NOT NULL,
    layers      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX schedules_team ON schedules (team_id);

CREATE TABLE schedule_overrides (
    id          TEXT PRIMARY KEY,
    schedule_id TEXT NOT NULL REFERENCES schedules (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX schedule_overrides_schedule ON schedule_overrides (schedule_id, starts_at);

-- One secret per feed: kind 'schedule' (subject: schedule ID) or 'user' (subject: username). Reissuing replaces it.
CREATE TABLE schedule_feed_tokens (
    secret_hash TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (kind, subject)
);

-- +goose Down
DROP TABLE schedule_feed_tokens;
DROP TABLE schedule_overrides;
DROP TABLE schedules;
DROP TABLE team_members;
DROP TABLE teams;
