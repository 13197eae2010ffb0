package sqlstore

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

// PasswordIterations is the PBKDF2-SHA256 work factor for new password hashes (OWASP's 2023 figure for
// PBKDF2-HMAC-SHA256 is 600,000; 210,000 keeps a login near 100 ms on a small machine). Each hash records its own
// count, so raising this later does not break existing passwords. Tests lower it.
var PasswordIterations = 210_000

// DefaultSessionTTL is the lifetime of a web session when CreateSession is given none.
const DefaultSessionTTL = 12 * time.Hour

// tokenPrefix marks Firebreak API tokens (so secret scanners and people recognise them).
const tokenPrefix = "fb_"

// lastUsedEvery limits how often AuthenticateToken writes last_used_at.
const lastUsedEvery = time.Minute

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// secretHash is how token and session secrets are stored: SHA-256, hex. The secrets are 256 random bits, so a
// fast hash is enough (a slow KDF protects guessable passwords, not random keys).
func secretHash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func hashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	iter := PasswordIterations
	key, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		return "", err
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iter, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// checkPassword reports whether password matches the stored hash, in constant time.
func checkPassword(stored, password string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iter, len(want))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when a login names no user, so that a wrong username costs as much as a wrong
// password.
var dummyHash = sync.OnceValue(func() string {
	h, _ := hashPassword(randomSecret())
	return h
})

const userCols = `id, username, name, email, role, created_at`

func scanUser(r rowScanner, extra ...any) (firebreak.User, error) {
	var u firebreak.User
	err := r.Scan(append([]any{&u.ID, &u.Username, &u.Name, &u.Email, &u.Role, tsCol(&u.CreatedAt)}, extra...)...)
	return u, err
}

func userTaken(username string) error {
	return firebreak.Errorf(firebreak.EConflict, "user %s already exists", username)
}

// CreateUser adds a user (with a password, or token-only).
func (s *Store) CreateUser(ctx context.Context, in firebreak.UserInput) (*firebreak.User, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var hash any
	if in.Password != "" {
		h, err := hashPassword(in.Password) // before the write: the KDF must not hold up the writer
		if err != nil {
			return nil, wrap(err, "hash password")
		}
		hash = h
	}
	var out firebreak.User
	err := s.write(ctx, func(t *txn) error {
		u, err := t.insertUser(in, hash)
		if err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, wrap(err, "create user")
	}
	return &out, nil
}

func (t *txn) insertUser(in firebreak.UserInput, hash any) (firebreak.User, error) {
	now := t.s.clock()
	u := firebreak.User{ID: newID(), Username: in.Username, Name: in.Name, Email: in.Email, Role: in.Role,
		CreatedAt: now}
	_, err := t.exec(`INSERT INTO users (id, username, name, email, role, password_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Username, u.Name, u.Email, u.Role, hash, t.s.d.ts(now))
	if isUniqueViolation(err) {
		return u, userTaken(u.Username)
	}
	return u, wrap(err, "insert user")
}

// GetUser reads a user by username.
func (s *Store) GetUser(ctx context.Context, username string) (*firebreak.User, error) {
	name := strings.ToLower(strings.TrimSpace(username))
	u, err := scanUser(s.read(ctx).row(`SELECT `+userCols+` FROM users WHERE username = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user %s not found", name)
	}
	if err != nil {
		return nil, wrap(err, "get user")
	}
	return &u, nil
}

// ListUsers lists every user by username.
func (s *Store) ListUsers(ctx context.Context) ([]firebreak.User, error) {
	rows, err := s.read(ctx).query(`SELECT ` + userCols + ` FROM users ORDER BY username`)
	if err != nil {
		return nil, wrap(err, "list users")
	}
	defer rows.Close()
	out := []firebreak.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(err, "list users")
		}
		out = append(out, u)
	}
	return out, wrap(rows.Err(), "list users")
}

