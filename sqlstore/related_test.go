package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
)

// relatedRefs lists the refs of related incidents in order.
func relatedRefs(items []firebreak.RelatedIncident) []string {
	out := make([]string, len(items))
	for i, r := range items {
		out[i] = r.Ref
	}
	return out
}

func reasonOf(r firebreak.RelatedIncident, kind string) *firebreak.RelatedReason {
	for i := range r.Reasons {
		if r.Reasons[i].Kind == kind {
			return &r.Reasons[i]
		}
	}
	return nil
}

func findRelated(items []firebreak.RelatedIncident, ref string) *firebreak.RelatedIncident {
	for i := range items {
		if items[i].Ref == ref {
			return &items[i]
		}
	}
	return nil
}

// runRecurrenceChecks claims and runs every recurrence check due once RecurrenceCheckDelay has passed after now,
// as the engine does.
func runRecurrenceChecks(t *testing.T, s *sqlstore.Store, now time.Time) int {
	t.Helper()
	now = now.Add(sqlstore.RecurrenceCheckDelay)
	ids := must(s.ClaimRecurrenceChecks(context.Background(), now, time.Minute, 100))
	for _, id := range ids {
		if err := s.CheckRecurrence(context.Background(), id, now); err != nil {
			t.Fatalf("check %s: %v", id, err)
		}
	}
	return len(ids)
}

