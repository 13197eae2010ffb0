package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/firebreak/firebreak"
)

// The health probe calls implement the configuration half of firebreak.ProbeService (the runner's half,
// ClaimDueProbes, NextProbeDue and RecordProbeResults, belongs to the server).

func probePath(id string) string { return "/probes/" + esc(id) }

// CreateProbe adds a health probe (responder). Zero values take the defaults.
func (c *Client) CreateProbe(ctx context.Context, in firebreak.ProbeInput) (*firebreak.Probe, error) {
	var p firebreak.Probe
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/probes", body: in}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateProbe replaces a probe's configuration (responder); its state and results are kept.
func (c *Client) UpdateProbe(ctx context.Context, id string, in firebreak.ProbeInput) (*firebreak.Probe, error) {
	var p firebreak.Probe
	if _, err := c.do(ctx, request{method: http.MethodPut, path: probePath(id), body: in}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// DeleteProbe deletes a probe with its results (responder).
func (c *Client) DeleteProbe(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: probePath(id)}, nil)
	return err
}

// GetProbe reads a probe with its recent results (newest first) and its 24-hour and 7-day statistics.
func (c *Client) GetProbe(ctx context.Context, id string) (*firebreak.ProbeStatus, error) {
	var st firebreak.ProbeStatus
	if _, err := c.do(ctx, request{method: http.MethodGet, path: probePath(id)}, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// ListProbes reads every probe, or those of one service (slug), in service then name order.
func (c *Client) ListProbes(ctx context.Context, f firebreak.ProbeFilter) ([]firebreak.Probe, error) {
	path := "/probes"
	if f.Service != "" {
		path += "?" + url.Values{"service": {f.Service}}.Encode()
	}
	return all[firebreak.Probe](ctx, c, path)
}

// ApplyProbes makes the given probes exist as given, matched by service and name: existing ones are replaced,
// others created; probes not in the list are left alone. Unlike the server's, it is not one transaction: it
// stops at the first error, leaving the probes before it applied.
func (c *Client) ApplyProbes(ctx context.Context, ins []firebreak.ProbeInput) ([]firebreak.Probe, error) {
	existing, err := c.ListProbes(ctx, firebreak.ProbeFilter{})
	if err != nil {
		return nil, err
	}
	ids := map[[2]string]string{}
	for _, p := range existing {
		ids[[2]string{p.Service, p.Name}] = p.ID
	}
	out := make([]firebreak.Probe, 0, len(ins))
	for _, in := range ins {
		var p *firebreak.Probe
		if id, ok := ids[[2]string{in.Service, in.Name}]; ok {
			p, err = c.UpdateProbe(ctx, id, in)
		} else {
			p, err = c.CreateProbe(ctx, in)
		}
		if err != nil {
			return out, err
		}
		out = append(out, *p)
	}
	return out, nil
}
