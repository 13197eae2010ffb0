package sqlstore

// Follow-through (migration 00016): overdue action item reminders and follow-up review reminders, and the close
// policy. The due rows are the action items and post-mortems themselves: action_items.remind_at and
// postmortems.follow_up_remind_at hold when the next reminder is due, are recomputed in the transaction of every
// change (firebreak.FollowThroughPolicy.NextOverdueReminder / NextReviewReminder), and double as the claim's lease
// while the engine sends one. Firing re-checks everything under the incident's lock and records what it sent
// (reminded_at) in the same transaction as the notifications and the timeline event, so a reminder is never sent
// twice for one due time and never lost: with no channel to send to, the timeline event and the follow-up list
// ("reminded at …") show it.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
)

var _ firebreak.FollowThroughService = (*Store)(nil)

// Timeline event kinds written by the follow-through reminders.
const (
	EventActionItemReminder     firebreak.EventKind = "action_item_reminder"
	EventFollowUpReviewReminder firebreak.EventKind = "follow_up_review_reminder"
)

type followThroughSettings struct {
	mu     sync.RWMutex
	policy *firebreak.FollowThroughPolicy
}

// SetFollowThroughPolicy sets the reminder cadence, the close policy and the post-mortem on-time target (zero
// fields: the defaults). The app sets it once at start, before serving.
func (s *Store) SetFollowThroughPolicy(p firebreak.FollowThroughPolicy) {
	p = p.WithDefaults()
	s.followThrough.mu.Lock()
	defer s.followThrough.mu.Unlock()
	s.followThrough.policy = &p
}

// FollowThroughPolicy returns the policy in force.
func (s *Store) FollowThroughPolicy() firebreak.FollowThroughPolicy {
	s.followThrough.mu.RLock()
	defer s.followThrough.mu.RUnlock()
	if s.followThrough.policy == nil {
		return firebreak.DefaultFollowThroughPolicy()
	}
	return *s.followThrough.policy
}

// remindAt is the database value of the item's next overdue reminder time (NULL: none); a scheduled reminder
// wakes the engine after COMMIT.
func (t *txn) remindAt(a *firebreak.ActionItem) any {
	next := t.s.FollowThroughPolicy().NextOverdueReminder(a)
	if next != nil {
		t.wakeJobs()
	}
	return t.s.d.nts(next)
}

// reviewRemindAt is the database value of the post-mortem's next follow-up review reminder time (NULL: none).
func (t *txn) reviewRemindAt(pm *firebreak.Postmortem) any {
	next := t.s.FollowThroughPolicy().NextReviewReminder(pm)
	if next != nil {
		t.wakeJobs()
	}
	return t.s.d.nts(next)
}

// --- claiming --------------------------------------------------------------------------------------------------

// claimDue leases up to limit rows of table whose due column is at or before now, moving it to now+lease, and
// returns their ids (PostgreSQL: FOR UPDATE SKIP LOCKED, so replicas never claim the same row).
func (s *Store) claimDue(ctx context.Context, table, due string, now time.Time, lease time.Duration,
	limit int) ([]string, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var ids []string
	err := s.write(ctx, func(t *txn) error {
		ids = ids[:0]
		lock := ""
		if s.d.name == dialectPostgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		rows, err := t.query(`SELECT id FROM `+table+` WHERE `+due+` <= ? ORDER BY `+due+`, id LIMIT ?`+lock,
			s.d.ts(now), limit)
		if err != nil {
			return wrap(err, "claim "+table+" reminders")
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return wrap(err, "claim "+table+" reminders")
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap(err, "claim "+table+" reminders")
		}
		for _, id := range ids {
			if _, err := t.exec(`UPDATE `+table+` SET `+due+` = ? WHERE id = ?`, s.d.ts(now.Add(lease)), id); err != nil {
				return wrap(err, "claim "+table+" reminders")
			}
		}
		return nil
	})
	return ids, err
}

// ClaimOverdueReminders leases up to limit action items whose overdue reminder is due and returns their IDs.
func (s *Store) ClaimOverdueReminders(ctx context.Context, now time.Time, lease time.Duration, limit int) (
	[]string, error) {
	return s.claimDue(ctx, "action_items", "remind_at", now, lease, limit)
}

