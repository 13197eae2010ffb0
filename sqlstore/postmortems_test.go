package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

var lee = as("lee", firebreak.RoleResponder)

func fieldNames(e *firebreak.Error) []string {
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestPostmortemAutoDraftOnResolve(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		pd := integration(t, s, "checkout", firebreak.IntegrationPagerDuty)
		c.Advance(time.Hour)
		deploy := must(s.RecordChange(ctx, pd.ID, firebreak.ChangeInput{Summary: "deploy checkout v42", Source: "ci",
			OccurredAt: c.Now().Add(-20 * time.Minute)}))

		sev2 := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout errors", Severity: firebreak.SEV2,
			Services: []string{"checkout"}, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"},
			ImpactStartedAt: ptr(c.Now().Add(-10 * time.Minute))}))
		sev3 := declare(t, s, "Slow search", firebreak.SEV3)
		c.Advance(5 * time.Minute)
		must(s.PostUpdate(alice, sev2.Reference, firebreak.UpdateInput{Message: "Investigating", Audience: "all"}))
		note := must(s.AddTimelineEvent(alice, sev2.Reference, firebreak.TimelineInput{Message: "Rolled back v42"}))
		must(s.StarTimelineEvent(alice, sev2.Reference, note.ID, true))
		c.Advance(5 * time.Minute)
		must(s.ChangeStatus(alice, sev2.Reference, firebreak.StatusMitigating, "rolled back", 0))
		_, err := s.GetPostmortem(ctx, sev2.Reference)
		wantCode(t, err, firebreak.ENotFound) // not before resolution
		c.Advance(20 * time.Minute)
		must(s.ChangeStatus(alice, sev2.Reference, firebreak.StatusResolved, "error rate normal", 0))
		must(s.ChangeStatus(alice, sev3.Reference, firebreak.StatusResolved, "", 0))

		pm := must(s.GetPostmortem(ctx, sev2.Reference))
		if pm.Status != firebreak.PostmortemDraft || pm.Version != 1 || pm.IncidentRef != sev2.Reference ||
			pm.IncidentID != sev2.ID || pm.CreatedBy != "alice" {
			t.Fatalf("auto draft %+v", pm)
		}
		f := pm.Facts
		if f.Milestones.ResolvedAt == nil || f.Durations.ResolveSeconds == nil || *f.Durations.ResolveSeconds != 40*60 {
			t.Errorf("milestones/durations %+v %+v", f.Milestones, f.Durations)
		}
		// The resolving event itself is part of the drafted timeline (same transaction).
		last := f.Timeline[len(f.Timeline)-1]
		if last.Kind != firebreak.EventStatusChanged || last.Data["to"] != "resolved" {
			t.Errorf("last drafted event %+v", last)
		}
		if len(f.Changes) != 1 || f.Changes[0].ID != deploy.ID || !strings.Contains(pm.LeadUp, "deploy checkout v42") {
			t.Errorf("changes %+v lead-up %q", f.Changes, pm.LeadUp)
		}
		if len(f.Updates) != 1 || !pm.Impact.CustomerFacing || pm.TimelineScope != "starred" {
			t.Errorf("updates %+v impact %+v scope %s", f.Updates, pm.Impact, pm.TimelineScope)
		}
		if len(f.Responders) == 0 || f.Responders[0].User != "alice" ||
			!slices.Contains(f.Responders[0].Roles, firebreak.RoleCommander) {
			t.Errorf("responders %+v", f.Responders)
		}
		revs := must(s.ListPostmortemRevisions(ctx, sev2.Reference))
		if len(revs) != 1 || revs[0].Action != "created" || revs[0].Version != 1 {
			t.Errorf("revisions %+v", revs)
		}
		// SEV3: no automatic draft; one on request; only one.
		_, err = s.GetPostmortem(ctx, sev3.Reference)
		wantCode(t, err, firebreak.ENotFound)
		_, err = s.ListPostmortemRevisions(ctx, sev3.Reference)
		wantCode(t, err, firebreak.ENotFound)
		made := must(s.CreatePostmortem(alice, sev3.Reference))
		if made.Status != firebreak.PostmortemDraft || made.Facts.Severity != firebreak.SEV3 {
			t.Errorf("on request %+v", made)
		}
		_, err = s.CreatePostmortem(alice, sev3.ID)
		wantCode(t, err, firebreak.EConflict)
		_, err = s.CreatePostmortem(alice, "INC-999")
		wantCode(t, err, firebreak.ENotFound)

		// Reopened and resolved again: the existing post-mortem stays (no second draft, no error).
		must(s.ChangeStatus(alice, sev2.Reference, firebreak.StatusInvestigating, "back", 0))
		must(s.ChangeStatus(alice, sev2.Reference, firebreak.StatusResolved, "again", 0))
		if again := must(s.GetPostmortem(ctx, sev2.ID)); again.ID != pm.ID || again.Version != 1 {
			t.Errorf("re-resolve changed the post-mortem: %+v", again)
		}
	})
}

