package client

import (
	"context"
	"net/http"

	"github.com/firebreak/firebreak"
)

var _ firebreak.EscalationService = (*Client)(nil)

func escalationPolicyPath(ref string) string { return "/escalation-policies/" + esc(ref) }

// CreateEscalationPolicy adds an escalation policy (admin).
func (c *Client) CreateEscalationPolicy(ctx context.Context, in firebreak.EscalationPolicyInput) (
	*firebreak.EscalationPolicy, error) {
	var p firebreak.EscalationPolicy
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/escalation-policies", body: in}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ListEscalationPolicies lists every escalation policy by name.
func (c *Client) ListEscalationPolicies(ctx context.Context) ([]firebreak.EscalationPolicy, error) {
	return all[firebreak.EscalationPolicy](ctx, c, "/escalation-policies")
}

// GetEscalationPolicy reads a policy by id or name.
func (c *Client) GetEscalationPolicy(ctx context.Context, ref string) (*firebreak.EscalationPolicy, error) {
	var p firebreak.EscalationPolicy
	if _, err := c.do(ctx, request{method: http.MethodGet, path: escalationPolicyPath(ref)}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateEscalationPolicy changes a policy (admin); a non-zero ifVersion is sent as If-Match.
func (c *Client) UpdateEscalationPolicy(ctx context.Context, ref string, patch firebreak.EscalationPolicyPatch,
	ifVersion int64) (*firebreak.EscalationPolicy, error) {
	var p firebreak.EscalationPolicy
	rq := request{method: http.MethodPatch, path: escalationPolicyPath(ref), body: patch, ifVersion: ifVersion}
	if _, err := c.do(ctx, rq, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// DeleteEscalationPolicy deletes a policy no service uses (admin).
func (c *Client) DeleteEscalationPolicy(ctx context.Context, ref string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: escalationPolicyPath(ref)}, nil)
	return err
}

var _ firebreak.EscalationStatusService = (*Client)(nil)

// IncidentEscalation reads where an incident's escalation stands (GET /incidents/{id}/escalation): the step that
// paged last, the next one and when, or how the paging ended.
func (c *Client) IncidentEscalation(ctx context.Context, ref string) (*firebreak.IncidentEscalation, error) {
	var e firebreak.IncidentEscalation
	if _, err := c.do(ctx, request{method: http.MethodGet, path: incPath(ref) + "/escalation"}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
