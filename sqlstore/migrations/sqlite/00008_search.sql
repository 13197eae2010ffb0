-- Knowledge-base search: one row per searchable piece of a document (an incident's title and summary, each
-- timeline message, each status update; later a post-mortem's sections), kept in sync with its source tables by
-- triggers in the writing transaction, and indexed with FTS5 (search_fts, an external-content index over
-- search_docs). "Alert joined" timeline entries are not indexed: a storm writes thousands of them and their text is
-- the alert's summary, not anything a person wrote. Keep table for table, column for column the same as ../postgres/00008_search.sql (PostgreSQL
-- indexes the same columns with a GIN expression index instead of the FTS5 table).
--
-- kind/doc_id name the document a hit links to ('incident' + incidents.id; a future 'postmortem' + its id);
-- incident_id is the incident the document belongs to (for the service, severity and date filters);
-- part/part_id name the piece ('incident' | 'timeline' | 'status_update' and the source row's id);
-- title is the document's title (only on the document's own row), body its text, and context the incident's
-- title repeated on every other row, so that a query whose words are split between the title and a timeline
-- message still matches.

-- +goose Up
CREATE TABLE search_docs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    part        TEXT NOT NULL,
    part_id     TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    context     TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX search_docs_part ON search_docs (kind, doc_id, part, part_id);
CREATE INDEX search_docs_incident ON search_docs (incident_id);

CREATE VIRTUAL TABLE search_fts USING fts5(title, body, context, content = 'search_docs', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2');

-- +goose StatementBegin
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, title, body, context) VALUES (NEW.id, NEW.title, NEW.body, NEW.context);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body, context)
        VALUES ('delete', OLD.id, OLD.title, OLD.body, OLD.context);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body, context)
        VALUES ('delete', OLD.id, OLD.title, OLD.body, OLD.context);
    INSERT INTO search_fts (rowid, title, body, context) VALUES (NEW.id, NEW.title, NEW.body, NEW.context);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER search_incidents_ai AFTER INSERT ON incidents BEGIN
    INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
        VALUES ('incident', NEW.id, NEW.id, 'incident', NEW.id, NEW.title, NEW.summary, '');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_incidents_au AFTER UPDATE OF title, summary ON incidents
    WHEN OLD.title IS NOT NEW.title OR OLD.summary IS NOT NEW.summary BEGIN
    UPDATE search_docs SET title = NEW.title, body = NEW.summary
        WHERE kind = 'incident' AND doc_id = NEW.id AND part = 'incident';
    UPDATE search_docs SET context = NEW.title
        WHERE kind = 'incident' AND doc_id = NEW.id AND part <> 'incident' AND OLD.title IS NOT NEW.title;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_timeline_ai AFTER INSERT ON timeline_events
    WHEN NEW.message <> '' AND NEW.kind <> 'alert_attached' BEGIN
    INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
        SELECT 'incident', i.id, i.id, 'timeline', CAST(NEW.id AS TEXT), '', NEW.message, i.title
        FROM incidents i WHERE i.id = NEW.incident_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_status_updates_ai AFTER INSERT ON status_updates WHEN NEW.message <> '' BEGIN
    INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
        SELECT 'incident', i.id, i.id, 'status_update', NEW.id, '', NEW.message, i.title
        FROM incidents i WHERE i.id = NEW.incident_id;
END;
-- +goose StatementEnd

-- Backfill what already exists (the triggers above index it into search_fts).
INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
    SELECT 'incident', id, id, 'incident', id, title, summary, '' FROM incidents;
INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
    SELECT 'incident', i.id, i.id, 'timeline', CAST(e.id AS TEXT), '', e.message, i.title
    FROM timeline_events e JOIN incidents i ON i.id = e.incident_id
    WHERE e.message <> '' AND e.kind <> 'alert_attached';
INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
    SELECT 'incident', i.id, i.id, 'status_update', u.id, '', u.message, i.title
    FROM status_updates u JOIN incidents i ON i.id = u.incident_id WHERE u.message <> '';

-- +goose Down
DROP TRIGGER search_status_updates_ai;
DROP TRIGGER search_timeline_ai;
DROP TRIGGER search_incidents_au;
DROP TRIGGER search_incidents_ai;
DROP TRIGGER search_docs_au;
DROP TRIGGER search_docs_ad;
DROP TRIGGER search_docs_ai;
DROP TABLE search_fts;
DROP TABLE search_docs;
