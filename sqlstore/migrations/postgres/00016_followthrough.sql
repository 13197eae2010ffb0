-- Follow-through (issue 6): overdue action item reminders and follow-up review reminders as due rows (the due
-- time is on the item or the post-mortem itself, and doubles as the claim's lease while a reminder is sent), when
-- an item was done (for "done on time"), incident tags and the fishbone categories of a post-mortem's
-- contributing factors (knowledge-base filters). Keep column for column the same as
-- ../sqlite/00016_followthrough.sql.

-- +goose Up
-- done_at: when the item was last marked done. remind_at: when its next overdue reminder is due (NULL: none).
-- reminded_at / reminders / team_reminded_at: the last reminder sent, how many, the last one that also went to
-- the owner's teams.
ALTER TABLE action_items ADD COLUMN done_at TIMESTAMPTZ;
ALTER TABLE action_items ADD COLUMN remind_at TIMESTAMPTZ;
ALTER TABLE action_items ADD COLUMN reminded_at TIMESTAMPTZ;
ALTER TABLE action_items ADD COLUMN reminders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE action_items ADD COLUMN team_reminded_at TIMESTAMPTZ;
CREATE INDEX action_items_remind ON action_items (remind_at) WHERE remind_at IS NOT NULL;
CREATE INDEX action_items_due ON action_items (due_date, status);
-- Items done before this migration: their last change is the best estimate of when.
UPDATE action_items SET done_at = updated_at WHERE status IN ('done', 'verified');
-- Open items with a due date are due for evaluation at once: the engine reminds the overdue ones and schedules
-- the others.
UPDATE action_items SET remind_at = '1970-01-01T00:00:00Z'
    WHERE status IN ('open', 'in_progress') AND due_date <> '';

-- follow_up_remind_at: when the next follow-up review reminder is due (NULL: none); follow_up_reminded_at: the
-- last one sent. categories: the distinct categories of the contributing factors, space-separated.
ALTER TABLE postmortems ADD COLUMN follow_up_remind_at TIMESTAMPTZ;
ALTER TABLE postmortems ADD COLUMN follow_up_reminded_at TIMESTAMPTZ;
ALTER TABLE postmortems ADD COLUMN categories TEXT NOT NULL DEFAULT '';
CREATE INDEX postmortems_remind ON postmortems (follow_up_remind_at) WHERE follow_up_remind_at IS NOT NULL;
UPDATE postmortems SET follow_up_remind_at = follow_up_at WHERE status = 'published' AND follow_up_at IS NOT NULL;

-- Incident tags: lowercase words (letters, digits, hyphens), space-separated.
ALTER TABLE incidents ADD COLUMN tags TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE incidents DROP COLUMN tags;
DROP INDEX postmortems_remind;
ALTER TABLE postmortems DROP COLUMN categories;
ALTER TABLE postmortems DROP COLUMN follow_up_reminded_at;
ALTER TABLE postmortems DROP COLUMN follow_up_remind_at;
DROP INDEX action_items_due;
DROP INDEX action_items_remind;
ALTER TABLE action_items DROP COLUMN team_reminded_at;
ALTER TABLE action_items DROP COLUMN reminders;
ALTER TABLE action_items DROP COLUMN reminded_at;
ALTER TABLE action_items DROP COLUMN remind_at;
ALTER TABLE action_items DROP COLUMN done_at;
