package client

import (
	"context"
	"net/http"

	"github.com/firebreak/firebreak"
)

var _ firebreak.ChangeControlService = (*Client)(nil)

func proposalsPath(ref string) string { return incPath(ref) + "/proposals" }

// ProposeChange proposes a production change on an incident (POST /incidents/{id}/proposals). With an
// idempotency key in ctx the request is safe to retry.
func (c *Client) ProposeChange(ctx context.Context, ref string, in firebreak.ProposalInput) (
	*firebreak.ChangeProposal, error) {
	var p firebreak.ChangeProposal
	if _, err := c.do(ctx, request{method: http.MethodPost, path: proposalsPath(ref), body: in, idem: true},
		&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ListProposals lists an incident's proposed changes, oldest first (every page).
func (c *Client) ListProposals(ctx context.Context, ref string) ([]firebreak.ChangeProposal, error) {
	return all[firebreak.ChangeProposal](ctx, c, proposalsPath(ref))
}

// GetProposal reads one proposed change.
func (c *Client) GetProposal(ctx context.Context, ref, id string) (*firebreak.ChangeProposal, error) {
	var p firebreak.ChangeProposal
	if _, err := c.do(ctx, request{method: http.MethodGet, path: proposalsPath(ref) + "/" + esc(id)}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// DecideProposal approves, rejects or withdraws a proposed change (POST …/proposals/{pid}/approve|reject|withdraw).
func (c *Client) DecideProposal(ctx context.Context, ref, id string, d firebreak.Decision,
	in firebreak.DecisionInput) (*firebreak.ChangeProposal, error) {
	var p firebreak.ChangeProposal
	rq := request{method: http.MethodPost, path: proposalsPath(ref) + "/" + esc(id) + "/" + esc(string(d)), body: in}
	if _, err := c.do(ctx, rq, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
