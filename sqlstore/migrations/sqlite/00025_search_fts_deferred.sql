-- The full-text index takes a transaction's new search pieces once, just before it commits, instead of one by one
-- as they are written (sqlstore/search.go, flushSearchIndex; SQLite only: PostgreSQL indexes a stored column).
--
-- Why: FTS5 writes what it has pending to disk, as a new segment, whenever a statement of the transaction opens a
-- savepoint, and most writing statements do (the group commit's own savepoints, and every statement that runs a
-- trigger). A transaction that opened 24 incidents wrote 24 one-piece segments, and FTS5 then merged them: 13 % of
-- the writer's time when alerts open incidents. Now the triggers only note a new or changed piece's id in
-- search_fts_pending, and the writer indexes the pending pieces with one INSERT … SELECT before each COMMIT, so a
-- transaction writes one segment. The index is therefore complete at every commit, which is all a reader sees.
-- A piece still pending when it is changed or deleted was never indexed: nothing is removed from search_fts for
-- it. Anything that writes search_docs outside the store's writer (sqltest's bulk loader) must flush too.

-- +goose Up
CREATE TABLE search_fts_pending (
    id INTEGER PRIMARY KEY
);
DROP TRIGGER search_docs_ai;
DROP TRIGGER search_docs_ad;
DROP TRIGGER search_docs_au;

-- +goose StatementBegin
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT OR IGNORE INTO search_fts_pending (id) VALUES (NEW.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body, context)
        SELECT 'delete', OLD.id, OLD.title, OLD.body, OLD.context
        WHERE NOT EXISTS (SELECT 1 FROM search_fts_pending WHERE id = OLD.id);
    DELETE FROM search_fts_pending WHERE id = OLD.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body, context)
        SELECT 'delete', OLD.id, OLD.title, OLD.body, OLD.context
        WHERE NOT EXISTS (SELECT 1 FROM search_fts_pending WHERE id = OLD.id);
    INSERT OR IGNORE INTO search_fts_pending (id) VALUES (NEW.id);
END;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
INSERT INTO search_fts (rowid, title, body, context)
    SELECT d.id, d.title, d.body, d.context FROM search_fts_pending p JOIN search_docs d ON d.id = p.id;
-- +goose StatementEnd
DROP TRIGGER search_docs_ai;
DROP TRIGGER search_docs_ad;
DROP TRIGGER search_docs_au;
DROP TABLE search_fts_pending;

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
