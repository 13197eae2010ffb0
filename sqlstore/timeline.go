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

const eventCols = `id, incident_id, kind, message, actor, occurred_at, recorded_at, starred, data`

type rowScanner interface{ Scan(dest ...any) error }

func scanEvent(r rowScanner) (firebreak.TimelineEvent, error) {
	var ev firebreak.TimelineEvent
	var data sql.NullString
	if err := r.Scan(&ev.ID, &ev.IncidentID, &ev.Kind, &ev.Message, &ev.Actor, tsCol(&ev.OccurredAt),
		tsCol(&ev.RecordedAt), &ev.Starred, &data); err != nil {
		return ev, err
	}
	var err error
	ev.Data, err = decodeData(data)
	return ev, err
}

// insertEvents appends events to an incident's timeline, setting their IDs, and arranges the Subscribe signal
// (and, on PostgreSQL, the NOTIFY) for when the transaction commits.
func (t *txn) insertEvents(incidentID string, events []firebreak.TimelineEvent) error {
	if err := t.insertEventRows(incidentID, events); err != nil {
		return err
	}
	if err := t.enqueueAnnouncements(incidentID, events); err != nil {
		return err
	}
	if err := t.escalationOnEvents(incidentID, events); err != nil { // escalation.go
		return err
	}
	if len(events) == 0 || t.notified[incidentID] {
		return nil
	}
	if t.notified == nil {
		t.notified = map[string]bool{}
	}
	t.notified[incidentID] = true
	t.afterCommit(func() { t.s.timelineChanged(incidentID) })
	return nil
}

// eventChunks are the row counts of the multi-row INSERTs insertEventRows uses (a few fixed sizes, so that their
// statements are prepared once).
var eventChunks = []int{64, 16, 4, 1}

