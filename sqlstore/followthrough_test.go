package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// followUser creates a user with a personal webhook channel (a contact method) unless noChannel.
func followUser(t *testing.T, s *sqlstore.Store, name string, noChannel bool) {
	t.Helper()
	ctx := context.Background()
	must(s.CreateUser(ctx, firebreak.UserInput{Username: name, Name: strings.ToUpper(name[:1]) + name[1:],
		Password: "correct horse battery staple"}))
	if !noChannel {
		must(s.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: name + "-hook",
			URL: "https://hooks.example.com/" + name, User: name}))
	}
}

// notificationsTo lists the queued notifications of kind, by channel name.
func notificationsTo(t *testing.T, s *sqlstore.Store, kind string) []string {
	t.Helper()
	ns := must(s.ListNotifications(context.Background(), firebreak.NotificationFilter{Limit: firebreak.MaxLimit}))
	var out []string
	for _, n := range ns {
		if string(n.Kind) == kind {
			out = append(out, n.Channel)
		}
	}
	slices.Sort(out)
	return out
}

// fireDue claims every due reminder of both queues at now and fires it, returning how many were claimed.
func fireDue(t *testing.T, s *sqlstore.Store, now time.Time) int {
	t.Helper()
	items, reviews := fireDueSplit(t, s, now)
	return items + reviews
}

// fireDueSplit is fireDue counting overdue action items and follow-up reviews apart.
func fireDueSplit(t *testing.T, s *sqlstore.Store, now time.Time) (items, reviews int) {
	t.Helper()
	ctx := context.Background()
	for _, id := range must(s.ClaimOverdueReminders(ctx, now, time.Minute, 100)) {
		must(0, s.FireOverdueReminder(ctx, id, now))
		items++
	}
	for _, id := range must(s.ClaimReviewReminders(ctx, now, time.Minute, 100)) {
		must(0, s.FireReviewReminder(ctx, id, now))
		reviews++
	}
	return items, reviews
}