// CreateToken creates an API token for a user. The token's role defaults to the user's and may not exceed it.
// The answer carries the secret; only its hash is stored.
func (s *Store) CreateToken(ctx context.Context, in firebreak.TokenInput) (*firebreak.Token, error) {
	var v firebreak.Validation
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.Name = strings.TrimSpace(in.Name)
	if in.Username == "" {
		v.Add("username", "is required")
	}
	if in.Name == "" {
		in.Name = "api"
	}
	if len(in.Name) > firebreak.MaxNameLen || strings.ContainsAny(in.Name, "\r\n") {
		v.Add("name", "must be one line of at most %d characters", firebreak.MaxNameLen)
	}
	if in.Role != "" && !in.Role.Valid() {
		v.Add("role", "must be viewer, responder or admin")
	}
	in.ExpiresAt = truncTime(in.ExpiresAt)
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.clock()) {
		v.Add("expires_at", "must be in the future")
	}
	if in.Secret != "" && len(in.Secret) < 16 {
		v.Add("token", "must be at least 16 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	secret := in.Secret
	if secret == "" {
		secret = tokenPrefix + randomSecret()
	}
	var out firebreak.Token
	err := s.write(ctx, func(t *txn) error {
		u, err := scanUser(t.row(`SELECT `+userCols+` FROM users WHERE username = ?`, in.Username))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user %s not found", in.Username)
		}
		if err != nil {
			return wrap(err, "load user")
		}
		tok, err := t.insertToken(u, in.Name, in.Role, in.ExpiresAt, secret)
		if err != nil {
			return err
		}
		out = tok
		return nil
	})
	if err != nil {
		return nil, wrap(err, "create token")
	}
	return &out, nil
}

