-- Post-mortems: one per incident. The editable sections, the facts the draft was made from, the reviewers and
-- the lint results are one JSON document (document); the columns are what is filtered or ordered on.
-- Keep table for table, column for column the same as ../postgres/00007_postmortems.sql.

-- +goose Up
CREATE TABLE postmortems (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL UNIQUE REFERENCES incidents (id),
    status       TEXT NOT NULL,
    title        TEXT NOT NULL,
    document     TEXT NOT NULL,
    follow_up_at TEXT,
    published_at TEXT,
    closed_at    TEXT,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL
);
CREATE INDEX postmortems_status ON postmortems (status, follow_up_at);

-- Every saved version of a post-mortem (the whole document as it was saved), oldest first.
CREATE TABLE postmortem_revisions (
    postmortem_id TEXT NOT NULL REFERENCES postmortems (id),
    version       INTEGER NOT NULL,
    action        TEXT NOT NULL,
    author        TEXT NOT NULL DEFAULT '',
    saved_at      TEXT NOT NULL,
    document      TEXT NOT NULL,
    PRIMARY KEY (postmortem_id, version)
);

-- +goose Down
DROP TABLE postmortem_revisions;
DROP TABLE postmortems;