func eventsOf(t *testing.T, s *sqlstore.Store, ref string, kind firebreak.EventKind) []firebreak.TimelineEvent {
	t.Helper()
	var out []firebreak.TimelineEvent
	for _, ev := range timeline(t, s, ref) {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// An overdue action item is reminded to its owner at 09:00 UTC the day after its due date and weekly after;
// from 7 days overdue the reminder also goes to the owner's teams. Each reminder is recorded on the item and the
// timeline exactly once per due time, and an item that is done, or whose due date moves, stops or moves its
// reminders.
func TestOverdueReminders(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		followUser(t, s, "dave", false)
		must(s.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: "payments-room",
			URL: "https://hooks.example.com/payments"}))
		must(s.CreateTeam(ctx, firebreak.TeamInput{Slug: "payments", Name: "Payments Team",
			Members: []firebreak.TeamMemberInput{{Username: "dave"}}}))
		tm := must(s.UpdateTeam(ctx, "payments", firebreak.TeamPatch{Channels: &[]string{"payments-room"}}, 0))
		if !slices.Equal(tm.Channels, []string{"payments-room"}) {
			t.Fatalf("team channels %v", tm.Channels)
		}
		inc := declare(t, s, "Payments failing", firebreak.SEV2)
		today := c.Now().UTC().Format(time.DateOnly) // t0 is 2025-03-01 12:00 UTC
		item := must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "Add a provider timeout",
			Owner: "dave", DueDate: today}))

		firstAt := time.Date(2025, 3, 2, 9, 0, 0, 0, time.UTC)
		if next := must(s.NextFollowThroughDue(ctx)); !next.Equal(firstAt) {
			t.Fatalf("next due %s, want %s", next, firstAt)
		}
		if n := fireDue(t, s, c.Now()); n != 0 {
			t.Fatalf("%d reminders before the item is overdue", n)
		}
		c.Advance(firstAt.Sub(c.Now()))
		if n := fireDue(t, s, c.Now()); n != 1 {
			t.Fatalf("%d reminders at 09:00 the day after the due date, want 1", n)
		}
		if got := notificationsTo(t, s, "action_item_overdue"); !slices.Equal(got, []string{"dave-hook"}) {
			t.Fatalf("first reminder went to %v, want dave's contact method only", got)
		}
		evs := eventsOf(t, s, inc.Reference, sqlstore.EventActionItemReminder)
		if len(evs) != 1 || !strings.Contains(evs[0].Message, "1 day overdue") ||
			!strings.Contains(evs[0].Message, "dave (1 channel)") || evs[0].Data["escalated"] != "false" {
			t.Fatalf("timeline %+v", evs)
		}
		got := must(s.ListActionItems(ctx, inc.Reference))[0]
		if got.Reminders != 1 || got.RemindedAt == nil || !got.RemindedAt.Equal(firstAt) || got.TeamRemindedAt != nil ||
			got.Version != item.Version {
			t.Fatalf("item after the reminder %+v (version %d before)", got, item.Version)
		}
		// A second claim at the same time (a lost lease, another replica) sends nothing more.
		must(0, s.FireOverdueReminder(ctx, item.ID, c.Now()))
		if n := len(notificationsTo(t, s, "action_item_overdue")); n != 1 {
			t.Fatalf("%d notifications after a duplicate fire", n)
		}
		secondAt := firstAt.Add(7 * 24 * time.Hour)
		if next := must(s.NextFollowThroughDue(ctx)); !next.Equal(secondAt) {
			t.Fatalf("next reminder at %s, want a week later (%s)", next, secondAt)
		}

		// A week later: 8 days overdue, so the team hears too.
		c.Advance(secondAt.Sub(c.Now()))
		if n := fireDue(t, s, c.Now()); n != 1 {
			t.Fatalf("%d reminders a week later", n)
		}
		if got := notificationsTo(t, s, "action_item_overdue"); !slices.Equal(got,
			[]string{"dave-hook", "dave-hook", "payments-room"}) {
			t.Fatalf("reminders went to %v", got)
		}
		got = must(s.ListActionItems(ctx, inc.Reference))[0]
		if got.Reminders != 2 || got.TeamRemindedAt == nil || !got.TeamRemindedAt.Equal(secondAt) {
			t.Fatalf("escalated item %+v", got)
		}
		fu := must(s.ListFollowUps(ctx, firebreak.ActionItemFilter{Overdue: true})).Items
		if len(fu) != 1 || fu[0].RemindedAt == nil || fu[0].Reminders != 2 {
			t.Fatalf("follow-up list %+v", fu)
		}

		// Moving the due date on stops the reminders until the new date has passed.
		later := c.Now().AddDate(0, 0, 3).Format(time.DateOnly)
		got = *must(s.UpdateActionItem(alice, inc.Reference, item.ID, firebreak.ActionItemPatch{DueDate: &later}, 0))
		newFirst := c.Now().Truncate(24*time.Hour).AddDate(0, 0, 4).Add(9 * time.Hour)
		if next := must(s.NextFollowThroughDue(ctx)); !next.Equal(newFirst) {
			t.Fatalf("after the due date moved, next reminder %s, want %s", next, newFirst)
		}
		// Done: no more reminders, and done_at is recorded (and kept when verified).
		c.Advance(time.Hour)
		done := must(s.UpdateActionItem(alice, inc.Reference, item.ID,
			firebreak.ActionItemPatch{Status: ptr(firebreak.ActionDone)}, 0))
		if done.DoneAt == nil || !done.DoneAt.Equal(c.Now()) {
			t.Fatalf("done_at %v, want %s", done.DoneAt, c.Now())
		}
		if next := must(s.NextFollowThroughDue(ctx)); !next.IsZero() {
			t.Fatalf("a done item is still scheduled for %s", next)
		}
		verified := must(s.UpdateActionItem(as("erin", firebreak.RoleResponder), inc.Reference, item.ID,
			firebreak.ActionItemPatch{Status: ptr(firebreak.ActionVerified)}, 0))
		if verified.DoneAt == nil || !verified.DoneAt.Equal(*done.DoneAt) {
			t.Fatalf("verified item lost done_at: %+v", verified)
		}
		reopened := must(s.UpdateActionItem(alice, inc.Reference, item.ID,
			firebreak.ActionItemPatch{Status: ptr(firebreak.ActionOpen)}, 0))
		if reopened.DoneAt != nil {
			t.Fatalf("reopened item keeps done_at %v", reopened.DoneAt)
		}
	})
}

