package client

import (
	"context"
	"net/http"

	"github.com/firebreak/firebreak"
)

func contactsPath(username string) string { return "/users/" + esc(username) + "/contact-methods" }

// ListContactMethods lists a user's contact methods ("me": the caller's).
func (c *Client) ListContactMethods(ctx context.Context, username string) ([]firebreak.Channel, error) {
	var out struct {
		Items []firebreak.Channel `json:"items"`
	}
	if _, err := c.do(ctx, request{method: http.MethodGet, path: contactsPath(username)}, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// AddContactMethod adds a contact method to a user (themselves, or anyone for an admin).
func (c *Client) AddContactMethod(ctx context.Context, username string, in firebreak.ChannelInput) (
	*firebreak.Channel, error) {
	var ch firebreak.Channel
	if _, err := c.do(ctx, request{method: http.MethodPost, path: contactsPath(username), body: in}, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// DeleteContactMethod removes one of a user's contact methods.
func (c *Client) DeleteContactMethod(ctx context.Context, username, ref string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: contactsPath(username) + "/" + esc(ref)}, nil)
	return err
}

// TestContactMethod queues a test message to one of a user's contact methods.
func (c *Client) TestContactMethod(ctx context.Context, username, ref string) (*firebreak.Notification, error) {
	var n firebreak.Notification
	if _, err := c.do(ctx, request{method: http.MethodPost, path: contactsPath(username) + "/" + esc(ref) + "/test"},
		&n); err != nil {
		return nil, err
	}
	return &n, nil
}
