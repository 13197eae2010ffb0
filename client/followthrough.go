package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/firebreak/firebreak"
)

var _ firebreak.FollowThroughService = (*Client)(nil)

// ListFollowUpReviews lists the follow-up reviews of published post-mortems, review date soonest first
// (GET /follow-up-reviews; Due: only those whose date has passed).
func (c *Client) ListFollowUpReviews(ctx context.Context, f firebreak.FollowUpReviewFilter) (
	*firebreak.Page[firebreak.FollowUpReview], error) {
	q := url.Values{}
	if f.Due {
		q.Set("due", "true")
	}
	setPage(q, f.Limit, f.Cursor)
	var p firebreak.Page[firebreak.FollowUpReview]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/follow-up-reviews", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// VerifyActionItem verifies a done action item by id (POST /action-items/{id}/verify), as the caller.
func (c *Client) VerifyActionItem(ctx context.Context, itemID string, ifVersion int64) (*firebreak.ActionItem, error) {
	var out firebreak.ActionItem
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/action-items/" + esc(itemID) + "/verify",
		ifVersion: ifVersion}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