// Without any channel the reminder is still recorded (timeline, follow-up list); an item owned by a team is
// reminded to the team's channels from the start.
func TestOverdueRemindersWithoutChannelsAndTeamOwners(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		followUser(t, s, "erin", true)
		must(s.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: "db-room",
			URL: "https://hooks.example.com/db"}))
		must(s.CreateTeam(ctx, firebreak.TeamInput{Slug: "database", Name: "Database Team"}))
		must(s.UpdateTeam(ctx, "database", firebreak.TeamPatch{Channels: &[]string{"db-room"}}, 0))
		inc := declare(t, s, "Deadlocks", firebreak.SEV2)
		yesterday := c.Now().AddDate(0, 0, -1).Format(time.DateOnly)
		must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "Alert on deadlocks",
			Owner: "erin", DueDate: yesterday}))
		must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "Lock order review",
			Owner: "Database Team", DueDate: yesterday}))
		must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "Retry deadlock victims",
			Owner: "Someone Else", DueDate: yesterday, Status: firebreak.ActionInProgress}))
		// Overdue since today 00:00; the first reminder was due at 09:00 (before t0, 12:00): due now.
		if n := fireDue(t, s, c.Now()); n != 3 {
			t.Fatalf("%d reminders, want 3", n)
		}
		if got := notificationsTo(t, s, "action_item_overdue"); !slices.Equal(got, []string{"db-room"}) {
			t.Fatalf("notifications to %v, want only the database team's room", got)
		}
		evs := eventsOf(t, s, inc.Reference, sqlstore.EventActionItemReminder)
		var texts []string
		for _, ev := range evs {
			texts = append(texts, ev.Message)
		}
		all := strings.Join(texts, "\n")
		for _, want := range []string{"no contact channel for erin, so the reminder is shown in the follow-up list",
			"sent to team database (1 channel)", "no contact channel for Someone Else"} {
			if !strings.Contains(all, want) {
				t.Errorf("timeline lacks %q:\n%s", want, all)
			}
		}
		for _, fu := range must(s.ListFollowUps(ctx, firebreak.ActionItemFilter{Overdue: true})).Items {
			if fu.RemindedAt == nil || fu.Reminders != 1 {
				t.Errorf("%q in the follow-up list without its reminder: %+v", fu.Title, fu)
			}
		}
	})
}