// TestRelatedIncidents: hand-built incidents; the related list is ordered by score and says why (text, services,
// alerts, cause, recency); unrelated incidents are not listed.
func TestRelatedIncidents(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		day := 24 * time.Hour
		for _, svc := range []string{"checkout", "search", "db", "payments"} {
			service(t, s, svc, "team")
		}
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)

		// INC-1: the checkout 5xx alert opens it; it gets a post-mortem (change & release).
		ingest(t, s, am.ID, trigger("checkout-5xx", "Checkout 5xx errors above 5%"))
		inc1 := must(s.GetIncident(ctx, "INC-1"))
		must(s.UpdateIncident(alice, "INC-1", firebreak.IncidentPatch{
			Summary: ptr("Payment requests failed with HTTP 500 after the cart service deploy")}, 0))
		must(s.CreatePostmortem(alice, "INC-1"))
		must(s.UpdatePostmortem(alice, "INC-1", firebreak.PostmortemPatch{
			Trigger: ptr("A config change to the cart service connection pool"),
			ContributingFactors: &[]firebreak.ContributingFactor{{Category: firebreak.CategoryChange,
				Description: "The connection pool config change was rolled out to all hosts at once"}}}, 0))
		res := trigger("checkout-5xx", "")
		res.Action = "resolve"
		ingest(t, s, am.ID, res)

		c.Advance(day)
		declare(t, s, "Search latency high", firebreak.SEV3, "search") // INC-2: nothing in common with INC-1
		c.Advance(day)
		declare(t, s, "Checkout page slow to load", firebreak.SEV3, "checkout") // INC-3: service and a word
		must(s.CreatePostmortem(alice, "INC-3"))
		must(s.UpdatePostmortem(alice, "INC-3", firebreak.PostmortemPatch{
			ContributingFactors: &[]firebreak.ContributingFactor{{Category: firebreak.CategoryChange,
				Description: "A feature flag was flipped"}, {Category: firebreak.CategoryCapacity,
				Description: "Too few replicas"}}}, 0))
		c.Advance(day)
		declare(t, s, "Database failover", firebreak.SEV2, "db") // INC-4: nothing in common
		c.Advance(day)
		declare(t, s, "Checkout 5xx errors on payments", firebreak.SEV2, "payments") // INC-5: text only

		// 30 days later the same alert fires again: INC-6, on the same service, with the same alert.
		c.Advance(26 * day)
		ingest(t, s, am.ID, trigger("checkout-5xx", "Checkout 5xx errors above 5%"))
		inc6 := must(s.GetIncident(ctx, "INC-6"))
		if len(inc6.Services) != 1 || inc6.Services[0] != "checkout" {
			t.Fatalf("INC-6 %+v", inc6)
		}

		rel := must(s.RelatedIncidents(ctx, "INC-6", 0))
		if rel.Ref != "INC-6" || rel.IncidentID != inc6.ID {
			t.Fatalf("subject %s %s", rel.Ref, rel.IncidentID)
		}
		if got := relatedRefs(rel.Items); !slices.Equal(got, []string{"INC-1", "INC-5", "INC-3"}) {
			t.Fatalf("related of INC-6: %v (%+v)", got, rel.Items)
		}
		r1 := rel.Items[0]
		if r1.IncidentID != inc1.ID || r1.Title != "Checkout 5xx errors above 5%" || r1.Severity != firebreak.SEV2 {
			t.Errorf("INC-1 entry %+v", r1)
		}
		// INC-1: the same title (text near 1: SQLite's bm25 counts INC-1's longer summary against it), the same
		// service (1) and the same alert (1), no cause on INC-6's side.
		if tx := reasonOf(r1, firebreak.ReasonText); tx == nil || tx.Value < 0.85 || tx.Weight != 0.45 ||
			!slices.Contains(tx.Shared, "checkout") || !slices.Contains(tx.Shared, "5xx") {
			t.Errorf("INC-1 text reason %+v", tx)
		}
		if sv := reasonOf(r1, firebreak.ReasonServices); sv == nil || sv.Value != 1 ||
			!slices.Equal(sv.Shared, []string{"checkout"}) || sv.Detail != "both affect checkout" {
			t.Errorf("INC-1 services reason %+v", sv)
		}
		if al := reasonOf(r1, firebreak.ReasonAlerts); al == nil || al.Value != 1 ||
			!slices.Equal(al.Shared, []string{"checkout-5xx"}) {
			t.Errorf("INC-1 alerts reason %+v", al)
		}
		if reasonOf(r1, firebreak.ReasonCause) != nil {
			t.Errorf("INC-1 has a cause reason though INC-6 has no post-mortem: %+v", r1.Reasons)
		}
		rc := reasonOf(r1, firebreak.ReasonRecency)
		if rc == nil || rc.Detail != "declared 30 days apart" || rc.Value < 0.85 || rc.Value > 0.87 {
			t.Errorf("INC-1 recency %+v", rc)
		}
		if r1.Similarity < 0.8 || r1.Similarity > 0.85 || r1.Score >= r1.Similarity ||
			r1.Score < r1.Similarity*rc.Value-0.002 || r1.Score > r1.Similarity*rc.Value+0.002 {
			t.Errorf("INC-1 similarity %v score %v", r1.Similarity, r1.Score)
		}
		// The similarity reasons come strongest first, recency last.
		if r1.Reasons[0].Kind != firebreak.ReasonText || r1.Reasons[len(r1.Reasons)-1].Kind != firebreak.ReasonRecency {
			t.Errorf("INC-1 reason order %+v", r1.Reasons)
		}
		// INC-5: text only (no shared service, no alert); INC-3: the service and one word.
		r5, r3 := rel.Items[1], rel.Items[2]
		if reasonOf(r5, firebreak.ReasonServices) != nil || reasonOf(r5, firebreak.ReasonAlerts) != nil ||
			reasonOf(r5, firebreak.ReasonText) == nil {
			t.Errorf("INC-5 reasons %+v", r5.Reasons)
		}
		if sv := reasonOf(r3, firebreak.ReasonServices); sv == nil || sv.Value != 1 || reasonOf(r3, firebreak.ReasonAlerts) != nil {
			t.Errorf("INC-3 reasons %+v", r3.Reasons)
		}
		if !(r1.Score > r5.Score && r5.Score > r3.Score) {
			t.Errorf("scores not descending: %v %v %v", r1.Score, r5.Score, r3.Score)
		}
		for _, r := range rel.Items {
			if r.Services == nil || r.DeclaredAt == nil || len(r.Reasons) == 0 {
				t.Errorf("entry %+v", r)
			}
		}

		// INC-1's point of view: INC-6 (the later recurrence) and INC-3, which shares the cause category.
		rel1 := must(s.RelatedIncidents(ctx, inc1.ID, 0))
		if got := relatedRefs(rel1.Items); len(got) < 2 || got[0] != "INC-6" || !slices.Contains(got, "INC-3") ||
			slices.Contains(got, "INC-2") || slices.Contains(got, "INC-4") {
			t.Fatalf("related of INC-1: %v", got)
		}
		r3 = *findRelated(rel1.Items, "INC-3")
		if cz := reasonOf(r3, firebreak.ReasonCause); cz == nil || cz.Value != 0.5 ||
			!slices.Equal(cz.Shared, []string{string(firebreak.CategoryChange)}) ||
			cz.Detail != "same cause category: Change & release" {
			t.Errorf("INC-3 cause reason %+v", cz)
		}
		// The post-mortem's words count: "connection pool" of INC-1's trigger finds an incident that only says
		// that.
		c.Advance(day)
		declare(t, s, "Connection pool exhausted", firebreak.SEV3, "db")
		rel1 = must(s.RelatedIncidents(ctx, "INC-1", 0))
		if r := findRelated(rel1.Items, "INC-7"); r == nil || reasonOf(*r, firebreak.ReasonText) == nil {
			t.Errorf("INC-7 not related through the post-mortem's words: %v", relatedRefs(rel1.Items))
		}

		// The limit, and bad input.
		if got := must(s.RelatedIncidents(ctx, "INC-6", 1)); len(got.Items) != 1 || got.Items[0].Ref != "INC-1" {
			t.Errorf("limit 1: %v", relatedRefs(got.Items))
		}
		_, err := s.RelatedIncidents(ctx, "INC-6", firebreak.MaxRelatedLimit+1)
		wantField(t, err, "limit", "between")
		_, err = s.RelatedIncidents(ctx, "INC-99", 0)
		wantCode(t, err, firebreak.ENotFound)
		// An incident with nothing in common with any other has an empty list.
		if got := must(s.RelatedIncidents(ctx, "INC-2", 0)); got.Items == nil || len(got.Items) != 0 ||
			got.Recurrence != nil {
			t.Errorf("INC-2: %+v", got)
		}
	})
}