// ClaimReviewReminders leases up to limit post-mortems whose follow-up review reminder is due and returns their
// IDs.
func (s *Store) ClaimReviewReminders(ctx context.Context, now time.Time, lease time.Duration, limit int) (
	[]string, error) {
	return s.claimDue(ctx, "postmortems", "follow_up_remind_at", now, lease, limit)
}

// NextFollowThroughDue is when the earliest overdue or follow-up review reminder is due (zero: none).
func (s *Store) NextFollowThroughDue(ctx context.Context) (time.Time, error) {
	var a, b *time.Time
	r := s.read(ctx)
	if err := r.row(`SELECT MIN(remind_at) FROM action_items WHERE remind_at IS NOT NULL`).Scan(ntsCol(&a)); err != nil {
		return time.Time{}, wrap(err, "next overdue reminder")
	}
	if err := r.row(`SELECT MIN(follow_up_remind_at) FROM postmortems WHERE follow_up_remind_at IS NOT NULL`).Scan(
		ntsCol(&b)); err != nil {
		return time.Time{}, wrap(err, "next review reminder")
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

// --- recipients ------------------------------------------------------------------------------------------------

type teamRef struct{ id, slug string }

// recipient is a person or team reminders go to, with the enabled channels that reach them.
type recipient struct {
	name     string // username, or "team <slug>"
	channels []string
}

// userByName finds a user by username (case-insensitive): ok false when there is none.
func (x q) userByName(name string) (id, username string, ok bool, err error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return "", "", false, nil
	}
	err = x.row(`SELECT id, username FROM users WHERE username = ?`, name).Scan(&id, &username)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	return id, username, err == nil, wrap(err, "find user")
}

// teamChannelIDs lists a team's enabled announcement channels.
func (x q) teamChannelIDs(teamID string) ([]string, error) {
	return x.column("list recipients", `SELECT tc.channel_id FROM team_channels tc JOIN channels c ON c.id = tc.channel_id
		WHERE tc.team_id = ? AND c.enabled = ? ORDER BY c.name, c.id`, teamID, true)
}

// ownerRecipients resolves an action item's owner: a user (their contact methods; their teams for escalation)
// or, when no user has that name, a team named by slug or name (its channels; it is its own escalation).
func (x q) ownerRecipients(owner string) (own recipient, teams []recipient, err error) {
	own.name = strings.TrimSpace(owner)
	uid, username, ok, err := x.userByName(owner)
	if err != nil {
		return own, nil, err
	}
	var refs []teamRef
	if ok {
		own.name = username
		if own.channels, err = x.userChannelIDs(uid); err != nil {
			return own, nil, err
		}
		rows, err := x.query(`SELECT t.id, t.slug FROM team_members m JOIN teams t ON t.id = m.team_id
			WHERE m.user_id = ? ORDER BY t.slug`, uid)
		if err != nil {
			return own, nil, wrap(err, "list teams of owner")
		}
		for rows.Next() {
			var r teamRef
			if err := rows.Scan(&r.id, &r.slug); err != nil {
				rows.Close()
				return own, nil, wrap(err, "list teams of owner")
			}
			refs = append(refs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return own, nil, wrap(err, "list teams of owner")
		}
	} else if own.name != "" {
		var r teamRef
		lower := strings.ToLower(own.name)
		err := x.row(`SELECT id, slug FROM teams WHERE slug = ? OR `+x.s.d.lower("name")+` = ? ORDER BY slug LIMIT 1`,
			lower, lower).Scan(&r.id, &r.slug)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return own, nil, wrap(err, "find owner team")
		default:
			own.name = "team " + r.slug
			own.channels, err = x.teamChannelIDs(r.id)
			return own, nil, err
		}
	}
	for _, r := range refs {
		chs, err := x.teamChannelIDs(r.id)
		if err != nil {
			return own, nil, err
		}
		teams = append(teams, recipient{name: "team " + r.slug, channels: chs})
	}
	return own, teams, nil
}

// describeDelivery says where a reminder went, for the timeline — "dave (2 channels) and team payments (no
// contact channel)" — and returns the distinct channels to send to. With no channel at all, text only names the
// recipients: "erin and team sre".
func describeDelivery(rs []recipient) (text string, channels []string) {
	var parts, names []string
	seen := map[string]bool{}
	for _, r := range rs {
		n := 0
		for _, c := range r.channels {
			if !seen[c] {
				seen[c] = true
				channels = append(channels, c)
			}
			n++
		}
		names = append(names, r.name)
		switch n {
		case 0:
			parts = append(parts, r.name+" (no contact channel)")
		case 1:
			parts = append(parts, r.name+" (1 channel)")
		default:
			parts = append(parts, fmt.Sprintf("%s (%d channels)", r.name, n))
		}
	}
	if len(channels) == 0 {
		parts = names
	}
	switch len(parts) {
	case 0:
		return "nobody", channels
	case 1:
		return parts[0], channels
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1], channels
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// --- overdue action items --------------------------------------------------------------------------------------

// FireOverdueReminder sends an action item's overdue reminder if one is due at now: to its owner's contact
// methods and, once it has been overdue for the policy's TeamAfter, to the owner's teams' channels, with an
// action_item_reminder event on the incident's timeline (which says so when there was no channel: the follow-up
// list shows the reminder then). It records the reminder on the item and schedules the next one; an item that is
// no longer overdue just gets its schedule corrected.
func (s *Store) FireOverdueReminder(ctx context.Context, itemID string, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	pol := s.FollowThroughPolicy()
	return s.write(ctx, func(t *txn) error {
		var incidentID string
		err := t.row(`SELECT incident_id FROM action_items WHERE id = ?`, itemID).Scan(&incidentID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return wrap(err, "overdue reminder")
		}
		if err := t.lockIncident(incidentID); err != nil {
			return err
		}
		a, err := scanActionItem(t.row(`SELECT `+actionItemCols+` FROM action_items WHERE id = ?`+s.d.lockOf(""), itemID))
		if err != nil {
			return wrap(err, "overdue reminder")
		}
		next := pol.NextOverdueReminder(&a)
		if next == nil || next.After(now) || !a.OverdueAt(now) {
			_, err := t.exec(`UPDATE action_items SET remind_at = ? WHERE id = ?`, s.d.nts(next), a.ID)
			return wrap(err, "overdue reminder")
		}
		inc, err := t.loadIncident(incidentID, false)
		if err != nil {
			return err
		}
		own, teams, err := t.ownerRecipients(a.Owner)
		if err != nil {
			return err
		}
		escalate := pol.EscalatesAt(&a, now) && len(teams) > 0
		to := []recipient{own}
		if escalate {
			to = append(to, teams...)
		}
		where, channels := describeDelivery(to)
		since, _ := firebreak.OverdueSince(a.DueDate)
		days := int(now.Sub(since)/(24*time.Hour)) + 1
		owner := a.Owner
		if owner == "" {
			owner = "no owner"
		}
		count := a.Reminders + 1
		text := fmt.Sprintf("Action item %q (owner %s) was due %s and is %s overdue. Please finish it, or update "+
			"its status or due date.", a.Title, owner, a.DueDate, plural(days, "day", "days"))
		publicURL, _ := s.outboxSettings().get()
		msg := notify.Message{Kind: notify.KindActionItemOverdue, Incident: notifyIncident(inc, publicURL),
			Text: text, OccurredAt: now}
		msg.Incident.URL += "#action-" + a.ID
		for _, ch := range channels {
			if _, err := t.insertNotification(ch, inc.ID, msg, now); err != nil {
				return err
			}
		}
		evText := fmt.Sprintf("Overdue reminder %d for action item %q (%s overdue) sent to %s", count, a.Title,
			plural(days, "day", "days"), where)
		if len(channels) == 0 {
			evText = fmt.Sprintf("Overdue reminder %d for action item %q (%s overdue): no contact channel for %s, "+
				"so the reminder is shown in the follow-up list", count, a.Title, plural(days, "day", "days"), where)
		}
		if err := t.insertEvents(inc.ID, []firebreak.TimelineEvent{{Kind: EventActionItemReminder, Message: evText,
			OccurredAt: now, RecordedAt: now, Data: map[string]string{"action_item_id": a.ID, "owner": a.Owner,
				"reminder": strconv.Itoa(count), "days_overdue": strconv.Itoa(days),
				"channels": strconv.Itoa(len(channels)), "escalated": strconv.FormatBool(escalate)}}}); err != nil {
			return err
		}
		a.RemindedAt, a.Reminders = &now, count
		if escalate {
			a.TeamRemindedAt = &now
		}
		_, err = t.exec(`UPDATE action_items SET reminded_at = ?, reminders = ?, team_reminded_at = ?, remind_at = ?
			WHERE id = ?`, s.d.ts(now), a.Reminders, s.d.nts(a.TeamRemindedAt), t.remindAt(&a), a.ID)
		return wrap(err, "overdue reminder")
	})
}

// --- follow-up reviews -----------------------------------------------------------------------------------------

// reviewRecipients are who a follow-up review reminder goes to: the post-mortem's approvers and the incident
// commander (the post-mortem's creator when there is neither), with their contact methods.
func (x q) reviewRecipients(pm *firebreak.Postmortem, inc *firebreak.Incident) ([]recipient, error) {
	var names []string
	for _, r := range pm.Reviewers {
		if r.Approver && !slices.Contains(names, r.User) {
			names = append(names, r.User)
		}
	}
	if c := inc.Roles[firebreak.RoleCommander]; c != "" && !slices.Contains(names, c) {
		names = append(names, c)
	}
	if len(names) == 0 && pm.CreatedBy != "" {
		names = append(names, pm.CreatedBy)
	}
	var out []recipient
	for _, n := range names {
		r := recipient{name: n}
		uid, username, ok, err := x.userByName(n)
		if err != nil {
			return nil, err
		}
		if ok {
			r.name = username
			if r.channels, err = x.userChannelIDs(uid); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// FireReviewReminder sends a published post-mortem's follow-up review reminder if one is due at now: to its
// approvers and the incident commander, with a follow_up_review_reminder event on the timeline, and schedules the
// next one (the policy's ReviewEvery later, until the post-mortem is closed).
func (s *Store) FireReviewReminder(ctx context.Context, postmortemID string, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	pol := s.FollowThroughPolicy()
	return s.write(ctx, func(t *txn) error {
		var incidentID string
		err := t.row(`SELECT incident_id FROM postmortems WHERE id = ?`, postmortemID).Scan(&incidentID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return wrap(err, "review reminder")
		}
		h, err := t.loadHead(incidentID, true)
		if err != nil {
			return err
		}
		pm, err := t.loadPostmortem(h.id, h.ref())
		if err != nil {
			return err
		}
		next := pol.NextReviewReminder(pm)
		if next == nil || next.After(now) {
			_, err := t.exec(`UPDATE postmortems SET follow_up_remind_at = ? WHERE id = ?`, s.d.nts(next), pm.ID)
			return wrap(err, "review reminder")
		}
		inc, err := t.loadIncident(h.id, false)
		if err != nil {
			return err
		}
		to, err := t.reviewRecipients(pm, inc)
		if err != nil {
			return err
		}
		where, channels := describeDelivery(to)
		open := len(firebreak.UnresolvedItems(pm.ActionItems))
		text := fmt.Sprintf("The follow-up review of the %s post-mortem was due %s. %s of its action items "+
			"still open. Hold the review, then close the post-mortem.", inc.Ref(),
			pm.FollowUpAt.UTC().Format("2006-01-02 15:04 UTC"), plural(open, "is", "are"))
		if open == 0 {
			text = fmt.Sprintf("The follow-up review of the %s post-mortem was due %s. Every action item is "+
				"resolved: hold the review and close the post-mortem.", inc.Ref(),
				pm.FollowUpAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		publicURL, _ := s.outboxSettings().get()
		msg := notify.Message{Kind: notify.KindFollowUpReview, Incident: notifyIncident(inc, publicURL), Text: text,
			OccurredAt: now}
		msg.Incident.URL += "/postmortem"
		for _, ch := range channels {
			if _, err := t.insertNotification(ch, inc.ID, msg, now); err != nil {
				return err
			}
		}
		evText := "Follow-up review reminder sent to " + where
		if len(channels) == 0 {
			evText = "Follow-up review reminder: no contact channel for " + where + ", so the review is shown as due " +
				"in the follow-up list"
		}
		if err := t.insertEvents(inc.ID, []firebreak.TimelineEvent{{Kind: EventFollowUpReviewReminder,
			Message: evText, OccurredAt: now, RecordedAt: now, Data: map[string]string{"postmortem_id": pm.ID,
				"follow_up_at": pm.FollowUpAt.UTC().Format(time.RFC3339), "open_items": strconv.Itoa(open),
				"channels": strconv.Itoa(len(channels))}}}); err != nil {
			return err
		}
		pm.FollowUpRemindedAt = &now
		_, err = t.exec(`UPDATE postmortems SET follow_up_reminded_at = ?, follow_up_remind_at = ? WHERE id = ?`,
			s.d.ts(now), t.reviewRemindAt(pm), pm.ID)
		return wrap(err, "review reminder")
	})
}

// ListFollowUpReviews lists published post-mortems' follow-up reviews, review date soonest first, paged by offset.
func (s *Store) ListFollowUpReviews(ctx context.Context, f firebreak.FollowUpReviewFilter) (
	*firebreak.Page[firebreak.FollowUpReview], error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	offset := 0
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.TrimPrefix(c, "r|"))
		if err != nil || !strings.HasPrefix(c, "r|") || n < 0 {
			return nil, badCursor()
		}
		offset = n
	}
	now := s.clock()
	cond := ""
	args := []any{string(firebreak.PostmortemPublished)}
	if f.Due {
		cond = ` AND p.follow_up_at <= ?`
		args = append(args, s.d.ts(now))
	}
	args = append(args, limit+1, offset)
	r := s.read(ctx)
	rows, err := r.query(`SELECT `+postmortemCols+`, i.title, i.severity, i.commander,
		(SELECT COUNT(*) FROM action_items a WHERE a.incident_id = i.id AND a.status NOT IN ('verified', 'not_doing'))
		FROM postmortems p JOIN incidents i ON i.id = p.incident_id
		WHERE p.status = ? AND p.follow_up_at IS NOT NULL`+cond+`
		ORDER BY p.follow_up_at, p.id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, wrap(err, "list follow-up reviews")
	}
	defer rows.Close()
	items := []firebreak.FollowUpReview{}
	for rows.Next() {
		var fr firebreak.FollowUpReview
		pm, err := scanPostmortem(rows, &fr.IncidentTitle, &fr.Severity, &fr.Commander, &fr.OpenItems)
		if err != nil {
			return nil, wrap(err, "list follow-up reviews")
		}
		fr.IncidentRef, fr.PostmortemID, fr.Status = pm.IncidentRef, pm.ID, pm.Status
		fr.PublishedAt, fr.FollowUpAt, fr.RemindedAt = pm.PublishedAt, *pm.FollowUpAt, pm.FollowUpRemindedAt
		fr.Due = !fr.FollowUpAt.After(now)
		fr.Approvers = []string{}
		for _, rv := range pm.Reviewers {
			if rv.Approver {
				fr.Approvers = append(fr.Approvers, rv.User)
			}
		}
		items = append(items, fr)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list follow-up reviews")
	}
	page := &firebreak.Page[firebreak.FollowUpReview]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = encodeCursor("r|" + strconv.Itoa(offset+limit))
	}
	return page, nil
}

// --- the close policy ------------------------------------------------------------------------------------------

// closeBlockers lists what keeps inc from closing under the policy (nil: nothing, or the severity does not
// require follow-through).
func (t *txn) closeBlockers(inc *firebreak.Incident) ([]firebreak.FieldError, error) {
	pol := t.s.FollowThroughPolicy()
	if !pol.RequiresFollowThrough(inc.Severity) {
		return nil, nil
	}
	pm, err := t.loadPostmortem(inc.ID, inc.Ref())
	if firebreak.ErrorCode(err) == firebreak.ENotFound {
		pm, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	var items []firebreak.ActionItem
	if pm != nil {
		items = pm.ActionItems
	} else if items, err = t.actionItems(inc.ID); err != nil {
		return nil, err
	}
	return pol.CloseBlockers(inc.Severity, pm, items), nil
}

// VerifyActionItem verifies a done action item by its id alone (POST /action-items/{id}/verify): the same rules
// and timeline event as UpdateActionItem with status verified.
func (s *Store) VerifyActionItem(ctx context.Context, itemID string, ifVersion int64) (*firebreak.ActionItem, error) {
	var incidentID string
	err := s.read(ctx).row(`SELECT incident_id FROM action_items WHERE id = ?`, strings.TrimSpace(itemID)).Scan(&incidentID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("action item %s not found", itemID)
	}
	if err != nil {
		return nil, wrap(err, "verify action item")
	}
	st := firebreak.ActionVerified
	return s.UpdateActionItem(ctx, incidentID, itemID, firebreak.ActionItemPatch{Status: &st}, ifVersion)
}
