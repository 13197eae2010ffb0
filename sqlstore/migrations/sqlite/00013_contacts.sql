-- People are reachable: a user's contact methods are channels owned by that user (channels.user_id; shared
-- channels have none), teams announce to channels like services do, and every notification about an open
-- incident carries a one-click acknowledgement link whose token is stored here hashed, with its expiry and its
-- single use. Keep table for table, column for column the same as ../postgres/00013_contacts.sql.

-- +goose Up
ALTER TABLE channels ADD COLUMN user_id TEXT REFERENCES users (id);
CREATE INDEX channels_user ON channels (user_id);

-- The announcement channels of a team (overdue action items of its members, team-wide announcements).
CREATE TABLE team_channels (
    team_id    TEXT NOT NULL REFERENCES teams (id),
    channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, channel_id)
);
CREATE INDEX team_channels_channel ON team_channels (channel_id);

-- token_hash: SHA-256 of the link's secret (the secret itself is only in the sent message). used_at/used_by:
-- the link acknowledges once; a second use is refused.
CREATE TABLE ack_tokens (
    token_hash      TEXT PRIMARY KEY,
    incident_id     TEXT NOT NULL REFERENCES incidents (id),
    notification_id TEXT NOT NULL DEFAULT '',
    recipient       TEXT NOT NULL DEFAULT '',
    expires_at      TEXT NOT NULL,
    used_at         TEXT,
    used_by         TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL
);
CREATE INDEX ack_tokens_incident ON ack_tokens (incident_id);

-- +goose Down
DROP TABLE ack_tokens;
DROP TABLE team_channels;
DROP INDEX channels_user;
ALTER TABLE channels DROP COLUMN user_id;
