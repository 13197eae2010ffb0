package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
)

var _ firebreak.TeamService = (*Client)(nil)

func teamPath(ref string) string   { return "/teams/" + esc(ref) }
func schedPath(id string) string   { return "/schedules/" + esc(id) }
func userFeedPath(u string) string { return "/users/" + esc(u) + "/calendar" }

// ScheduleResult is a schedule as the API answers it: with the warnings (gaps, overlapping overrides) about the
// next four weeks.
type ScheduleResult struct {
	firebreak.Schedule
	Warnings []oncall.Warning `json:"warnings"`
}

// OverrideResult is a new override with the schedule's warnings.
type OverrideResult struct {
	firebreak.Override
	Warnings []oncall.Warning `json:"warnings"`
}

// OnCall is who is on call on a schedule at a time, and since and until when.
type OnCall struct {
	ScheduleID string    `json:"schedule_id"`
	At         time.Time `json:"at"`
	Users      []string  `json:"users"`
	Since      time.Time `json:"since"`
	Until      time.Time `json:"until"`
}

// ShiftList is the merged shifts of a schedule in [From, To), and the gaps.
type ShiftList struct {
	ScheduleID string         `json:"schedule_id"`
	From       time.Time      `json:"from"`
	To         time.Time      `json:"to"`
	Items      []oncall.Shift `json:"items"`
	Gaps       []oncall.Shift `json:"gaps"`
}

// CalendarFeed is the secret URL of a calendar feed.
type CalendarFeed struct {
	URL       string `json:"url"`
	WebcalURL string `json:"webcal_url"`
}

// --- teams -----------------------------------------------------------------------------------------------------

// CreateTeam adds a team (admin).
func (c *Client) CreateTeam(ctx context.Context, in firebreak.TeamInput) (*firebreak.Team, error) {
	var t firebreak.Team
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/teams", body: in}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// GetTeam reads a team by slug or ID.
func (c *Client) GetTeam(ctx context.Context, ref string) (*firebreak.Team, error) {
	var t firebreak.Team
	if _, err := c.do(ctx, request{method: http.MethodGet, path: teamPath(ref)}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ListTeams lists every team.
func (c *Client) ListTeams(ctx context.Context) ([]firebreak.Team, error) {
	return all[firebreak.Team](ctx, c, "/teams")
}

// UpdateTeam renames a team (admin); a non-zero ifVersion is sent as If-Match.
func (c *Client) UpdateTeam(ctx context.Context, ref string, p firebreak.TeamPatch, ifVersion int64) (*firebreak.Team, error) {
	var t firebreak.Team
	rq := request{method: http.MethodPatch, path: teamPath(ref), body: p, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// SetTeamMember adds a member or changes a member's role (admin).
func (c *Client) SetTeamMember(ctx context.Context, ref string, in firebreak.TeamMemberInput) (*firebreak.Team, error) {
	var t firebreak.Team
	if _, err := c.do(ctx, request{method: http.MethodPost, path: teamPath(ref) + "/members", body: in}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// RemoveTeamMember removes a member (admin).
func (c *Client) RemoveTeamMember(ctx context.Context, ref, username string) (*firebreak.Team, error) {
	var t firebreak.Team
	rq := request{method: http.MethodDelete, path: teamPath(ref) + "/members/" + esc(username)}
	if _, err := c.do(ctx, rq, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// --- schedules -------------------------------------------------------------------------------------------------

// CreateSchedule adds an on-call schedule (admin).
func (c *Client) CreateSchedule(ctx context.Context, in firebreak.ScheduleInput) (*ScheduleResult, error) {
	var s ScheduleResult
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/schedules", body: in}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// GetSchedule reads a schedule with its overrides and warnings.
func (c *Client) GetSchedule(ctx context.Context, id string) (*ScheduleResult, error) {
	var s ScheduleResult
	if _, err := c.do(ctx, request{method: http.MethodGet, path: schedPath(id)}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ListSchedules lists schedules, optionally of a team or involving a user.
func (c *Client) ListSchedules(ctx context.Context, f firebreak.ScheduleFilter) ([]firebreak.Schedule, error) {
	q := url.Values{}
	if f.Team != "" {
		q.Set("team", f.Team)
	}
	if f.User != "" {
		q.Set("user", f.User)
	}
	path := "/schedules"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return all[firebreak.Schedule](ctx, c, path)
}

// UpdateSchedule replaces a schedule's definition (admin); a non-zero ifVersion is sent as If-Match.
func (c *Client) UpdateSchedule(ctx context.Context, id string, in firebreak.ScheduleInput, ifVersion int64) (*ScheduleResult, error) {
	var s ScheduleResult
	rq := request{method: http.MethodPut, path: schedPath(id), body: in, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteSchedule deletes a schedule (admin).
func (c *Client) DeleteSchedule(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: schedPath(id)}, nil)
	return err
}

// AddOverride puts someone on call for a range of time (responder).
func (c *Client) AddOverride(ctx context.Context, id string, in firebreak.OverrideInput) (*OverrideResult, error) {
	var o OverrideResult
	if _, err := c.do(ctx, request{method: http.MethodPost, path: schedPath(id) + "/overrides", body: in}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// DeleteOverride removes an override (responder).
func (c *Client) DeleteOverride(ctx context.Context, id, overrideID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: schedPath(id) + "/overrides/" + esc(overrideID)}, nil)
	return err
}

// OnCallAt asks who is on call at a time (nil: now).
func (c *Client) OnCallAt(ctx context.Context, id string, at *time.Time) (*OnCall, error) {
	q := url.Values{}
	if at != nil {
		q.Set("at", at.UTC().Format(time.RFC3339Nano))
	}
	var o OnCall
	if _, err := c.do(ctx, request{method: http.MethodGet, path: schedPath(id) + "/oncall", query: q}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// Shifts reads the merged shifts of a schedule in [from, to) (zero times: the server's defaults, now and a week).
func (c *Client) Shifts(ctx context.Context, id string, from, to time.Time) (*ShiftList, error) {
	q := url.Values{}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339Nano))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339Nano))
	}
	var l ShiftList
	if _, err := c.do(ctx, request{method: http.MethodGet, path: schedPath(id) + "/shifts", query: q}, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// IssueScheduleFeed issues a new secret calendar feed URL of a schedule (the previous one stops working).
func (c *Client) IssueScheduleFeed(ctx context.Context, id string) (*CalendarFeed, error) {
	var f CalendarFeed
	if _, err := c.do(ctx, request{method: http.MethodPost, path: schedPath(id) + "/calendar"}, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// IssueUserFeed issues a new secret calendar feed URL of a user's shifts (one's own; admins: anyone's).
func (c *Client) IssueUserFeed(ctx context.Context, username string) (*CalendarFeed, error) {
	var f CalendarFeed
	if _, err := c.do(ctx, request{method: http.MethodPost, path: userFeedPath(username)}, &f); err != nil {
		return nil, err
	}
	return &f, nil
}
