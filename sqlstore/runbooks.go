package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	firebreak "github.com/firebreak/firebreak"
)

// Runbooks (migration 00015): the current content in runbooks, every saved version in runbook_revisions (written
// in the same transaction), and one search_docs row of kind 'runbook' so the knowledge base finds them. Staleness
// is derived at read time from the clock, the last review and the service's architecture_changed_at; the
// ?stale filter uses the same rule in SQL (runbookStaleCond).

var _ firebreak.RunbookService = (*Store)(nil)

const runbookCols = `r.id, sv.slug, r.title, r.body, r.owner, r.last_reviewed_at, r.last_reviewed_by, r.created_by,
	r.created_at, r.updated_by, r.updated_at, r.version, sv.architecture_changed_at`

const runbookFrom = ` FROM runbooks r JOIN services sv ON sv.id = r.service_id`

// runbookStaleCond is firebreak.Runbook.SetStaleness in SQL; its one argument is now - RunbookReviewInterval.
const runbookStaleCond = `(COALESCE(r.last_reviewed_at, r.created_at) <= ? OR (sv.architecture_changed_at IS NOT NULL
	AND COALESCE(r.last_reviewed_at, r.created_at) < sv.architecture_changed_at))`

func (s *Store) scanRunbook(r rowScanner, now time.Time) (firebreak.Runbook, error) {
	var rb firebreak.Runbook
	var arch *time.Time
	if err := r.Scan(&rb.ID, &rb.Service, &rb.Title, &rb.Body, &rb.Owner, ntsCol(&rb.LastReviewedAt),
		&rb.LastReviewedBy, &rb.CreatedBy, tsCol(&rb.CreatedAt), &rb.UpdatedBy, tsCol(&rb.UpdatedAt), &rb.Version,
		ntsCol(&arch)); err != nil {
		return rb, err
	}
	rb.SetStaleness(arch, now)
	return rb, nil
}

func (x q) loadRunbook(id string, lock bool) (*firebreak.Runbook, error) {
	u, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return nil, notFound("runbook %s not found", id)
	}
	query := `SELECT ` + runbookCols + runbookFrom + ` WHERE r.id = ?`
	if lock {
		query += x.s.d.lockOf("r")
	}
	rb, err := x.s.scanRunbook(x.row(query, u.String()), x.s.clock())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("runbook %s not found", id)
	}
	if err != nil {
		return nil, wrap(err, "load runbook")
	}
	return &rb, nil
}

// runbookService resolves a service slug to its ID and name (EInvalid naming field when there is none).
func (x q) runbookService(field, slug string) (id, name string, err error) {
	err = x.row(`SELECT id, name FROM services WHERE slug = ?`, slug).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", invalid(field, "unknown service %q", slug)
	}
	return id, name, wrap(err, "load service")
}

// checkOwner refuses an owner who is not a user.
func (x q) checkOwner(username string) error {
	var n int
	if err := x.row(`SELECT COUNT(*) FROM users WHERE username = ?`, username).Scan(&n); err != nil {
		return wrap(err, "check owner")
	}
	if n == 0 {
		return invalid("owner", "unknown user %q", username)
	}
	return nil
}

