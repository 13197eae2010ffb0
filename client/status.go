package client

import (
	"context"
	"net/http"

	"github.com/firebreak/firebreak"
)

// The status page's configuration (the page itself, /status, needs no client: it is public HTML, Atom and JSON).

// GetStatusPageConfig reads the status page's name and components (GET /status/components).
func (c *Client) GetStatusPageConfig(ctx context.Context) (*firebreak.StatusPageConfig, error) {
	var out firebreak.StatusPageConfig
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/status/components"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetStatusPageConfig replaces the status page's name and components (admin; PUT /status/components); a
// non-zero ifVersion is sent as If-Match.
func (c *Client) SetStatusPageConfig(ctx context.Context, in firebreak.StatusPageInput, ifVersion int64) (
	*firebreak.StatusPageConfig, error) {
	var out firebreak.StatusPageConfig
	rq := request{method: http.MethodPut, path: "/status/components", body: in, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
