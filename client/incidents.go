package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/firebreak/firebreak"
)

func incPath(ref string) string { return "/incidents/" + esc(ref) }

// DeclareIncident declares an incident (POST /incidents). With an idempotency key in ctx
// (firebreak.WithIdempotency) the request is safe to retry and is retried on connection errors.
func (c *Client) DeclareIncident(ctx context.Context, in firebreak.DeclareInput) (*firebreak.Incident, error) {
	var inc firebreak.Incident
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/incidents", body: in, idem: true}, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// GetIncident reads an incident by UUID, "INC-42" or "42".
func (c *Client) GetIncident(ctx context.Context, ref string) (*firebreak.Incident, error) {
	var inc firebreak.Incident
	if _, err := c.do(ctx, request{method: http.MethodGet, path: incPath(ref)}, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// ListIncidents reads one page of incidents.
func (c *Client) ListIncidents(ctx context.Context, f firebreak.IncidentFilter) (*firebreak.Page[firebreak.Incident], error) {
	q := url.Values{}
	for _, s := range f.Status {
		q.Add("status", string(s))
	}
	for _, s := range f.Severity {
		q.Add("severity", string(s))
	}
	if f.Service != "" {
		q.Set("service", f.Service)
	}
	if f.Open {
		q.Set("open", "true")
	}
	if f.DeclaredAfter != nil {
		q.Set("since", f.DeclaredAfter.Format(time.RFC3339Nano))
	}
	if f.DeclaredBefore != nil {
		q.Set("until", f.DeclaredBefore.Format(time.RFC3339Nano))
	}
	if f.Query != "" {
		q.Set("q", f.Query)
	}
	setPage(q, f.Limit, f.Cursor)
	var p firebreak.Page[firebreak.Incident]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/incidents", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

func setPage(q url.Values, limit int, cursor string) {
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
}

// UpdateIncident changes an incident's fields; a non-zero ifVersion is sent as If-Match.
func (c *Client) UpdateIncident(ctx context.Context, ref string, p firebreak.IncidentPatch, ifVersion int64) (*firebreak.Incident, error) {
	var inc firebreak.Incident
	rq := request{method: http.MethodPatch, path: incPath(ref), body: p, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// ChangeStatus moves an incident to another status; an invalid move is EConflict with Allowed set.
func (c *Client) ChangeStatus(ctx context.Context, ref string, to firebreak.Status, message string, ifVersion int64) (*firebreak.Incident, error) {
	var inc firebreak.Incident
	body := map[string]string{"status": string(to), "message": message}
	rq := request{method: http.MethodPost, path: incPath(ref) + "/status", body: body, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// AcknowledgeIncident acknowledges an incident (POST /incidents/{id}/ack).
func (c *Client) AcknowledgeIncident(ctx context.Context, ref string, ifVersion int64) (*firebreak.Incident, error) {
	var inc firebreak.Incident
	rq := request{method: http.MethodPost, path: incPath(ref) + "/ack", ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// AssignRole gives an incident role to a user.
func (c *Client) AssignRole(ctx context.Context, ref string, role firebreak.Role, user string, ifVersion int64) (*firebreak.Incident, error) {
	var inc firebreak.Incident
	body := map[string]string{"role": string(role), "user": user}
	rq := request{method: http.MethodPost, path: incPath(ref) + "/roles", body: body, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &inc); err != nil {
		return nil, err
	}
	return &inc, nil
}

// AddTimelineEvent adds a note to an incident's timeline.
func (c *Client) AddTimelineEvent(ctx context.Context, ref string, in firebreak.TimelineInput) (*firebreak.TimelineEvent, error) {
	var ev firebreak.TimelineEvent
	rq := request{method: http.MethodPost, path: incPath(ref) + "/timeline", body: in, idem: true}
	if _, err := c.do(ctx, rq, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// ListTimeline reads one page of an incident's timeline.
func (c *Client) ListTimeline(ctx context.Context, ref string, f firebreak.TimelineFilter) (*firebreak.Page[firebreak.TimelineEvent], error) {
	q := url.Values{}
	if f.StarredOnly {
		q.Set("starred", "true")
	}
	if f.AfterID != 0 {
		q.Set("after", strconv.FormatInt(f.AfterID, 10))
	}
	setPage(q, f.Limit, f.Cursor)
	var p firebreak.Page[firebreak.TimelineEvent]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: incPath(ref) + "/timeline", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetTimelineEvent reads one timeline event.
func (c *Client) GetTimelineEvent(ctx context.Context, ref string, eventID int64) (*firebreak.TimelineEvent, error) {
	var ev firebreak.TimelineEvent
	path := incPath(ref) + "/timeline/" + strconv.FormatInt(eventID, 10)
	if _, err := c.do(ctx, request{method: http.MethodGet, path: path}, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// StarTimelineEvent stars or unstars a timeline event.
func (c *Client) StarTimelineEvent(ctx context.Context, ref string, eventID int64, starred bool) (*firebreak.TimelineEvent, error) {
	method := http.MethodPost
	if !starred {
		method = http.MethodDelete
	}
	var ev firebreak.TimelineEvent
	path := incPath(ref) + "/timeline/" + strconv.FormatInt(eventID, 10) + "/star"
	if _, err := c.do(ctx, request{method: method, path: path}, &ev); err != nil {
		return nil, err
	}
	return &ev, nil
}

// PostUpdate posts a status update to stakeholders.
func (c *Client) PostUpdate(ctx context.Context, ref string, in firebreak.UpdateInput) (*firebreak.StatusUpdate, error) {
	var u firebreak.StatusUpdate
	rq := request{method: http.MethodPost, path: incPath(ref) + "/updates", body: in, idem: true}
	if _, err := c.do(ctx, rq, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListUpdates reads every status update of an incident, following pages.
func (c *Client) ListUpdates(ctx context.Context, ref string) ([]firebreak.StatusUpdate, error) {
	return all[firebreak.StatusUpdate](ctx, c, incPath(ref)+"/updates")
}

// GetUpdate reads one status update.
func (c *Client) GetUpdate(ctx context.Context, ref, updateID string) (*firebreak.StatusUpdate, error) {
	var u firebreak.StatusUpdate
	if _, err := c.do(ctx, request{method: http.MethodGet, path: incPath(ref) + "/updates/" + esc(updateID)}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// AddActionItem adds an action item to an incident.
func (c *Client) AddActionItem(ctx context.Context, ref string, in firebreak.ActionItemInput) (*firebreak.ActionItem, error) {
	var a firebreak.ActionItem
	rq := request{method: http.MethodPost, path: incPath(ref) + "/action-items", body: in, idem: true}
	if _, err := c.do(ctx, rq, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// UpdateActionItem changes an action item; a non-zero ifVersion is sent as If-Match.
func (c *Client) UpdateActionItem(ctx context.Context, ref, itemID string, p firebreak.ActionItemPatch, ifVersion int64) (*firebreak.ActionItem, error) {
	var a firebreak.ActionItem
	rq := request{method: http.MethodPatch, path: incPath(ref) + "/action-items/" + esc(itemID), body: p, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetActionItem reads one action item.
func (c *Client) GetActionItem(ctx context.Context, ref, itemID string) (*firebreak.ActionItem, error) {
	var a firebreak.ActionItem
	rq := request{method: http.MethodGet, path: incPath(ref) + "/action-items/" + esc(itemID)}
	if _, err := c.do(ctx, rq, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// ListActionItems reads every action item of an incident, following pages.
func (c *Client) ListActionItems(ctx context.Context, ref string) ([]firebreak.ActionItem, error) {
	return all[firebreak.ActionItem](ctx, c, incPath(ref)+"/action-items")
}

// ListFollowUps reads one page of action items across incidents (GET /action-items).
func (c *Client) ListFollowUps(ctx context.Context, f firebreak.ActionItemFilter) (*firebreak.Page[firebreak.FollowUp],
	error) {
	q := url.Values{}
	if f.Owner != "" {
		q.Set("owner", f.Owner)
	}
	for _, st := range f.Status {
		q.Add("status", string(st))
	}
	if f.Overdue {
		q.Set("overdue", "true")
	}
	setPage(q, f.Limit, f.Cursor)
	var p firebreak.Page[firebreak.FollowUp]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/action-items", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
