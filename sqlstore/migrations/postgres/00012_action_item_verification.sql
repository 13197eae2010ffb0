-- Action items to verified done: who verified an item (never its owner) and when, and a link to the item in an
-- external tracker. Keep column for column the same as ../sqlite/00012_action_item_verification.sql.

-- +goose Up
ALTER TABLE action_items ADD COLUMN verified_by TEXT NOT NULL DEFAULT '';
ALTER TABLE action_items ADD COLUMN verified_at TIMESTAMPTZ;
ALTER TABLE action_items ADD COLUMN tracker_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE action_items DROP COLUMN tracker_url;
ALTER TABLE action_items DROP COLUMN verified_at;
ALTER TABLE action_items DROP COLUMN verified_by;
