package sqlstore

// Maintenance windows (firebreak.MaintenanceService). A window names its services by ID in
// maintenance_window_services (so a renamed service keeps its windows); alert ingest looks up the active window
// of a delivery's service (ingestCtx.maintenance). Windows are never deleted: cancelling sets cancelled_at.

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	firebreak "github.com/firebreak/firebreak"
)

var _ firebreak.MaintenanceService = (*Store)(nil)

const maintenanceCols = `mw.id, mw.title, mw.description, mw.starts_at, mw.ends_at, mw.cancelled_at, mw.created_by,
	mw.created_at, mw.updated_at, mw.version`

func scanMaintenance(r rowScanner) (firebreak.MaintenanceWindow, error) {
	var w firebreak.MaintenanceWindow
	err := r.Scan(&w.ID, &w.Title, &w.Description, tsCol(&w.StartsAt), tsCol(&w.EndsAt), ntsCol(&w.CancelledAt),
		&w.CreatedBy, tsCol(&w.CreatedAt), tsCol(&w.UpdatedAt), &w.Version)
	return w, err
}

// serviceIDs resolves service slugs (checked to exist: EInvalid on "services") to IDs, in order.
func (x q) serviceIDs(slugs []string) ([]string, error) {
	if err := x.checkServices("services", slugs); err != nil {
		return nil, err
	}
	rows, err := x.query(`SELECT slug, id FROM services WHERE slug IN (`+placeholders(len(slugs))+`)`,
		anys(slugs)...)
	if err != nil {
		return nil, wrap(err, "resolve services")
	}
	defer rows.Close()
	ids := map[string]string{}
	for rows.Next() {
		var slug, id string
		if err := rows.Scan(&slug, &id); err != nil {
			return nil, wrap(err, "resolve services")
		}
		ids[slug] = id
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "resolve services")
	}
	out := make([]string, len(slugs))
	for i, s := range slugs {
		out[i] = ids[s]
	}
	return out, nil
}

func (t *txn) setMaintenanceServices(windowID string, slugs []string, replace bool) error {
	ids, err := t.serviceIDs(slugs)
	if err != nil {
		return err
	}
	if replace {
		if _, err := t.exec(`DELETE FROM maintenance_window_services WHERE window_id = ?`, windowID); err != nil {
			return wrap(err, "set maintenance services")
		}
	}
	for i, id := range ids {
		if _, err := t.exec(`INSERT INTO maintenance_window_services (window_id, service_id, position)
			VALUES (?, ?, ?)`, windowID, id, i); err != nil {
			return wrap(err, "set maintenance services")
		}
	}
	return nil
}

// fillMaintenanceServices reads the service slugs of windows, in their order, and computes their state at now.
func (x q) fillMaintenanceServices(ws []firebreak.MaintenanceWindow, now time.Time) error {
	if len(ws) == 0 {
		return nil
	}
	at := map[string]int{}
	ids := make([]any, len(ws))
	for i := range ws {
		at[ws[i].ID] = i
		ids[i] = ws[i].ID
		ws[i].Services = []string{}
		ws[i].State = ws[i].StateAt(now)
	}
	rows, err := x.query(`SELECT ms.window_id, sv.slug FROM maintenance_window_services ms
		JOIN services sv ON sv.id = ms.service_id WHERE ms.window_id IN (`+placeholders(len(ids))+`)
		ORDER BY ms.window_id, ms.position`, ids...)
	if err != nil {
		return wrap(err, "read maintenance services")
	}
	defer rows.Close()
	for rows.Next() {
		var id, slug string
		if err := rows.Scan(&id, &slug); err != nil {
			return wrap(err, "read maintenance services")
		}
		w := &ws[at[id]]
		w.Services = append(w.Services, slug)
	}
	return wrap(rows.Err(), "read maintenance services")
}

