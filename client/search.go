package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/firebreak/firebreak"
)

var _ firebreak.SearchService = (*Client)(nil)

// Search searches the knowledge base (GET /api/v1/search): one page of hits, best first.
func (c *Client) Search(ctx context.Context, sq firebreak.SearchQuery) (*firebreak.Page[firebreak.SearchHit], error) {
	q := url.Values{"q": {sq.Q}}
	for _, s := range sq.Services {
		q.Add("service", s)
	}
	for _, s := range sq.Severities {
		q.Add("severity", string(s))
	}
	for _, k := range sq.Kinds {
		q.Add("kind", k)
	}
	for _, c := range sq.Categories {
		q.Add("category", string(c))
	}
	for _, t := range sq.Tags {
		q.Add("tag", t)
	}
	if sq.Since != nil {
		q.Set("since", sq.Since.UTC().Format(time.RFC3339Nano))
	}
	if sq.Until != nil {
		q.Set("until", sq.Until.UTC().Format(time.RFC3339Nano))
	}
	setPage(q, sq.Limit, sq.Cursor)
	var p firebreak.Page[firebreak.SearchHit]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/search", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