// insertEventRows inserts events, many per statement (an alert storm attaches hundreds at once), and sets their IDs.
// Rows of one statement get ascending IDs in the order of its VALUES, so the returned IDs are sorted and assigned in
// order.
func (t *txn) insertEventRows(incidentID string, events []firebreak.TimelineEvent) error {
	d := t.s.d
	for len(events) > 0 {
		n := 1
		for _, c := range eventChunks {
			if c <= len(events) {
				n = c
				break
			}
		}
		chunk := events[:n]
		events = events[n:]
		if n == 1 {
			ev := &chunk[0]
			ev.IncidentID = incidentID
			data, err := encodeData(ev.Data)
			if err != nil {
				return err
			}
			id, err := t.insertID(`INSERT INTO timeline_events (incident_id, occurred_at, recorded_at, kind, message,
				actor, starred, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				incidentID, d.ts(ev.OccurredAt), d.ts(ev.RecordedAt), ev.Kind, ev.Message, ev.Actor, ev.Starred, data)
			if err != nil {
				return wrap(err, "append timeline event")
			}
			ev.ID = id
			continue
		}
		var b strings.Builder
		b.WriteString(`INSERT INTO timeline_events (incident_id, occurred_at, recorded_at, kind, message, actor,
			starred, data) VALUES `)
		args := make([]any, 0, 8*n)
		for i := range chunk {
			ev := &chunk[i]
			ev.IncidentID = incidentID
			data, err := encodeData(ev.Data)
			if err != nil {
				return err
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, incidentID, d.ts(ev.OccurredAt), d.ts(ev.RecordedAt), ev.Kind, ev.Message, ev.Actor,
				ev.Starred, data)
		}
		b.WriteString(" RETURNING id")
		rows, err := t.query(b.String(), args...)
		if err != nil {
			return wrap(err, "append timeline events")
		}
		ids := make([]int64, 0, n)
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap(err, "append timeline events")
			}
			ids = append(ids, id)
		}
		if err := rows.Close(); err != nil {
			return wrap(err, "append timeline events")
		}
		if err := rows.Err(); err != nil {
			return wrap(err, "append timeline events")
		}
		if len(ids) != n {
			return fmt.Errorf("sqlstore: %d timeline events inserted, %d ids returned", n, len(ids))
		}
		slices.Sort(ids)
		for i := range chunk {
			chunk[i].ID = ids[i]
		}
	}
	return nil
}

// AddTimelineEvent appends a note (possibly backdated) to the timeline. It does not change the incident, so it
// does not bump its version.
func (s *Store) AddTimelineEvent(ctx context.Context, ref string, in firebreak.TimelineInput) (
	*firebreak.TimelineEvent, error) {
	in.OccurredAt = truncTime(in.OccurredAt)
	if err := in.Validate(s.clock()); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx).Username
	key := idemFrom(ctx)
	// The hot path: resolve the ref on the read pool, outside the (SQLite: single, shared) writer. Incidents are
	// never deleted, so the answer stays true; on PostgreSQL the transaction then locks the row.
	h, err := s.read(ctx).loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	var out firebreak.TimelineEvent
	err = s.write(ctx, func(t *txn) error {
		if err := t.idemCheck(key, kindTimelineEvent); err != nil {
			return err
		}
		if err := t.lockIncident(h.id); err != nil {
			return err
		}
		now := s.clock()
		ev := firebreak.TimelineEvent{Kind: in.Kind, Message: in.Message, Actor: actor, OccurredAt: now,
			RecordedAt: now, Starred: in.Starred}
		if in.OccurredAt != nil {
			ev.OccurredAt = *in.OccurredAt
		}
		evs := []firebreak.TimelineEvent{ev}
		if err := t.insertEvents(h.id, evs); err != nil {
			return err
		}
		if err := t.idemRecord(key, kindTimelineEvent, strconv.FormatInt(evs[0].ID, 10), now); err != nil {
			return err
		}
		out = evs[0]
		return nil
	})
	if err != nil {
		return nil, wrap(err, "add timeline event")
	}
	return &out, nil
}

// ListTimeline pages through an incident's timeline in time order (occurred_at, then ID), or, with AfterID, in ID
// order from the event after that one (live tails).
func (s *Store) ListTimeline(ctx context.Context, ref string, f firebreak.TimelineFilter) (
	*firebreak.Page[firebreak.TimelineEvent], error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	if f.AfterID < 0 {
		return nil, invalid("after_id", "must not be negative")
	}
	where := []string{"incident_id = ?"}
	var args []any // incident ID first, filled in below
	byID := f.AfterID > 0
	afterID := f.AfterID
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		parts := strings.Split(c, "|")
		switch {
		case len(parts) == 2 && parts[0] == "i":
			id, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil || id < 0 {
				return nil, badCursor()
			}
			byID, afterID = true, max(id, f.AfterID)
		case len(parts) == 3 && parts[0] == "t" && !byID:
			ts, err1 := time.Parse(time.RFC3339Nano, parts[1])
			id, err2 := strconv.ParseInt(parts[2], 10, 64)
			if err1 != nil || err2 != nil {
				return nil, badCursor()
			}
			where = append(where, `(occurred_at > ? OR (occurred_at = ? AND id > ?))`)
			args = append(args, s.d.ts(ts), s.d.ts(ts), id)
		default:
			return nil, badCursor()
		}
	}
	order := " ORDER BY occurred_at, id"
	if byID {
		where = append(where, "id > ?")
		args = append(args, afterID)
		order = " ORDER BY id"
	}
	if f.StarredOnly {
		where = append(where, "starred = ?")
		args = append(args, true)
	}
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	args = append(append([]any{h.id}, args...), limit+1)
	rows, err := r.query(`SELECT `+eventCols+` FROM timeline_events WHERE `+strings.Join(where, " AND ")+order+
		` LIMIT ?`, args...)
	if err != nil {
		return nil, wrap(err, "list timeline")
	}
	defer rows.Close()
	items := []firebreak.TimelineEvent{}
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, wrap(err, "list timeline")
		}
		items = append(items, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list timeline")
	}
	page := &firebreak.Page[firebreak.TimelineEvent]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := items[limit-1]
		if byID {
			page.NextCursor = encodeCursor(fmt.Sprintf("i|%d", last.ID))
		} else {
			page.NextCursor = encodeCursor(fmt.Sprintf("t|%s|%d", last.OccurredAt.UTC().Format(time.RFC3339Nano),
				last.ID))
		}
	}
	return page, nil
}

// StarTimelineEvent stars or unstars an event, the one change an event allows.
func (s *Store) StarTimelineEvent(ctx context.Context, ref string, eventID int64, starred bool) (
	*firebreak.TimelineEvent, error) {
	var out firebreak.TimelineEvent
	err := s.write(ctx, func(t *txn) error {
		h, err := t.loadHead(ref, false)
		if err != nil {
			return err
		}
		ev, err := scanEvent(t.row(`UPDATE timeline_events SET starred = ? WHERE id = ? AND incident_id = ?
			RETURNING `+eventCols, starred, eventID, h.id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("timeline event %d not found on %s", eventID, h.ref())
		}
		if err != nil {
			return wrap(err, "star timeline event")
		}
		out = ev
		return nil
	})
	if err != nil {
		return nil, wrap(err, "star timeline event")
	}
	return &out, nil
}
