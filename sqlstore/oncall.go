package sqlstore

// Teams, on-call schedules, overrides and calendar feed tokens (migration 00010_oncall). A schedule's layers are
// one JSON column: they are always read and written whole with the schedule, validated in Go, and the same TEXT
// on both databases. Overrides are rows, added and removed one at a time. The schedule math is in package oncall.

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	firebreak "github.com/firebreak/firebreak"
)

var (
	_ firebreak.TeamService     = (*Store)(nil)
	_ firebreak.ScheduleService = (*Store)(nil)
)

// --- teams -----------------------------------------------------------------------------------------------------

func teamSlugTaken(slug string) error {
	return firebreak.Errorf(firebreak.EConflict, "team slug %s already exists", slug)
}

func (x q) loadTeam(ref string, lock bool) (*firebreak.Team, error) {
	query := `SELECT id, slug, name, created_at, updated_at, version FROM teams WHERE id = ? OR slug = ?`
	if lock {
		query += x.s.d.lockOf("")
	}
	var tm firebreak.Team
	err := x.row(query, ref, ref).Scan(&tm.ID, &tm.Slug, &tm.Name, tsCol(&tm.CreatedAt), tsCol(&tm.UpdatedAt),
		&tm.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("team %s not found", ref)
	}
	if err != nil {
		return nil, wrap(err, "load team")
	}
	tm.Members, err = x.teamMembers(tm.ID)
	if err != nil {
		return nil, err
	}
	if tm.Channels, err = x.teamChannelNames(tm.ID); err != nil {
		return nil, err
	}
	return &tm, nil
}

func (x q) teamMembers(teamID string) ([]firebreak.TeamMember, error) {
	rows, err := x.query(`SELECT u.username, u.name, m.role FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = ? ORDER BY u.username`, teamID)
	if err != nil {
		return nil, wrap(err, "load team members")
	}
	defer rows.Close()
	out := []firebreak.TeamMember{}
	for rows.Next() {
		var m firebreak.TeamMember
		if err := rows.Scan(&m.Username, &m.Name, &m.Role); err != nil {
			return nil, wrap(err, "load team members")
		}
		out = append(out, m)
	}
	return out, wrap(rows.Err(), "load team members")
}