// publishPostmortem completes, approves (by lee) and publishes the post-mortem of ref.
func publishPostmortem(t *testing.T, s *sqlstore.Store, ref string) *firebreak.Postmortem {
	t.Helper()
	if len(must(s.ListActionItems(context.Background(), ref))) == 0 {
		must(s.AddActionItem(alice, ref, firebreak.ActionItemInput{Title: "Add a lock timeout to migrations"}))
	}
	must(s.UpdatePostmortem(alice, ref, firebreak.PostmortemPatch{
		Summary: ptr("Payments failed for 30 minutes."),
		Impact: &firebreak.PostmortemImpact{Description: "Card payments failed", DurationSeconds: ptr(int64(1800)),
			CustomerFacing: true},
		Trigger:   ptr("A schema migration locked the payments table."),
		Detection: &firebreak.PostmortemDetection{Narrative: "An alert fired.", Gap: "No alert on lock waits."},
		LeadUp:    ptr("A migration was scheduled."), Response: ptr("The commander paged the database team."),
		Recovery: ptr("The migration was cancelled."),
		ContributingFactors: &[]firebreak.ContributingFactor{{Category: firebreak.CategoryChange,
			Description: "The migration tool takes table locks without a timeout"}},
		WentWell: &[]string{"Paging worked"}, WentPoorly: &[]string{"The lock was hard to see"},
		Lessons:   &[]string{"Migrations need lock timeouts"},
		Reviewers: &[]firebreak.Reviewer{{User: "lee", Approver: true}},
	}, 0))
	must(s.SubmitPostmortem(alice, ref, 0))
	must(s.ApprovePostmortem(as("lee", firebreak.RoleResponder), ref, firebreak.ApproveInput{}, 0))
	return must(s.PublishPostmortem(alice, ref, 0))
}

// A published post-mortem's follow-up review is reminded to its approvers and the commander when due (14 days
// after publishing), listed as due, reminded weekly until the post-mortem is closed.
func TestFollowUpReviewReminders(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		followUser(t, s, "lee", false)
		followUser(t, s, "carol", false)
		inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Payments outage", Severity: firebreak.SEV1,
			Roles: map[firebreak.Role]string{firebreak.RoleCommander: "carol"}}))
		must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusResolved, "", 0))
		pm := publishPostmortem(t, s, inc.Reference)
		due := c.Now().Add(14 * 24 * time.Hour)
		if !pm.FollowUpAt.Equal(due) {
			t.Fatalf("follow-up at %s, want %s", pm.FollowUpAt, due)
		}
		list := must(s.ListFollowUpReviews(ctx, firebreak.FollowUpReviewFilter{}))
		if len(list.Items) != 1 || list.Items[0].Due || list.Items[0].OpenItems != 1 ||
			!slices.Equal(list.Items[0].Approvers, []string{"lee"}) || list.Items[0].Commander != "carol" {
			t.Fatalf("reviews %+v", list.Items)
		}
		if got := must(s.ListFollowUpReviews(ctx, firebreak.FollowUpReviewFilter{Due: true})); len(got.Items) != 0 {
			t.Fatalf("a review is due before its date: %+v", got.Items)
		}
		if n := fireDue(t, s, c.Now()); n != 0 {
			t.Fatalf("%d reminders before the review date", n)
		}
		c.Advance(14 * 24 * time.Hour)
		if n := fireDue(t, s, c.Now()); n != 1 {
			t.Fatalf("%d reminders on the review date", n)
		}
		if got := notificationsTo(t, s, "follow_up_review"); !slices.Equal(got, []string{"carol-hook", "lee-hook"}) {
			t.Fatalf("review reminder went to %v", got)
		}
		evs := eventsOf(t, s, inc.Reference, sqlstore.EventFollowUpReviewReminder)
		if len(evs) != 1 || !strings.Contains(evs[0].Message, "lee (1 channel) and carol (1 channel)") {
			t.Fatalf("timeline %+v", evs)
		}
		dueList := must(s.ListFollowUpReviews(ctx, firebreak.FollowUpReviewFilter{Due: true})).Items
		if len(dueList) != 1 || !dueList[0].Due || dueList[0].RemindedAt == nil || !dueList[0].RemindedAt.Equal(c.Now()) {
			t.Fatalf("due reviews %+v", dueList)
		}
		if got := must(s.GetPostmortem(ctx, inc.Reference)); got.FollowUpRemindedAt == nil {
			t.Fatal("the post-mortem does not say it was reminded")
		}
		c.Advance(7 * 24 * time.Hour)
		if _, n := fireDueSplit(t, s, c.Now()); n != 1 {
			t.Fatalf("%d review reminders a week later", n)
		}
		// Closing needs the action item resolved (SEV1); then no more reminders.
		_, err := s.ClosePostmortem(alice, inc.Reference, "reviewed", 0)
		if e := wantCode(t, err, firebreak.EConflict); len(e.Fields) != 1 || e.Fields[0].Field != "action_items[0]" {
			t.Fatalf("close refusal %+v", e)
		}
		item := must(s.ListActionItems(ctx, inc.Reference))[0]
		must(s.UpdateActionItem(alice, inc.Reference, item.ID,
			firebreak.ActionItemPatch{Status: ptr(firebreak.ActionNotDoing), Reason: ptr("superseded by the new tool")}, 0))
		must(s.ClosePostmortem(alice, inc.Reference, "reviewed", 0))
		if next := must(s.NextFollowThroughDue(ctx)); !next.IsZero() {
			t.Fatalf("a closed post-mortem is still scheduled: %s", next)
		}
		if got := must(s.ListFollowUpReviews(ctx, firebreak.FollowUpReviewFilter{})); len(got.Items) != 0 {
			t.Fatalf("closed post-mortem listed: %+v", got.Items)
		}
	})
}

