-- Noise control: flap detection and maintenance-window suppression on alerts, and maintenance windows.
-- Keep table for table, column for column the same as ../sqlite/00006_noise.sql.

-- +goose Up
-- transitions: JSON array of the times of the alert's recent state changes (firing <-> resolved), oldest first,
-- at most the flapping policy's toggles + 1. flapping_since: set while the alert is flapping. flapped_at: when it
-- was last marked flapping (kept after it stops, for the noise report). suppressed: why its last firing paged
-- nobody ('' | 'maintenance' | 'flapping'); maintenance_window_id: the window, for 'maintenance'.
-- maintenance_suppressions: how many of its firings maintenance suppressed.
ALTER TABLE alerts ADD COLUMN transitions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE alerts ADD COLUMN flapping_since TIMESTAMPTZ;
ALTER TABLE alerts ADD COLUMN flapped_at TIMESTAMPTZ;
ALTER TABLE alerts ADD COLUMN suppressed TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN maintenance_window_id TEXT;
ALTER TABLE alerts ADD COLUMN maintenance_suppressions BIGINT NOT NULL DEFAULT 0;
CREATE INDEX alerts_first_seen ON alerts (first_seen_at);
CREATE INDEX alerts_flapped ON alerts (flapped_at);

-- Maintenance windows are never deleted: cancelling sets cancelled_at.
CREATE TABLE maintenance_windows (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    starts_at    TIMESTAMPTZ NOT NULL,
    ends_at      TIMESTAMPTZ NOT NULL,
    cancelled_at TIMESTAMPTZ,
    created_by   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL
);
CREATE INDEX maintenance_windows_starts ON maintenance_windows (starts_at, id);
CREATE INDEX maintenance_windows_ends ON maintenance_windows (ends_at);

CREATE TABLE maintenance_window_services (
    window_id  TEXT NOT NULL REFERENCES maintenance_windows (id),
    service_id TEXT NOT NULL REFERENCES services (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (window_id, service_id)
);
CREATE INDEX maintenance_window_services_service ON maintenance_window_services (service_id, window_id);

-- +goose Down
DROP TABLE maintenance_window_services;
DROP TABLE maintenance_windows;
DROP INDEX alerts_flapped;
DROP INDEX alerts_first_seen;
ALTER TABLE alerts DROP COLUMN maintenance_suppressions;
ALTER TABLE alerts DROP COLUMN maintenance_window_id;
ALTER TABLE alerts DROP COLUMN suppressed;
ALTER TABLE alerts DROP COLUMN flapped_at;
ALTER TABLE alerts DROP COLUMN flapping_since;
ALTER TABLE alerts DROP COLUMN transitions;
