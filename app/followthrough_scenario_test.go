package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/engine"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// receiver is a real local webhook endpoint recording what it is sent: "path event" per delivery.
type receiver struct {
	mu   sync.Mutex
	got  []string
	srv  *httptest.Server
	seen map[string]bool // Idempotency-Key: a retried message is counted once
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{seen: map[string]bool{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if key := r.Header.Get(notify.HeaderIdempotency); !rc.seen[key] {
			rc.seen[key] = true
			rc.got = append(rc.got, r.URL.Path+" "+r.Header.Get(notify.HeaderEvent))
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// take returns what arrived since the last call, sorted.
func (rc *receiver) take() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := rc.got
	rc.got = nil
	slices.Sort(out)
	return out
}

// TestFollowThroughScenario is the scenario of issue 6, on the whole app (HTTP API, store, engine, webhook
// delivery) with the clock fast-forwarded: a SEV2 is resolved → its post-mortem is drafted → two editors
// collide (412) → the blameless lint blocks publishing → it is published → the action item goes overdue and its
// owner's pager (a real local webhook) is reminded, then the owner's team → the incident cannot close yet →
// the owner marks it done, cannot verify it, another user does → the follow-up review comes due and its
// approver is reminded → the post-mortem and the incident close.
func TestFollowThroughScenario(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) { followThroughScenario(t, d) })
	}
}

