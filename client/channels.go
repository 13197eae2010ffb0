package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/firebreak/firebreak"
)

var _ firebreak.ChannelService = (*Client)(nil)

func channelPath(ref string) string { return "/channels/" + esc(ref) }

// CreateChannel adds a notification channel (admin).
func (c *Client) CreateChannel(ctx context.Context, in firebreak.ChannelInput) (*firebreak.Channel, error) {
	var ch firebreak.Channel
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/channels", body: in}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// ListChannels lists the channels (URLs masked).
func (c *Client) ListChannels(ctx context.Context) ([]firebreak.Channel, error) {
	return all[firebreak.Channel](ctx, c, "/channels")
}

// GetChannel reads a channel by id or name.
func (c *Client) GetChannel(ctx context.Context, ref string) (*firebreak.Channel, error) {
	var ch firebreak.Channel
	if _, err := c.do(ctx, request{method: http.MethodGet, path: channelPath(ref)}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// UpdateChannel changes a channel (admin).
func (c *Client) UpdateChannel(ctx context.Context, ref string, p firebreak.ChannelPatch) (*firebreak.Channel, error) {
	var ch firebreak.Channel
	if _, err := c.do(ctx, request{method: http.MethodPatch, path: channelPath(ref), body: p}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// DeleteChannel removes a channel (admin).
func (c *Client) DeleteChannel(ctx context.Context, ref string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: channelPath(ref)}, nil)
	return err
}

// TestChannel queues a test message (admin).
func (c *Client) TestChannel(ctx context.Context, ref string) (*firebreak.Notification, error) {
	var n firebreak.Notification
	if _, err := c.do(ctx, request{method: http.MethodPost, path: channelPath(ref) + "/test"}, &n); err != nil {
		return nil, err
	}
	return &n, nil
}

// ListNotifications lists notifications, newest first (the operator view).
func (c *Client) ListNotifications(ctx context.Context, f firebreak.NotificationFilter) ([]firebreak.Notification, error) {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Incident != "" {
		q.Set("incident", f.Incident)
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out struct {
		Items []firebreak.Notification `json:"items"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/notifications", query: q}, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// RetryNotification requeues a dead notification (admin).
func (c *Client) RetryNotification(ctx context.Context, id string) (*firebreak.Notification, error) {
	var n firebreak.Notification
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/notifications/" + esc(id) + "/retry"}, &n); err != nil {
		return nil, err
	}
	return &n, nil
}