// By policy per severity (default SEV1 and SEV2), an incident closes only with its post-mortem published and
// every action item verified or not_doing; the refusal names every blocker. SEV3 closes freely, and the policy
// is configurable.
func TestClosePolicy(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		inc := declare(t, s, "Checkout down", firebreak.SEV2)
		must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusResolved, "", 0))
		a := must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "Add circuit breakers",
			Owner: "dave"}))
		b := must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "Alert on latency",
			Owner: "erin", Status: firebreak.ActionInProgress}))
		_, err := s.ChangeStatus(alice, inc.Reference, firebreak.StatusClosed, "", 0)
		e := wantCode(t, err, firebreak.EConflict)
		if got := fieldNames(e); !slices.Equal(got, []string{"postmortem", "action_items[0]", "action_items[1]"}) ||
			!strings.Contains(e.Fields[0].Message, "draft") || !strings.Contains(e.Fields[1].Message, "Add circuit breakers") ||
			!strings.Contains(e.Message, "2 action items are unresolved") {
			t.Fatalf("refusal %+v", e)
		}
		if got := must(s.GetIncident(ctx, inc.Reference)); got.Status != firebreak.StatusResolved {
			t.Fatalf("refused close changed the incident: %s", got.Status)
		}

		publishPostmortem(t, s, inc.Reference)
		must(s.UpdateActionItem(as("dave", firebreak.RoleResponder), inc.Reference, a.ID,
			firebreak.ActionItemPatch{Status: ptr(firebreak.ActionDone)}, 0))
		must(s.UpdateActionItem(alice, inc.Reference, b.ID,
			firebreak.ActionItemPatch{Status: ptr(firebreak.ActionNotDoing), Reason: ptr("covered by the SLO alert")}, 0))
		_, err = s.ChangeStatus(alice, inc.Reference, firebreak.StatusClosed, "", 0)
		e = wantCode(t, err, firebreak.EConflict)
		if got := fieldNames(e); !slices.Equal(got, []string{"action_items[0]"}) || !strings.Contains(e.Fields[0].Message, "is done") {
			t.Fatalf("done but unverified: %+v", e)
		}
		must(s.UpdateActionItem(alice, inc.Reference, a.ID, firebreak.ActionItemPatch{Status: ptr(firebreak.ActionVerified)}, 0))
		if got := must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusClosed, "followed through", 0)); got.Status != firebreak.StatusClosed {
			t.Fatalf("closed: %s", got.Status)
		}

		// SEV3: no post-mortem, open items, closes.
		low := declare(t, s, "Slow search", firebreak.SEV3)
		must(s.AddActionItem(alice, low.Reference, firebreak.ActionItemInput{Title: "Index the tags column"}))
		must(s.ChangeStatus(alice, low.Reference, firebreak.StatusResolved, "", 0))
		must(s.ChangeStatus(alice, low.Reference, firebreak.StatusClosed, "", 0))

		// Configurable: a policy that requires it of SEV1 only lets a SEV2 close at once.
		s.SetFollowThroughPolicy(firebreak.FollowThroughPolicy{CloseRequires: []firebreak.Severity{firebreak.SEV1}})
		other := declare(t, s, "Queue delays", firebreak.SEV2)
		must(s.ChangeStatus(alice, other.Reference, firebreak.StatusResolved, "", 0))
		must(s.ChangeStatus(alice, other.Reference, firebreak.StatusClosed, "", 0))
		sev1 := declare(t, s, "Everything down", firebreak.SEV1)
		must(s.ChangeStatus(alice, sev1.Reference, firebreak.StatusResolved, "", 0))
		_, err = s.ChangeStatus(alice, sev1.Reference, firebreak.StatusClosed, "", 0)
		wantCode(t, err, firebreak.EConflict)
	})
}

