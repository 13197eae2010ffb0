package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/firebreak/firebreak"
)

var _ firebreak.RelatedService = (*Client)(nil)

// RelatedIncidents reads the incidents related to an incident, best first, with its recurrence warning
// (GET /api/v1/incidents/{id}/related). A limit of 0 asks for the server's default.
func (c *Client) RelatedIncidents(ctx context.Context, ref string, limit int) (*firebreak.Related, error) {
	q := url.Values{}
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var rel firebreak.Related
	if _, err := c.do(ctx, request{method: http.MethodGet, path: incPath(ref) + "/related", query: q}, &rel); err != nil {
		return nil, err
	}
	return &rel, nil
}

// RecurrenceWarning reads an incident's recurrence warning (nil when none was raised), through the related
// endpoint.
func (c *Client) RecurrenceWarning(ctx context.Context, ref string) (*firebreak.RecurrenceWarning, error) {
	rel, err := c.RelatedIncidents(ctx, ref, 1)
	if err != nil {
		return nil, err
	}
	return rel.Recurrence, nil
}
