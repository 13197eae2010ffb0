package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/firebreak/firebreak"
)

// CreatedIntegration is the answer that creates an integration: the integration with its key (shown only
// here) and ready-to-paste configuration for the sending tool.
type CreatedIntegration struct {
	firebreak.Integration
	Snippets IntegrationSnippets `json:"snippets"`
}

// IntegrationSnippets is configuration for the tool that sends to an integration.
type IntegrationSnippets struct {
	URL          string `json:"url"`
	Alertmanager string `json:"alertmanager,omitempty"`
	Grafana      string `json:"grafana,omitempty"`
	Curl         string `json:"curl,omitempty"`
}

// CreateIntegration adds an alert integration to a service (admin). The answer holds the integration key;
// no later answer shows it again.
func (c *Client) CreateIntegration(ctx context.Context, in firebreak.IntegrationInput) (*CreatedIntegration, error) {
	var out CreatedIntegration
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/integrations", body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListIntegrations reads every integration, or those of one service (by slug) when service is not empty.
func (c *Client) ListIntegrations(ctx context.Context, service string) ([]firebreak.Integration, error) {
	path := "/integrations"
	if service != "" {
		path += "?" + url.Values{"service": {service}}.Encode()
	}
	return all[firebreak.Integration](ctx, c, path)
}

// ListAlerts reads one page of alerts, newest first.
func (c *Client) ListAlerts(ctx context.Context, f firebreak.AlertFilter) (*firebreak.Page[firebreak.Alert], error) {
	q := url.Values{}
	if f.Service != "" {
		q.Set("service", f.Service)
	}
	for _, s := range f.Status {
		q.Add("status", string(s))
	}
	if f.Incident != "" {
		q.Set("incident", f.Incident)
	}
	if f.Flapping {
		q.Set("flapping", "true")
	}
	if f.Suppressed != "" {
		q.Set("suppressed", string(f.Suppressed))
	}
	setPage(q, f.Limit, f.Cursor)
	var p firebreak.Page[firebreak.Alert]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/alerts", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// GetAlert reads one alert.
func (c *Client) GetAlert(ctx context.Context, id string) (*firebreak.Alert, error) {
	var a firebreak.Alert
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/alerts/" + esc(id)}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetRoutingPolicy reads a service's (slug or UUID) alert routing policy: the default until one is set.
func (c *Client) GetRoutingPolicy(ctx context.Context, service string) (*firebreak.RoutingPolicy, error) {
	var p firebreak.RoutingPolicy
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/services/" + esc(service) + "/routing"},
		&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// SetRoutingPolicy replaces a service's (slug or UUID) alert routing policy (admin) and returns it as stored,
// with defaults filled.
func (c *Client) SetRoutingPolicy(ctx context.Context, service string, policy firebreak.RoutingPolicy) (
	*firebreak.RoutingPolicy, error) {
	var p firebreak.RoutingPolicy
	if _, err := c.do(ctx, request{method: http.MethodPut, path: "/services/" + esc(service) + "/routing",
		body: policy}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
