-- Change control during incidents and runbooks. Keep table for table, column for column the same as
-- ../sqlite/00015_runbooks.sql.
--
-- change_proposals: production changes proposed during an incident; state proposed → approved | rejected |
-- withdrawn, decided_by/decided_at/note record the decision. Each step is also a timeline event.
--
-- runbooks: Markdown procedures per service. version counts content versions (runbook_revisions keeps each one
-- whole); a review sets last_reviewed_at/by without a new version. A runbook is stale when its last review (or,
-- never reviewed, its creation) is more than 90 days old or older than services.architecture_changed_at.
-- Runbooks are searchable: search_docs rows of kind 'runbook' (incident_id '') kept by the store.

-- +goose Up
CREATE TABLE change_proposals (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    action      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    risk        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    proposed_at TIMESTAMPTZ NOT NULL,
    decided_by  TEXT NOT NULL DEFAULT '',
    decided_at  TIMESTAMPTZ,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX change_proposals_incident ON change_proposals (incident_id, proposed_at);

ALTER TABLE services ADD COLUMN architecture_changed_at TIMESTAMPTZ;

CREATE TABLE runbooks (
    id               TEXT PRIMARY KEY,
    service_id       TEXT NOT NULL REFERENCES services (id),
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    owner            TEXT NOT NULL,
    last_reviewed_at TIMESTAMPTZ,
    last_reviewed_by TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL
);
CREATE INDEX runbooks_service ON runbooks (service_id, title);

CREATE TABLE runbook_revisions (
    runbook_id TEXT NOT NULL REFERENCES runbooks (id),
    version    BIGINT NOT NULL,
    service_id TEXT NOT NULL REFERENCES services (id),
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    author     TEXT NOT NULL,
    saved_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (runbook_id, version)
);

-- +goose Down
DROP TABLE runbook_revisions;
DROP TABLE runbooks;
ALTER TABLE services DROP COLUMN architecture_changed_at;
DROP TABLE change_proposals;
