-- Which search pieces changed: SQLite's store forgets their cached counts (see ../sqlite/00021_search_terms_log.sql).
-- PostgreSQL ranks with ts_rank and leaves the table empty; it exists so that no table or column differs between
-- the dialects.

-- +goose Up
CREATE TABLE search_terms_log (
    seq BIGINT PRIMARY KEY,
    id  BIGINT NOT NULL
);

-- +goose Down
DROP TABLE search_terms_log;
