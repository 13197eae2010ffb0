-- Alert routing: each service's routing policy, and which alert group opened which incident.
-- Keep table for table, column for column the same as ../sqlite/00003_routing.sql.

-- +goose Up
-- policy: firebreak.RoutingPolicy as JSON. A service without a row uses firebreak.DefaultRoutingPolicy().
CREATE TABLE routing_policies (
    service_id TEXT PRIMARY KEY REFERENCES services (id),
    policy     TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- One row per incident that routing opened automatically: the service and group key it was opened for. Routing
-- joins new alerts of that group to it while it is open and opened_at is within the policy's group window.
CREATE TABLE incident_alert_groups (
    incident_id TEXT PRIMARY KEY REFERENCES incidents (id),
    service_id  TEXT NOT NULL REFERENCES services (id),
    group_key   TEXT NOT NULL,
    opened_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX incident_alert_groups_lookup ON incident_alert_groups (service_id, group_key, opened_at);

-- +goose Down
DROP TABLE incident_alert_groups;
DROP TABLE routing_policies;