// userIDs maps usernames to user IDs; an unknown one is EInvalid on field.
func (x q) userIDs(field string, names []string) (map[string]string, error) {
	out := map[string]string{}
	var missing []string
	for _, n := range names {
		if _, ok := out[n]; ok {
			continue
		}
		var id string
		err := x.row(`SELECT id FROM users WHERE username = ?`, n).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			missing = append(missing, n)
			continue
		}
		if err != nil {
			return nil, wrap(err, "load user")
		}
		out[n] = id
	}
	if len(missing) > 0 {
		return nil, invalid(field, "unknown user(s): %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// CreateTeam adds a team with its first members.
func (s *Store) CreateTeam(ctx context.Context, in firebreak.TeamInput) (*firebreak.Team, error) {
	in.Members = slices.Clone(in.Members)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *firebreak.Team
	err := s.write(ctx, func(t *txn) error {
		names := make([]string, len(in.Members))
		for i, m := range in.Members {
			names[i] = m.Username
		}
		ids, err := t.userIDs("members", names)
		if err != nil {
			return err
		}
		now := s.clock()
		id := newID()
		if _, err := t.exec(`INSERT INTO teams (id, slug, name, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, 1)`, id, in.Slug, in.Name, s.d.ts(now), s.d.ts(now)); err != nil {
			if isUniqueViolation(err) {
				return teamSlugTaken(in.Slug)
			}
			return wrap(err, "insert team")
		}
		for _, m := range in.Members {
			if _, err := t.exec(`INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`,
				id, ids[m.Username], m.Role, s.d.ts(now)); err != nil {
				return wrap(err, "insert team member")
			}
		}
		out, err = t.loadTeam(id, false)
		return err
	})
	if err != nil {
		return nil, wrap(err, "create team")
	}
	return out, nil
}

// GetTeam reads a team by ID or slug.
func (s *Store) GetTeam(ctx context.Context, ref string) (*firebreak.Team, error) {
	return s.read(ctx).loadTeam(ref, false)
}

// ListTeams lists every team by slug, with members.
func (s *Store) ListTeams(ctx context.Context) ([]firebreak.Team, error) {
	x := s.read(ctx)
	rows, err := x.query(`SELECT id FROM teams ORDER BY slug`)
	if err != nil {
		return nil, wrap(err, "list teams")
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, wrap(err, "list teams")
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list teams")
	}
	out := []firebreak.Team{}
	for _, id := range ids {
		tm, err := x.loadTeam(id, false)
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *tm)
	}
	return out, nil
}

// UpdateTeam renames a team.
func (s *Store) UpdateTeam(ctx context.Context, ref string, p firebreak.TeamPatch, ifVersion int64) (
	*firebreak.Team, error) {
	var out *firebreak.Team
	err := s.write(ctx, func(t *txn) error {
		tm, err := t.loadTeam(ref, true)
		if err != nil {
			return err
		}
		if err := checkVersion("team "+tm.Slug, tm.Version, ifVersion); err != nil {
			return err
		}
		before := tm.Name
		if err := p.Apply(tm, s.clock()); err != nil {
			return err
		}
		channels := false
		if p.Channels != nil {
			if channels, err = t.setTeamChannels(tm.ID, *p.Channels); err != nil {
				return err
			}
		}
		if tm.Name == before && !channels {
			out, err = t.loadTeam(tm.ID, false)
			return err
		}
		if _, err := t.exec(`UPDATE teams SET name = ?, updated_at = ?, version = ? WHERE id = ?`, tm.Name,
			s.d.ts(tm.UpdatedAt), tm.Version, tm.ID); err != nil {
			return wrap(err, "update team")
		}
		out, err = t.loadTeam(tm.ID, false)
		return err
	})
	if err != nil {
		return nil, wrap(err, "update team")
	}
	return out, nil
}

// SetTeamMember adds a member to a team or changes a member's role.
func (s *Store) SetTeamMember(ctx context.Context, ref string, in firebreak.TeamMemberInput) (*firebreak.Team,
	error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return s.changeTeam(ctx, ref, func(t *txn, tm *firebreak.Team) error {
		var uid string
		err := t.row(`SELECT id FROM users WHERE username = ?`, in.Username).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user %s not found", in.Username)
		}
		if err != nil {
			return wrap(err, "load user")
		}
		_, err = t.exec(`INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role`, tm.ID, uid, in.Role, s.d.ts(s.clock()))
		return wrap(err, "set team member")
	})
}

// RemoveTeamMember removes a member from a team; ENotFound when the user is not a member.
func (s *Store) RemoveTeamMember(ctx context.Context, ref, username string) (*firebreak.Team, error) {
	name := strings.ToLower(strings.TrimSpace(username))
	return s.changeTeam(ctx, ref, func(t *txn, tm *firebreak.Team) error {
		res, err := t.exec(`DELETE FROM team_members WHERE team_id = ? AND user_id IN
			(SELECT id FROM users WHERE username = ?)`, tm.ID, name)
		if err != nil {
			return wrap(err, "remove team member")
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return notFound("%s is not a member of team %s", name, tm.Slug)
		}
		return nil
	})
}