// saveRunbookVersion writes the runbook's current content as its revision and indexes it for search.
func (t *txn) saveRunbookVersion(rb *firebreak.Runbook, serviceID, serviceName string) error {
	d := t.s.d
	if _, err := t.exec(`INSERT INTO runbook_revisions (runbook_id, version, service_id, title, body, owner, author,
		saved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, rb.ID, rb.Version, serviceID, rb.Title, rb.Body, rb.Owner,
		rb.UpdatedBy, d.ts(rb.UpdatedAt)); err != nil {
		return wrap(err, "save runbook revision")
	}
	_, err := t.exec(`INSERT INTO search_docs (kind, doc_id, incident_id, part, part_id, title, body, context)
		VALUES (?, ?, '', 'runbook', ?, ?, ?, ?) ON CONFLICT (kind, doc_id, part, part_id)
		DO UPDATE SET title = excluded.title, body = excluded.body, context = excluded.context`,
		firebreak.SearchKindRunbook, rb.ID, rb.ID, rb.Title, rb.Body, rb.Service+" "+serviceName)
	return wrap(err, "index runbook")
}

// CreateRunbook adds a runbook (version 1) for a service; the owner defaults to its author.
func (s *Store) CreateRunbook(ctx context.Context, in firebreak.RunbookInput) (*firebreak.Runbook, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx).Username
	if in.Owner == "" {
		in.Owner = actor
	}
	var out firebreak.Runbook
	err := s.write(ctx, func(t *txn) error {
		svcID, svcName, err := t.runbookService("service", in.Service)
		if err != nil {
			return err
		}
		if err := t.checkOwner(in.Owner); err != nil {
			return err
		}
		now := s.clock()
		rb := firebreak.Runbook{ID: newID(), Service: in.Service, Title: in.Title, Body: in.Body, Owner: in.Owner,
			CreatedBy: actor, CreatedAt: now, UpdatedBy: actor, UpdatedAt: now, Version: 1}
		if _, err := t.exec(`INSERT INTO runbooks (id, service_id, title, body, owner, last_reviewed_at,
			last_reviewed_by, created_by, created_at, updated_by, updated_at, version)
			VALUES (?, ?, ?, ?, ?, NULL, '', ?, ?, ?, ?, ?)`, rb.ID, svcID, rb.Title, rb.Body, rb.Owner,
			rb.CreatedBy, s.d.ts(now), rb.UpdatedBy, s.d.ts(now), rb.Version); err != nil {
			return wrap(err, "insert runbook")
		}
		if err := t.saveRunbookVersion(&rb, svcID, svcName); err != nil {
			return err
		}
		var arch *time.Time
		if err := t.row(`SELECT architecture_changed_at FROM services WHERE id = ?`, svcID).
			Scan(ntsCol(&arch)); err != nil {
			return wrap(err, "create runbook")
		}
		rb.SetStaleness(arch, now)
		out = rb
		return nil
	})
	if err != nil {
		return nil, wrap(err, "create runbook")
	}
	return &out, nil
}

// GetRunbook reads a runbook with its staleness now.
func (s *Store) GetRunbook(ctx context.Context, id string) (*firebreak.Runbook, error) {
	return s.read(ctx).loadRunbook(id, false)
}

// ListRunbooks pages through runbooks by service slug, title and ID.
func (s *Store) ListRunbooks(ctx context.Context, f firebreak.RunbookFilter) (*firebreak.Page[firebreak.Runbook],
	error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var where []string
	var args []any
	if len(f.Services) > 0 {
		for _, sv := range f.Services {
			if !firebreak.ValidSlug(sv) {
				return nil, invalid("service", "%q is not a service slug", sv)
			}
		}
		where = append(where, `sv.slug IN (`+placeholders(len(f.Services))+`)`)
		args = append(args, anys(f.Services)...)
	}
	if f.Stale != nil {
		cond := runbookStaleCond
		if !*f.Stale {
			cond = "NOT " + cond
		}
		where = append(where, cond)
		args = append(args, s.d.ts(now.Add(-firebreak.RunbookReviewInterval)))
	}
	if f.Cursor != "" {
		raw, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		var k []string
		if json.Unmarshal([]byte(raw), &k) != nil || len(k) != 3 {
			return nil, badCursor()
		}
		where = append(where, `(sv.slug > ? OR (sv.slug = ? AND (r.title > ? OR (r.title = ? AND r.id > ?))))`)
		args = append(args, k[0], k[0], k[1], k[1], k[2])
	}
	query := `SELECT ` + runbookCols + runbookFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := s.read(ctx).query(query+` ORDER BY sv.slug, r.title, r.id LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, wrap(err, "list runbooks")
	}
	defer rows.Close()
	page := &firebreak.Page[firebreak.Runbook]{Items: []firebreak.Runbook{}}
	for rows.Next() {
		rb, err := s.scanRunbook(rows, now)
		if err != nil {
			return nil, wrap(err, "list runbooks")
		}
		page.Items = append(page.Items, rb)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list runbooks")
	}
	if len(page.Items) > limit {
		last := page.Items[limit-1]
		page.Items = page.Items[:limit]
		k, _ := json.Marshal([]string{last.Service, last.Title, last.ID})
		page.NextCursor = encodeCursor(string(k))
	}
	return page, nil
}