// Teams have announcement channels: set by PATCH (ids or names, replacing), shown on reads, unknown ones refused
// on the channels field; a change bumps the version, the same set does not.
func TestTeamChannels(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		a := must(s.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: "room-a",
			URL: "https://hooks.example.com/a"}))
		must(s.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: "room-b",
			Address: "team@example.com"}))
		tm := must(s.CreateTeam(ctx, firebreak.TeamInput{Slug: "sre"}))
		if tm.Channels == nil || len(tm.Channels) != 0 {
			t.Fatalf("new team channels %#v", tm.Channels)
		}
		tm2 := must(s.UpdateTeam(ctx, "sre", firebreak.TeamPatch{Channels: &[]string{"room-b", a.ID}}, tm.Version))
		if !slices.Equal(tm2.Channels, []string{"room-a", "room-b"}) || tm2.Version != tm.Version+1 {
			t.Fatalf("team %+v", tm2)
		}
		same := must(s.UpdateTeam(ctx, "sre", firebreak.TeamPatch{Channels: &[]string{"room-a", "room-b"}}, 0))
		if same.Version != tm2.Version {
			t.Fatalf("an unchanged set bumped the version: %d → %d", tm2.Version, same.Version)
		}
		if got := must(s.GetTeam(ctx, "sre")); !slices.Equal(got.Channels, tm2.Channels) {
			t.Fatalf("get %v", got.Channels)
		}
		_, err := s.UpdateTeam(ctx, "sre", firebreak.TeamPatch{Channels: &[]string{"nope"}}, 0)
		wantField(t, err, "channels", "unknown channel")
		must(0, s.DeleteChannel(ctx, "room-a"))
		if got := must(s.GetTeam(ctx, "sre")); !slices.Equal(got.Channels, []string{"room-b"}) {
			t.Fatalf("after deleting a channel: %v", got.Channels)
		}
	})
}

