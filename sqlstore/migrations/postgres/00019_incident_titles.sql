-- Incident titles indexed on their own (related incidents, issue 6): the related-incidents title signal asks for
-- the incidents whose title has all of another incident's title words. SQLite keeps an FTS5 index for it (see
-- ../sqlite/00019_incident_titles.sql); here a GIN expression index on the title, whose expression the store's
-- query repeats exactly (pgTitleVector). No table or column differs between the dialects.

-- +goose Up
CREATE INDEX incidents_title_tsv ON incidents USING gin (to_tsvector('english'::regconfig, title));

-- +goose Down
DROP INDEX incidents_title_tsv;
