-- Health probes: their configuration and schedule, their latest results (a ring buffer) and hourly statistics.
-- Keep table for table, column for column the same as ../postgres/00005_probes.sql.

-- +goose Up
-- headers: JSON object; conditions: JSON array of strings; last_result: firebreak.ProbeResult as JSON (NULL before
-- the first result). result_seq counts the results ever recorded; next_run_at is when the probe is next due.
CREATE TABLE probes (
    id                    TEXT PRIMARY KEY,
    service_id            TEXT NOT NULL REFERENCES services (id),
    name                  TEXT NOT NULL,
    url                   TEXT NOT NULL,
    kind                  TEXT NOT NULL,
    method                TEXT NOT NULL DEFAULT '',
    headers               TEXT NOT NULL DEFAULT '{}',
    body                  TEXT NOT NULL DEFAULT '',
    interval_ms           INTEGER NOT NULL,
    timeout_ms            INTEGER NOT NULL,
    conditions            TEXT NOT NULL DEFAULT '[]',
    failure_threshold     INTEGER NOT NULL,
    success_threshold     INTEGER NOT NULL,
    severity              TEXT NOT NULL,
    insecure_skip_verify  INTEGER NOT NULL DEFAULT 0,
    enabled               INTEGER NOT NULL DEFAULT 1,
    state                 TEXT NOT NULL DEFAULT 'unknown',
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    consecutive_successes INTEGER NOT NULL DEFAULT 0,
    last_result           TEXT,
    result_seq            INTEGER NOT NULL DEFAULT 0,
    next_run_at           TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    UNIQUE (service_id, name)
);
CREATE INDEX probes_due ON probes (enabled, next_run_at);

-- The latest firebreak.ProbeRecentResults results of each probe: result number seq goes to slot
-- seq % ProbeRecentResults, overwriting the oldest. failed_conditions: JSON array of strings.
CREATE TABLE probe_results (
    probe_id          TEXT NOT NULL REFERENCES probes (id),
    slot              INTEGER NOT NULL,
    seq               INTEGER NOT NULL,
    at                TEXT NOT NULL,
    success           INTEGER NOT NULL,
    latency_ms        REAL NOT NULL,
    status_code       INTEGER NOT NULL DEFAULT 0,
    error             TEXT NOT NULL DEFAULT '',
    failed_conditions TEXT NOT NULL DEFAULT '[]',
    cert_expires_at   TEXT,
    PRIMARY KEY (probe_id, slot)
);

-- Per probe and clock hour: checks, successes and a latency histogram (JSON object: bucket → count, bucket
-- i holding latencies in (1.1^(i-1), 1.1^i] ms). Pruned after 8 days.
CREATE TABLE probe_rollups (
    probe_id  TEXT NOT NULL REFERENCES probes (id),
    hour      TEXT NOT NULL,
    checks    INTEGER NOT NULL,
    successes INTEGER NOT NULL,
    histogram TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (probe_id, hour)
);
CREATE INDEX probe_rollups_hour ON probe_rollups (hour);

-- At most one hidden probe integration per service.
CREATE UNIQUE INDEX integrations_probe ON integrations (service_id) WHERE kind = 'probe';

-- +goose Down
DROP INDEX integrations_probe;
DROP TABLE probe_rollups;
DROP TABLE probe_results;
DROP TABLE probes;