func (t *txn) insertToken(u firebreak.User, name string, role firebreak.UserRole, expires *time.Time,
	secret string) (firebreak.Token, error) {
	if role == "" {
		role = u.Role
	}
	if !u.Role.Allows(role) {
		return firebreak.Token{}, invalid("role", "must not be above the user's role (%s)", u.Role)
	}
	now := t.s.clock()
	tok := firebreak.Token{ID: newID(), UserID: u.ID, Username: u.Username, Name: name, Role: role, CreatedAt: now,
		ExpiresAt: expires, Secret: secret}
	_, err := t.exec(`INSERT INTO api_tokens (id, user_id, name, role, secret_hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tok.ID, tok.UserID, tok.Name, tok.Role, secretHash(secret), t.s.d.ts(now),
		t.s.d.nts(expires))
	if isUniqueViolation(err) {
		return tok, firebreak.Errorf(firebreak.EConflict, "a token with this secret already exists")
	}
	return tok, wrap(err, "insert token")
}

func unauthorized(msg string) error { return firebreak.Errorf(firebreak.EUnauthorized, "%s", msg) }

// lowerRole returns the less powerful of two roles.
func lowerRole(a, b firebreak.UserRole) firebreak.UserRole {
	if a.Allows(b) {
		return b
	}
	return a
}

// AuthenticateToken returns the actor an API token stands for (with the token's role, never more than its
// user's). It records when the token was last used, at most once a minute.
func (s *Store) AuthenticateToken(ctx context.Context, secret string) (firebreak.Actor, error) {
	if secret == "" {
		return firebreak.Actor{}, unauthorized("invalid token")
	}
	hash := secretHash(secret)
	a, gen, ok := s.tokens.get(hash, s.clock())
	if ok {
		return a, nil
	}
	var tokenID string
	var tokenRole firebreak.UserRole
	var expires, lastUsed *time.Time
	err := s.read(ctx).row(`SELECT t.id, t.role, t.expires_at, t.last_used_at, u.id, u.username, u.role
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?`, hash).
		Scan(&tokenID, &tokenRole, ntsCol(&expires), ntsCol(&lastUsed), &a.UserID, &a.Username, &a.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return firebreak.Actor{}, unauthorized("invalid token")
	}
	if err != nil {
		return firebreak.Actor{}, wrap(err, "authenticate token")
	}
	now := s.clock()
	if expires != nil && !now.Before(*expires) {
		return firebreak.Actor{}, unauthorized("token expired")
	}
	a.Role = lowerRole(tokenRole, a.Role)
	if lastUsed == nil || now.Sub(*lastUsed) >= lastUsedEvery {
		err := s.write(ctx, func(t *txn) error {
			_, err := t.exec(`UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND
				(last_used_at IS NULL OR last_used_at < ?)`, s.d.ts(now), tokenID, s.d.ts(now.Add(-lastUsedEvery)))
			return err
		})
		if err != nil { // bookkeeping: never fail a request for it
			s.log.Warn("recording token use failed", "token_id", tokenID, "error", err)
		}
	}
	s.tokens.put(hash, a, expires, now, gen)
	return a, nil
}

// TokenCacheTTL bounds how long an API token's authentication is remembered. Revoking through this store forgets
// it at once; another replica (PostgreSQL) or process stops accepting a revoked token within this time.
const TokenCacheTTL = 5 * time.Second

// tokenCache remembers recent token authentications so that a busy client costs no database query per request
// (measured: a tenth of the CPU of a read).
type tokenCache struct {
	mu  sync.Mutex
	m   map[string]cachedToken
	gen uint64 // bumped by forget, so a lookup that raced a revocation is not remembered
}

type cachedToken struct {
	actor   firebreak.Actor
	expires *time.Time // the token's own expiry
	until   time.Time  // the cache entry's
}

const tokenCacheMax = 10000

func (c *tokenCache) get(hash string, now time.Time) (firebreak.Actor, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || !now.Before(e.until) || (e.expires != nil && !now.Before(*e.expires)) {
		return firebreak.Actor{}, c.gen, false
	}
	return e.actor, c.gen, true
}

func (c *tokenCache) put(hash string, a firebreak.Actor, expires *time.Time, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= tokenCacheMax {
		c.m = make(map[string]cachedToken)
	}
	c.m[hash] = cachedToken{actor: a, expires: expires, until: now.Add(TokenCacheTTL)}
}

// forget drops every remembered authentication (after a revocation).
func (c *tokenCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
	c.gen++
}

// AuthenticatePassword checks a username and password.
func (s *Store) AuthenticatePassword(ctx context.Context, username, password string) (firebreak.Actor, error) {
	name := strings.ToLower(strings.TrimSpace(username))
	var hash sql.NullString
	u, err := scanUser(s.read(ctx).row(`SELECT `+userCols+`, password_hash FROM users WHERE username = ?`, name),
		&hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return firebreak.Actor{}, wrap(err, "authenticate password")
	}
	if err != nil || !hash.Valid || hash.String == "" {
		checkPassword(dummyHash(), password)
		return firebreak.Actor{}, unauthorized("invalid username or password")
	}
	if !checkPassword(hash.String, password) {
		return firebreak.Actor{}, unauthorized("invalid username or password")
	}
	return firebreak.Actor{UserID: u.ID, Username: u.Username, Role: u.Role}, nil
}

// CreateSession starts a web console session for a user (ttl <= 0 means DefaultSessionTTL) and returns its
// secret (32 random bytes, base64url); only its SHA-256 is stored.
func (s *Store) CreateSession(ctx context.Context, userID string, ttl time.Duration) (secret string, err error) {
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	secret = randomSecret()
	err = s.write(ctx, func(t *txn) error {
		var n int
		if err := t.row(`SELECT COUNT(*) FROM users WHERE id = ?`, userID).Scan(&n); err != nil {
			return wrap(err, "load user")
		}
		if n == 0 {
			return notFound("user %s not found", userID)
		}
		now := s.clock()
		// Expired sessions of this user go when a new one starts.
		if _, err := t.exec(`DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?`, userID,
			s.d.ts(now)); err != nil {
			return wrap(err, "delete expired sessions")
		}
		_, err := t.exec(`INSERT INTO sessions (secret_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			secretHash(secret), userID, s.d.ts(now), s.d.ts(now.Add(ttl)))
		return wrap(err, "insert session")
	})
	if err != nil {
		return "", wrap(err, "create session")
	}
	return secret, nil
}

