package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/firebreak/firebreak"
)

var (
	_ firebreak.MaintenanceService = (*Client)(nil)
	_ firebreak.NoiseService       = (*Client)(nil)
)

func maintenancePath(id string) string { return "/maintenance-windows/" + esc(id) }

// CreateMaintenance schedules a maintenance window (responder; POST /maintenance-windows).
func (c *Client) CreateMaintenance(ctx context.Context, in firebreak.MaintenanceInput) (*firebreak.MaintenanceWindow,
	error) {
	var out firebreak.MaintenanceWindow
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/maintenance-windows", body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListMaintenance reads one page of maintenance windows (GET /maintenance-windows).
func (c *Client) ListMaintenance(ctx context.Context, f firebreak.MaintenanceFilter) (
	*firebreak.Page[firebreak.MaintenanceWindow], error) {
	q := url.Values{}
	if f.Service != "" {
		q.Set("service", f.Service)
	}
	if f.State != "" {
		q.Set("state", string(f.State))
	}
	if f.At != nil {
		q.Set("at", f.At.UTC().Format(time.RFC3339Nano))
	}
	setPage(q, f.Limit, f.Cursor)
	var p firebreak.Page[firebreak.MaintenanceWindow]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/maintenance-windows", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetMaintenance reads a maintenance window (GET /maintenance-windows/{id}).
func (c *Client) GetMaintenance(ctx context.Context, id string) (*firebreak.MaintenanceWindow, error) {
	var out firebreak.MaintenanceWindow
	if _, err := c.do(ctx, request{method: http.MethodGet, path: maintenancePath(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateMaintenance changes a window that has not ended (responder; PATCH); a non-zero ifVersion is sent as
// If-Match.
func (c *Client) UpdateMaintenance(ctx context.Context, id string, p firebreak.MaintenancePatch, ifVersion int64) (
	*firebreak.MaintenanceWindow, error) {
	var out firebreak.MaintenanceWindow
	rq := request{method: http.MethodPatch, path: maintenancePath(id), body: p, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelMaintenance cancels a window that has not ended (responder; DELETE, which keeps the window as
// cancelled); a non-zero ifVersion is sent as If-Match.
func (c *Client) CancelMaintenance(ctx context.Context, id string, ifVersion int64) (*firebreak.MaintenanceWindow,
	error) {
	var out firebreak.MaintenanceWindow
	rq := request{method: http.MethodDelete, path: maintenancePath(id), ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NoiseReport reads the alert noise report (GET /reports/noise).
func (c *Client) NoiseReport(ctx context.Context, f firebreak.NoiseFilter) (*firebreak.NoiseReport, error) {
	q := url.Values{}
	if f.Service != "" {
		q.Set("service", f.Service)
	}
	if f.Since != nil {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Until != nil {
		q.Set("until", f.Until.UTC().Format(time.RFC3339Nano))
	}
	var out firebreak.NoiseReport
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/reports/noise", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