func TestPostmortemEditingAndConcurrency(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		inc := declare(t, s, "Queue backlog", firebreak.SEV3)
		pm := must(s.CreatePostmortem(alice, inc.Reference))
		c.Advance(time.Minute)
		one := must(s.UpdatePostmortem(alice, inc.Reference, firebreak.PostmortemPatch{
			Trigger: ptr("A config push lowered the consumer count to 1")}, pm.Version))
		if one.Version != 2 || one.Trigger == "" || !one.UpdatedAt.Equal(c.Now()) {
			t.Fatalf("saved %+v", one)
		}
		// A second editor still on version 1 is refused, told the current version, and overwrites nothing.
		_, err := s.UpdatePostmortem(lee, inc.Reference, firebreak.PostmortemPatch{Trigger: ptr("other")}, pm.Version)
		e := wantCode(t, err, firebreak.EPreconditionFailed)
		if !strings.Contains(e.Message, "current version is 2") {
			t.Errorf("412 message %q", e.Message)
		}
		if got := must(s.GetPostmortem(ctx, inc.Reference)); got.Trigger != one.Trigger || got.Version != 2 {
			t.Fatalf("stale write changed the document: %+v", got)
		}
		_, err = s.UpdatePostmortem(alice, inc.Reference, firebreak.PostmortemPatch{
			ContributingFactors: &[]firebreak.ContributingFactor{{Category: "weather"}}}, 0)
		wantField(t, err, "contributing_factors[0].category", "must be one of")
		two := must(s.UpdatePostmortem(lee, inc.Reference, firebreak.PostmortemPatch{
			Lessons: &[]string{"Consumer count needs a floor"}}, 0)) // 0: unconditional
		if two.Version != 3 || two.Trigger != one.Trigger {
			t.Fatalf("patch lost a field: %+v", two)
		}
		// Every saved version is kept.
		revs := must(s.ListPostmortemRevisions(ctx, inc.Reference))
		var acts []string
		for _, r := range revs {
			acts = append(acts, r.Action+":"+r.Author)
		}
		if !slices.Equal(acts, []string{"created:alice", "edited:alice", "edited:lee"}) || revs[2].Version != 3 {
			t.Fatalf("revisions %v", acts)
		}
		doc, _ := revs[1].Document.(interface{ MarshalJSON() ([]byte, error) })
		b, _ := doc.MarshalJSON()
		if !strings.Contains(string(b), "consumer count to 1") || strings.Contains(string(b), "needs a floor") {
			t.Errorf("revision 2 document %s", b)
		}
		// Lint runs on save: a narrative warning, a blocking cause.
		three := must(s.UpdatePostmortem(alice, inc.Reference, firebreak.PostmortemPatch{
			Summary: ptr("Obviously the queue was going to back up."), Trigger: ptr("Human error during the push.")}, 0))
		var rules []string
		for _, f := range three.Lint {
			rules = append(rules, f.Field+"/"+f.Rule+"/"+f.Severity)
		}
		if !slices.Contains(rules, "summary/hindsight/warning") || !slices.Contains(rules, "trigger/human-error-cause/blocking") {
			t.Errorf("lint %v", rules)
		}
	})
}

