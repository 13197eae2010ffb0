-- Knowledge-base search: one row per searchable piece of a document (an incident's title and summary, each
-- timeline message, each status update; later a post-mortem's sections), kept in sync with its source tables by
-- triggers in the writing transaction. Keep table for table, column for column the same as
-- ../sqlite/00008_search.sql (SQLite indexes the same columns with an FTS5 table instead of the GIN index).
-- The column meanings are described there. The text search configuration is 'english' (stemming), matching
-- SQLite's porter tokenizer; the weights are title A, body B, context D.

-- +goose Up
CREATE TABLE search_docs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
-- The store's queries repeat this expression exactly (sqlstore/search.go, pgSearchVector).
CREATE INDEX search_docs_tsv ON search_docs USING GIN ((
    setweight(to_tsvector('english'::regconfig, title), 'A') ||
    setweight(to_tsvector('english'::regconfig, body), 'B') ||
    setweight(to_tsvector('english'::regconfig, context), 'D')));

-- +goose StatementBegin
CREATE FUNCTION search_incidents_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
            VALUES ('incident', NEW.id, NEW.id, 'incident', NEW.id, NEW.title, NEW.summary, '');
    ELSIF OLD.title IS DISTINCT FROM NEW.title OR OLD.summary IS DISTINCT FROM NEW.summary THEN
        UPDATE search_docs SET title = NEW.title, body = NEW.summary
            WHERE kind = 'incident' AND doc_id = NEW.id AND part = 'incident';
        IF OLD.title IS DISTINCT FROM NEW.title THEN
            UPDATE search_docs SET context = NEW.title
                WHERE kind = 'incident' AND doc_id = NEW.id AND part <> 'incident';
        END IF;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER search_incidents AFTER INSERT OR UPDATE OF title, summary ON incidents
    FOR EACH ROW EXECUTE FUNCTION search_incidents_sync();

-- +goose StatementBegin
CREATE FUNCTION search_parts_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.message <> '' THEN
        INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
            SELECT 'incident', i.id, i.id, TG_ARGV[0], NEW.id::text, '', NEW.message, i.title
            FROM incidents i WHERE i.id = NEW.incident_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER search_timeline AFTER INSERT ON timeline_events
    FOR EACH ROW WHEN (NEW.kind <> 'alert_attached') EXECUTE FUNCTION search_parts_sync('timeline');
CREATE TRIGGER search_status_updates AFTER INSERT ON status_updates
    FOR EACH ROW EXECUTE FUNCTION search_parts_sync('status_update');

-- Backfill what already exists.
INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
    SELECT 'incident', id, id, 'incident', id, title, summary, '' FROM incidents;
INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
    SELECT 'incident', i.id, i.id, 'timeline', e.id::text, '', e.message, i.title
    FROM timeline_events e JOIN incidents i ON i.id = e.incident_id
    WHERE e.message <> '' AND e.kind <> 'alert_attached';
INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
    SELECT 'incident', i.id, i.id, 'status_update', u.id, '', u.message, i.title
    FROM status_updates u JOIN incidents i ON i.id = u.incident_id WHERE u.message <> '';

-- +goose Down
DROP TRIGGER search_status_updates ON status_updates;
DROP TRIGGER search_timeline ON timeline_events;
DROP FUNCTION search_parts_sync();
DROP TRIGGER search_incidents ON incidents;
DROP FUNCTION search_incidents_sync();
DROP TABLE search_docs;
