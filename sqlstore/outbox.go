package sqlstore

// The notification outbox (migration 00011): channels, the announcement channels of services, notifications as
// rows with a due time, the per-destination circuit breakers and the update reminders. A timeline event that is
// announced (declared, severity_changed, status_changed, role_assigned) inserts one notification per announcement
// channel of the incident's services in the same transaction as the event, so an accepted change is never
// announced late because of a crash and never announced without having happened. Package engine claims due rows
// and delivers them.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
)

// JobsTopic is the Subscribe key signalled after every commit that queued notifications or reminders (in this
// process, and on PostgreSQL through the timeline LISTEN/NOTIFY channel on every replica). The engine waits on it.
const JobsTopic = "firebreak:jobs"

// Timeline event kinds written by the outbox.
const (
	EventNotificationSent   firebreak.EventKind = "notification_sent"
	EventNotificationFailed firebreak.EventKind = "notification_failed"
	EventNotificationDead   firebreak.EventKind = "notification_dead"
	EventUpdateReminder     firebreak.EventKind = "update_reminder"
)

// DefaultReminderCadence: remind SEV1 incidents every 30 minutes and SEV2 every hour without an update; SEV3 never.
func DefaultReminderCadence() map[firebreak.Severity]time.Duration {
	return map[firebreak.Severity]time.Duration{firebreak.SEV1: 30 * time.Minute, firebreak.SEV2: time.Hour}
}

// outboxSettings are set by the app (SetNotificationSettings); the zero value uses the defaults.
type outboxSettings struct {
	mu        sync.RWMutex
	publicURL string
	cadence   map[firebreak.Severity]time.Duration
}

func (s *Store) outboxSettings() *outboxSettings { return &s.outbox }

// SetNotificationSettings sets the console URL that notifications link to and the update reminder cadence per
// severity (a missing or zero entry: no reminders for that severity; nil: the defaults).
func (s *Store) SetNotificationSettings(publicURL string, cadence map[firebreak.Severity]time.Duration) {
	o := s.outboxSettings()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.publicURL = strings.TrimRight(publicURL, "/")
	if cadence == nil {
		cadence = DefaultReminderCadence()
	}
	o.cadence = cadence
}

func (o *outboxSettings) get() (string, map[firebreak.Severity]time.Duration) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.cadence == nil {
		return o.publicURL, DefaultReminderCadence()
	}
	return o.publicURL, o.cadence
}

// --- channels --------------------------------------------------------------------------------------------------

const channelCols = `c.id, c.kind, c.name, c.url, c.address, c.secret, c.dest_key, c.enabled, c.created_at,
	COALESCE((SELECT u.username FROM users u WHERE u.id = c.user_id), '')`

type channelRow struct {
	firebreak.Channel
	secret, destKey string
}

func scanChannel(r rowScanner) (*channelRow, error) {
	var c channelRow
	if err := r.Scan(&c.ID, &c.Kind, &c.Name, &c.URL, &c.Address, &c.secret, &c.destKey, &c.Enabled,
		tsCol(&c.CreatedAt), &c.User); err != nil {
		return nil, err
	}
	c.HasSecret = c.secret != ""
	c.Services = []string{}
	return &c, nil
}

func (c *channelRow) dest() notify.Destination {
	return notify.Destination{Kind: notify.DestinationKind(c.Kind), URL: c.URL, Address: c.Address, Secret: c.secret}
}

// MaskURL hides the secret part of a webhook URL (the path and query of Slack and Teams URLs are credentials):
// only the scheme and host are shown.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "****"
	}
	return u.Scheme + "://" + u.Host + "/****"
}

// public returns the channel as the API shows it: URL masked, secret never.
func (c *channelRow) public() firebreak.Channel {
	out := c.Channel
	if out.URL != "" {
		out.URL = MaskURL(out.URL)
	}
	return out
}

