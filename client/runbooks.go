package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak"
)

var _ firebreak.RunbookService = (*Client)(nil)

func runbookPath(id string) string { return "/runbooks/" + esc(id) }

func (c *Client) runbook(ctx context.Context, rq request) (*firebreak.Runbook, error) {
	var rb firebreak.Runbook
	if _, err := c.do(ctx, rq, &rb); err != nil {
		return nil, err
	}
	return &rb, nil
}

// CreateRunbook adds a runbook (POST /runbooks).
func (c *Client) CreateRunbook(ctx context.Context, in firebreak.RunbookInput) (*firebreak.Runbook, error) {
	return c.runbook(ctx, request{method: http.MethodPost, path: "/runbooks", body: in})
}

// GetRunbook reads a runbook.
func (c *Client) GetRunbook(ctx context.Context, id string) (*firebreak.Runbook, error) {
	return c.runbook(ctx, request{method: http.MethodGet, path: runbookPath(id)})
}

// ListRunbooks reads one page of runbooks.
func (c *Client) ListRunbooks(ctx context.Context, f firebreak.RunbookFilter) (*firebreak.Page[firebreak.Runbook],
	error) {
	q := url.Values{}
	if len(f.Services) > 0 {
		q.Set("service", strings.Join(f.Services, ","))
	}
	if f.Stale != nil {
		q.Set("stale", strconv.FormatBool(*f.Stale))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.Cursor != "" {
		q.Set("cursor", f.Cursor)
	}
	var p firebreak.Page[firebreak.Runbook]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/runbooks", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateRunbook saves a new version. The API requires the version edited (If-Match); with ifVersion 0 the client
// reads the current version first, so the edit applies to that one (and a concurrent save still gets 412).
func (c *Client) UpdateRunbook(ctx context.Context, id string, p firebreak.RunbookPatch, ifVersion int64) (
	*firebreak.Runbook, error) {
	if ifVersion == 0 {
		cur, err := c.GetRunbook(ctx, id)
		if err != nil {
			return nil, err
		}
		ifVersion = cur.Version
	}
	return c.runbook(ctx, request{method: http.MethodPatch, path: runbookPath(id), body: p, ifVersion: ifVersion})
}

// ListRunbookRevisions lists every saved version, oldest first.
func (c *Client) ListRunbookRevisions(ctx context.Context, id string) ([]firebreak.RunbookRevision, error) {
	return all[firebreak.RunbookRevision](ctx, c, runbookPath(id)+"/revisions")
}

// ReviewRunbook records a review by the token's user now; a non-zero ifVersion is sent as If-Match.
func (c *Client) ReviewRunbook(ctx context.Context, id string, ifVersion int64) (*firebreak.Runbook, error) {
	return c.runbook(ctx, request{method: http.MethodPost, path: runbookPath(id) + "/review", ifVersion: ifVersion})
}
