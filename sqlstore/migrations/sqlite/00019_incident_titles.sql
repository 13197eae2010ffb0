-- Incident titles indexed on their own (related incidents, issue 6). The related-incidents title signal asks for
-- the incidents whose title has all of another incident's title words. Over search_fts that query walked every
-- occurrence of each word in every piece of every document (bodies, and the title repeated as each piece's
-- context), and BM25 counted each word's documents by walking those lists again: 20-80 ms at 100,000 incidents.
-- Over titles alone the lists are a few thousand entries. incident_titles_fts is an external-content FTS5 index
-- over incidents (rowid = incidents.number), kept by triggers in the writing transaction. PostgreSQL
-- (../postgres/00019_incident_titles.sql) has a GIN expression index on the title instead; no table or column
-- differs between the dialects.

-- +goose Up
CREATE VIRTUAL TABLE incident_titles_fts USING fts5(title, content = 'incidents', content_rowid = 'number',
    tokenize = 'porter unicode61 remove_diacritics 2');
INSERT INTO incident_titles_fts (incident_titles_fts) VALUES ('rebuild');

-- +goose StatementBegin
CREATE TRIGGER incident_titles_ai AFTER INSERT ON incidents BEGIN
    INSERT INTO incident_titles_fts (rowid, title) VALUES (NEW.number, NEW.title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER incident_titles_au AFTER UPDATE OF title ON incidents WHEN OLD.title IS NOT NEW.title BEGIN
    INSERT INTO incident_titles_fts (incident_titles_fts, rowid, title) VALUES ('delete', OLD.number, OLD.title);
    INSERT INTO incident_titles_fts (rowid, title) VALUES (NEW.number, NEW.title);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER incident_titles_ad AFTER DELETE ON incidents BEGIN
    INSERT INTO incident_titles_fts (incident_titles_fts, rowid, title) VALUES ('delete', OLD.number, OLD.title);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER incident_titles_ad;
DROP TRIGGER incident_titles_au;
DROP TRIGGER incident_titles_ai;
DROP TABLE incident_titles_fts;
