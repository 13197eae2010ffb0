-- Escalation policies (ordered steps with a delay and targets, repeated), the policy a service pages with, the
-- escalations running for incidents and the severity escalation criteria watching them, both as rows with a due
-- time that the engine claims. Keep table for table, column for column the same as ../postgres/00014_escalation.sql.

-- +goose Up
CREATE TABLE escalation_policies (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    description  TEXT NOT NULL DEFAULT '',
    repeat_count INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);

-- delay_ms: how long the step waits for an acknowledgement before the next one.
CREATE TABLE escalation_steps (
    policy_id TEXT NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    delay_ms  INTEGER NOT NULL,
    PRIMARY KEY (policy_id, position)
);

-- One target of a step: exactly one of user_id, schedule_id, channel_id is set (kind says which). A deleted
-- schedule or channel leaves the steps that named it.
CREATE TABLE escalation_targets (
    policy_id   TEXT NOT NULL REFERENCES escalation_policies (id) ON DELETE CASCADE,
    step        INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    user_id     TEXT REFERENCES users (id) ON DELETE CASCADE,
    schedule_id TEXT REFERENCES schedules (id) ON DELETE CASCADE,
    channel_id  TEXT REFERENCES channels (id) ON DELETE CASCADE,
    PRIMARY KEY (policy_id, step, position)
);
CREATE INDEX escalation_targets_user ON escalation_targets (user_id);
CREATE INDEX escalation_targets_schedule ON escalation_targets (schedule_id);
CREATE INDEX escalation_targets_channel ON escalation_targets (channel_id);

ALTER TABLE services ADD COLUMN escalation_policy_id TEXT REFERENCES escalation_policies (id);
CREATE INDEX services_escalation_policy ON services (escalation_policy_id);

-- A running escalation: the next step to fire (round_no, step_no; step_no = the number of steps means "the last
-- step's delay has passed": repeat or exhaust) and when. While an engine holds it, due_at is its lease: a replica
-- that dies mid-step leaves it due again when the lease ends. Firing compares round_no and step_no, so each
-- (incident, round, step) fires once.
CREATE TABLE escalations (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    policy_id   TEXT NOT NULL REFERENCES escalation_policies (id),
    round_no    INTEGER NOT NULL,
    step_no     INTEGER NOT NULL,
    due_at      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    PRIMARY KEY (incident_id, policy_id)
);
CREATE INDEX escalations_due ON escalations (due_at);
CREATE INDEX escalations_policy ON escalations (policy_id);

-- A severity escalation criterion of an incident: due_at while armed (or leased), fired_at once it fired (it never
-- fires again for that incident).
CREATE TABLE escalation_criteria (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    criterion   TEXT NOT NULL,
    due_at      TEXT,
    fired_at    TEXT,
    PRIMARY KEY (incident_id, criterion)
);
CREATE INDEX escalation_criteria_due ON escalation_criteria (due_at) WHERE due_at IS NOT NULL;

-- +goose Down
DROP TABLE escalation_criteria;
DROP TABLE escalations;
DROP INDEX services_escalation_policy;
ALTER TABLE services DROP COLUMN escalation_policy_id;
DROP TABLE escalation_targets;
DROP TABLE escalation_steps;
DROP TABLE escalation_policies;
