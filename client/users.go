package client

import (
	"context"
	"net/http"

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
