-- Which search pieces changed (issue 6 speed goal). The store keeps recently read search_terms data in memory
-- (sqlstore/search_terms.go, termsCache), so that a search's window of matches does not look every piece's counts
-- up again: looking them up was a third of a broad search's time. A piece's counts only change when its text
-- changes or it is deleted (a deleted piece's id can be given to a new piece), so those two triggers of 00020 now
-- also append the piece's id here; every search reads the entries added since the cache last looked, in the
-- same snapshot as the counts, and forgets those pieces. The store's indexer keeps the newest entries only
-- (PruneSearchTermsLog); a cache that has fallen further behind starts over.
-- PostgreSQL (../postgres/00021_search_terms_log.sql) keeps the table empty, as it does search_terms.

-- +goose Up
CREATE TABLE search_terms_log (
    seq INTEGER PRIMARY KEY,
    id  INTEGER NOT NULL
);

DROP TRIGGER search_terms_au;
DROP TRIGGER search_terms_ad;
-- +goose StatementBegin
CREATE TRIGGER search_terms_au AFTER UPDATE OF title, body, context ON search_docs BEGIN
    UPDATE search_terms SET data = NULL WHERE id = NEW.id;
    INSERT INTO search_terms_log (id) VALUES (NEW.id);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER search_terms_ad AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_terms WHERE id = OLD.id;
    INSERT INTO search_terms_log (id) VALUES (OLD.id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER search_terms_ad;
DROP TRIGGER search_terms_au;
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
DROP TABLE search_terms_log;