// TestRecurrenceWarning: a new incident that looks like an earlier one whose action items are still open or
// unverified gets one warning (timeline event once, shown with live counts), and its commander is warned
// through their contact methods, also when the commander is assigned later.
func TestRecurrenceWarning(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		admin := as("admin", firebreak.RoleAdmin)
		for _, u := range []string{"alice", "bob", "carol"} {
			must(s.CreateUser(admin, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}))
		}
		// alice has a contact method; bob has none.
		must(s.CreateChannel(admin, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: "alice-mail",
			Address: "alice@example.com", User: "alice"}))
		service(t, s, "checkout", "payments")
		service(t, s, "search", "discovery")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)

		ingest(t, s, am.ID, trigger("checkout-5xx", "Checkout 5xx errors above 5%")) // INC-1
		carol := as("carol", firebreak.RoleResponder)
		items := map[string]*firebreak.ActionItem{}
		for _, in := range []firebreak.ActionItemInput{
			{Title: "Add a canary stage for cart deploys", Owner: "bob"},
			{Title: "Alert on pool saturation", Owner: "bob", Status: firebreak.ActionInProgress},
			{Title: "Stage pool config changes", Owner: "bob"},
			{Title: "Document the rollback", Owner: "bob"},
			{Title: "Rewrite everything", Owner: "bob", Status: firebreak.ActionNotDoing, Reason: "too big"},
		} {
			items[in.Title] = must(s.AddActionItem(alice, "INC-1", in))
		}
		done := firebreak.ActionDone
		verified := firebreak.ActionVerified
		must(s.UpdateActionItem(alice, "INC-1", items["Stage pool config changes"].ID,
			firebreak.ActionItemPatch{Status: &done}, 0))
		d := must(s.UpdateActionItem(alice, "INC-1", items["Document the rollback"].ID,
			firebreak.ActionItemPatch{Status: &done}, 0))
		must(s.UpdateActionItem(carol, "INC-1", d.ID, firebreak.ActionItemPatch{Status: &verified}, 0))
		res := trigger("checkout-5xx", "")
		res.Action = "resolve"
		ingest(t, s, am.ID, res)
		must(s.ChangeStatus(alice, "INC-1", firebreak.StatusResolved, "fixed", 0))
		// Nothing earlier to compare with: the claim finishes INC-1's check itself (no full check to run).
		if n := runRecurrenceChecks(t, s, c.Now()); n != 0 {
			t.Fatalf("%d full checks for INC-1, want 0", n)
		}
		if next := must(s.NextRecurrenceDue(ctx)); !next.IsZero() {
			t.Fatalf("a check is still due at %v", next)
		}
		if w := must(s.RecurrenceWarning(ctx, "INC-1")); w != nil {
			t.Fatalf("INC-1 warned of %+v", w)
		}

		// A week later: the same alert opens INC-2; a look-alike on another service (INC-3) and one that only
		// shares the service (INC-4) are no recurrences.
		c.Advance(7 * 24 * time.Hour)
		ingest(t, s, am.ID, trigger("checkout-5xx", "Checkout 5xx errors above 5%"))
		declare(t, s, "Checkout 5xx errors above 5%", firebreak.SEV2, "search")
		declare(t, s, "Checkout page slow", firebreak.SEV3, "checkout")
		// The check is durable work, due shortly after: nothing is warned before it runs.
		if w := must(s.RecurrenceWarning(ctx, "INC-2")); w != nil {
			t.Fatalf("warned before the check ran: %+v", w)
		}
		if next, want := must(s.NextRecurrenceDue(ctx)), c.Now().Add(sqlstore.RecurrenceCheckDelay); !next.Equal(want) {
			t.Errorf("next check due %v, want %v", next, want)
		}
		if n := len(must(s.ClaimRecurrenceChecks(ctx, c.Now(), time.Minute, 100))); n != 0 {
			t.Fatalf("%d checks claimed before they are due", n)
		}
		// INC-2 and INC-4 share checkout with INC-1, which has open items: full checks; INC-3 shares nothing.
		if n := runRecurrenceChecks(t, s, c.Now()); n != 2 {
			t.Fatalf("%d full checks, want 2", n)
		}
		if n := runRecurrenceChecks(t, s, c.Now().Add(time.Hour)); n != 0 {
			t.Fatalf("%d checks left after running them", n)
		}
		for _, ref := range []string{"INC-3", "INC-4"} {
			if w := must(s.RecurrenceWarning(ctx, ref)); w != nil {
				t.Errorf("%s warned: %+v", ref, w)
			}
		}
		w := must(s.RecurrenceWarning(ctx, "INC-2"))
		if w == nil {
			t.Fatal("INC-2 has no recurrence warning")
		}
		const want = "This looks like INC-1; 3 of its action items are still open (1 of them done but not verified)."
		if w.OfRef != "INC-1" || w.OfTitle != "Checkout 5xx errors above 5%" || w.OpenActionItems != 3 ||
			w.Unverified != 1 || w.OpenAtDetection != 3 || w.Message != want || len(w.ActionItems) != 3 ||
			!w.DetectedAt.Equal(c.Now().Add(sqlstore.RecurrenceCheckDelay)) || w.Similarity < 0.5 {
			t.Fatalf("warning %+v", w)
		}
		// The related endpoint carries it too.
		if rel := must(s.RelatedIncidents(ctx, "INC-2", 0)); rel.Recurrence == nil || rel.Recurrence.Message != want {
			t.Errorf("related of INC-2: recurrence %+v", rel.Recurrence)
		}
		evs := timeline(t, s, "INC-2")
		if n := countKind(evs, firebreak.EventRecurrenceWarning); n != 1 {
			t.Fatalf("%d recurrence events", n)
		}
		for _, e := range evs {
			if e.Kind == firebreak.EventRecurrenceWarning && (!strings.HasPrefix(e.Message, want) ||
				e.Data["of_ref"] != "INC-1" || e.Data["open_action_items"] != "3" ||
				!strings.Contains(e.Message, "shared alert: checkout-5xx")) {
				t.Errorf("event %+v", e)
			}
		}
		// No commander yet: nobody was notified.
		notifs := func() []firebreak.Notification {
			return must(s.ListNotifications(admin, firebreak.NotificationFilter{Incident: "INC-2"}))
		}
		recurrences := func() (n int) {
			for _, x := range notifs() {
				if x.Kind == string(notify.KindRecurrence) {
					n++
				}
			}
			return n
		}
		if n := recurrences(); n != 0 {
			t.Fatalf("%d recurrence notifications without a commander", n)
		}
		// bob becomes commander: he has no contact method, so only the page and the timeline tell him.
		must(s.AssignRole(alice, "INC-2", firebreak.RoleCommander, "bob", 0))
		if n := recurrences(); n != 0 {
			t.Fatalf("%d recurrence notifications for a commander without contact methods", n)
		}
		// alice takes over: her contact method gets the warning, once.
		must(s.AssignRole(alice, "INC-2", firebreak.RoleCommander, "alice", 0))
		if n := recurrences(); n != 1 {
			t.Fatalf("%d recurrence notifications to alice, want 1", n)
		}
		must(s.AssignRole(alice, "INC-2", firebreak.RoleTechLead, "bob", 0))
		if n := recurrences(); n != 1 {
			t.Fatalf("another role assignment warned again: %d", n)
		}
		for _, x := range notifs() {
			if x.Kind != string(notify.KindRecurrence) {
				continue
			}
			var msg string
			if err := sqlstore.QueryRow(ctx, s, `SELECT message FROM notifications WHERE id = ?`, x.ID).Scan(&msg); err != nil {
				t.Fatal(err)
			}
			if x.Channel != "alice-mail" || !strings.Contains(msg, strings.TrimSuffix(want, ".")) ||
				!strings.Contains(msg, "/incidents/INC-1") || !strings.Contains(msg, `"ref":"INC-2"`) {
				t.Errorf("notification %+v: %s", x, msg)
			}
		}
		// The check does not run twice: running it again (another replica) adds nothing.
		if err := s.CheckRecurrence(ctx, must(s.GetIncident(ctx, "INC-2")).ID, c.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n := countKind(timeline(t, s, "INC-2"), firebreak.EventRecurrenceWarning); n != 1 {
			t.Fatalf("%d recurrence events after a second check", n)
		}

		// A commander set at declaration is warned when the check runs.
		c.Advance(24 * time.Hour)
		must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout 5xx errors again",
			Severity: firebreak.SEV2, Services: []string{"checkout"},
			Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}})) // INC-5
		runRecurrenceChecks(t, s, c.Now())
		if w := must(s.RecurrenceWarning(ctx, "INC-5")); w == nil || w.OfRef != "INC-1" {
			t.Fatalf("INC-5 warning %+v", w)
		}
		n5 := 0
		for _, x := range must(s.ListNotifications(admin, firebreak.NotificationFilter{Incident: "INC-5"})) {
			if x.Kind == string(notify.KindRecurrence) {
				n5++
			}
		}
		if n5 != 1 {
			t.Errorf("INC-5: %d recurrence notifications", n5)
		}

		// The counts are live: once INC-1's items are verified or done with, the warning says so and the page
		// stops showing it (OpenActionItems 0).
		for _, title := range []string{"Add a canary stage for cart deploys", "Alert on pool saturation"} {
			must(s.UpdateActionItem(alice, "INC-1", items[title].ID, firebreak.ActionItemPatch{Status: &done}, 0))
		}
		for _, title := range []string{"Add a canary stage for cart deploys", "Alert on pool saturation",
			"Stage pool config changes"} {
			must(s.UpdateActionItem(carol, "INC-1", items[title].ID, firebreak.ActionItemPatch{Status: &verified}, 0))
		}
		w = must(s.RecurrenceWarning(ctx, "INC-2"))
		if w.OpenActionItems != 0 || w.OpenAtDetection != 3 || len(w.ActionItems) != 0 ||
			w.Message != "This looks like INC-1; its action items have all been verified or closed since." {
			t.Errorf("after verification: %+v", w)
		}
		// And a new look-alike is no longer a recurrence with incomplete remediation.
		c.Advance(time.Hour)
		declare(t, s, "Checkout 5xx errors above 5%", firebreak.SEV2, "checkout")
		runRecurrenceChecks(t, s, c.Now())
		if w := must(s.RecurrenceWarning(ctx, "INC-6")); w != nil {
			t.Errorf("INC-6 warned though INC-1's items are verified: %+v", w)
		}
	})
}

// TestRelatedQuerySyntaxIsSafe: titles and summaries full of query syntax, quotes and odd characters never make
// the related incidents' full-text queries fail (their words are quoted letters and digits only).
func TestRelatedQuerySyntaxIsSafe(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		service(t, s, "api", "core")
		titles := []string{`"unbalanced quote`, `NEAR(a b) OR c* AND -d`, `{title}: body : x`, `'); DROP TABLE incidents; --`,
			`a & b | !c <-> d:*`, `Überlast im Zahlungsdienst`, `ΣΊΣΥΦΟΣ 500`, `x`, `!!! ??? ...`, `and or not`, `İstanbul ﬁle`}
		for _, title := range titles {
			must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: title, Summary: title + " " + title,
				Severity: firebreak.SEV3, Services: []string{"api"}}))
		}
		for i := range titles {
			ref := firebreak.IncidentRef(int64(i + 1))
			if _, err := s.RelatedIncidents(ctx, ref, 0); err != nil {
				t.Errorf("%s (%q): %v", ref, titles[i], err)
			}
		}
		runRecurrenceChecks(t, s, time.Now())
	})
}