// changeTeam runs a membership change and bumps the team's version.
func (s *Store) changeTeam(ctx context.Context, ref string, fn func(t *txn, tm *firebreak.Team) error) (
	*firebreak.Team, error) {
	var out *firebreak.Team
	err := s.write(ctx, func(t *txn) error {
		tm, err := t.loadTeam(ref, true)
		if err != nil {
			return err
		}
		if err := fn(t, tm); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE teams SET updated_at = ?, version = version + 1 WHERE id = ?`,
			s.d.ts(s.clock()), tm.ID); err != nil {
			return wrap(err, "update team")
		}
		out, err = t.loadTeam(tm.ID, false)
		return err
	})
	if err != nil {
		return nil, wrap(err, "change team")
	}
	return out, nil
}

// --- schedules -------------------------------------------------------------------------------------------------

const scheduleCols = `s.id, s.name, s.description, COALESCE(t.slug, ''), s.time_zone, s.layers, s.created_at,
	s.updated_at, s.version`

func scanSchedule(r rowScanner) (firebreak.Schedule, error) {
	var sc firebreak.Schedule
	var layers string
	if err := r.Scan(&sc.ID, &sc.Name, &sc.Description, &sc.Team, &sc.TimeZone, &layers, tsCol(&sc.CreatedAt),
		tsCol(&sc.UpdatedAt), &sc.Version); err != nil {
		return sc, err
	}
	if err := json.Unmarshal([]byte(layers), &sc.Layers); err != nil {
		return sc, fmt.Errorf("bad layers of schedule %s: %w", sc.ID, err)
	}
	sc.Overrides = []firebreak.Override{}
	return sc, nil
}

func (x q) loadSchedule(id string, lock bool) (*firebreak.Schedule, error) {
	query := `SELECT ` + scheduleCols + ` FROM schedules s LEFT JOIN teams t ON t.id = s.team_id WHERE s.id = ?`
	if lock {
		query += x.s.d.lockOf("s")
	}
	sc, err := scanSchedule(x.row(query, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("schedule %s not found", id)
	}
	if err != nil {
		return nil, wrap(err, "load schedule")
	}
	if err := x.loadOverrides([]*firebreak.Schedule{&sc}); err != nil {
		return nil, err
	}
	return &sc, nil
}

// loadOverrides fills the overrides of the schedules, by start time.
func (x q) loadOverrides(scs []*firebreak.Schedule) error {
	if len(scs) == 0 {
		return nil
	}
	byID := map[string]*firebreak.Schedule{}
	ids := make([]string, len(scs))
	for i, sc := range scs {
		byID[sc.ID], ids[i] = sc, sc.ID
	}
	rows, err := x.query(`SELECT o.schedule_id, o.id, u.username, o.starts_at, o.ends_at, o.created_by, o.created_at
		FROM schedule_overrides o JOIN users u ON u.id = o.user_id
		WHERE o.schedule_id IN (`+placeholders(len(ids))+`) ORDER BY o.starts_at, o.id`, anys(ids)...)
	if err != nil {
		return wrap(err, "load overrides")
	}
	defer rows.Close()
	for rows.Next() {
		var sid string
		var o firebreak.Override
		if err := rows.Scan(&sid, &o.ID, &o.User, tsCol(&o.Start), tsCol(&o.End), &o.CreatedBy,
			tsCol(&o.CreatedAt)); err != nil {
			return wrap(err, "load overrides")
		}
		byID[sid].Overrides = append(byID[sid].Overrides, o)
	}
	return wrap(rows.Err(), "load overrides")
}

// prepareSchedule checks what validation in Go cannot: the team and the participants exist. It returns the
// team's ID (nil for none) and the layers' JSON.
func (t *txn) prepareSchedule(in *firebreak.ScheduleInput) (teamID any, layers string, err error) {
	if in.Team != "" {
		var id string
		err := t.row(`SELECT id FROM teams WHERE slug = ?`, in.Team).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, "", invalid("team", "unknown team %s", in.Team)
		}
		if err != nil {
			return nil, "", wrap(err, "load team")
		}
		teamID = id
	}
	for i, l := range in.Layers {
		if _, err := t.userIDs(fmt.Sprintf("layers[%d].participants", i), l.Participants); err != nil {
			return nil, "", err
		}
	}
	b, err := json.Marshal(in.Layers)
	if err != nil {
		return nil, "", err
	}
	return teamID, string(b), nil
}

func cloneScheduleInput(in firebreak.ScheduleInput) firebreak.ScheduleInput {
	in.Layers = slices.Clone(in.Layers)
	for i := range in.Layers {
		in.Layers[i].Participants = slices.Clone(in.Layers[i].Participants)
		if r := in.Layers[i].Restriction; r != nil {
			c := *r
			c.Days = slices.Clone(r.Days)
			in.Layers[i].Restriction = &c
		}
	}
	return in
}

// CreateSchedule adds an on-call schedule.
func (s *Store) CreateSchedule(ctx context.Context, in firebreak.ScheduleInput) (*firebreak.Schedule, error) {
	in = cloneScheduleInput(in)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *firebreak.Schedule
	err := s.write(ctx, func(t *txn) error {
		teamID, layers, err := t.prepareSchedule(&in)
		if err != nil {
			return err
		}
		now := s.clock()
		id := newID()
		if _, err := t.exec(`INSERT INTO schedules (id, name, description, team_id, time_zone, layers, created_at,
			updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`, id, in.Name, in.Description, teamID,
			in.TimeZone, layers, s.d.ts(now), s.d.ts(now)); err != nil {
			return wrap(err, "insert schedule")
		}
		out, err = t.loadSchedule(id, false)
		return err
	})
	if err != nil {
		return nil, wrap(err, "create schedule")
	}
	return out, nil
}

// GetSchedule reads a schedule with its overrides.
func (s *Store) GetSchedule(ctx context.Context, id string) (*firebreak.Schedule, error) {
	return s.read(ctx).loadSchedule(id, false)
}

// ListSchedules lists schedules by name, with their overrides.
func (s *Store) ListSchedules(ctx context.Context, f firebreak.ScheduleFilter) ([]firebreak.Schedule, error) {
	x := s.read(ctx)
	query := `SELECT ` + scheduleCols + ` FROM schedules s LEFT JOIN teams t ON t.id = s.team_id`
	var args []any
	if f.Team != "" {
		query += ` WHERE t.slug = ?`
		args = append(args, f.Team)
	}
	rows, err := x.query(query+` ORDER BY s.name, s.id`, args...)
	if err != nil {
		return nil, wrap(err, "list schedules")
	}
	out := []firebreak.Schedule{}
	for rows.Next() {
		sc, err := scanSchedule(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, "list schedules")
		}
		out = append(out, sc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list schedules")
	}
	ptrs := make([]*firebreak.Schedule, len(out))
	for i := range out {
		ptrs[i] = &out[i]
	}
	for chunk := range slices.Chunk(ptrs, 200) {
		if err := x.loadOverrides(chunk); err != nil {
			return nil, err
		}
	}
	if f.User != "" {
		user := strings.ToLower(strings.TrimSpace(f.User))
		out = slices.DeleteFunc(out, func(sc firebreak.Schedule) bool { return !involves(&sc, user) })
	}
	return out, nil
}

func involves(sc *firebreak.Schedule, user string) bool {
	for _, l := range sc.Layers {
		if slices.Contains(l.Participants, user) {
			return true
		}
	}
	return slices.ContainsFunc(sc.Overrides, func(o firebreak.Override) bool { return o.User == user })
}

// UpdateSchedule replaces a schedule's name, description, team, time zone and layers (not its overrides).
func (s *Store) UpdateSchedule(ctx context.Context, id string, in firebreak.ScheduleInput, ifVersion int64) (
	*firebreak.Schedule, error) {
	in = cloneScheduleInput(in)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *firebreak.Schedule
	err := s.write(ctx, func(t *txn) error {
		sc, err := t.loadSchedule(id, true)
		if err != nil {
			return err
		}
		if err := checkVersion("schedule "+sc.Name, sc.Version, ifVersion); err != nil {
			return err
		}
		teamID, layers, err := t.prepareSchedule(&in)
		if err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE schedules SET name = ?, description = ?, team_id = ?, time_zone = ?, layers = ?,
			updated_at = ?, version = version + 1 WHERE id = ?`, in.Name, in.Description, teamID, in.TimeZone, layers,
			s.d.ts(s.clock()), sc.ID); err != nil {
			return wrap(err, "update schedule")
		}
		out, err = t.loadSchedule(sc.ID, false)
		return err
	})
	if err != nil {
		return nil, wrap(err, "update schedule")
	}
	return out, nil
}

