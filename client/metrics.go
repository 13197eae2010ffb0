package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
)

func metricsValues(q firebreak.MetricsQuery) url.Values {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	}
	if q.GroupBy != "" {
		v.Set("group_by", q.GroupBy)
	}
	if q.Service != "" {
		v.Set("service", q.Service)
	}
	if q.Severity != "" {
		v.Set("severity", string(q.Severity))
	}
	return v
}

// Metrics reads the incident metrics report (GET /metrics); zero From and To take the server's defaults (the 90
// days before now).
func (c *Client) Metrics(ctx context.Context, q firebreak.MetricsQuery) (*analysis.Report, error) {
	var out analysis.Report
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/metrics", query: metricsValues(q)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MetricsCSV reads the same report as RFC 4180 CSV (GET /metrics.csv).
func (c *Client) MetricsCSV(ctx context.Context, q firebreak.MetricsQuery) ([]byte, error) {
	rq := request{method: http.MethodGet, path: "/metrics.csv"}
	u := c.base + "/api/v1" + rq.path
	if v := metricsValues(q); len(v) > 0 {
		u += "?" + v.Encode()
	}
	resp, err := c.send(ctx, rq, u, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, decodeProblem(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("client: reading metrics.csv: %w", err)
	}
	return b, nil
}

// IncidentMetrics reads one incident's durations, measured now (GET /incidents/{id}/metrics).
func (c *Client) IncidentMetrics(ctx context.Context, ref string) (*analysis.IncidentMetrics, error) {
	var out analysis.IncidentMetrics
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/incidents/" + esc(ref) + "/metrics"},
		&out); err != nil {
		return nil, err
	}
	return &out, nil
}