// UpdateRunbook saves a new version of a runbook; a patch that changes nothing writes nothing.
func (s *Store) UpdateRunbook(ctx context.Context, id string, p firebreak.RunbookPatch, ifVersion int64) (
	*firebreak.Runbook, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	actor := firebreak.ActorFrom(ctx).Username
	var out firebreak.Runbook
	err := s.write(ctx, func(t *txn) error {
		rb, err := t.loadRunbook(id, true)
		if err != nil {
			return err
		}
		if err := checkVersion("runbook "+rb.Title, rb.Version, ifVersion); err != nil {
			return err
		}
		if !p.Apply(rb) {
			out = *rb
			return nil
		}
		svcID, svcName, err := t.runbookService("service", rb.Service)
		if err != nil {
			return err
		}
		if p.Owner != nil {
			if err := t.checkOwner(rb.Owner); err != nil {
				return err
			}
		}
		now := s.clock()
		rb.Version++
		rb.UpdatedBy, rb.UpdatedAt = actor, now
		if _, err := t.exec(`UPDATE runbooks SET service_id = ?, title = ?, body = ?, owner = ?, updated_by = ?,
			updated_at = ?, version = ? WHERE id = ?`, svcID, rb.Title, rb.Body, rb.Owner, rb.UpdatedBy, s.d.ts(now),
			rb.Version, rb.ID); err != nil {
			return wrap(err, "update runbook")
		}
		if err := t.saveRunbookVersion(rb, svcID, svcName); err != nil {
			return err
		}
		var arch *time.Time
		if err := t.row(`SELECT architecture_changed_at FROM services WHERE id = ?`, svcID).
			Scan(ntsCol(&arch)); err != nil {
			return wrap(err, "update runbook")
		}
		rb.SetStaleness(arch, now)
		out = *rb
		return nil
	})
	if err != nil {
		return nil, wrap(err, "update runbook")
	}
	return &out, nil
}

// ListRunbookRevisions lists every saved version of a runbook, oldest first.
func (s *Store) ListRunbookRevisions(ctx context.Context, id string) ([]firebreak.RunbookRevision, error) {
	r := s.read(ctx)
	rb, err := r.loadRunbook(id, false)
	if err != nil {
		return nil, err
	}
	rows, err := r.query(`SELECT v.version, sv.slug, v.title, v.body, v.owner, v.author, v.saved_at
		FROM runbook_revisions v JOIN services sv ON sv.id = v.service_id WHERE v.runbook_id = ? ORDER BY v.version`,
		rb.ID)
	if err != nil {
		return nil, wrap(err, "list runbook revisions")
	}
	defer rows.Close()
	out := []firebreak.RunbookRevision{}
	for rows.Next() {
		var v firebreak.RunbookRevision
		if err := rows.Scan(&v.Version, &v.Service, &v.Title, &v.Body, &v.Owner, &v.Author,
			tsCol(&v.SavedAt)); err != nil {
			return nil, wrap(err, "list runbook revisions")
		}
		out = append(out, v)
	}
	return out, wrap(rows.Err(), "list runbook revisions")
}

// ReviewRunbook records a review by the caller now. It keeps the version: a review changes no content.
func (s *Store) ReviewRunbook(ctx context.Context, id string, ifVersion int64) (*firebreak.Runbook, error) {
	actor := firebreak.ActorFrom(ctx).Username
	var out firebreak.Runbook
	err := s.write(ctx, func(t *txn) error {
		rb, err := t.loadRunbook(id, true)
		if err != nil {
			return err
		}
		if err := checkVersion("runbook "+rb.Title, rb.Version, ifVersion); err != nil {
			return err
		}
		now := s.clock()
		if _, err := t.exec(`UPDATE runbooks SET last_reviewed_at = ?, last_reviewed_by = ? WHERE id = ?`,
			s.d.ts(now), actor, rb.ID); err != nil {
			return wrap(err, "review runbook")
		}
		got, err := t.loadRunbook(rb.ID, false)
		if err != nil {
			return err
		}
		out = *got
		return nil
	})
	if err != nil {
		return nil, wrap(err, "review runbook")
	}
	return &out, nil
}

// sameTime reports whether two optional times are equal.
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}