func followThroughScenario(t *testing.T, dialect string) {
	ctx := context.Background()
	rcv := newReceiver(t)

	// The app, serving its handler here, with its clock driven by a fake engine clock: Start is not called, so
	// the engine below (the same queues the app runs) is the only one.
	o := sqltest.Options(t, dialect)
	a, err := app.Open(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: o.DataDir, DatabaseURL: o.DatabaseURL,
		AdminToken: adminToken, ShutdownTimeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	srv := httptest.NewServer(a.Web)
	t.Cleanup(srv.Close)
	clock := engine.NewFakeClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) // a Monday
	a.Clock.Pin(clock.Now())
	advance := func(to time.Time) {
		clock.Set(to)
		a.Clock.Pin(clock.Now())
	}
	a.Store.SetNotificationSettings(srv.URL, nil)
	ob := &engine.Outbox{Store: a.Store, Clock: clock, Notifier: notify.New(notify.Config{Now: clock.Now})}
	ft := &engine.FollowThrough{Store: a.Store, Clock: clock}
	eng := engine.New(engine.Options{Clock: clock}, append(ob.Queues(), ft.Queues()...)...)

	admin := client.New(srv.URL, adminToken)
	as := map[string]*client.Client{}
	for _, u := range []string{"alice", "dave", "erin"} {
		if _, err := admin.CreateUser(ctx, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}); err != nil {
			t.Fatal(err)
		}
		tok, err := admin.CreateToken(ctx, firebreak.TokenInput{Username: u, Name: "scenario"})
		if err != nil {
			t.Fatal(err)
		}
		as[u] = client.New(srv.URL, tok.Secret)
	}
	alice, dave, erin := as["alice"], as["dave"], as["erin"]
	// Contact methods (personal channels) for dave and erin; a team room for dave's team.
	for _, ch := range []firebreak.ChannelInput{
		{Kind: firebreak.ChannelWebhook, Name: "dave-pager", URL: rcv.srv.URL + "/dave", User: "dave"},
		{Kind: firebreak.ChannelWebhook, Name: "erin-pager", URL: rcv.srv.URL + "/erin", User: "erin"},
		{Kind: firebreak.ChannelWebhook, Name: "payments-room", URL: rcv.srv.URL + "/payments"},
	} {
		ch.Secret = "0123456789abcdef-secret"
		if _, err := admin.CreateChannel(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := admin.CreateTeam(ctx, firebreak.TeamInput{Slug: "payments",
		Members: []firebreak.TeamMemberInput{{Username: "dave"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UpdateTeam(ctx, "payments", firebreak.TeamPatch{Channels: &[]string{"payments-room"}}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateService(ctx, firebreak.ServiceInput{Slug: "payments", Name: "Payments"}); err != nil {
		t.Fatal(err)
	}

	// Resolution → draft.
	inc, err := alice.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Card payments failing", Severity: firebreak.SEV2,
		Services: []string{"payments"}, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	advance(clock.Now().Add(40 * time.Minute))
	if _, err := alice.ChangeStatus(ctx, inc.Reference, firebreak.StatusResolved, "provider recovered", 0); err != nil {
		t.Fatal(err)
	}
	pm, err := alice.GetPostmortem(ctx, inc.Reference)
	if err != nil || pm.Status != firebreak.PostmortemDraft {
		t.Fatalf("draft after resolution: %+v %v", pm, err)
	}
	item, err := alice.AddActionItem(ctx, inc.Reference, firebreak.ActionItemInput{
		Title: "Add a 5-second timeout to the payment provider client", Owner: "dave",
		DueDate: clock.Now().AddDate(0, 0, 3).Format(time.DateOnly)}) // due Thursday
	if err != nil {
		t.Fatal(err)
	}

	// Edit conflict: both editors loaded version v; erin saves first, alice's save is refused with 412.
	v := pm.Version
	if _, err := erin.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{
		LeadUp: ptrTo("The provider's API latency rose from 02:00 UTC.")}, v); err != nil {
		t.Fatal(err)
	}
	_, err = alice.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{LeadUp: ptrTo("other")}, v)
	if firebreak.ErrorCode(err) != firebreak.EPreconditionFailed {
		t.Fatalf("stale save: %v, want 412", err)
	}

	// Lint block: a contributing factor that names a person blocks publishing, even approved.
	current := func() int64 {
		t.Helper()
		pm, err := alice.GetPostmortem(ctx, inc.Reference)
		if err != nil {
			t.Fatal(err)
		}
		return pm.Version
	}
	pm, err = alice.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{
		Summary: ptrTo("Card payments failed for 40 minutes while the provider was degraded."),
		Impact: &firebreak.PostmortemImpact{Description: "Card payments failed.", DurationSeconds: ptrTo(int64(2400)),
			CustomerFacing: true},
		Trigger:   ptrTo("The payment provider's API slowed down."),
		Detection: &firebreak.PostmortemDetection{Narrative: "A customer report.", Gap: "No alert on provider latency."},
		Response:  ptrTo("The commander restarted the payment workers."), Recovery: ptrTo("The provider recovered."),
		ContributingFactors: &[]firebreak.ContributingFactor{{Category: firebreak.CategoryDependencies,
			Description: "Dave forgot to set a timeout on the provider client"}},
		WentWell: &[]string{"The restart freed the workers"}, WentPoorly: &[]string{"Workers hung without a timeout"},
		Lessons:   &[]string{"Every outbound call needs a timeout"},
		Reviewers: &[]firebreak.Reviewer{{User: "erin", Approver: true}},
	}, current())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.SubmitPostmortem(ctx, inc.Reference, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := erin.ApprovePostmortem(ctx, inc.Reference, firebreak.ApproveInput{}, 0); err != nil {
		t.Fatal(err)
	}
	_, err = alice.PublishPostmortem(ctx, inc.Reference, 0)
	if !hasField(err, "contributing_factors[0].description") || firebreak.ErrorCode(err) != firebreak.EInvalid {
		t.Fatalf("publish with a blaming factor: %v, want 422 naming the factor", err)
	}
	if _, err := alice.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{
		ContributingFactors: &[]firebreak.ContributingFactor{{Category: firebreak.CategoryDependencies,
			Description: "The provider client had no timeout, so a slow provider held every worker"}}}, current()); err != nil {
		t.Fatal(err)
	}

	// Publish: the follow-up review is due 14 days later.
	pm, err = alice.PublishPostmortem(ctx, inc.Reference, 0)
	if err != nil || pm.Status != firebreak.PostmortemPublished {
		t.Fatalf("publish: %+v %v", pm, err)
	}
	reviewAt := *pm.FollowUpAt
	if !reviewAt.Equal(clock.Now().Add(14 * 24 * time.Hour)) {
		t.Fatalf("follow-up review at %s", reviewAt)
	}
	if n := eng.RunDue(ctx); n != 0 {
		// Nothing is due yet (the resolution announcement has no service channel).
		t.Fatalf("%d jobs ran before anything was due", n)
	}
	if got := rcv.take(); len(got) != 0 {
		t.Fatalf("delivered early: %v", got)
	}

	// Overdue reminder: Friday 09:00 UTC, the day after the due date, to dave's pager only.
	advance(time.Date(2026, 3, 6, 9, 0, 0, 0, time.UTC))
	eng.RunDue(ctx)
	if got := rcv.take(); !slices.Equal(got, []string{"/dave action_item_overdue"}) {
		t.Fatalf("first overdue reminder delivered %v, want dave's pager", got)
	}
	fu, err := alice.ListFollowUps(ctx, firebreak.ActionItemFilter{Overdue: true})
	if err != nil || len(fu.Items) != 1 || fu.Items[0].RemindedAt == nil || !fu.Items[0].RemindedAt.Equal(clock.Now()) {
		t.Fatalf("follow-up list %+v %v", fu, err)
	}
	// A week later, still overdue: dave and his team.
	advance(clock.Now().Add(7 * 24 * time.Hour))
	eng.RunDue(ctx)
	if got := rcv.take(); !slices.Equal(got, []string{"/dave action_item_overdue", "/payments action_item_overdue"}) {
		t.Fatalf("second overdue reminder delivered %v, want dave and the payments room", got)
	}
	tl, err := alice.ListTimeline(ctx, inc.Reference, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	reminders, sent := 0, 0
	for _, ev := range tl.Items {
		switch string(ev.Kind) {
		case "action_item_reminder":
			reminders++
		case "notification_sent":
			sent++
		}
	}
	if reminders != 2 || sent != 3 {
		t.Fatalf("timeline: %d reminders, %d deliveries; want 2 and 3", reminders, sent)
	}

	// The incident cannot close while the item is unresolved.
	_, err = alice.ChangeStatus(ctx, inc.Reference, firebreak.StatusClosed, "", 0)
	if firebreak.ErrorCode(err) != firebreak.EConflict || !hasField(err, "action_items[0]") {
		t.Fatalf("close with an open item: %v", err)
	}

	// Done by its owner, who cannot verify it; verified by another user.
	advance(clock.Now().Add(2 * time.Hour))
	if _, err := dave.UpdateActionItem(ctx, inc.Reference, item.ID,
		firebreak.ActionItemPatch{Status: ptrTo(firebreak.ActionDone)}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := dave.VerifyActionItem(ctx, item.ID, 0); firebreak.ErrorCode(err) != firebreak.EInvalid ||
		!hasField(err, "status") {
		t.Fatalf("verification by the owner: %v, want 422 on status", err)
	}
	verified, err := erin.VerifyActionItem(ctx, item.ID, 0)
	if err != nil || verified.Status != firebreak.ActionVerified || verified.VerifiedBy != "erin" {
		t.Fatalf("verified %+v %v", verified, err)
	}
	// No more overdue reminders once done: the next thing due is the follow-up review.
	if next, err := a.Store.NextFollowThroughDue(ctx); err != nil || !next.Equal(reviewAt) {
		t.Fatalf("next reminder %s %v, want the review at %s", next, err, reviewAt)
	}

	// Follow-up review: due 14 days after publishing; erin (approver) is reminded, alice (commander) has no
	// channel; the list shows it due with the reminder.
	advance(reviewAt)
	eng.RunDue(ctx)
	if got := rcv.take(); !slices.Equal(got, []string{"/erin follow_up_review"}) {
		t.Fatalf("follow-up review reminder delivered %v, want erin's pager", got)
	}
	reviews, err := alice.ListFollowUpReviews(ctx, firebreak.FollowUpReviewFilter{Due: true})
	if err != nil || len(reviews.Items) != 1 || reviews.Items[0].RemindedAt == nil || reviews.Items[0].OpenItems != 0 {
		t.Fatalf("due reviews %+v %v", reviews, err)
	}

	// Close: the post-mortem after the review, then the incident.
	pm, err = alice.ClosePostmortem(ctx, inc.Reference, "Reviewed: the timeout is live and the latency alert fired in staging.", 0)
	if err != nil || pm.Status != firebreak.PostmortemClosed {
		t.Fatalf("close post-mortem: %+v %v", pm, err)
	}
	closed, err := alice.ChangeStatus(ctx, inc.Reference, firebreak.StatusClosed, "followed through", 0)
	if err != nil || closed.Status != firebreak.StatusClosed {
		t.Fatalf("close incident: %+v %v", closed, err)
	}
	advance(clock.Now().Add(30 * 24 * time.Hour)) // nothing left to remind
	eng.RunDue(ctx)
	if got := rcv.take(); len(got) != 0 {
		t.Fatalf("delivered after closing: %v", got)
	}
	rep, err := alice.Metrics(ctx, firebreak.MetricsQuery{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		To: clock.Now()})
	if err != nil || rep.FollowThrough == nil {
		t.Fatalf("metrics %+v %v", rep, err)
	}
	// Resolved Monday 09:40, published the same day: on time; the item was done 8 days late.
	if f := rep.FollowThrough; f.Postmortems.OnTime != 1 || f.ActionItems.Late != 1 || f.OverdueActionItems != 0 {
		t.Fatalf("follow-through %+v", f)
	}
}

func ptrTo[T any](v T) *T { return &v }

// hasField reports whether err is a problem naming field.
func hasField(err error, field string) bool {
	var e *firebreak.Error
	if !errors.As(err, &e) {
		return false
	}
	return slices.ContainsFunc(e.Fields, func(f firebreak.FieldError) bool { return f.Field == field })
}
