-- Each search piece's words, counted: SQLite scores its full-text matches itself from them (see
-- ../sqlite/00020_search_terms.sql). PostgreSQL ranks with ts_rank and leaves the table empty; it exists so that
-- no table or column differs between the dialects.

-- +goose Up
CREATE TABLE search_terms (
    id   BIGINT PRIMARY KEY,
    data BYTEA
);

-- +goose Down
DROP TABLE search_terms;