func TestPostmortemWorkflow(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		must(s.CreateUser(ctx, firebreak.UserInput{Username: "bob", Name: "Bob Jones", Password: "correct horse battery"}))
		inc := declare(t, s, "Payments outage", firebreak.SEV1)
		must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusResolved, "", 0))
		pm := must(s.GetPostmortem(ctx, inc.Reference))

		// Publishing a bare draft lists everything that is missing.
		_, err := s.PublishPostmortem(alice, inc.Reference, 0)
		e := wantCode(t, err, firebreak.EInvalid)
		got := fieldNames(e)
		for _, want := range []string{"impact.description", "trigger", "detection.gap", "contributing_factors",
			"went_well", "went_poorly", "lessons_learned", "action_items", "approvals"} {
			if !slices.Contains(got, want) {
				t.Errorf("missing %v lacks %s", got, want)
			}
		}
		_, err = s.SubmitPostmortem(alice, inc.Reference, 0)
		wantField(t, err, "reviewers", "approver")

		// Fill it in, with a cause and a five-whys chain that end at a person.
		must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "Add a dry-run step to the migration tool",
			Kind: firebreak.KindPrevent}))
		pm = must(s.UpdatePostmortem(alice, inc.Reference, firebreak.PostmortemPatch{
			Impact: &firebreak.PostmortemImpact{Description: "Card payments failed", UsersAffected: ptr(int64(1200)),
				DurationSeconds: ptr(int64(1800)), CustomerFacing: true},
			Trigger:   ptr("A schema migration locked the payments table."),
			Detection: &firebreak.PostmortemDetection{Narrative: "An alert fired.", Gap: "No alert on lock waits."},
			LeadUp:    ptr("A migration was scheduled."), Response: ptr("The commander paged the DBA."),
			Recovery: ptr("The migration was cancelled."),
			ContributingFactors: &[]firebreak.ContributingFactor{{Category: firebreak.CategoryChange,
				Description: "Bob forgot to run the migration in dry-run mode", Evidence: []string{"https://ci.example/1"}}},
			FiveWhys: &[]firebreak.WhyChain{{Steps: []firebreak.WhyStep{
				{ID: "1", Question: "Why did payments fail?", Answer: "The table was locked"},
				{ID: "2", ParentID: "1", Question: "Why was it locked?", Answer: "Bob ran the migration at peak"}}}},
			WentWell: &[]string{"Paging worked"}, WentPoorly: &[]string{"The lock was hard to see"},
			Lessons:   &[]string{"Migrations need lock timeouts"},
			Reviewers: &[]firebreak.Reviewer{{User: "lee", Approver: true}, {User: "sam"}},
		}, pm.Version))
		var blocking []string
		for _, f := range pm.Lint {
			if f.Severity == "blocking" {
				blocking = append(blocking, f.Field)
			}
		}
		if !slices.Contains(blocking, "contributing_factors[0].description") ||
			!slices.Contains(blocking, "five_whys[0].steps[1].answer") {
			t.Fatalf("blocking findings %v", blocking)
		}
		// Not in review yet: no approval; alice is no approver.
		_, err = s.ApprovePostmortem(lee, inc.Reference, firebreak.ApproveInput{}, 0)
		wantCode(t, err, firebreak.EConflict)
		pm = must(s.SubmitPostmortem(alice, inc.Reference, pm.Version))
		if pm.Status != firebreak.PostmortemInReview {
			t.Fatalf("submitted: %s", pm.Status)
		}
		_, err = s.ApprovePostmortem(alice, inc.Reference, firebreak.ApproveInput{}, 0)
		wantCode(t, err, firebreak.EForbidden)
		pm = must(s.ApprovePostmortem(lee, inc.Reference, firebreak.ApproveInput{Comment: "ok"}, 0))
		if !pm.Approved() {
			t.Fatal("not approved")
		}
		// Approved, complete, but blocked by the lint: only the lint findings are listed.
		_, err = s.PublishPostmortem(alice, inc.Reference, 0)
		e = wantCode(t, err, firebreak.EInvalid)
		if got := fieldNames(e); !slices.Equal(got, []string{"contributing_factors[0].description",
			"five_whys[0].steps[1].answer"}) || !strings.Contains(e.Fields[0].Message, "blameless lint") {
			t.Fatalf("lint refusal %v %+v", got, e.Fields)
		}
		// Fix the factor; the approver overrides the chain's finding with a reason.
		must(s.UpdatePostmortem(alice, inc.Reference, firebreak.PostmortemPatch{
			ContributingFactors: &[]firebreak.ContributingFactor{{Category: firebreak.CategoryProcess,
				Description: "The migration tool ran without a dry run by default"}}}, 0))
		_, err = s.ApprovePostmortem(lee, inc.Reference, firebreak.ApproveInput{
			Overrides: []firebreak.LintOverride{{Field: "five_whys[0].steps[1].answer"}}}, 0)
		wantField(t, err, "overrides[0].reason", "required")
		must(s.ApprovePostmortem(lee, inc.Reference, firebreak.ApproveInput{Overrides: []firebreak.LintOverride{{
			Field: "five_whys[0].steps[1].answer", Rule: "why-chain-ends-at-person",
			Reason: "quoted from the on-call log; the chain continues in the factor"}}}, 0))

		c.Advance(time.Hour)
		pub := must(s.PublishPostmortem(alice, inc.Reference, 0))
		if pub.Status != firebreak.PostmortemPublished || pub.PublishedAt == nil || !pub.PublishedAt.Equal(c.Now()) ||
			pub.FollowUpAt == nil || !pub.FollowUpAt.Equal(c.Now().Add(14*24*time.Hour)) {
			t.Fatalf("published %+v", pub)
		}
		if len(pub.Overrides) != 1 || pub.Overrides[0].By != "lee" {
			t.Errorf("overrides %+v", pub.Overrides)
		}
		_, err = s.PublishPostmortem(alice, inc.Reference, 0)
		wantCode(t, err, firebreak.EConflict)
		_, err = s.ClosePostmortem(alice, inc.Reference, "all items verified", pub.Version-1)
		wantCode(t, err, firebreak.EPreconditionFailed)
		// A SEV1's post-mortem closes after the follow-up review only once its action items are resolved.
		_, err = s.ClosePostmortem(alice, inc.Reference, "all items verified", pub.Version)
		if e := wantCode(t, err, firebreak.EConflict); !slices.Equal(fieldNames(e), []string{"action_items[0]"}) {
			t.Fatalf("close with an open item: %+v", e)
		}
		item := pub.ActionItems[0]
		must(s.UpdateActionItem(alice, inc.Reference, item.ID, firebreak.ActionItemPatch{Status: ptr(firebreak.ActionDone)}, 0))
		must(s.UpdateActionItem(lee, inc.Reference, item.ID, firebreak.ActionItemPatch{Status: ptr(firebreak.ActionVerified)}, 0))
		closed := must(s.ClosePostmortem(alice, inc.Reference, "all items verified", pub.Version))
		if closed.Status != firebreak.PostmortemClosed || closed.ClosedAt == nil || closed.FollowUpNotes == "" {
			t.Fatalf("closed %+v", closed)
		}
		_, err = s.UpdatePostmortem(alice, inc.Reference, firebreak.PostmortemPatch{Summary: ptr("x")}, 0)
		wantCode(t, err, firebreak.EConflict)
		revs := must(s.ListPostmortemRevisions(ctx, inc.Reference))
		if revs[len(revs)-1].Action != "closed" || int64(len(revs)) != closed.Version {
			t.Errorf("revisions: %d, version %d", len(revs), closed.Version)
		}
	})
}
