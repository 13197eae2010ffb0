-- The search vector stored (PostgreSQL only). 00008 indexed an expression, so ts_rank (and the recheck of a
-- lossy bitmap) recomputed to_tsvector of every matching row on every search: a broad query ranks a window of
-- 3,000 rows, and took about a second. The same expression is now a stored generated column, computed once per
-- write, with the GIN index on it. The store's queries use the column (sqlstore/search.go, pgSearchVector).
-- SQLite has no such column: FTS5 keeps its own index (search_fts), and the store scores from search_terms.

-- +goose Up
ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A') ||
    setweight(to_tsvector('english'::regconfig, body), 'B') ||
    setweight(to_tsvector('english'::regconfig, context), 'D')) STORED;
DROP INDEX search_docs_tsv;
CREATE INDEX search_docs_tsv ON search_docs USING GIN (tsv);

-- +goose Down
DROP INDEX search_docs_tsv;
ALTER TABLE search_docs DROP COLUMN tsv;
CREATE INDEX search_docs_tsv ON search_docs USING GIN ((
    setweight(to_tsvector('english'::regconfig, title), 'A') ||
    setweight(to_tsvector('english'::regconfig, body), 'B') ||
    setweight(to_tsvector('english'::regconfig, context), 'D')));
