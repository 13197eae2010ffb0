package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/firebreak/firebreak"
)

// ChangesBefore is the answer of ListIncidentChanges.
type ChangesBefore struct {
	Window string             `json:"window"`
	Items  []firebreak.Change `json:"items"`
}

// ListChanges lists change events, most recent first (GET /changes).
func (c *Client) ListChanges(ctx context.Context, f firebreak.ChangeFilter) (*firebreak.Page[firebreak.Change], error) {
	q := url.Values{}
	if f.Service != "" {
		q.Set("service", f.Service)
	}
	if f.Since != nil {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if f.Until != nil {
		q.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	setPage(q, f.Limit, f.Cursor)
	var p firebreak.Page[firebreak.Change]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/changes", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ListIncidentChanges lists the changes of the incident's services in the window before it (GET
// /incidents/{id}/changes). A window of 0 leaves the server's default (2 h).
func (c *Client) ListIncidentChanges(ctx context.Context, ref string, window time.Duration) (*ChangesBefore, error) {
	q := url.Values{}
	if window != 0 {
		q.Set("window", window.String())
	}
	var out ChangesBefore
	if _, err := c.do(ctx, request{method: http.MethodGet, path: incPath(ref) + "/changes", query: q},
		&out); err != nil {
		return nil, err
	}
	return &out, nil
}
