-- Alert lists read in index order (GET /api/v1/alerts; sqlstore/alerts.go, ListAlerts). A page is merged from
-- ranges that each come ordered by (last_seen_at, id) from an index and stop after a page: per integration of the
-- service when the list is a service's (alerts_integration_seen, new), per status otherwise (alerts_status,
-- 00002). Before, a service's page read every alert of the service and sorted them: at 64 services taking new
-- alerts, two fifths of the server's CPU went to the benchmark's one-row checks.
-- Two indexes go, so that an alert's insert writes fewer of them than before: alerts_last_seen (the unfiltered list
-- now merges the three statuses' ranges of alerts_status) and alerts_flapped (no query can use it: the flapping
-- list's condition is "flapped_at >= ? OR flapping_since IS NOT NULL").

-- +goose Up
CREATE INDEX alerts_integration_seen ON alerts (integration_id, last_seen_at, id);
DROP INDEX alerts_last_seen;
DROP INDEX alerts_flapped;

-- +goose Down
CREATE INDEX alerts_flapped ON alerts (flapped_at);
CREATE INDEX alerts_last_seen ON alerts (last_seen_at, id);
DROP INDEX alerts_integration_seen;