// Incidents carry tags (normalized, changes on the timeline); the knowledge base filters by tag and by the
// contributing-factor category of the post-mortem.
func TestTagsAndSearchFilters(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		a := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout timeouts during the promotion",
			Severity: firebreak.SEV2, Tags: []string{"Promo-Event", "checkout", "promo-event"}}))
		if !slices.Equal(a.Tags, []string{"checkout", "promo-event"}) {
			t.Fatalf("tags %v", a.Tags)
		}
		_, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3,
			Tags: []string{"no spaces"}})
		wantField(t, err, "tags", "not a tag")
		b := declare(t, s, "Checkout timeouts after a deploy", firebreak.SEV2)
		if b.Tags == nil || len(b.Tags) != 0 {
			t.Fatalf("untagged incident tags %#v", b.Tags)
		}
		b = must(s.UpdateIncident(alice, b.Reference, firebreak.IncidentPatch{Tags: &[]string{"deploy"}}, 0))
		if got := must(s.GetIncident(ctx, b.Reference)); !slices.Equal(got.Tags, []string{"deploy"}) {
			t.Fatalf("patched tags %v", got.Tags)
		}
		if evs := eventsOf(t, s, b.Reference, firebreak.EventTagsChanged); len(evs) != 1 || evs[0].Message != "Tags: deploy" {
			t.Fatalf("tag event %+v", evs)
		}
		search := func(q firebreak.SearchQuery) []string {
			t.Helper()
			q.Q = "checkout timeouts"
			var refs []string
			for _, h := range must(s.Search(ctx, q)).Items {
				refs = append(refs, h.Ref+"/"+h.Kind)
			}
			slices.Sort(refs)
			return refs
		}
		if got := search(firebreak.SearchQuery{Tags: []string{"promo-event"}}); !slices.Equal(got, []string{a.Reference + "/incident"}) {
			t.Fatalf("tag filter %v", got)
		}
		if got := search(firebreak.SearchQuery{Tags: []string{"promo"}}); len(got) != 0 {
			t.Fatalf("a tag prefix matched: %v", got)
		}
		// b's post-mortem names a change as a contributing factor.
		must(s.ChangeStatus(alice, b.Reference, firebreak.StatusResolved, "", 0))
		must(s.UpdatePostmortem(alice, b.Reference, firebreak.PostmortemPatch{ContributingFactors: &[]firebreak.ContributingFactor{
			{Category: firebreak.CategoryChange, Description: "A deploy raised checkout timeouts"}}}, 0))
		if got := search(firebreak.SearchQuery{Categories: []firebreak.FishboneCategory{firebreak.CategoryChange}}); !slices.Equal(got,
			[]string{b.Reference + "/incident", b.Reference + "/postmortem"}) {
			t.Fatalf("category filter %v", got)
		}
		if got := search(firebreak.SearchQuery{Categories: []firebreak.FishboneCategory{firebreak.CategoryCapacity}}); len(got) != 0 {
			t.Fatalf("capacity filter %v", got)
		}
		_, err = s.Search(ctx, firebreak.SearchQuery{Q: "x", Categories: []firebreak.FishboneCategory{"blame"}})
		wantField(t, err, "category", "unknown")
		_, err = s.Search(ctx, firebreak.SearchQuery{Q: "x", Tags: []string{"50%"}})
		wantField(t, err, "tag", "not a tag")
	})
}

// BenchmarkOverdueReminders measures the engine's work for one overdue action item: claiming it among b.N due
// items (in batches of 64, as the engine does) and firing its reminder (owner with a contact method: one
// notification queued and one timeline event, in one transaction).
func BenchmarkOverdueReminders(b *testing.B) {
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			s := sqltest.Open(b, d)
			ctx := context.Background()
			must(s.CreateUser(ctx, firebreak.UserInput{Username: "dave", Password: "correct horse battery staple"}))
			must(s.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: "dave-hook",
				URL: "https://hooks.example.com/dave", User: "dave"}))
			incs := make([]*firebreak.Incident, 20)
			for i := range incs {
				incs[i] = must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "bench", Severity: firebreak.SEV2}))
			}
			for i := range b.N {
				must(s.AddActionItem(alice, incs[i%len(incs)].ID, firebreak.ActionItemInput{Title: "overdue item",
					Owner: "dave", DueDate: "2020-01-01"}))
			}
			now := time.Now()
			b.ResetTimer()
			fired := 0
			for fired < b.N {
				ids := must(s.ClaimOverdueReminders(ctx, now, time.Minute, 64))
				if len(ids) == 0 {
					b.Fatalf("%d of %d fired, nothing left to claim", fired, b.N)
				}
				for _, id := range ids {
					if err := s.FireOverdueReminder(ctx, id, now); err != nil {
						b.Fatal(err)
					}
				}
				fired += len(ids)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reminders/s")
		})
	}
}
