package sqlstore

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	firebreak "github.com/firebreak/firebreak"
)

// Change events. PagerDuty change events carry no deduplication key, so RecordChange is not idempotent: every
// call stores a change of its own (a redelivered event appears twice). The row is committed before
// RecordChange returns.

// maxChangesBefore caps what ChangesBefore returns (the most recent first).
const maxChangesBefore = firebreak.MaxLimit

const changeCols = `c.id, c.integration_id, sv.slug, c.summary, c.source, c.details, c.links, c.occurred_at,
	c.recorded_at`

func scanChange(r rowScanner) (firebreak.Change, error) {
	var c firebreak.Change
	var links string
	if err := r.Scan(&c.ID, &c.IntegrationID, &c.Service, &c.Summary, &c.Source, &c.Details, &links,
		tsCol(&c.OccurredAt), tsCol(&c.RecordedAt)); err != nil {
		return c, err
	}
	c.Links = []firebreak.AlertLink{}
	if links != "" {
		if err := json.Unmarshal([]byte(links), &c.Links); err != nil {
			return c, err
		}
	}
	return c, nil
}

// RecordChange stores one change event of the integration's service.
func (s *Store) RecordChange(ctx context.Context, integrationID string, in firebreak.ChangeInput) (*firebreak.Change, error) {
	var v firebreak.Validation
	if strings.TrimSpace(in.Summary) == "" {
		v.Add("summary", "is required")
	} else if utf8.RuneCountInString(in.Summary) > 1024 {
		v.Add("summary", "must be at most 1024 characters")
	}
	v.Text("source", in.Source, firebreak.MaxTextLen)
	if in.Details != "" && !json.Valid([]byte(in.Details)) {
		v.Add("details", "must be JSON")
	}
	for _, l := range in.Links {
		if l.Href == "" {
			v.Add("links", "every link needs an href")
			break
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	links := in.Links
	if links == nil {
		links = []firebreak.AlertLink{}
	}
	lb, err := json.Marshal(links)
	if err != nil {
		return nil, wrap(err, "record change")
	}
	var out firebreak.Change
	err = s.write(ctx, func(t *txn) error {
		g, err := t.integrationByID(integrationID)
		if err != nil {
			return err
		}
		now := s.clock()
		occurred := now
		if !in.OccurredAt.IsZero() {
			occurred = in.OccurredAt.UTC().Truncate(time.Microsecond)
		}
		out = firebreak.Change{ID: newID(), IntegrationID: g.ID, Service: g.Service, Summary: in.Summary,
			Source: in.Source, Details: in.Details, Links: links, OccurredAt: occurred, RecordedAt: now}
		_, err = t.exec(`INSERT INTO changes (id, integration_id, service_id, summary, source, details, links,
			occurred_at, recorded_at) SELECT ?, ?, service_id, ?, ?, ?, ?, ?, ? FROM integrations WHERE id = ?`,
			out.ID, g.ID, out.Summary, out.Source, out.Details, string(lb), s.d.ts(occurred), s.d.ts(now), g.ID)
		return wrap(err, "record change")
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ListChanges lists changes, most recent (by occurred_at) first.
func (s *Store) ListChanges(ctx context.Context, f firebreak.ChangeFilter) (*firebreak.Page[firebreak.Change], error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if svc := strings.TrimSpace(f.Service); svc != "" {
		where = append(where, `sv.slug = ?`)
		args = append(args, svc)
	}
	if f.Since != nil && f.Until != nil && f.Until.Before(*f.Since) {
		return nil, invalid("until", "must not be before since")
	}
	if f.Since != nil {
		where = append(where, `c.occurred_at >= ?`)
		args = append(args, s.d.ts(*f.Since))
	}
	if f.Until != nil {
		where = append(where, `c.occurred_at <= ?`)
		args = append(args, s.d.ts(*f.Until))
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		rest, ok := strings.CutPrefix(c, "c|")
		ts, id, ok2 := strings.Cut(rest, "|")
		at, perr := time.Parse(tsLayout, ts)
		if !ok || !ok2 || perr != nil || id == "" {
			return nil, badCursor()
		}
		where = append(where, `(c.occurred_at < ? OR (c.occurred_at = ? AND c.id < ?))`)
		args = append(args, s.d.ts(at), s.d.ts(at), id)
	}
	items, err := s.queryChanges(ctx, where, args, limit+1)
	if err != nil {
		return nil, err
	}
	page := &firebreak.Page[firebreak.Change]{Items: items}
	if len(items) > limit {
		last := items[limit-1]
		page.Items = items[:limit]
		page.NextCursor = encodeCursor("c|" + last.OccurredAt.UTC().Format(tsLayout) + "|" + last.ID)
	}
	return page, nil
}

// ChangesBefore lists the changes of the incident's services in [impact start − window, declared], most recent
// first (at most MaxLimit). The impact start is impact_started_at when it is set and not after declared_at,
// else declared_at.
func (s *Store) ChangesBefore(ctx context.Context, incidentRef string, window time.Duration) ([]firebreak.Change, error) {
	if window == 0 {
		window = firebreak.DefaultChangeWindow
	}
	if window < 0 || window > firebreak.MaxChangeWindow {
		return nil, invalid("window", "must be between 0 and %s", firebreak.MaxChangeWindow)
	}
	inc, err := s.GetIncident(ctx, incidentRef)
	if err != nil {
		return nil, err
	}
	declared := inc.CreatedAt
	if inc.Milestones.DeclaredAt != nil {
		declared = *inc.Milestones.DeclaredAt
	}
	start := declared
	if m := inc.Milestones.ImpactStartedAt; m != nil && m.Before(declared) {
		start = *m
	}
	if len(inc.Services) == 0 {
		return []firebreak.Change{}, nil
	}
	where := []string{`sv.slug IN (` + placeholders(len(inc.Services)) + `)`, `c.occurred_at >= ?`, `c.occurred_at <= ?`}
	var args []any
	for _, svc := range inc.Services {
		args = append(args, svc)
	}
	args = append(args, s.d.ts(start.Add(-window)), s.d.ts(declared))
	return s.queryChanges(ctx, where, args, maxChangesBefore)
}

func (s *Store) queryChanges(ctx context.Context, where []string, args []any, limit int) ([]firebreak.Change, error) {
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	rows, err := s.read(ctx).query(`SELECT `+changeCols+`
		FROM changes c JOIN services sv ON sv.id = c.service_id`+cond+
		` ORDER BY c.occurred_at DESC, c.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, wrap(err, "list changes")
	}
	defer rows.Close()
	items := []firebreak.Change{}
	for rows.Next() {
		c, err := scanChange(rows)
		if err != nil {
			return nil, wrap(err, "list changes")
		}
		items = append(items, c)
	}
	return items, wrap(rows.Err(), "list changes")
}

var _ firebreak.ChangeService = (*Store)(nil)
