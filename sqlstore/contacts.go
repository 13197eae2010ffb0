package sqlstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
)

// People are reachable through their contact methods: channels owned by a user (channels.user_id). Every
// notification about an open, unacknowledged incident carries a one-click acknowledgement link: a random secret
// whose SHA-256 is stored in ack_tokens with its expiry; it acknowledges once.

// --- contact methods -------------------------------------------------------------------------------------------

// ListContactMethods lists a user's contact methods, oldest first.
func (s *Store) ListContactMethods(ctx context.Context, username string) ([]firebreak.Channel, error) {
	r := s.read(ctx)
	ids, err := r.userIDs("user", []string{username})
	if err != nil {
		return nil, notFound("user %s not found", username)
	}
	rows, err := r.query(`SELECT `+channelCols+` FROM channels c WHERE c.user_id = ? ORDER BY c.created_at, c.id`,
		ids[username])
	if err != nil {
		return nil, wrap(err, "list contact methods")
	}
	defer rows.Close()
	out := []firebreak.Channel{}
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			return nil, wrap(err, "list contact methods")
		}
		out = append(out, c.public())
	}
	return out, wrap(rows.Err(), "list contact methods")
}

// AddContactMethod adds a contact method to a user. Without a name it is named after the user and the kind
// ("alice email", then "alice email 2" ...): channel names are unique.
func (s *Store) AddContactMethod(ctx context.Context, username string, in firebreak.ChannelInput) (
	*firebreak.Channel, error) {
	in.User = username
	if strings.TrimSpace(in.Name) != "" {
		return s.CreateChannel(ctx, in)
	}
	base := username + " " + string(in.Kind)
	for i := 1; ; i++ {
		in.Name = base
		if i > 1 {
			in.Name = fmt.Sprintf("%s %d", base, i)
		}
		c, err := s.CreateChannel(ctx, in)
		if firebreak.ErrorCode(err) == firebreak.EConflict && i < 50 {
			continue
		}
		return c, err
	}
}

// ContactMethod reads one contact method of a user (ENotFound when the channel is not that user's).
func (s *Store) ContactMethod(ctx context.Context, username, ref string) (*firebreak.Channel, error) {
	c, err := s.read(ctx).loadChannel(ref, false)
	if err != nil || c.User != username {
		return nil, notFound("contact method %s of %s not found", ref, username)
	}
	out := c.public()
	return &out, nil
}

// --- acknowledgement links -------------------------------------------------------------------------------------

// AckLinkTTL is how long an acknowledgement link works after its notification was queued.
const AckLinkTTL = 24 * time.Hour

// AckLinkPath is where acknowledgement links point, under the public URL.
const AckLinkPath = "/ack/"

func ackTokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ackable reports whether a notification of this kind gets an acknowledgement link (while its incident is open
// and unacknowledged).
func ackable(k notify.Kind) bool { return k != notify.KindResolved && k != notify.KindTest }

// issueAckLink stores a new acknowledgement token for the notification about the incident and returns the
// link, or "" when the incident needs no acknowledgement (acknowledged already, or no longer open).
func (t *txn) issueAckLink(incidentID, notificationID, channelID, publicURL string, now time.Time) (string, error) {
	var (
		status    string
		acked     *time.Time
		chName    string
		recipient string
	)
	err := t.row(`SELECT i.status, i.acknowledged_at, c.name,
			COALESCE((SELECT u.username FROM users u WHERE u.id = c.user_id), '')
		FROM incidents i, channels c WHERE i.id = ? AND c.id = ?`, incidentID, channelID).
		Scan(&status, ntsCol(&acked), &chName, &recipient)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", wrap(err, "issue acknowledgement link")
	}
	if acked != nil || !firebreak.Status(status).Open() {
		return "", nil
	}
	if recipient == "" {
		recipient = "channel " + chName
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	if _, err := t.exec(`INSERT INTO ack_tokens (token_hash, incident_id, notification_id, recipient, expires_at,
		created_at) VALUES (?, ?, ?, ?, ?, ?)`, ackTokenHash(secret), incidentID, notificationID, recipient,
		t.s.d.ts(now.Add(AckLinkTTL)), t.s.d.ts(now)); err != nil {
		return "", wrap(err, "issue acknowledgement link")
	}
	return publicURL + AckLinkPath + secret, nil
}

type ackTokenRow struct {
	incidentID, recipient, usedBy string
	expiresAt                     time.Time
	usedAt                        *time.Time
}

func (x q) loadAckToken(secret string, lock bool) (*ackTokenRow, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" || len(secret) > 100 {
		return nil, notFound("this acknowledgement link is not valid")
	}
	query := `SELECT incident_id, recipient, used_by, expires_at, used_at FROM ack_tokens WHERE token_hash = ?`
	if lock {
		query += x.s.d.lockOf("")
	}
	var r ackTokenRow
	err := x.row(query, ackTokenHash(secret)).Scan(&r.incidentID, &r.recipient, &r.usedBy, tsCol(&r.expiresAt),
		ntsCol(&r.usedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("this acknowledgement link is not valid")
	}
	if err != nil {
		return nil, wrap(err, "load acknowledgement link")
	}
	return &r, nil
}

func (x q) ackLinkInfo(r *ackTokenRow, now time.Time) (*firebreak.AckLink, error) {
	inc, err := x.loadIncident(r.incidentID, false)
	if err != nil {
		return nil, err
	}
	out := &firebreak.AckLink{Incident: inc.Reference, Title: inc.Title, Severity: inc.Severity,
		Status: inc.Status, Recipient: r.recipient, ExpiresAt: r.expiresAt, UsedAt: r.usedAt, UsedBy: r.usedBy,
		AcknowledgedAt: inc.Milestones.AcknowledgedAt, Expired: !now.Before(r.expiresAt)}
	return out, nil
}

// AckLink describes an acknowledgement link without using it (what the confirmation page shows).
func (s *Store) AckLink(ctx context.Context, secret string) (*firebreak.AckLink, error) {
	r := s.read(ctx)
	tok, err := r.loadAckToken(secret, false)
	if err != nil {
		return nil, err
	}
	return r.ackLinkInfo(tok, s.clock())
}

// AcknowledgeByLink uses an acknowledgement link: once, before it expires, while the incident is open. The
// acknowledgement is made as the link's recipient (the user whose contact method received it, or the channel),
// in the same transaction that marks the link used. A link whose incident was acknowledged meanwhile is used up
// and changes nothing else.
func (s *Store) AcknowledgeByLink(ctx context.Context, secret string) (*firebreak.AckLink, error) {
	tok, err := s.read(ctx).loadAckToken(secret, false)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	var info *firebreak.AckLink
	actor := tok.recipient
	if strings.HasPrefix(actor, "channel ") {
		actor = "link sent to " + actor
	}
	actx := firebreak.WithActor(ctx, firebreak.Actor{Username: actor, Role: firebreak.RoleResponder})
	_, err = s.mutateIncident(actx, tok.incidentID, 0, func(t *txn, inc *firebreak.Incident) (
		[]firebreak.TimelineEvent, error) {
		cur, err := t.loadAckToken(secret, true)
		if err != nil {
			return nil, err
		}
		switch {
		case cur.usedAt != nil:
			return nil, firebreak.Errorf(firebreak.EConflict, "this acknowledgement link was used already (%s)",
				cur.usedAt.UTC().Format(time.RFC3339))
		case !now.Before(cur.expiresAt):
			return nil, firebreak.Errorf(firebreak.EGone, "this acknowledgement link expired at %s",
				cur.expiresAt.UTC().Format(time.RFC3339))
		}
		if _, err := t.exec(`UPDATE ack_tokens SET used_at = ?, used_by = ? WHERE token_hash = ?`, t.s.d.ts(now),
			tok.recipient, ackTokenHash(secret)); err != nil {
			return nil, wrap(err, "use acknowledgement link")
		}
		var evs []firebreak.TimelineEvent
		if inc.Status.Open() && inc.Milestones.AcknowledgedAt == nil {
			if evs, err = t.acknowledge(inc, actor, "acknowledged by "+actor+" from a notification link", now); err != nil {
				return nil, err
			}
		}
		cur.usedAt, cur.usedBy = &now, tok.recipient
		info = &firebreak.AckLink{Incident: inc.Reference, Title: inc.Title, Severity: inc.Severity,
			Status: inc.Status, Recipient: cur.recipient, ExpiresAt: cur.expiresAt, UsedAt: cur.usedAt,
			UsedBy: cur.usedBy, AcknowledgedAt: inc.Milestones.AcknowledgedAt}
		return evs, nil
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}
