package sqlstore

// The public status page (firebreak.StatusPageService): its configuration (status_page, one row, and
// status_components, one row per public service, by service ID so that a renamed service stays public) and the
// reads the page is derived from. Those reads select only public columns: no summary, people, notes, timeline or
// internal updates ever leave the store through them.

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

var _ firebreak.StatusPageService = (*Store)(nil)

// statusHistoryLimit bounds the incidents one status page read returns.
const statusHistoryLimit = 1000

// GetStatusPageConfig reads the page's name and components, in display order.
func (s *Store) GetStatusPageConfig(ctx context.Context) (*firebreak.StatusPageConfig, error) {
	c, err := s.read(ctx).statusConfig()
	if err != nil {
		return nil, wrap(err, "get status page")
	}
	return c, nil
}

func (x q) statusConfig() (*firebreak.StatusPageConfig, error) {
	c := firebreak.StatusPageConfig{Name: firebreak.DefaultStatusPageName, Components: []firebreak.StatusComponent{}}
	err := x.row(`SELECT name, updated_at, version FROM status_page WHERE id = 1`).Scan(&c.Name,
		tsCol(&c.UpdatedAt), &c.Version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	rows, err := x.query(`SELECT sc.service_id, sv.slug, CASE WHEN sc.name = '' THEN sv.name ELSE sc.name END,
		sc.group_name, sc.description, sc.position, sc.created_at, sc.updated_at
		FROM status_components sc JOIN services sv ON sv.id = sc.service_id ORDER BY sc.position, sv.slug`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var sc firebreak.StatusComponent
		if err := rows.Scan(&sc.ID, &sc.Service, &sc.Name, &sc.Group, &sc.Description, &sc.Position,
			tsCol(&sc.CreatedAt), tsCol(&sc.UpdatedAt)); err != nil {
			return nil, err
		}
		c.Components = append(c.Components, sc)
	}
	return &c, rows.Err()
}

// SetStatusPageConfig replaces the page's name and components. A component keeps its creation time, and its
// update time unless its name, group, description or position changed.
func (s *Store) SetStatusPageConfig(ctx context.Context, in firebreak.StatusPageInput,
	ifVersion int64) (*firebreak.StatusPageConfig, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *firebreak.StatusPageConfig
	err := s.write(ctx, func(t *txn) error {
		now := s.clock()
		// The row exists from the first change on (version 0: never configured); concurrent first changes then
		// queue on its lock instead of colliding on the insert.
		if _, err := t.exec(`INSERT INTO status_page (id, name, updated_at, version) VALUES (1, ?, ?, 0)
			ON CONFLICT (id) DO NOTHING`, firebreak.DefaultStatusPageName, s.d.ts(now)); err != nil {
			return wrap(err, "create status page")
		}
		var version int64
		if err := t.row(`SELECT version FROM status_page WHERE id = 1` + s.d.lockOf("")).Scan(&version); err != nil {
			return wrap(err, "load status page")
		}
		if err := checkVersion("status page", version, ifVersion); err != nil {
			return err
		}
		slugs := make([]string, len(in.Components))
		for i, c := range in.Components {
			slugs[i] = c.Service
		}
		ids := map[string]string{}
		if len(slugs) > 0 {
			rows, err := t.query(`SELECT slug, id FROM services WHERE slug IN (`+placeholders(len(slugs))+`)`,
				anys(slugs)...)
			if err != nil {
				return wrap(err, "resolve services")
			}
			for rows.Next() {
				var slug, id string
				if err := rows.Scan(&slug, &id); err != nil {
					rows.Close()
					return wrap(err, "resolve services")
				}
				ids[slug] = id
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return wrap(err, "resolve services")
			}
		}
		var v firebreak.Validation
		for i, slug := range slugs {
			if ids[slug] == "" {
				v.Add("components["+strconv.Itoa(i)+"].service", "unknown service %q", slug)
			}
		}
		if err := v.Err(); err != nil {
			return err
		}
		before, err := t.statusConfig()
		if err != nil {
			return wrap(err, "load status page")
		}
		old := map[string]firebreak.StatusComponent{}
		oldRaw := map[string][3]string{}
		rows, err := t.query(`SELECT service_id, name, group_name, description FROM status_components`)
		if err != nil {
			return wrap(err, "load status components")
		}
		for rows.Next() {
			var id string
			var r [3]string
			if err := rows.Scan(&id, &r[0], &r[1], &r[2]); err != nil {
				rows.Close()
				return wrap(err, "load status components")
			}
			oldRaw[id] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "load status components")
		}
		for _, c := range before.Components {
			old[c.ID] = c
		}
		if _, err := t.exec(`DELETE FROM status_components`); err != nil {
			return wrap(err, "set status components")
		}
		for i, c := range in.Components {
			id := ids[c.Service]
			created, updated := now, now
			if o, ok := old[id]; ok {
				created = o.CreatedAt
				if oldRaw[id] == [3]string{c.Name, c.Group, c.Description} && o.Position == i {
					updated = o.UpdatedAt
				}
			}
			if _, err := t.exec(`INSERT INTO status_components (service_id, name, group_name, description,
				position, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, id, c.Name, c.Group, c.Description,
				i, s.d.ts(created), s.d.ts(updated)); err != nil {
				return wrap(err, "set status components")
			}
		}
		if _, err := t.exec(`UPDATE status_page SET name = ?, updated_at = ?, version = ? WHERE id = 1`, in.Name,
			s.d.ts(now), version+1); err != nil {
			return wrap(err, "set status page")
		}
		out, err = t.statusConfig()
		return wrap(err, "read status page")
	})
	if err != nil {
		return nil, wrap(err, "set status page")
	}
	return out, nil
}

// StatusData reads the status page's material at now.
func (s *Store) StatusData(ctx context.Context, now time.Time) (*firebreak.StatusData, error) {
	x := s.read(ctx)
	cfg, err := x.statusConfig()
	if err != nil {
		return nil, wrap(err, "status page")
	}
	d := &firebreak.StatusData{Config: *cfg, Incidents: []firebreak.StatusIncident{},
		Maintenance: []firebreak.MaintenanceWindow{}}
	if len(cfg.Components) == 0 {
		return d, nil
	}
	public := map[string]bool{}
	for _, c := range cfg.Components {
		public[c.Service] = true
	}
	since := now.Add(-firebreak.StatusHistoryDays * 24 * time.Hour)
	if d.Incidents, err = x.statusIncidents(since); err != nil {
		return nil, wrap(err, "status page incidents")
	}
	if d.Maintenance, err = x.statusMaintenance(now, public); err != nil {
		return nil, wrap(err, "status page maintenance")
	}
	return d, nil
}

// statusIncidents reads the incidents affecting public components that are open or were resolved since since,
// newest first, with their public services and external updates.
func (x q) statusIncidents(since time.Time) ([]firebreak.StatusIncident, error) {
	rows, err := x.query(`SELECT i.id, i.number, i.title, i.severity, i.status, i.declared_at, i.created_at,
		i.mitigated_at, i.resolved_at FROM incidents i
		WHERE i.status <> 'cancelled'
		AND (i.status IN ('detected', 'investigating', 'identified', 'mitigating') OR i.resolved_at >= ?)
		AND EXISTS (SELECT 1 FROM incident_services isv JOIN services sv ON sv.slug = isv.service_slug
			JOIN status_components sc ON sc.service_id = sv.id WHERE isv.incident_id = i.id)
		ORDER BY i.number DESC LIMIT `+strconv.Itoa(statusHistoryLimit), x.s.d.ts(since))
	if err != nil {
		return nil, err
	}
	out := []firebreak.StatusIncident{}
	for rows.Next() {
		var inc firebreak.StatusIncident
		var number int64
		var declared *time.Time
		var created time.Time
		if err := rows.Scan(&inc.ID, &number, &inc.Title, &inc.Severity, &inc.Status, ntsCol(&declared),
			tsCol(&created), ntsCol(&inc.MitigatedAt), ntsCol(&inc.ResolvedAt)); err != nil {
			rows.Close()
			return nil, err
		}
		inc.Reference = firebreak.IncidentRef(number)
		inc.StartedAt = created
		if declared != nil {
			inc.StartedAt = *declared
		}
		inc.Services, inc.Updates = []string{}, []firebreak.StatusUpdate{}
		out = append(out, inc)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	at := map[string]int{}
	ids := make([]any, len(out))
	for i := range out {
		at[out[i].ID] = i
		ids[i] = out[i].ID
	}
	rows, err = x.query(`SELECT isv.incident_id, isv.service_slug FROM incident_services isv
		JOIN services sv ON sv.slug = isv.service_slug JOIN status_components sc ON sc.service_id = sv.id
		WHERE isv.incident_id IN (`+placeholders(len(ids))+`) ORDER BY isv.incident_id, isv.position`, ids...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, slug string
		if err := rows.Scan(&id, &slug); err != nil {
			rows.Close()
			return nil, err
		}
		out[at[id]].Services = append(out[at[id]].Services, slug)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Only external updates are read, and without their authors.
	rows, err = x.query(`SELECT id, incident_id, message, audience, status, created_at FROM status_updates
		WHERE incident_id IN (`+placeholders(len(ids))+`) AND audience IN ('external', 'all')
		ORDER BY created_at, id`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var u firebreak.StatusUpdate
		if err := rows.Scan(&u.ID, &u.IncidentID, &u.Message, &u.Audience, &u.Status, tsCol(&u.CreatedAt)); err != nil {
			return nil, err
		}
		if !u.Audience.External() {
			continue
		}
		out[at[u.IncidentID]].Updates = append(out[at[u.IncidentID]].Updates, u)
	}
	return out, rows.Err()
}

// statusMaintenance reads the windows of public components that are not over (nor cancelled) at now, soonest
// first, listing only their public services and not who created them.
func (x q) statusMaintenance(now time.Time, public map[string]bool) ([]firebreak.MaintenanceWindow, error) {
	rows, err := x.query(`SELECT `+maintenanceCols+` FROM maintenance_windows mw
		WHERE mw.cancelled_at IS NULL AND mw.ends_at > ?
		AND EXISTS (SELECT 1 FROM maintenance_window_services ms JOIN status_components sc
			ON sc.service_id = ms.service_id WHERE ms.window_id = mw.id)
		ORDER BY mw.starts_at, mw.id LIMIT 100`, x.s.d.ts(now))
	if err != nil {
		return nil, err
	}
	ws := []firebreak.MaintenanceWindow{}
	for rows.Next() {
		w, err := scanMaintenance(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		w.CreatedBy = ""
		ws = append(ws, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := x.fillMaintenanceServices(ws, now); err != nil {
		return nil, err
	}
	for i := range ws {
		ws[i].Services = slices.DeleteFunc(ws[i].Services, func(s string) bool { return !public[s] })
	}
	return ws, nil
}
