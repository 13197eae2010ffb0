package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

// PostUpdate posts a status update, linked to the incident's current status, and records it on the timeline.
func (s *Store) PostUpdate(ctx context.Context, ref string, in firebreak.UpdateInput) (*firebreak.StatusUpdate,
	error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx).Username
	key := idemFrom(ctx)
	var out firebreak.StatusUpdate
	err := s.write(ctx, func(t *txn) error {
		if err := t.idemCheck(key, kindUpdate); err != nil {
			return err
		}
		h, err := t.loadHead(ref, true)
		if err != nil {
			return err
		}
		now := s.clock()
		u := firebreak.StatusUpdate{ID: newID(), IncidentID: h.id, Message: in.Message, Audience: in.Audience,
			Status: h.status, Author: actor, CreatedAt: now}
		if _, err := t.exec(`INSERT INTO status_updates (id, incident_id, message, audience, status, author,
			created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.IncidentID, u.Message, u.Audience, u.Status, u.Author, s.d.ts(u.CreatedAt)); err != nil {
			return wrap(err, "insert update")
		}
		ev := firebreak.TimelineEvent{Kind: firebreak.EventUpdatePosted, Actor: actor, OccurredAt: now,
			RecordedAt: now, Message: fmt.Sprintf("Status update posted (%s): %s", u.Audience, u.Message),
			Data: map[string]string{"audience": string(u.Audience), "update_id": u.ID, "status": string(u.Status)}}
		if err := t.insertEvents(h.id, []firebreak.TimelineEvent{ev}); err != nil {
			return err
		}
		if err := t.idemRecord(key, kindUpdate, u.ID, now); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, wrap(err, "post update")
	}
	return &out, nil
}

// ListUpdates lists an incident's status updates, oldest first.
func (s *Store) ListUpdates(ctx context.Context, ref string) ([]firebreak.StatusUpdate, error) {
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	rows, err := r.query(`SELECT id, incident_id, message, audience, status, author, created_at
		FROM status_updates WHERE incident_id = ? ORDER BY created_at, id`, h.id)
	if err != nil {
		return nil, wrap(err, "list updates")
	}
	defer rows.Close()
	out := []firebreak.StatusUpdate{}
	for rows.Next() {
		var u firebreak.StatusUpdate
		if err := rows.Scan(&u.ID, &u.IncidentID, &u.Message, &u.Audience, &u.Status, &u.Author,
			tsCol(&u.CreatedAt)); err != nil {
			return nil, wrap(err, "list updates")
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err(), "list updates")
}

const actionItemCols = `id, incident_id, title, owner, due_date, priority, kind, status, reason, created_at,
	updated_at, version, verified_by, verified_at, tracker_url, done_at, reminded_at, reminders, team_reminded_at`

// scanActionItem reads actionItemCols, then extra columns into extra.
func scanActionItem(r rowScanner, extra ...any) (firebreak.ActionItem, error) {
	var a firebreak.ActionItem
	err := r.Scan(append([]any{&a.ID, &a.IncidentID, &a.Title, &a.Owner, &a.DueDate, &a.Priority, &a.Kind, &a.Status,
		&a.Reason, tsCol(&a.CreatedAt), tsCol(&a.UpdatedAt), &a.Version, &a.VerifiedBy, ntsCol(&a.VerifiedAt),
		&a.TrackerURL, ntsCol(&a.DoneAt), ntsCol(&a.RemindedAt), &a.Reminders, ntsCol(&a.TeamRemindedAt)},
		extra...)...)
	return a, err
}

// AddActionItem adds an action item to an incident and records it on the timeline.
func (s *Store) AddActionItem(ctx context.Context, ref string, in firebreak.ActionItemInput) (*firebreak.ActionItem,
	error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx).Username
	key := idemFrom(ctx)
	var out firebreak.ActionItem
	err := s.write(ctx, func(t *txn) error {
		if err := t.idemCheck(key, kindActionItem); err != nil {
			return err
		}
		h, err := t.loadHead(ref, true)
		if err != nil {
			return err
		}
		now := s.clock()
		a := firebreak.ActionItem{ID: newID(), IncidentID: h.id, Title: in.Title, Owner: in.Owner,
			DueDate: in.DueDate, Priority: in.Priority, Kind: in.Kind, Status: in.Status, Reason: in.Reason,
			TrackerURL: in.TrackerURL, CreatedAt: now, UpdatedAt: now, Version: 1}
		if a.Status == firebreak.ActionDone {
			a.DoneAt = &now
		}
		if a.DueDate == "" { // by the incident's severity: SEV1 15 days, SEV2 30 days
			var sev firebreak.Severity
			if err := t.row(`SELECT severity FROM incidents WHERE id = ?`, h.id).Scan(&sev); err != nil {
				return wrap(err, "add action item")
			}
			if d := firebreak.ActionItemDefaultDue(sev); d > 0 {
				a.DueDate = now.Add(d).UTC().Format(time.DateOnly)
			}
		}
		if _, err := t.exec(`INSERT INTO action_items (`+actionItemCols+`, remind_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.IncidentID, a.Title, a.Owner, a.DueDate, a.Priority, a.Kind, a.Status, a.Reason,
			s.d.ts(a.CreatedAt), s.d.ts(a.UpdatedAt), a.Version, a.VerifiedBy, s.d.nts(a.VerifiedAt),
			a.TrackerURL, s.d.nts(a.DoneAt), nil, 0, nil, t.remindAt(&a)); err != nil {
			return wrap(err, "insert action item")
		}
		ev := firebreak.TimelineEvent{Kind: firebreak.EventActionItemAdded, Actor: actor, OccurredAt: now,
			RecordedAt: now, Message: fmt.Sprintf("Action item added (%s, %s): %s", a.Kind, a.Priority, a.Title),
			Data: map[string]string{"action_item_id": a.ID, "title": a.Title, "kind": string(a.Kind),
				"priority": string(a.Priority), "status": string(a.Status), "owner": a.Owner}}
		if err := t.insertEvents(h.id, []firebreak.TimelineEvent{ev}); err != nil {
			return err
		}
		if err := t.idemRecord(key, kindActionItem, a.ID, now); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, wrap(err, "add action item")
	}
	return &out, nil
}

// UpdateActionItem changes an action item of the incident and records the change on the timeline. A patch that
// changes nothing writes nothing.
func (s *Store) UpdateActionItem(ctx context.Context, ref, itemID string, p firebreak.ActionItemPatch,
	ifVersion int64) (*firebreak.ActionItem, error) {
	actor := firebreak.ActorFrom(ctx).Username
	var out firebreak.ActionItem
	err := s.write(ctx, func(t *txn) error {
		h, err := t.loadHead(ref, true)
		if err != nil {
			return err
		}
		a, err := scanActionItem(t.row(`SELECT `+actionItemCols+` FROM action_items WHERE id = ? AND
			incident_id = ?`+s.d.lockOf(""), itemID, h.id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("action item %s not found on %s", itemID, h.ref())
		}
		if err != nil {
			return wrap(err, "load action item")
		}
		if err := checkVersion("action item "+a.ID, a.Version, ifVersion); err != nil {
			return err
		}
		before := a
		now := s.clock()
		if err := p.Apply(&a, now, actor); err != nil {
			return err
		}
		changes, data := actionItemChanges(before, a)
		if len(changes) == 0 {
			out = before
			return nil
		}
		if _, err := t.exec(`UPDATE action_items SET title = ?, owner = ?, due_date = ?, priority = ?, kind = ?,
			status = ?, reason = ?, updated_at = ?, version = ?, verified_by = ?, verified_at = ?, tracker_url = ?,
			done_at = ?, remind_at = ? WHERE id = ?`,
			a.Title, a.Owner, a.DueDate, a.Priority, a.Kind, a.Status, a.Reason, s.d.ts(a.UpdatedAt), a.Version,
			a.VerifiedBy, s.d.nts(a.VerifiedAt), a.TrackerURL, s.d.nts(a.DoneAt), t.remindAt(&a), a.ID); err != nil {
			return wrap(err, "update action item")
		}
		ev := firebreak.TimelineEvent{Kind: firebreak.EventActionItemChanged, Actor: actor, OccurredAt: now,
			RecordedAt: now, Message: fmt.Sprintf("Action item %q changed: %s", a.Title, strings.Join(changes, "; ")),
			Data: data}
		if err := t.insertEvents(h.id, []firebreak.TimelineEvent{ev}); err != nil {
			return err
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, wrap(err, "update action item")
	}
	return &out, nil
}

// actionItemChanges describes what changed between two versions of an action item, for the timeline.
func actionItemChanges(a, b firebreak.ActionItem) (changes []string, data map[string]string) {
	data = map[string]string{"action_item_id": b.ID, "title": b.Title, "status": string(b.Status)}
	field := func(name, from, to string) {
		if from == to {
			return
		}
		data[name+"_from"], data[name+"_to"] = from, to
		if name == "reason" { // prose: not quoted in full twice
			if to == "" {
				changes = append(changes, "reason cleared")
			} else {
				changes = append(changes, "reason: "+to)
			}
			return
		}
		changes = append(changes, fmt.Sprintf("%s %q → %q", name, from, to))
	}
	field("title", a.Title, b.Title)
	field("owner", a.Owner, b.Owner)
	field("due_date", a.DueDate, b.DueDate)
	field("priority", string(a.Priority), string(b.Priority))
	field("kind", string(a.Kind), string(b.Kind))
	field("status", string(a.Status), string(b.Status))
	field("reason", a.Reason, b.Reason)
	field("tracker_url", a.TrackerURL, b.TrackerURL)
	return changes, data
}

// ListActionItems lists an incident's action items, oldest first.
func (s *Store) ListActionItems(ctx context.Context, ref string) ([]firebreak.ActionItem, error) {
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	rows, err := r.query(`SELECT `+actionItemCols+` FROM action_items WHERE incident_id = ?
		ORDER BY created_at, id`, h.id)
	if err != nil {
		return nil, wrap(err, "list action items")
	}
	defer rows.Close()
	out := []firebreak.ActionItem{}
	for rows.Next() {
		a, err := scanActionItem(rows)
		if err != nil {
			return nil, wrap(err, "list action items")
		}
		out = append(out, a)
	}
	return out, wrap(rows.Err(), "list action items")
}

// ListFollowUps lists action items across incidents, due soonest first (items without a due date last), paged by
// offset.
func (s *Store) ListFollowUps(ctx context.Context, f firebreak.ActionItemFilter) (*firebreak.Page[firebreak.FollowUp],
	error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	offset := 0
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.TrimPrefix(c, "f|"))
		if err != nil || !strings.HasPrefix(c, "f|") || n < 0 {
			return nil, badCursor()
		}
		offset = n
	}
	var v firebreak.Validation
	var where []string
	var args []any
	if o := strings.TrimSpace(f.Owner); o != "" {
		where = append(where, `a.owner = ?`)
		args = append(args, o)
	}
	for _, st := range f.Status {
		if !slices.Contains(firebreak.ActionItemStatuses, st) {
			v.Add("status", "unknown status %q", st)
		}
	}
	if len(f.Status) > 0 {
		where = append(where, `a.status IN (`+placeholders(len(f.Status))+`)`)
		args = append(args, anys(f.Status)...)
	}
	today := s.clock().UTC().Format(time.DateOnly)
	if f.Overdue {
		where = append(where, `a.status IN (?, ?) AND a.due_date <> '' AND a.due_date < ?`)
		args = append(args, string(firebreak.ActionOpen), string(firebreak.ActionInProgress), today)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	cols := strings.ReplaceAll(actionItemCols, "\n\t", " ")
	var qual []string
	for _, c := range strings.Split(cols, ",") {
		qual = append(qual, "a."+strings.TrimSpace(c))
	}
	args = append(args, limit+1, offset)
	rows, err := s.read(ctx).query(`SELECT `+strings.Join(qual, ", ")+`, i.number, i.title, i.severity
		FROM action_items a JOIN incidents i ON i.id = a.incident_id`+cond+`
		ORDER BY CASE WHEN a.due_date = '' THEN 1 ELSE 0 END, a.due_date, a.created_at, a.id LIMIT ? OFFSET ?`,
		args...)
	if err != nil {
		return nil, wrap(err, "list follow-ups")
	}
	defer rows.Close()
	items := []firebreak.FollowUp{}
	for rows.Next() {
		var fu firebreak.FollowUp
		var number int64
		a, err := scanActionItem(rows, &number, &fu.IncidentTitle, &fu.Severity)
		if err != nil {
			return nil, wrap(err, "list follow-ups")
		}
		fu.ActionItem = a
		fu.IncidentRef = firebreak.IncidentRef(number)
		fu.Overdue = a.Pending() && a.DueDate != "" && a.DueDate < today
		items = append(items, fu)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list follow-ups")
	}
	page := &firebreak.Page[firebreak.FollowUp]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = encodeCursor("f|" + strconv.Itoa(offset+limit))
	}
	return page, nil
}
