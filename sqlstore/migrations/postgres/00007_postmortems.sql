-- Post-mortems: one per incident. The editable sections, the facts the draft was made from, the reviewers and
-- the lint results are one JSON document (document); the columns are what is filtered or ordered on.
-- Keep table for table, column for column the same as ../sqlite/00007_postmortems.sql.

-- +goose Up
CREATE TABLE postmortems (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL UNIQUE REFERENCES incidents (id),
    status       TEXT NOT NULL,
    title        TEXT NOT NULL,
    document     TEXT NOT NULL,
    follow_up_at TIMESTAMPTZ,
    published_at TIMESTAMPTZ,
    closed_at    TIMESTAMPTZ,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL
);
CREATE INDEX postmortems_status ON postmortems (status, follow_up_at);

-- Every saved version of a post-mortem (the whole document as it was saved), oldest first.
CREATE TABLE postmortem_revisions (
    postmortem_id TEXT NOT NULL REFERENCES postmortems (id),
    version       BIGINT NOT NULL,
    action        TEXT NOT NULL,
    author        TEXT NOT NULL DEFAULT '',
    saved_at      TIMESTAMPTZ NOT NULL,
    document      TEXT NOT NULL,
    PRIMARY KEY (postmortem_id, version)
);

-- +goose Down
DROP TABLE postmortem_revisions;
DROP TABLE postmortems;
