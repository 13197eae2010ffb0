package sqlstore

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
)

// The announcement channels of a team (team_channels, migration 00013): where overdue action items of its
// members are escalated (followthrough.go). Set with PATCH /teams/{slug} {"channels": [...]}.

// teamChannelNames lists a team's channels by name.
func (x q) teamChannelNames(teamID string) ([]string, error) {
	out, err := x.column("team channels", `SELECT c.name FROM team_channels tc JOIN channels c ON c.id = tc.channel_id
		WHERE tc.team_id = ? ORDER BY c.name`, teamID)
	if out == nil {
		out = []string{}
	}
	return out, err
}

// setTeamChannels replaces a team's channels (ids or names); changed reports whether the set differs.
func (t *txn) setTeamChannels(teamID string, refs []string) (changed bool, err error) {
	var ids []string
	for _, ref := range refs {
		var id string
		ref = strings.TrimSpace(ref)
		err := t.row(`SELECT id FROM channels WHERE id = ? OR name = ?`, ref, ref).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return false, invalid("channels", "unknown channel %q", ref)
		}
		if err != nil {
			return false, wrap(err, "set team channels")
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	before, err := t.column("team channels", `SELECT channel_id FROM team_channels WHERE team_id = ?`, teamID)
	if err != nil {
		return false, err
	}
	slices.Sort(ids)
	slices.Sort(before)
	if slices.Equal(ids, before) {
		return false, nil
	}
	if _, err := t.exec(`DELETE FROM team_channels WHERE team_id = ?`, teamID); err != nil {
		return false, wrap(err, "set team channels")
	}
	for _, id := range ids {
		if _, err := t.exec(`INSERT INTO team_channels (team_id, channel_id) VALUES (?, ?)`, teamID, id); err != nil {
			return false, wrap(err, "set team channels")
		}
	}
	return true, nil
}