// DeleteSchedule deletes a schedule, its overrides and its calendar feed token.
func (s *Store) DeleteSchedule(ctx context.Context, id string) error {
	err := s.write(ctx, func(t *txn) error {
		if _, err := t.loadSchedule(id, true); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM schedule_overrides WHERE schedule_id = ?`,
			`DELETE FROM schedule_feed_tokens WHERE kind = 'schedule' AND subject = ?`,
			`DELETE FROM schedules WHERE id = ?`} {
			if _, err := t.exec(q, id); err != nil {
				return wrap(err, "delete schedule")
			}
		}
		return nil
	})
	return wrap(err, "delete schedule")
}

// AddOverride puts a user on call on a schedule for a range of time. The schedule's version is bumped.
func (s *Store) AddOverride(ctx context.Context, scheduleID string, in firebreak.OverrideInput) (
	*firebreak.Override, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out firebreak.Override
	err := s.write(ctx, func(t *txn) error {
		sc, err := t.loadSchedule(scheduleID, true)
		if err != nil {
			return err
		}
		ids, err := t.userIDs("user", []string{in.User})
		if err != nil {
			return err
		}
		now := s.clock()
		o := firebreak.Override{ID: newID(), User: in.User, Start: in.Start, End: in.End,
			CreatedBy: firebreak.ActorFrom(ctx).Username, CreatedAt: now}
		if _, err := t.exec(`INSERT INTO schedule_overrides (id, schedule_id, user_id, starts_at, ends_at, created_by,
			created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, o.ID, sc.ID, ids[in.User], s.d.ts(o.Start), s.d.ts(o.End),
			o.CreatedBy, s.d.ts(now)); err != nil {
			return wrap(err, "insert override")
		}
		if _, err := t.exec(`UPDATE schedules SET updated_at = ?, version = version + 1 WHERE id = ?`, s.d.ts(now),
			sc.ID); err != nil {
			return wrap(err, "update schedule")
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, wrap(err, "add override")
	}
	return &out, nil
}

// DeleteOverride removes an override of a schedule.
func (s *Store) DeleteOverride(ctx context.Context, scheduleID, overrideID string) error {
	err := s.write(ctx, func(t *txn) error {
		sc, err := t.loadSchedule(scheduleID, true)
		if err != nil {
			return err
		}
		res, err := t.exec(`DELETE FROM schedule_overrides WHERE schedule_id = ? AND id = ?`, sc.ID, overrideID)
		if err != nil {
			return wrap(err, "delete override")
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return notFound("override %s not found", overrideID)
		}
		_, err = t.exec(`UPDATE schedules SET updated_at = ?, version = version + 1 WHERE id = ?`,
			s.d.ts(s.clock()), sc.ID)
		return wrap(err, "update schedule")
	})
	return wrap(err, "delete override")
}

// --- calendar feeds --------------------------------------------------------------------------------------------

// feedPrefix marks calendar feed tokens.
const feedPrefix = "fbcal_"

// IssueCalendarFeed creates or replaces the secret token of a schedule's or user's calendar feed.
func (s *Store) IssueCalendarFeed(ctx context.Context, kind, subject string) (string, error) {
	secret := feedPrefix + randomSecret()
	err := s.write(ctx, func(t *txn) error {
		switch kind {
		case firebreak.FeedSchedule:
			if _, err := t.loadSchedule(subject, false); err != nil {
				return err
			}
		case firebreak.FeedUser:
			var n int
			if err := t.row(`SELECT COUNT(*) FROM users WHERE username = ?`, subject).Scan(&n); err != nil {
				return wrap(err, "load user")
			}
			if n == 0 {
				return notFound("user %s not found", subject)
			}
		default:
			return invalid("kind", "must be schedule or user")
		}
		if _, err := t.exec(`DELETE FROM schedule_feed_tokens WHERE kind = ? AND subject = ?`, kind,
			subject); err != nil {
			return wrap(err, "replace feed token")
		}
		_, err := t.exec(`INSERT INTO schedule_feed_tokens (secret_hash, kind, subject, created_by, created_at)
			VALUES (?, ?, ?, ?, ?)`, secretHash(secret), kind, subject, firebreak.ActorFrom(ctx).Username,
			s.d.ts(s.clock()))
		return wrap(err, "insert feed token")
	})
	if err != nil {
		return "", wrap(err, "issue calendar feed")
	}
	return secret, nil
}

// CheckCalendarFeed returns nil when token is the subject's current feed token; ENotFound otherwise (a feed URL
// that does not work should not tell whether the schedule exists).
func (s *Store) CheckCalendarFeed(ctx context.Context, kind, subject, token string) error {
	var stored string
	err := s.read(ctx).row(`SELECT secret_hash FROM schedule_feed_tokens WHERE kind = ? AND subject = ?`, kind,
		subject).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("calendar feed not found")
	}
	if err != nil {
		return wrap(err, "check calendar feed")
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(secretHash(token))) != 1 {
		return notFound("calendar feed not found")
	}
	return nil
}