func normalizeSlugs(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// CreateMaintenance creates a maintenance window.
func (s *Store) CreateMaintenance(ctx context.Context, in firebreak.MaintenanceInput) (*firebreak.MaintenanceWindow,
	error) {
	in.Services = normalizeSlugs(in.Services)
	now := s.clock()
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	w := firebreak.MaintenanceWindow{ID: newID(), Services: slices.Clone(in.Services), Title: in.Title,
		Description: in.Description, StartsAt: in.StartsAt, EndsAt: in.EndsAt,
		CreatedBy: firebreak.ActorFrom(ctx).Username, CreatedAt: now, UpdatedAt: now, Version: 1}
	err := s.write(ctx, func(t *txn) error {
		if _, err := t.exec(`INSERT INTO maintenance_windows (id, title, description, starts_at, ends_at,
			cancelled_at, created_by, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)`,
			w.ID, w.Title, w.Description, s.d.ts(w.StartsAt), s.d.ts(w.EndsAt), w.CreatedBy, s.d.ts(now),
			s.d.ts(now), w.Version); err != nil {
			return wrap(err, "create maintenance window")
		}
		return t.setMaintenanceServices(w.ID, w.Services, false)
	})
	if err != nil {
		return nil, err
	}
	w.State = w.StateAt(now)
	return &w, nil
}

func maintenanceID(id string) (string, error) {
	u, err := uuid.Parse(strings.TrimSpace(id))
	if err != nil {
		return "", notFound("maintenance window %s not found", strings.TrimSpace(id))
	}
	return u.String(), nil
}

func (x q) loadMaintenance(id string, lock bool, now time.Time) (*firebreak.MaintenanceWindow, error) {
	uid, err := maintenanceID(id)
	if err != nil {
		return nil, err
	}
	query := `SELECT ` + maintenanceCols + ` FROM maintenance_windows mw WHERE mw.id = ?`
	if lock {
		query += x.s.d.lockOf("")
	}
	w, err := scanMaintenance(x.row(query, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("maintenance window %s not found", uid)
	}
	if err != nil {
		return nil, wrap(err, "get maintenance window")
	}
	ws := []firebreak.MaintenanceWindow{w}
	if err := x.fillMaintenanceServices(ws, now); err != nil {
		return nil, err
	}
	return &ws[0], nil
}

// GetMaintenance reads a maintenance window by ID.
func (s *Store) GetMaintenance(ctx context.Context, id string) (*firebreak.MaintenanceWindow, error) {
	return s.read(ctx).loadMaintenance(id, false, s.clock())
}

// UpdateMaintenance changes a window that has not ended.
func (s *Store) UpdateMaintenance(ctx context.Context, id string, p firebreak.MaintenancePatch, ifVersion int64) (
	*firebreak.MaintenanceWindow, error) {
	if p.Services != nil {
		svcs := normalizeSlugs(*p.Services)
		p.Services = &svcs
	}
	var out *firebreak.MaintenanceWindow
	err := s.write(ctx, func(t *txn) error {
		now := s.clock()
		w, err := t.loadMaintenance(id, true, now)
		if err != nil {
			return err
		}
		if err := checkVersion("maintenance window "+w.ID, w.Version, ifVersion); err != nil {
			return err
		}
		old := slices.Clone(w.Services)
		changed, err := p.Apply(w, now)
		if err != nil || !changed {
			out = w
			return err
		}
		if _, err := t.exec(`UPDATE maintenance_windows SET title = ?, description = ?, starts_at = ?, ends_at = ?,
			updated_at = ?, version = ? WHERE id = ?`, w.Title, w.Description, s.d.ts(w.StartsAt), s.d.ts(w.EndsAt),
			s.d.ts(w.UpdatedAt), w.Version, w.ID); err != nil {
			return wrap(err, "update maintenance window")
		}
		if !slices.Equal(old, w.Services) {
			if err := t.setMaintenanceServices(w.ID, w.Services, true); err != nil {
				return err
			}
		}
		w.State = w.StateAt(now)
		out = w
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CancelMaintenance cancels a window that has not ended.
func (s *Store) CancelMaintenance(ctx context.Context, id string, ifVersion int64) (*firebreak.MaintenanceWindow,
	error) {
	var out *firebreak.MaintenanceWindow
	err := s.write(ctx, func(t *txn) error {
		now := s.clock()
		w, err := t.loadMaintenance(id, true, now)
		if err != nil {
			return err
		}
		if err := checkVersion("maintenance window "+w.ID, w.Version, ifVersion); err != nil {
			return err
		}
		switch w.State {
		case firebreak.MaintenanceCancelled:
			out = w
			return nil
		case firebreak.MaintenanceCompleted:
			return firebreak.Errorf(firebreak.EConflict, "maintenance window %s has already ended", w.ID)
		}
		w.CancelledAt, w.UpdatedAt = &now, now
		w.Version++
		if _, err := t.exec(`UPDATE maintenance_windows SET cancelled_at = ?, updated_at = ?, version = ?
			WHERE id = ?`, s.d.ts(now), s.d.ts(now), w.Version, w.ID); err != nil {
			return wrap(err, "cancel maintenance window")
		}
		w.State = w.StateAt(now)
		out = w
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListMaintenance lists windows (see firebreak.MaintenanceFilter for the order).
func (s *Store) ListMaintenance(ctx context.Context, f firebreak.MaintenanceFilter) (
	*firebreak.Page[firebreak.MaintenanceWindow], error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	at := now
	if f.At != nil {
		at = f.At.UTC()
	}
	x := s.read(ctx)
	var where []string
	var args []any
	if svc := strings.TrimSpace(f.Service); svc != "" {
		var id string
		err := x.row(`SELECT id FROM services WHERE slug = ?`, svc).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("service %s not found", svc)
		}
		if err != nil {
			return nil, wrap(err, "list maintenance windows")
		}
		where = append(where, `mw.id IN (SELECT window_id FROM maintenance_window_services WHERE service_id = ?)`)
		args = append(args, id)
	}
	asc := false
	switch f.State {
	case "":
	case firebreak.MaintenanceScheduled:
		where = append(where, `mw.cancelled_at IS NULL AND mw.starts_at > ?`)
		args = append(args, s.d.ts(at))
		asc = true
	case firebreak.MaintenanceActive:
		where = append(where, `mw.cancelled_at IS NULL AND mw.starts_at <= ? AND mw.ends_at > ?`)
		args = append(args, s.d.ts(at), s.d.ts(at))
		asc = true
	case firebreak.MaintenanceCompleted:
		where = append(where, `mw.cancelled_at IS NULL AND mw.ends_at <= ?`)
		args = append(args, s.d.ts(at))
	case firebreak.MaintenanceCancelled:
		where = append(where, `mw.cancelled_at IS NOT NULL`)
	default:
		return nil, invalid("state", "must be scheduled, active, completed or cancelled")
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		rest, ok := strings.CutPrefix(c, "m|")
		ts, id, ok2 := strings.Cut(rest, "|")
		t, perr := time.Parse(tsLayout, ts)
		if !ok || !ok2 || perr != nil || id == "" {
			return nil, badCursor()
		}
		cmp := "<"
		if asc {
			cmp = ">"
		}
		where = append(where, `(mw.starts_at `+cmp+` ? OR (mw.starts_at = ? AND mw.id `+cmp+` ?))`)
		args = append(args, s.d.ts(t), s.d.ts(t), id)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	order := ` ORDER BY mw.starts_at DESC, mw.id DESC`
	if asc {
		order = ` ORDER BY mw.starts_at, mw.id`
	}
	args = append(args, limit+1)
	rows, err := x.query(`SELECT `+maintenanceCols+` FROM maintenance_windows mw`+cond+order+` LIMIT ?`, args...)
	if err != nil {
		return nil, wrap(err, "list maintenance windows")
	}
	items := []firebreak.MaintenanceWindow{}
	for rows.Next() {
		w, err := scanMaintenance(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, "list maintenance windows")
		}
		items = append(items, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list maintenance windows")
	}
	page := &firebreak.Page[firebreak.MaintenanceWindow]{Items: items}
	if len(items) > limit {
		last := items[limit-1]
		page.Items = items[:limit]
		page.NextCursor = encodeCursor("m|" + last.StartsAt.UTC().Format(tsLayout) + "|" + last.ID)
	}
	if err := x.fillMaintenanceServices(page.Items, now); err != nil {
		return nil, err
	}
	return page, nil
}
