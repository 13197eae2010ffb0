package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/firebreak/firebreak"
)

// CreateUser creates a user (admin).
func (c *Client) CreateUser(ctx context.Context, in firebreak.UserInput) (*firebreak.User, error) {
	var u firebreak.User
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/users", body: in}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUser reads a user by username (admin).
func (c *Client) GetUser(ctx context.Context, username string) (*firebreak.User, error) {
	var u firebreak.User
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/users/" + esc(username)}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListUsers reads every user (admin), following pages.
func (c *Client) ListUsers(ctx context.Context) ([]firebreak.User, error) {
	return all[firebreak.User](ctx, c, "/users")
}

// CreateToken creates an API token (admin). The answer's Secret is the token, shown this once.
func (c *Client) CreateToken(ctx context.Context, in firebreak.TokenInput) (*firebreak.Token, error) {
	var t firebreak.Token
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/tokens", body: in}, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Me returns the caller: its user, with the role its token acts with.
func (c *Client) Me(ctx context.Context) (*firebreak.User, error) {
	var u firebreak.User
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/me"}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// ListTokens lists API tokens without their secrets: one user's (admins may name anyone; others get their own),
// or every user's when username is empty and the caller is an admin.
func (c *Client) ListTokens(ctx context.Context, username string) ([]firebreak.Token, error) {
	path := "/tokens"
	if username != "" {
		path += "?user=" + url.QueryEscape(username)
	}
	return all[firebreak.Token](ctx, c, path)
}

// RevokeToken deletes an API token; it authenticates nobody from then on.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/tokens/" + esc(id)}, nil)
	return err
}