// AuthenticateSession returns the actor of a session; EUnauthorized when it is unknown or expired.
func (s *Store) AuthenticateSession(ctx context.Context, secret string) (firebreak.Actor, error) {
	if secret == "" {
		return firebreak.Actor{}, unauthorized("no session")
	}
	var a firebreak.Actor
	var expires time.Time
	err := s.read(ctx).row(`SELECT u.id, u.username, u.role, x.expires_at FROM sessions x
		JOIN users u ON u.id = x.user_id WHERE x.secret_hash = ?`, secretHash(secret)).
		Scan(&a.UserID, &a.Username, &a.Role, tsCol(&expires))
	if errors.Is(err, sql.ErrNoRows) {
		return firebreak.Actor{}, unauthorized("session unknown or expired")
	}
	if err != nil {
		return firebreak.Actor{}, wrap(err, "authenticate session")
	}
	if !s.clock().Before(expires) {
		return firebreak.Actor{}, unauthorized("session unknown or expired")
	}
	return a, nil
}

// DeleteSession ends a session (logout). Deleting an unknown session is not an error.
func (s *Store) DeleteSession(ctx context.Context, secret string) error {
	err := s.write(ctx, func(t *txn) error {
		_, err := t.exec(`DELETE FROM sessions WHERE secret_hash = ?`, secretHash(secret))
		return err
	})
	return wrap(err, "delete session")
}

// adminUsername is the account EnsureAdminToken and BootstrapAdmin create.
const adminUsername = "admin"

// EnsureAdminToken makes sure an admin API token with exactly this secret exists (FIREBREAK_ADMIN_TOKEN),
// creating the user "admin" (token-only) when there is none. It is idempotent, and replicas that run it at once
// create one user and one token.
func (s *Store) EnsureAdminToken(ctx context.Context, secret string) error {
	if len(secret) < 16 {
		return invalid("admin_token", "must be at least 16 characters")
	}
	hash := secretHash(secret)
	err := s.write(ctx, func(t *txn) error {
		var role firebreak.UserRole
		err := t.row(`SELECT role FROM api_tokens WHERE secret_hash = ?`, hash).Scan(&role)
		if err == nil {
			if role != firebreak.RoleAdmin {
				return firebreak.Errorf(firebreak.EConflict, "the admin token exists with role %s", role)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return wrap(err, "look up admin token")
		}
		now := s.clock()
		if _, err := t.exec(`INSERT INTO users (id, username, name, email, role, password_hash, created_at)
			VALUES (?, ?, ?, '', ?, NULL, ?) ON CONFLICT (username) DO NOTHING`,
			newID(), adminUsername, "Administrator", firebreak.RoleAdmin, s.d.ts(now)); err != nil {
			return wrap(err, "create admin user")
		}
		u, err := scanUser(t.row(`SELECT `+userCols+` FROM users WHERE username = ?`, adminUsername))
		if err != nil {
			return wrap(err, "load admin user")
		}
		if u.Role != firebreak.RoleAdmin {
			return firebreak.Errorf(firebreak.EConflict, "user %s exists with role %s, not admin", u.Username, u.Role)
		}
		_, err = t.exec(`INSERT INTO api_tokens (id, user_id, name, role, secret_hash, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (secret_hash) DO NOTHING`,
			newID(), u.ID, "FIREBREAK_ADMIN_TOKEN", firebreak.RoleAdmin, hash, s.d.ts(now))
		return wrap(err, "create admin token")
	})
	return wrap(err, "ensure admin token")
}

// BootstrapAdmin creates the user "admin" (role admin) with a random password when no user exists yet, and
// returns the password to show once. When any user exists it does nothing (created is false).
func (s *Store) BootstrapAdmin(ctx context.Context) (password string, created bool, err error) {
	var n int
	if err := s.read(ctx).row(`SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return "", false, wrap(err, "count users")
	}
	if n > 0 {
		return "", false, nil
	}
	password = randomSecret()[:24]
	hash, err := hashPassword(password)
	if err != nil {
		return "", false, wrap(err, "hash password")
	}
	err = s.write(ctx, func(t *txn) error {
		created = false
		var n int
		if err := t.row(`SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return wrap(err, "count users")
		}
		if n > 0 {
			return nil
		}
		res, err := t.exec(`INSERT INTO users (id, username, name, email, role, password_hash, created_at)
			VALUES (?, ?, ?, '', ?, ?, ?) ON CONFLICT (username) DO NOTHING`,
			newID(), adminUsername, "Administrator", firebreak.RoleAdmin, hash, s.d.ts(s.clock()))
		if err != nil {
			return wrap(err, "create admin user")
		}
		k, err := res.RowsAffected()
		created = err == nil && k == 1
		return wrap(err, "create admin user")
	})
	if err != nil || !created {
		return "", false, wrap(err, "bootstrap admin")
	}
	return password, true, nil
}

