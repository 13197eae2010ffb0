package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	firebreak "github.com/firebreak/firebreak"
)

// newID returns a new UUIDv7 (time-ordered) as a string.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// truncTime returns a copy of t at the stored precision (UTC, microseconds); nil stays nil.
func truncTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC().Truncate(time.Microsecond)
	return &v
}

// pageLimit applies the list limit rules: 0 is the default, 1…MaxLimit is taken, anything else is invalid.
func pageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return firebreak.DefaultLimit, nil
	case n < 0 || n > firebreak.MaxLimit:
		return 0, invalid("limit", "must be between 1 and %d", firebreak.MaxLimit)
	}
	return n, nil
}

func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", badCursor()
	}
	return string(b), nil
}

func badCursor() error { return invalid("cursor", "is not a cursor returned by this list") }

// invalid is an EInvalid error naming one field.
func invalid(field, format string, args ...any) error {
	var v firebreak.Validation
	v.Add(field, format, args...)
	return v.Err()
}

func notFound(format string, args ...any) error {
	return firebreak.Errorf(firebreak.ENotFound, format, args...)
}

// staleVersion is the EPreconditionFailed answer to a write based on an old version.
func staleVersion(what string, current, sent int64) error {
	return firebreak.Errorf(firebreak.EPreconditionFailed,
		"%s has changed since you read it: current version is %d, you sent %d", what, current, sent)
}

func checkVersion(what string, current, ifVersion int64) error {
	if ifVersion != 0 && ifVersion != current {
		return staleVersion(what, current, ifVersion)
	}
	return nil
}

// wrap passes application errors (and replays) through and gives database errors context; the web layer turns
// the latter into a 500 and logs them, so SQL never reaches a user.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	var fe *firebreak.Error
	var rep *firebreak.IdempotentReplay
	if errors.As(err, &fe) || errors.As(err, &rep) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if isBadText(err) {
		return firebreak.Errorf(firebreak.EInvalid, "text contains characters that cannot be stored (such as NUL)")
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func encodeData(m map[string]string) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func decodeData(s sql.NullString) (map[string]string, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s.String), &m); err != nil {
		return nil, fmt.Errorf("bad event data: %w", err)
	}
	return m, nil
}

// escapeLike escapes the LIKE wildcards of s for use with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// --- idempotency ----------------------------------------------------------------------------------------------

const (
	kindIncident      = "incident"
	kindService       = "service"
	kindTimelineEvent = "timeline_event"
	kindUpdate        = "update"
	kindActionItem    = "action_item"
)

// idem is the idempotency key of a creating request, scoped to its actor.
type idem struct{ user, key, hash string }

func idemFrom(ctx context.Context) *idem {
	i, ok := firebreak.IdempotencyFrom(ctx)
	if !ok {
		return nil
	}
	return &idem{user: firebreak.ActorFrom(ctx).Username, key: i.Key, hash: i.RequestHash}
}

var errKeyReused = firebreak.Errorf(firebreak.EConflict, "Idempotency-Key reused with a different request")

// idemCheck looks the key up: nil means "new, go ahead"; otherwise the replay of the first request, or a
// conflict when the key came with a different request.
func (t *txn) idemCheck(i *idem, kind string) error {
	if i == nil {
		return nil
	}
	var hash, k, id string
	err := t.row(`SELECT request_hash, kind, resource_id FROM idempotency_keys WHERE username = ? AND key = ?`,
		i.user, i.key).Scan(&hash, &k, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return wrap(err, "idempotency key")
	}
	if hash != i.hash || k != kind {
		return errKeyReused
	}
	return &firebreak.IdempotentReplay{Kind: k, ID: id}
}

// idemRecord stores the key with what the request created, in the creating transaction. If a concurrent request
// with the same key committed first, it returns that one's replay (and the caller's transaction rolls back).
func (t *txn) idemRecord(i *idem, kind, id string, now time.Time) error {
	if i == nil {
		return nil
	}
	res, err := t.exec(`INSERT INTO idempotency_keys (username, key, request_hash, kind, resource_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username, key) DO NOTHING`,
		i.user, i.key, i.hash, kind, id, t.s.d.ts(now))
	if err != nil {
		return wrap(err, "record idempotency key")
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap(err, "record idempotency key")
	} else if n == 1 {
		return nil
	}
	if err := t.idemCheck(i, kind); err != nil {
		return err
	}
	return errors.New("sqlstore: idempotency key conflict without a stored key")
}

// column runs query and returns its one string column, row by row (NULLs are skipped); errors name what.
func (x q) column(what, query string, args ...any) ([]string, error) {
	rows, err := x.query(query, args...)
	if err != nil {
		return nil, wrap(err, what)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, wrap(err, what)
		}
		if v.Valid {
			out = append(out, v.String)
		}
	}
	return out, wrap(rows.Err(), what)
}
