package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/firebreak/firebreak"
)

func svcPath(ref string) string { return "/services/" + esc(ref) }

// CreateService adds a service to the catalog (admin).
func (c *Client) CreateService(ctx context.Context, in firebreak.ServiceInput) (*firebreak.Service, error) {
	var s firebreak.Service
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/services", body: in, idem: true}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// GetService reads a service by ID or slug.
func (c *Client) GetService(ctx context.Context, ref string) (*firebreak.Service, error) {
	var s firebreak.Service
	if _, err := c.do(ctx, request{method: http.MethodGet, path: svcPath(ref)}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ListServices reads one page of the catalog.
func (c *Client) ListServices(ctx context.Context, f firebreak.ServiceFilter) (*firebreak.Page[firebreak.Service], error) {
	q := url.Values{}
	if f.Team != "" {
		q.Set("team", f.Team)
	}
	setPage(q, f.Limit, f.Cursor)
	var p firebreak.Page[firebreak.Service]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/services", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateService changes a service (admin); a non-zero ifVersion is sent as If-Match.
func (c *Client) UpdateService(ctx context.Context, ref string, p firebreak.ServicePatch, ifVersion int64) (*firebreak.Service, error) {
	var s firebreak.Service
	rq := request{method: http.MethodPatch, path: svcPath(ref), body: p, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// SeverityPolicies reads the severity policies the server runs with.
func (c *Client) SeverityPolicies(ctx context.Context) ([]firebreak.SeverityPolicy, error) {
	type policy struct {
		firebreak.SeverityPolicy
		ResponseTargetSeconds int64 `json:"response_target_seconds"`
	}
	ps, err := all[policy](ctx, c, "/severities")
	if err != nil {
		return nil, err
	}
	out := make([]firebreak.SeverityPolicy, len(ps))
	for i, p := range ps {
		out[i] = p.SeverityPolicy
		out[i].ResponseTarget = time.Duration(p.ResponseTargetSeconds) * time.Second
	}
	return out, nil
}
