-- An alert carries its service (sqlstore/alerts.go): a service's alert list is one range of the new index
-- alerts_service_seen instead of a merge of one range per integration (alerts_integration_seen, 00023, dropped).
-- Keep column for column the same as ../sqlite/00024_alerts_service.sql.
--
-- service_id is the integration's service, copied on insert: an integration never changes service. Why: each
-- integration's alerts were a separate insertion point of alerts_integration_seen, and inserting in the middle of
-- an index splits pages with their neighbours; with eight integrations of one service taking PagerDuty events,
-- that index alone was 23 of the 78 pages a commit of 24 new alerts wrote to the WAL. A service's integrations now
-- share one insertion point. No foreign key: its check would cost every insert a lookup of the service.
--
-- alerts_first_seen goes too (every index costs a commit of new alerts about three pages, as the new entries fill
-- its last page and split it). Only the noise report read it, and for a recent period (first_seen_at <= now)
-- it selected every alert: the report now reads its period as ranges of last_seen_at (alerts_service_seen for a
-- service, alerts_status per status otherwise).

-- +goose Up
ALTER TABLE alerts ADD COLUMN service_id TEXT NOT NULL DEFAULT '';
UPDATE alerts a SET service_id = g.service_id FROM integrations g WHERE g.id = a.integration_id;
CREATE INDEX alerts_service_seen ON alerts (service_id, last_seen_at, id);
DROP INDEX alerts_integration_seen;
DROP INDEX alerts_first_seen;

-- +goose Down
CREATE INDEX alerts_first_seen ON alerts (first_seen_at);
CREATE INDEX alerts_integration_seen ON alerts (integration_id, last_seen_at, id);
DROP INDEX alerts_service_seen;
ALTER TABLE alerts DROP COLUMN service_id;
