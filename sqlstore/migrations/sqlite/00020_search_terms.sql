-- Each search piece's words, counted (issue 6 speed goal). FTS5's bm25() counts, for every query, the documents
-- of each query word by walking the word's whole posting list: for a common word in a large knowledge base that
-- was most of a search's time (a word in 400,000 of 900,000 pieces: 20 ms of 23). So SQLite now finds the
-- matches with FTS5 and scores them itself (sqlstore/search_terms.go), with the same formula, from:
--   search_terms: per search_docs row, its tokens (as FTS5's tokenizer makes them) with their count in each
--   column, and its length in tokens per column; data is NULL until the store's indexer has tokenized the row (a trigger
--   inserts the row pending, and clears it when the text changes). Pending rows are tokenized on the fly when
--   a search needs them.
--   search_vocab: FTS5's own per-word document counts (an fts5vocab table over search_fts), read once per word
--   and kept in memory for a while by the store, like the number of rows and tokens FTS5 keeps for bm25.
-- PostgreSQL (../postgres/00020_search_terms.sql) ranks with ts_rank and keeps search_terms empty; no table or
-- column differs between the dialects.

-- +goose Up
CREATE TABLE search_terms (
    id   INTEGER PRIMARY KEY,
    data BLOB
);
CREATE INDEX search_terms_pending ON search_terms (id) WHERE data IS NULL;
INSERT INTO search_terms (id) SELECT id FROM search_docs;
CREATE VIRTUAL TABLE search_vocab USING fts5vocab(search_fts, 'row');

-- +goose StatementBegin
CREATE TRIGGER search_terms_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_terms (id) VALUES (NEW.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_terms_au AFTER UPDATE OF title, body, context ON search_docs BEGIN
    UPDATE search_terms SET data = NULL WHERE id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_terms_ad AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_terms WHERE id = OLD.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER search_terms_ad;
DROP TRIGGER search_terms_au;
DROP TRIGGER search_terms_ai;
DROP TABLE search_vocab;
DROP TABLE search_terms;
