package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/firebreak/firebreak"
)

var _ firebreak.PostmortemService = (*Client)(nil)

func pmPath(ref string) string { return incPath(ref) + "/postmortem" }

func (c *Client) postmortem(ctx context.Context, rq request) (*firebreak.Postmortem, error) {
	var pm firebreak.Postmortem
	if _, err := c.do(ctx, rq, &pm); err != nil {
		return nil, err
	}
	return &pm, nil
}

// CreatePostmortem drafts an incident's post-mortem now (POST /incidents/{id}/postmortem).
func (c *Client) CreatePostmortem(ctx context.Context, ref string) (*firebreak.Postmortem, error) {
	return c.postmortem(ctx, request{method: http.MethodPost, path: pmPath(ref)})
}

// GetPostmortem reads an incident's post-mortem.
func (c *Client) GetPostmortem(ctx context.Context, ref string) (*firebreak.Postmortem, error) {
	return c.postmortem(ctx, request{method: http.MethodGet, path: pmPath(ref)})
}

// UpdatePostmortem saves a patch. The API requires the version edited (If-Match): ifVersion 0 is refused with
// EBadRequest rather than overwriting blindly.
func (c *Client) UpdatePostmortem(ctx context.Context, ref string, p firebreak.PostmortemPatch,
	ifVersion int64) (*firebreak.Postmortem, error) {
	return c.postmortem(ctx, request{method: http.MethodPatch, path: pmPath(ref), body: p, ifVersion: ifVersion})
}

// SubmitPostmortem moves a draft to review.
func (c *Client) SubmitPostmortem(ctx context.Context, ref string, ifVersion int64) (*firebreak.Postmortem, error) {
	return c.postmortem(ctx, request{method: http.MethodPost, path: pmPath(ref) + "/submit", ifVersion: ifVersion})
}

// ApprovePostmortem records the caller's approval, with any lint overrides.
func (c *Client) ApprovePostmortem(ctx context.Context, ref string, in firebreak.ApproveInput,
	ifVersion int64) (*firebreak.Postmortem, error) {
	return c.postmortem(ctx, request{method: http.MethodPost, path: pmPath(ref) + "/approve", body: in,
		ifVersion: ifVersion})
}

// PublishPostmortem publishes; EInvalid lists every missing field and blocking lint finding.
func (c *Client) PublishPostmortem(ctx context.Context, ref string, ifVersion int64) (*firebreak.Postmortem, error) {
	return c.postmortem(ctx, request{method: http.MethodPost, path: pmPath(ref) + "/publish", ifVersion: ifVersion})
}

// ClosePostmortem closes a published post-mortem after its follow-up review.
func (c *Client) ClosePostmortem(ctx context.Context, ref string, notes string,
	ifVersion int64) (*firebreak.Postmortem, error) {
	return c.postmortem(ctx, request{method: http.MethodPost, path: pmPath(ref) + "/close",
		body: map[string]string{"notes": notes}, ifVersion: ifVersion})
}

// ListPostmortemRevisions lists every saved version, oldest first.
func (c *Client) ListPostmortemRevisions(ctx context.Context, ref string) ([]firebreak.PostmortemRevision, error) {
	var p page[firebreak.PostmortemRevision]
	if _, err := c.do(ctx, request{method: http.MethodGet, path: pmPath(ref) + "/revisions"}, &p); err != nil {
		return nil, err
	}
	return p.Items, nil
}

// PostmortemMarkdown exports the post-mortem as Markdown (GET /incidents/{id}/postmortem.md), with its version.
func (c *Client) PostmortemMarkdown(ctx context.Context, ref string) (string, int64, error) {
	rq := request{method: http.MethodGet, path: incPath(ref) + "/postmortem.md"}
	resp, err := c.send(ctx, rq, c.base+"/api/v1"+rq.path, nil, "")
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, decodeProblem(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return "", 0, fmt.Errorf("client: reading Markdown: %w", err)
	}
	v, _ := strconv.ParseInt(strings.Trim(resp.Header.Get("ETag"), `"`), 10, 64)
	return string(b), v, nil
}
