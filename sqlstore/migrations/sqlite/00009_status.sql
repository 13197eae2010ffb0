-- The public status page: its name and the services shown as components.
-- Keep table for table, column for column the same as ../postgres/00009_status.sql.

-- +goose Up
-- One row (id = 1) once an admin has configured the page; none means the defaults.
CREATE TABLE status_page (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version    INTEGER NOT NULL
);

-- name '' means the service's own name (so renaming the service renames the component).
CREATE TABLE status_components (
    service_id  TEXT PRIMARY KEY REFERENCES services (id),
    name        TEXT NOT NULL DEFAULT '',
    group_name  TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- +goose Down
DROP TABLE status_components;
DROP TABLE status_page;
