package firebreak

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// UserRole decides what a user may do. Each role includes the ones before it.
type UserRole string

const (
	RoleViewer    UserRole = "viewer"    // read
	RoleResponder UserRole = "responder" // act on incidents
	RoleAdmin     UserRole = "admin"     // configure: services, users, tokens
)

// Valid reports whether r is a known user role.
func (r UserRole) Valid() bool { return r == RoleViewer || r == RoleResponder || r == RoleAdmin }

func (r UserRole) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleResponder:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Allows reports whether a user with role r may do what needs role need.
func (r UserRole) Allows(need UserRole) bool { return r.rank() >= need.rank() && r.rank() > 0 }

// User is a person (or an automation account) using Firebreak.
type User struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Role      UserRole  `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

// UserInput creates a user.
type UserInput struct {
	Username string   `json:"username"`
	Name     string   `json:"name,omitempty"`
	Email    string   `json:"email,omitempty"`
	Role     UserRole `json:"role"`
	Password string   `json:"password,omitempty"` // empty: token-only account
}

// Validate checks the input.
func (in *UserInput) Validate() error {
	var v Validation
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	if !usernameRE.MatchString(in.Username) {
		v.Add("username", "must be 1–40 lowercase letters, digits, '.', '_' or '-'")
	}
	if in.Name == "" {
		in.Name = in.Username
	}
	v.Text("name", in.Name, MaxNameLen)
	if in.Email != "" && (!strings.Contains(in.Email, "@") || len(in.Email) > 254) {
		v.Add("email", "must be an email address")
	}
	if in.Role == "" {
		in.Role = RoleResponder
	}
	if !in.Role.Valid() {
		v.Add("role", "must be viewer, responder or admin")
	}
	if in.Password != "" && len(in.Password) < 8 {
		v.Add("password", "must be at least 8 characters")
	}
	return v.Err()
}

// Token is an API token. Its secret is shown once, at creation, and stored only as a hash.
type Token struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Username   string     `json:"username"`
	Name       string     `json:"name"`
	Role       UserRole   `json:"role"` // may be lower than the user's role
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// Secret is set only in the answer that creates the token.
	Secret string `json:"token,omitempty"`
}

// TokenInput creates a token for a user.
type TokenInput struct {
	Username  string     `json:"username"`
	Name      string     `json:"name"`
	Role      UserRole   `json:"role,omitempty"` // empty: the user's role
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// Secret, when set, is used instead of a random one (FIREBREAK_ADMIN_TOKEN).
	Secret string `json:"-"`
}

// Actor is the authenticated caller of an operation.
type Actor struct {
	UserID   string
	Username string
	Role     UserRole
}

type actorKey struct{}

// WithActor returns a context carrying the caller.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the caller carried by ctx; Username is "system" when there is none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Username: "system", Role: RoleAdmin}
}

// Idempotency identifies a creating request that a client may retry: the store records the key with what it
// created in the same transaction, so a retry returns the first result instead of creating twice.
type Idempotency struct {
	Key         string
	RequestHash string
}

type idemKey struct{}

// WithIdempotency returns a context carrying the idempotency key of the request.
func WithIdempotency(ctx context.Context, i Idempotency) context.Context {
	return context.WithValue(ctx, idemKey{}, i)
}

// IdempotencyFrom returns the idempotency key carried by ctx, if any.
func IdempotencyFrom(ctx context.Context) (Idempotency, bool) {
	i, ok := ctx.Value(idemKey{}).(Idempotency)
	return i, ok && i.Key != ""
}

// IdempotentReplay is returned (as error) when a request repeats an earlier one: the store did nothing new, and
// the caller should answer with the resource the first request created.
type IdempotentReplay struct {
	Kind string // "incident", "service", "timeline_event", "update", "action_item"
	ID   string
}

func (r *IdempotentReplay) Error() string { return "idempotent replay of " + r.Kind + " " + r.ID }
