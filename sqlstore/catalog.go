package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	firebreak "github.com/firebreak/firebreak"
)

const serviceCols = `s.id, s.slug, s.name, s.owner_team, s.tier, s.description, s.runbook_url, s.created_at,
	s.updated_at, s.version, s.architecture_changed_at,
	COALESCE((SELECT ep.name FROM escalation_policies ep WHERE ep.id = s.escalation_policy_id), '')`

// scanServices reads rows of serviceCols plus one dependency slug (LEFT JOIN, ordered by service then position).
func scanServices(rows *sql.Rows) ([]firebreak.Service, error) {
	defer rows.Close()
	var out []firebreak.Service
	for rows.Next() {
		var sv firebreak.Service
		var dep sql.NullString
		if err := rows.Scan(&sv.ID, &sv.Slug, &sv.Name, &sv.OwnerTeam, &sv.Tier, &sv.Description, &sv.RunbookURL,
			tsCol(&sv.CreatedAt), tsCol(&sv.UpdatedAt), &sv.Version, ntsCol(&sv.ArchitectureChangedAt),
			&sv.EscalationPolicy, &dep); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != sv.ID {
			sv.DependsOn = []string{}
			out = append(out, sv)
		}
		if dep.Valid {
			last := &out[len(out)-1]
			last.DependsOn = append(last.DependsOn, dep.String)
		}
	}
	return out, rows.Err()
}

func (x q) loadService(ref string, lock bool) (*firebreak.Service, error) {
	query := `SELECT ` + serviceCols + `, d.depends_on_slug FROM services s
		LEFT JOIN service_dependencies d ON d.service_id = s.id
		WHERE s.id = ? OR s.slug = ? ORDER BY s.slug, d.position`
	if lock {
		query += x.s.d.lockOf("s")
	}
	rows, err := x.query(query, ref, ref)
	if err != nil {
		return nil, wrap(err, "load service")
	}
	svcs, err := scanServices(rows)
	if err != nil {
		return nil, wrap(err, "load service")
	}
	if len(svcs) == 0 {
		return nil, notFound("service %s not found", ref)
	}
	return &svcs[0], nil
}

func (t *txn) setDependencies(id string, deps []string, replace bool) error {
	if replace {
		if _, err := t.exec(`DELETE FROM service_dependencies WHERE service_id = ?`, id); err != nil {
			return wrap(err, "set dependencies")
		}
	}
	for i, d := range deps {
		if _, err := t.exec(`INSERT INTO service_dependencies (service_id, position, depends_on_slug)
			VALUES (?, ?, ?)`, id, i, d); err != nil {
			return wrap(err, "set dependencies")
		}
	}
	return nil
}

func slugTaken(slug string) error {
	return firebreak.Errorf(firebreak.EConflict, "service slug %s already exists", slug)
}