// ListTokens lists the API tokens of a user (all users when username is empty), newest first, without secrets.
func (s *Store) ListTokens(ctx context.Context, username string) ([]firebreak.Token, error) {
	query := `SELECT t.id, t.user_id, u.username, t.name, t.role, t.created_at, t.expires_at, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id`
	var args []any
	if name := strings.ToLower(strings.TrimSpace(username)); name != "" {
		if _, err := s.GetUser(ctx, name); err != nil {
			return nil, err
		}
		query += ` WHERE u.username = ?`
		args = append(args, name)
	}
	rows, err := s.read(ctx).query(query+` ORDER BY t.created_at DESC, t.id DESC`, args...)
	if err != nil {
		return nil, wrap(err, "list tokens")
	}
	defer rows.Close()
	out := []firebreak.Token{}
	for rows.Next() {
		var t firebreak.Token
		if err := rows.Scan(&t.ID, &t.UserID, &t.Username, &t.Name, &t.Role, tsCol(&t.CreatedAt),
			ntsCol(&t.ExpiresAt), ntsCol(&t.LastUsedAt)); err != nil {
			return nil, wrap(err, "list tokens")
		}
		out = append(out, t)
	}
	return out, wrap(rows.Err(), "list tokens")
}

// RevokeToken deletes an API token: from the commit on, it authenticates nobody through this store (other
// replicas within TokenCacheTTL).
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	s.tokens.forget() // before and after: no lookup that overlaps the commit is remembered
	defer s.tokens.forget()
	err := s.write(ctx, func(t *txn) error {
		res, err := t.exec(`DELETE FROM api_tokens WHERE id = ?`, id)
		if err != nil {
			return wrap(err, "revoke token")
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			return notFound("token %s not found", id)
		}
		return nil
	})
	return wrap(err, "revoke token")
}

// IdempotencyWindow is how long an Idempotency-Key is remembered: a client retrying within it gets the first
// result; after it the key may be used afresh.
const IdempotencyWindow = 24 * time.Hour

// Prune deletes what has outlived its use: idempotency keys older than IdempotencyWindow and expired console
// sessions (and old probe statistics). It is safe to run on several replicas at once.
func (s *Store) Prune(ctx context.Context) (keys, sessions int64, err error) {
	now := s.clock()
	err = s.write(ctx, func(t *txn) error {
		res, err := t.exec(`DELETE FROM idempotency_keys WHERE created_at < ?`, s.d.ts(now.Add(-IdempotencyWindow)))
		if err != nil {
			return err
		}
		keys, _ = res.RowsAffected()
		res, err = t.exec(`DELETE FROM sessions WHERE expires_at <= ?`, s.d.ts(now))
		if err != nil {
			return err
		}
		sessions, _ = res.RowsAffected()
		// Probe statistics: hourly rollups older than ProbeRollupRetention (probes.go).
		_, err = t.exec(`DELETE FROM probe_rollups WHERE hour < ?`, s.d.ts(now.Add(-ProbeRollupRetention)))
		return err
	})
	return keys, sessions, wrap(err, "prune")
}