func (x q) loadChannel(ref string, lock bool) (*channelRow, error) {
	ref = strings.TrimSpace(ref)
	query := `SELECT ` + channelCols + ` FROM channels c WHERE c.id = ? OR c.name = ?`
	if lock {
		query += x.s.d.lockOf("")
	}
	c, err := scanChannel(x.row(query, ref, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("channel %s not found", ref)
	}
	if err != nil {
		return nil, wrap(err, "load channel")
	}
	rows, err := x.query(`SELECT s.slug FROM service_channels sc JOIN services s ON s.id = sc.service_id
		WHERE sc.channel_id = ? ORDER BY s.slug`, c.ID)
	if err != nil {
		return nil, wrap(err, "load channel")
	}
	defer rows.Close()
	for rows.Next() {
		var slug string
		if err := rows.Scan(&slug); err != nil {
			return nil, wrap(err, "load channel")
		}
		c.Services = append(c.Services, slug)
	}
	return c, wrap(rows.Err(), "load channel")
}

// CreateChannel adds a notification channel.
func (s *Store) CreateChannel(ctx context.Context, in firebreak.ChannelInput) (*firebreak.Channel, error) {
	if err := firebreak.ValidateChannel(&in); err != nil {
		return nil, err
	}
	c := &channelRow{Channel: firebreak.Channel{ID: newID(), Kind: in.Kind, Name: in.Name,
		URL: strings.TrimSpace(in.URL), Address: strings.TrimSpace(in.Address), HasSecret: in.Secret != "",
		Enabled: in.Enabled == nil || *in.Enabled, Services: []string{}, CreatedAt: s.clock()}, secret: in.Secret}
	c.destKey = c.dest().Key()
	err := s.write(ctx, func(t *txn) error {
		var userID any
		if u := strings.TrimSpace(in.User); u != "" {
			ids, err := t.userIDs("user", []string{u})
			if err != nil {
				return err
			}
			userID = ids[u]
			c.User = u
		}
		_, err := t.exec(`INSERT INTO channels (id, kind, name, url, address, secret, dest_key, enabled, created_at,
			user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.Kind, c.Name, c.URL, c.Address, c.secret,
			c.destKey, c.Enabled, s.d.ts(c.CreatedAt), userID)
		if isUniqueViolation(err) {
			return firebreak.Errorf(firebreak.EConflict, "a channel named %q already exists", c.Name)
		}
		return wrap(err, "create channel")
	})
	if err != nil {
		return nil, err
	}
	out := c.public()
	return &out, nil
}

// ListChannels lists every channel by name.
func (s *Store) ListChannels(ctx context.Context) ([]firebreak.Channel, error) {
	r := s.read(ctx)
	rows, err := r.query(`SELECT ` + channelCols + ` FROM channels c ORDER BY c.name`)
	if err != nil {
		return nil, wrap(err, "list channels")
	}
	out := []firebreak.Channel{}
	idx := map[string]int{}
	for rows.Next() {
		c, err := scanChannel(rows)
		if err != nil {
			rows.Close()
			return nil, wrap(err, "list channels")
		}
		idx[c.ID] = len(out)
		out = append(out, c.public())
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list channels")
	}
	rows, err = r.query(`SELECT sc.channel_id, s.slug FROM service_channels sc JOIN services s ON s.id = sc.service_id
		ORDER BY s.slug`)
	if err != nil {
		return nil, wrap(err, "list channels")
	}
	defer rows.Close()
	for rows.Next() {
		var id, slug string
		if err := rows.Scan(&id, &slug); err != nil {
			return nil, wrap(err, "list channels")
		}
		if i, ok := idx[id]; ok {
			out[i].Services = append(out[i].Services, slug)
		}
	}
	return out, wrap(rows.Err(), "list channels")
}

// GetChannel reads a channel by id or name.
func (s *Store) GetChannel(ctx context.Context, ref string) (*firebreak.Channel, error) {
	c, err := s.read(ctx).loadChannel(ref, false)
	if err != nil {
		return nil, err
	}
	out := c.public()
	return &out, nil
}

// UpdateChannel changes a channel. A changed URL or address is a new destination (a new breaker key).
func (s *Store) UpdateChannel(ctx context.Context, ref string, p firebreak.ChannelPatch) (*firebreak.Channel, error) {
	var out firebreak.Channel
	err := s.write(ctx, func(t *txn) error {
		c, err := t.loadChannel(ref, true)
		if err != nil {
			return err
		}
		in := firebreak.ChannelInput{Kind: c.Kind, Name: c.Name, URL: c.URL, Address: c.Address, Secret: c.secret}
		if p.Name != nil {
			in.Name = *p.Name
		}
		if p.URL != nil {
			in.URL = *p.URL
		}
		if p.Address != nil {
			in.Address = *p.Address
		}
		if p.Secret != nil {
			in.Secret = *p.Secret
		}
		if err := firebreak.ValidateChannel(&in); err != nil {
			return err
		}
		c.Name, c.URL, c.Address, c.secret = in.Name, strings.TrimSpace(in.URL), strings.TrimSpace(in.Address), in.Secret
		c.HasSecret = c.secret != ""
		if p.Enabled != nil {
			c.Enabled = *p.Enabled
		}
		c.destKey = c.dest().Key()
		_, err = t.exec(`UPDATE channels SET name = ?, url = ?, address = ?, secret = ?, dest_key = ?, enabled = ?
			WHERE id = ?`, c.Name, c.URL, c.Address, c.secret, c.destKey, c.Enabled, c.ID)
		if isUniqueViolation(err) {
			return firebreak.Errorf(firebreak.EConflict, "a channel named %q already exists", c.Name)
		}
		if err != nil {
			return wrap(err, "update channel")
		}
		if c.Enabled {
			t.wakeJobs()
		}
		out = c.public()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteChannel removes a channel, its service links and its notifications (their history goes with it).
func (s *Store) DeleteChannel(ctx context.Context, ref string) error {
	return s.write(ctx, func(t *txn) error {
		c, err := t.loadChannel(ref, true)
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM notifications WHERE channel_id = ?`,
			`DELETE FROM service_channels WHERE channel_id = ?`, `DELETE FROM channels WHERE id = ?`} {
			if _, err := t.exec(q, c.ID); err != nil {
				return wrap(err, "delete channel")
			}
		}
		return nil
	})
}

// userChannelIDs lists the enabled contact methods (personal channels) of a user, by user ID, oldest first.
func (x q) userChannelIDs(userID string) ([]string, error) {
	return x.column("list contact methods", `SELECT id FROM channels WHERE user_id = ? AND enabled = ?
		ORDER BY created_at, id`, userID, true)
}

// setServiceChannels replaces a service's announcement channels (given by id or name).
func (t *txn) setServiceChannels(serviceID string, refs []string) error {
	ids := make([]string, 0, len(refs))
	seen := map[string]bool{}
	for _, ref := range refs {
		var id string
		ref = strings.TrimSpace(ref)
		err := t.row(`SELECT id FROM channels WHERE id = ? OR name = ?`, ref, ref).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("channels", "unknown channel %q", ref)
		}
		if err != nil {
			return wrap(err, "set service channels")
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if _, err := t.exec(`DELETE FROM service_channels WHERE service_id = ?`, serviceID); err != nil {
		return wrap(err, "set service channels")
	}
	for _, id := range ids {
		if _, err := t.exec(`INSERT INTO service_channels (service_id, channel_id) VALUES (?, ?)`, serviceID, id); err != nil {
			return wrap(err, "set service channels")
		}
	}
	return nil
}

// SetServiceChannels replaces the announcement channels of a service (slug or id).
func (s *Store) SetServiceChannels(ctx context.Context, service string, channels []string) error {
	return s.write(ctx, func(t *txn) error {
		sv, err := t.loadService(service, true)
		if err != nil {
			return err
		}
		return t.setServiceChannels(sv.ID, channels)
	})
}

// --- enqueueing ------------------------------------------------------------------------------------------------

// wakeJobs arranges the engine's wake-up (this process and, on PostgreSQL, every replica) after COMMIT.
func (t *txn) wakeJobs() {
	if t.notified[JobsTopic] {
		return
	}
	if t.notified == nil {
		t.notified = map[string]bool{}
	}
	t.notified[JobsTopic] = true
	t.afterCommit(func() { t.s.timelineChanged(JobsTopic) })
}

// announcement maps a timeline event to the message kind announcing it ("" for none).
func announcement(ev firebreak.TimelineEvent) notify.Kind {
	switch ev.Kind {
	case firebreak.EventDeclared:
		return notify.KindDeclared
	case firebreak.EventSeverityChanged:
		return notify.KindSeverityChanged
	case firebreak.EventRoleAssigned:
		return notify.KindRoleChanged
	case firebreak.EventStatusChanged:
		if ev.Data["to"] == string(firebreak.StatusResolved) {
			return notify.KindResolved
		}
		return notify.KindStatusChanged
	}
	return ""
}

// enqueueAnnouncements runs inside insertEvents: it queues one notification per announcement channel of the
// incident's services for each announced event, and moves the incident's update reminder. Events that announce
// nothing and move no reminder cost nothing.
func (t *txn) enqueueAnnouncements(incidentID string, events []firebreak.TimelineEvent) error {
	if err := t.recurrenceOnCommander(incidentID, events); err != nil { // related.go: warn a new commander
		return err
	}
	relevant, declared := false, false
	for _, ev := range events {
		switch ev.Kind {
		case firebreak.EventDeclared:
			relevant, declared = true, true
		case firebreak.EventSeverityChanged, firebreak.EventRoleAssigned, firebreak.EventStatusChanged,
			firebreak.EventUpdatePosted:
			relevant = true
		}
	}
	if !relevant {
		return nil
	}
	inc, err := t.loadIncident(incidentID, false)
	if err != nil {
		return err
	}
	publicURL, cadence := t.s.outboxSettings().get()
	now := t.s.clock()
	// Reminders: due one cadence after the declaration or the last update; gone once the incident is not open.
	for _, ev := range events {
		if ev.Kind == firebreak.EventRoleAssigned {
			continue
		}
		if err := t.scheduleReminder(inc, cadence, now); err != nil {
			return err
		}
		break
	}
	var msgs []notify.Message
	for _, ev := range events {
		k := announcement(ev)
		if k == "" || (declared && k == notify.KindRoleChanged) { // the declaration names the roles already
			continue
		}
		msgs = append(msgs, notify.Message{Kind: k, Text: ev.Message, Actor: ev.Actor, OccurredAt: ev.OccurredAt})
	}
	if len(msgs) == 0 {
		return nil
	}
	return t.enqueueToIncidentChannels(inc, publicURL, msgs, now)
}

func (t *txn) scheduleReminder(inc *firebreak.Incident, cadence map[firebreak.Severity]time.Duration, now time.Time) error {
	every := cadence[inc.Severity]
	if !inc.Status.Open() || every <= 0 {
		_, err := t.exec(`DELETE FROM reminders WHERE incident_id = ?`, inc.ID)
		return wrap(err, "schedule reminder")
	}
	_, err := t.exec(`INSERT INTO reminders (incident_id, due_at) VALUES (?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET due_at = excluded.due_at`, inc.ID, t.s.d.ts(now.Add(every)))
	if err != nil {
		return wrap(err, "schedule reminder")
	}
	t.wakeJobs()
	return nil
}

func notifyIncident(inc *firebreak.Incident, publicURL string) notify.Incident {
	return notify.Incident{Ref: inc.Reference, Title: inc.Title, Severity: string(inc.Severity),
		Status: string(inc.Status), Services: inc.Services, Commander: inc.Roles[firebreak.RoleCommander],
		URL: publicURL + "/incidents/" + inc.Reference}
}

// enqueueToIncidentChannels inserts one notification per message and enabled announcement channel of the
// incident's services.
func (t *txn) enqueueToIncidentChannels(inc *firebreak.Incident, publicURL string, msgs []notify.Message,
	now time.Time) error {
	rows, err := t.query(`SELECT DISTINCT sc.channel_id FROM incident_services isv
		JOIN services s ON s.slug = isv.service_slug
		JOIN service_channels sc ON sc.service_id = s.id
		JOIN channels c ON c.id = sc.channel_id
		WHERE isv.incident_id = ? AND c.enabled = ? ORDER BY sc.channel_id`, inc.ID, true)
	if err != nil {
		return wrap(err, "enqueue notifications")
	}
	var channels []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return wrap(err, "enqueue notifications")
		}
		channels = append(channels, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrap(err, "enqueue notifications")
	}
	ni := notifyIncident(inc, publicURL)
	for _, m := range msgs {
		m.Incident = ni
		for _, ch := range channels {
			if _, err := t.insertNotification(ch, inc.ID, m, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertNotification queues one message to one channel. A message about an open, unacknowledged incident gets a
// one-click acknowledgement link of its own (recipient: the channel's owner, or the channel).
func (t *txn) insertNotification(channelID, incidentID string, m notify.Message, now time.Time) (string, error) {
	m.ID = newID()
	if incidentID != "" && m.Incident.AckURL == "" && ackable(m.Kind) {
		publicURL, _ := t.s.outboxSettings().get()
		link, err := t.issueAckLink(incidentID, m.ID, channelID, publicURL, now)
		if err != nil {
			return "", err
		}
		m.Incident.AckURL = link
	}
	body, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	var inc any
	if incidentID != "" {
		inc = incidentID
	}
	if _, err := t.exec(`INSERT INTO notifications (id, channel_id, incident_id, kind, message, status, attempts,
		next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)`, m.ID, channelID, inc, string(m.Kind),
		string(body), string(firebreak.NotificationQueued), t.s.d.ts(now), t.s.d.ts(now)); err != nil {
		return "", wrap(err, "enqueue notification")
	}
	t.wakeJobs()
	return m.ID, nil
}

// TestChannel queues a test message to a channel.
func (s *Store) TestChannel(ctx context.Context, ref string) (*firebreak.Notification, error) {
	var id string
	err := s.write(ctx, func(t *txn) error {
		c, err := t.loadChannel(ref, false)
		if err != nil {
			return err
		}
		publicURL, _ := s.outboxSettings().get()
		now := s.clock()
		m := notify.Message{Kind: notify.KindTest, OccurredAt: now, Actor: firebreak.ActorFrom(ctx).Username,
			Text:     "This is a test message from Firebreak to the channel " + c.Name + ".",
			Incident: notify.Incident{Ref: "INC-0", Title: "Test notification", Severity: "SEV3", Status: "investigating", Services: []string{}, URL: publicURL + "/"}}
		id, err = t.insertNotification(c.ID, "", m, now)
		return err
	})
	if err != nil {
		return nil, wrap(err, "test channel")
	}
	return s.getNotification(ctx, id)
}

// --- operator view ---------------------------------------------------------------------------------------------

const notificationCols = `n.id, n.channel_id, c.name, COALESCE(i.number, 0), n.kind, n.status, n.attempts,
	n.next_attempt_at, n.last_error, n.created_at, n.delivered_at, n.dead_at`

const notificationFrom = ` FROM notifications n JOIN channels c ON c.id = n.channel_id
	LEFT JOIN incidents i ON i.id = n.incident_id`

func scanNotification(r rowScanner) (firebreak.Notification, error) {
	var n firebreak.Notification
	var number int64
	var next time.Time
	if err := r.Scan(&n.ID, &n.ChannelID, &n.Channel, &number, &n.Kind, &n.Status, &n.Attempts, tsCol(&next),
		&n.LastError, tsCol(&n.CreatedAt), ntsCol(&n.DeliveredAt), ntsCol(&n.DeadAt)); err != nil {
		return n, err
	}
	if number > 0 {
		n.Incident = firebreak.IncidentRef(number)
	}
	if n.Status == firebreak.NotificationQueued || n.Status == firebreak.NotificationRetrying ||
		n.Status == firebreak.NotificationSending {
		n.NextAttemptAt = &next
	}
	return n, nil
}

func (s *Store) getNotification(ctx context.Context, id string) (*firebreak.Notification, error) {
	n, err := scanNotification(s.read(ctx).row(`SELECT `+notificationCols+notificationFrom+` WHERE n.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("notification %s not found", id)
	}
	if err != nil {
		return nil, wrap(err, "get notification")
	}
	return &n, nil
}

// ListNotifications lists notifications, newest first, by status and incident.
func (s *Store) ListNotifications(ctx context.Context, f firebreak.NotificationFilter) ([]firebreak.Notification, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	switch f.Status {
	case "":
	case firebreak.NotificationQueued, firebreak.NotificationSending, firebreak.NotificationRetrying,
		firebreak.NotificationDelivered, firebreak.NotificationDead:
		where = append(where, "n.status = ?")
		args = append(args, string(f.Status))
	default:
		return nil, invalid("status", "must be one of queued, sending, retrying, delivered, dead")
	}
	r := s.read(ctx)
	if f.Incident != "" {
		h, err := r.loadHead(f.Incident, false)
		if err != nil {
			return nil, err
		}
		where = append(where, "n.incident_id = ?")
		args = append(args, h.id)
	}
	query := `SELECT ` + notificationCols + notificationFrom
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := r.query(query+` ORDER BY n.created_at DESC, n.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, wrap(err, "list notifications")
	}
	defer rows.Close()
	out := []firebreak.Notification{}
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, wrap(err, "list notifications")
		}
		out = append(out, n)
	}
	return out, wrap(rows.Err(), "list notifications")
}

// RetryNotification requeues a dead notification with the same id (receivers still deduplicate). Its dead-letter
// deadline starts again.
func (s *Store) RetryNotification(ctx context.Context, id string) (*firebreak.Notification, error) {
	err := s.write(ctx, func(t *txn) error {
		now := s.clock()
		res, err := t.exec(`UPDATE notifications SET status = ?, next_attempt_at = ?, created_at = ?, dead_at = NULL,
			attempts = 0 WHERE id = ? AND status = ?`, string(firebreak.NotificationQueued), s.d.ts(now), s.d.ts(now),
			id, string(firebreak.NotificationDead))
		if err != nil {
			return wrap(err, "retry notification")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var st string
			if err := t.row(`SELECT status FROM notifications WHERE id = ?`, id).Scan(&st); errors.Is(err, sql.ErrNoRows) {
				return notFound("notification %s not found", id)
			}
			return firebreak.Errorf(firebreak.EConflict, "only a dead notification can be retried; this one is %s", st)
		}
		t.wakeJobs()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.getNotification(ctx, id)
}

// --- delivery (used by package engine) -------------------------------------------------------------------------

// ClaimedNotification is a notification leased to one engine for one attempt.
type ClaimedNotification struct {
	ID          string
	ChannelID   string
	ChannelName string
	IncidentID  string // "" for test messages
	Message     notify.Message
	Dest        notify.Destination
	DestKey     string
	Attempts    int // attempts made before this one
	CreatedAt   time.Time
	LeaseUntil  time.Time
	Breaker     notify.BreakerSnapshot
}

const dueStatuses = `('queued', 'sending', 'retrying')`

// ClaimNotifications leases up to limit due notifications (of enabled channels) until now+lease: their status
// becomes sending and their next_attempt_at the lease's end, so a replica that dies mid-attempt leaves them due
// again then. On PostgreSQL, FOR UPDATE SKIP LOCKED keeps concurrent claims from overlapping.
func (s *Store) ClaimNotifications(ctx context.Context, now time.Time, lease time.Duration, limit int) (
	[]ClaimedNotification, error) {
	now = now.UTC().Truncate(time.Microsecond)
	until := now.Add(lease)
	var out []ClaimedNotification
	err := s.write(ctx, func(t *txn) error {
		out = out[:0]
		lock := ""
		if s.d.name == dialectPostgres {
			lock = " FOR UPDATE OF n SKIP LOCKED"
		}
		rows, err := t.query(`SELECT n.id, n.channel_id, c.name, COALESCE(n.incident_id, ''), n.message, c.kind,
			c.url, c.address, c.secret, c.dest_key, n.attempts, n.created_at, COALESCE(b.snapshot, '')
			FROM notifications n JOIN channels c ON c.id = n.channel_id
			LEFT JOIN destination_breakers b ON b.key = c.dest_key
			WHERE n.status IN `+dueStatuses+` AND n.next_attempt_at <= ? AND c.enabled = ?
			ORDER BY n.next_attempt_at, n.id LIMIT ?`+lock, s.d.ts(now), true, limit)
		if err != nil {
			return wrap(err, "claim notifications")
		}
		for rows.Next() {
			var c ClaimedNotification
			var msg, snap string
			if err := rows.Scan(&c.ID, &c.ChannelID, &c.ChannelName, &c.IncidentID, &msg, &c.Dest.Kind, &c.Dest.URL,
				&c.Dest.Address, &c.Dest.Secret, &c.DestKey, &c.Attempts, tsCol(&c.CreatedAt), &snap); err != nil {
				rows.Close()
				return wrap(err, "claim notifications")
			}
			if err := json.Unmarshal([]byte(msg), &c.Message); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: notification %s: bad message: %w", c.ID, err)
			}
			if snap != "" {
				_ = json.Unmarshal([]byte(snap), &c.Breaker)
			}
			c.LeaseUntil = until
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "claim notifications")
		}
		for _, c := range out {
			if _, err := t.exec(`UPDATE notifications SET status = ?, next_attempt_at = ? WHERE id = ?`,
				string(firebreak.NotificationSending), s.d.ts(until), c.ID); err != nil {
				return wrap(err, "claim notifications")
			}
		}
		return nil
	})
	return out, err
}

// NextNotificationDue is when the earliest notification or reminder is due (zero: none).
func (s *Store) NextNotificationDue(ctx context.Context) (time.Time, error) {
	var a, b *time.Time
	r := s.read(ctx)
	if err := r.row(`SELECT MIN(n.next_attempt_at) FROM notifications n JOIN channels c ON c.id = n.channel_id
		WHERE n.status IN `+dueStatuses+` AND c.enabled = ?`, true).Scan(ntsCol(&a)); err != nil {
		return time.Time{}, wrap(err, "next notification due")
	}
	if err := r.row(`SELECT MIN(due_at) FROM reminders`).Scan(ntsCol(&b)); err != nil {
		return time.Time{}, wrap(err, "next reminder due")
	}
	switch {
	case a == nil && b == nil:
		return time.Time{}, nil
	case a == nil:
		return *b, nil
	case b == nil || a.Before(*b):
		return *a, nil
	}
	return *b, nil
}

// DeferNotification gives a claimed notification back without an attempt (breaker open, rate limited), due at
// until. It reports false when the claim was lost (the lease ran out and another engine took it).
func (s *Store) DeferNotification(ctx context.Context, c ClaimedNotification, until time.Time) (bool, error) {
	ok := false
	err := s.write(ctx, func(t *txn) error {
		st := firebreak.NotificationQueued
		if c.Attempts > 0 {
			st = firebreak.NotificationRetrying
		}
		res, err := t.exec(`UPDATE notifications SET status = ?, next_attempt_at = ? WHERE id = ? AND status = ?
			AND next_attempt_at = ?`, string(st), s.d.ts(until.UTC().Truncate(time.Microsecond)), c.ID,
			string(firebreak.NotificationSending), s.d.ts(c.LeaseUntil))
		if err != nil {
			return wrap(err, "defer notification")
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

func (t *txn) loadBreaker(key string) (notify.BreakerSnapshot, error) {
	var snap notify.BreakerSnapshot
	var raw string
	err := t.row(`SELECT snapshot FROM destination_breakers WHERE key = ?`+t.s.d.lockOf(""), key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return snap, nil
	}
	if err != nil {
		return snap, wrap(err, "load breaker")
	}
	_ = json.Unmarshal([]byte(raw), &snap)
	return snap, nil
}

func (t *txn) saveBreaker(key string, snap notify.BreakerSnapshot, now time.Time) error {
	raw, _ := json.Marshal(snap)
	_, err := t.exec(`INSERT INTO destination_breakers (key, snapshot, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
		key, string(raw), t.s.d.ts(now))
	return wrap(err, "save breaker")
}

// BreakerAllow asks the destination's stored breaker whether an attempt may be made now (in a transaction, so
// that replicas agree on the one half-open trial), persisting the state it moves to.
func (s *Store) BreakerAllow(ctx context.Context, key string, p notify.BreakerPolicy, now time.Time) (
	ok bool, retryAt time.Time, err error) {
	err = s.write(ctx, func(t *txn) error {
		snap, err := t.loadBreaker(key)
		if err != nil {
			return err
		}
		b := notify.NewBreaker(p, snap)
		ok, retryAt = b.Allow(now)
		if after := b.Snapshot(); after != snap {
			return t.saveBreaker(key, after, now)
		}
		return nil
	})
	return ok, retryAt, err
}

// DestinationBreaker reads a destination's breaker state (the zero snapshot: closed, never failed).
func (s *Store) DestinationBreaker(ctx context.Context, key string) (notify.BreakerSnapshot, error) {
	var snap notify.BreakerSnapshot
	var raw string
	err := s.read(ctx).row(`SELECT snapshot FROM destination_breakers WHERE key = ?`, key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return notify.BreakerSnapshot{State: notify.BreakerClosed}, nil
	}
	if err != nil {
		return snap, wrap(err, "read breaker")
	}
	err = json.Unmarshal([]byte(raw), &snap)
	return snap, err
}

// Delivery is the outcome of one attempt on a claimed notification.
type Delivery struct {
	Attempt  notify.Attempt
	Decision notify.Decision
	Breaker  notify.BreakerPolicy
	Now      time.Time
}

// CompleteNotification records an attempt in one transaction: the notification's new status (delivered, retrying
// at Decision.NextAt, or dead), the destination breaker, and the timeline event on the incident —
// notification_sent, notification_failed (only on the first failure, so an outage does not flood the timeline)
// or notification_dead. When the attempt closes an open breaker, the destination's other waiting notifications
// become due at once. It reports false, recording nothing, when the claim was lost (its lease ran out and another
// engine took it).
func (s *Store) CompleteNotification(ctx context.Context, c ClaimedNotification, d Delivery) (bool, error) {
	now := d.Now.UTC().Truncate(time.Microsecond)
	applied := false
	err := s.write(ctx, func(t *txn) error {
		applied = false
		last, _ := json.Marshal(d.Attempt)
		attempts := c.Attempts + 1
		var status firebreak.NotificationStatus
		var next time.Time
		var delivered, dead *time.Time
		switch d.Decision.Outcome {
		case notify.OutcomeDelivered:
			status, next, delivered = firebreak.NotificationDelivered, now, &now
		case notify.OutcomeRetry:
			status, next = firebreak.NotificationRetrying, d.Decision.NextAt.UTC().Truncate(time.Microsecond)
		default:
			status, next, dead = firebreak.NotificationDead, now, &now
		}
		lastErr := d.Attempt.Error
		if status == firebreak.NotificationDead && d.Decision.Reason != "" {
			lastErr = d.Decision.Reason
		}
		res, err := t.exec(`UPDATE notifications SET status = ?, attempts = ?, next_attempt_at = ?, last_attempt = ?,
			last_error = ?, delivered_at = ?, dead_at = ? WHERE id = ? AND status = ? AND next_attempt_at = ?`,
			string(status), attempts, s.d.ts(next), string(last), lastErr, s.d.nts(delivered), s.d.nts(dead), c.ID,
			string(firebreak.NotificationSending), s.d.ts(c.LeaseUntil))
		if err != nil {
			return wrap(err, "complete notification")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		applied = true
		// The breaker: a closed, clean breaker that sees a success does not change, so it costs no write.
		snap, err := t.loadBreaker(c.DestKey)
		if err != nil {
			return err
		}
		b := notify.NewBreaker(d.Breaker, snap)
		b.Record(now, d.Attempt)
		after := b.Snapshot()
		if after != snap && !(snap.State == "" && after.State == notify.BreakerClosed && after.Failures == 0) {
			if err := t.saveBreaker(c.DestKey, after, now); err != nil {
				return err
			}
		}
		if after.State == notify.BreakerClosed && snap.State != "" && snap.State != notify.BreakerClosed {
			// The destination is back: release what waited for the breaker (the rate limit still paces them).
			if _, err := t.exec(`UPDATE notifications SET next_attempt_at = ? WHERE status IN ('queued', 'retrying')
				AND next_attempt_at > ? AND channel_id IN (SELECT id FROM channels WHERE dest_key = ?)`,
				s.d.ts(now), s.d.ts(now), c.DestKey); err != nil {
				return wrap(err, "release notifications")
			}
			t.wakeJobs()
		}
		if c.IncidentID == "" {
			return nil
		}
		var kind firebreak.EventKind
		var text string
		switch status {
		case firebreak.NotificationDelivered:
			kind, text = EventNotificationSent, fmt.Sprintf("Notification (%s) sent to %s", c.Message.Kind, c.ChannelName)
		case firebreak.NotificationRetrying:
			if attempts != 1 {
				return nil
			}
			kind, text = EventNotificationFailed, fmt.Sprintf("Notification (%s) to %s failed, retrying: %s",
				c.Message.Kind, c.ChannelName, d.Attempt.Error)
		default:
			kind, text = EventNotificationDead, fmt.Sprintf("Notification (%s) to %s given up after %d attempts: %s",
				c.Message.Kind, c.ChannelName, attempts, lastErr)
		}
		if err := t.lockIncident(c.IncidentID); err != nil {
			return err
		}
		return t.insertEvents(c.IncidentID, []firebreak.TimelineEvent{{Kind: kind, Message: text, OccurredAt: now,
			RecordedAt: now, Data: map[string]string{"notification": c.ID, "channel": c.ChannelName,
				"kind": string(c.Message.Kind), "attempts": fmt.Sprint(attempts)}}})
	})
	return applied, err
}

// --- reminders -------------------------------------------------------------------------------------------------

// ClaimReminders leases up to limit due reminders until now+lease and returns their incident IDs.
func (s *Store) ClaimReminders(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]string, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var ids []string
	err := s.write(ctx, func(t *txn) error {
		ids = ids[:0]
		lock := ""
		if s.d.name == dialectPostgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rows, err := t.query(`SELECT incident_id FROM reminders WHERE due_at <= ? ORDER BY due_at LIMIT ?`+lock,
			s.d.ts(now), limit)
		if err != nil {
			return wrap(err, "claim reminders")
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap(err, "claim reminders")
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "claim reminders")
		}
		for _, id := range ids {
			if _, err := t.exec(`UPDATE reminders SET due_at = ? WHERE incident_id = ?`, s.d.ts(now.Add(lease)), id); err != nil {
				return wrap(err, "claim reminders")
			}
		}
		return nil
	})
	return ids, err
}

// FireReminder sends an open incident's update reminder (to its announcement channels, with a timeline event)
// and schedules the next one a cadence later; an incident that is no longer open, or whose severity has no
// cadence, loses its reminder.
func (s *Store) FireReminder(ctx context.Context, incidentID string, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	return s.write(ctx, func(t *txn) error {
		if err := t.lockIncident(incidentID); err != nil {
			return err
		}
		inc, err := t.loadIncident(incidentID, false)
		if err != nil {
			return err
		}
		publicURL, cadence := s.outboxSettings().get()
		every := cadence[inc.Severity]
		if !inc.Status.Open() || every <= 0 {
			_, err := t.exec(`DELETE FROM reminders WHERE incident_id = ?`, incidentID)
			return wrap(err, "fire reminder")
		}
		lead := inc.Roles[firebreak.RoleCommsLead]
		who := "communications lead"
		if lead != "" {
			who += " " + lead
		} else if c := inc.Roles[firebreak.RoleCommander]; c != "" {
			who = "incident commander " + c + " (no communications lead assigned)"
		}
		text := fmt.Sprintf("Reminder for the %s: %s has had no update for %s; please post one.", who, inc.Reference,
			fmtCadence(every))
		if err := t.insertEvents(incidentID, []firebreak.TimelineEvent{{Kind: EventUpdateReminder, Message: text,
			OccurredAt: now, RecordedAt: now, Data: map[string]string{"comms_lead": lead, "cadence": fmtCadence(every)}}}); err != nil {
			return err
		}
		if err := t.enqueueToIncidentChannels(inc, publicURL, []notify.Message{{Kind: notify.KindReminder,
			Text: text, OccurredAt: now}}, now); err != nil {
			return err
		}
		_, err = t.exec(`UPDATE reminders SET due_at = ? WHERE incident_id = ?`, s.d.ts(now.Add(every)), incidentID)
		return wrap(err, "fire reminder")
	})
}

// fmtCadence shows a cadence without zero units: "30m", "1h", "1h30m".
func fmtCadence(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