// CreateService adds a service to the catalog.
func (s *Store) CreateService(ctx context.Context, in firebreak.ServiceInput) (*firebreak.Service, error) {
	in.DependsOn = slices.Clone(in.DependsOn)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	key := idemFrom(ctx)
	var out firebreak.Service
	err := s.write(ctx, func(t *txn) error {
		if err := t.idemCheck(key, kindService); err != nil {
			return err
		}
		var n int
		if err := t.row(`SELECT COUNT(*) FROM services WHERE slug = ?`, in.Slug).Scan(&n); err != nil {
			return wrap(err, "create service")
		}
		if n > 0 {
			return slugTaken(in.Slug)
		}
		if err := t.checkServices("depends_on", in.DependsOn); err != nil {
			return err
		}
		now := s.clock()
		sv := firebreak.Service{ID: newID(), Slug: in.Slug, Name: in.Name, OwnerTeam: in.OwnerTeam, Tier: in.Tier,
			Description: in.Description, RunbookURL: in.RunbookURL, DependsOn: in.DependsOn, CreatedAt: now,
			UpdatedAt: now, Version: 1}
		if sv.DependsOn == nil {
			sv.DependsOn = []string{}
		}
		if _, err := t.exec(`INSERT INTO services (id, slug, name, owner_team, tier, description, runbook_url,
			created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sv.ID, sv.Slug, sv.Name, sv.OwnerTeam, sv.Tier, sv.Description, sv.RunbookURL, s.d.ts(now), s.d.ts(now),
			sv.Version); err != nil {
			if isUniqueViolation(err) {
				return slugTaken(in.Slug)
			}
			return wrap(err, "insert service")
		}
		if err := t.setDependencies(sv.ID, sv.DependsOn, false); err != nil {
			return err
		}
		if err := t.idemRecord(key, kindService, sv.ID, now); err != nil {
			return err
		}
		out = sv
		return nil
	})
	if err != nil {
		return nil, wrap(err, "create service")
	}
	return &out, nil
}

// GetService reads a service by ID or slug.
func (s *Store) GetService(ctx context.Context, ref string) (*firebreak.Service, error) {
	return s.read(ctx).loadService(ref, false)
}

// ListServices pages through the catalog in slug order.
func (s *Store) ListServices(ctx context.Context, f firebreak.ServiceFilter) (*firebreak.Page[firebreak.Service],
	error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if f.Team != "" {
		where = append(where, "s.owner_team = ?")
		args = append(args, f.Team)
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		slug, ok := strings.CutPrefix(c, "s|")
		if !ok || !firebreak.ValidSlug(slug) {
			return nil, badCursor()
		}
		where = append(where, "s.slug > ?")
		args = append(args, slug)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	rows, err := s.read(ctx).query(`SELECT `+serviceCols+`, d.depends_on_slug
		FROM (SELECT * FROM services s`+cond+` ORDER BY s.slug LIMIT ?) s
		LEFT JOIN service_dependencies d ON d.service_id = s.id
		ORDER BY s.slug, d.position`, args...)
	if err != nil {
		return nil, wrap(err, "list services")
	}
	items, err := scanServices(rows)
	if err != nil {
		return nil, wrap(err, "list services")
	}
	page := &firebreak.Page[firebreak.Service]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = encodeCursor("s|" + items[limit-1].Slug)
	}
	if page.Items == nil {
		page.Items = []firebreak.Service{}
	}
	return page, nil
}

// UpdateService changes a service; a patch that changes nothing writes nothing.
func (s *Store) UpdateService(ctx context.Context, ref string, p firebreak.ServicePatch, ifVersion int64) (
	*firebreak.Service, error) {
	var out firebreak.Service
	err := s.write(ctx, func(t *txn) error {
		sv, err := t.loadService(ref, true)
		if err != nil {
			return err
		}
		if err := checkVersion(fmt.Sprintf("service %s", sv.Slug), sv.Version, ifVersion); err != nil {
			return err
		}
		before := *sv
		if err := p.Apply(sv, s.clock()); err != nil {
			return err
		}
		if p.Channels != nil {
			if err := t.setServiceChannels(sv.ID, *p.Channels); err != nil {
				return err
			}
		}
		policyChanged := false
		if p.EscalationPolicy != nil { // escalation.go
			if policyChanged, err = t.setServiceEscalationPolicy(sv, *p.EscalationPolicy); err != nil {
				return err
			}
		}
		depsChanged := !slices.Equal(before.DependsOn, sv.DependsOn)
		if depsChanged {
			if err := t.checkServices("depends_on", sv.DependsOn); err != nil {
				return err
			}
		}
		if !depsChanged && before.Name == sv.Name && before.OwnerTeam == sv.OwnerTeam && before.Tier == sv.Tier &&
			!policyChanged && before.Description == sv.Description && before.RunbookURL == sv.RunbookURL &&
			sameTime(before.ArchitectureChangedAt, sv.ArchitectureChangedAt) {
			out = before
			return nil
		}
		if _, err := t.exec(`UPDATE services SET name = ?, owner_team = ?, tier = ?, description = ?,
			runbook_url = ?, updated_at = ?, version = ?, architecture_changed_at = ? WHERE id = ?`,
			sv.Name, sv.OwnerTeam, sv.Tier, sv.Description, sv.RunbookURL, s.d.ts(sv.UpdatedAt), sv.Version,
			s.d.nts(sv.ArchitectureChangedAt), sv.ID); err != nil {
			return wrap(err, "update service")
		}
		if depsChanged {
			if err := t.setDependencies(sv.ID, sv.DependsOn, true); err != nil {
				return err
			}
		}
		out = *sv
		return nil
	})
	if err != nil {
		return nil, wrap(err, "update service")
	}
	return &out, nil
}
