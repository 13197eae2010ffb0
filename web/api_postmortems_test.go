package web_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/web"
)

func TestAPIPostmortemLifecycle(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		e.service("checkout")
		inc := e.declare("Checkout errors", firebreak.SEV2, "checkout")
		_, err := e.viewer.GetPostmortem(ctx, inc.Reference)
		wantCode(t, err, firebreak.ENotFound)
		if _, err := e.responder.ChangeStatus(ctx, inc.Reference, firebreak.StatusResolved, "fixed", 0); err != nil {
			t.Fatal(err)
		}
		// Resolving a SEV2 drafted it.
		pm, err := e.viewer.GetPostmortem(ctx, inc.Reference)
		if err != nil {
			t.Fatal(err)
		}
		if pm.Status != firebreak.PostmortemDraft || pm.IncidentRef != inc.Reference || pm.Facts.Severity != firebreak.SEV2 ||
			len(pm.Facts.Timeline) == 0 || pm.Facts.Milestones.ResolvedAt == nil {
			t.Fatalf("draft %+v", pm)
		}
		path := "/api/v1/incidents/" + inc.Reference + "/postmortem"
		r := e.asViewer("GET", path, "")
		if r.status != 200 || r.header.Get("ETag") != `"1"` {
			t.Fatalf("GET: %d %q", r.status, r.header.Get("ETag"))
		}
		if r := e.asViewer("GET", path, "", "If-None-Match", `"1"`); r.status != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", r.status)
		}
		// Viewers read only; edits need If-Match.
		_, err = e.viewer.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{Summary: ptrTo("x")}, 1)
		wantCode(t, err, firebreak.EForbidden)
		fieldNamed(t, e.asResponder("PATCH", path, `{"summary":"x"}`).problem(t, 400), "If-Match")
		fieldNamed(t, e.asResponder("PATCH", path, `{"sumary":"x"}`, "If-Match", `"1"`).problem(t, 422), "sumary")

		pm, err = e.responder.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{
			Trigger: ptrTo("A feature flag enabled the new payment path for all regions.")}, pm.Version)
		if err != nil || pm.Version != 2 {
			t.Fatalf("update: %v %+v", err, pm)
		}
		// A concurrent editor on version 1: 412 with the current version as the ETag; nothing overwritten.
		r = e.asResponder("PATCH", path, `{"trigger":"other"}`, "If-Match", `"1"`)
		p := r.problem(t, http.StatusPreconditionFailed)
		if r.header.Get("ETag") != `"2"` || !strings.Contains(p.Detail, "current version is 2") {
			t.Fatalf("412: ETag %q, detail %q", r.header.Get("ETag"), p.Detail)
		}
		_, err = e.responder.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{Trigger: ptrTo("y")}, 1)
		wantCode(t, err, firebreak.EPreconditionFailed)

		// Publishing now lists everything missing.
		_, err = e.responder.PublishPostmortem(ctx, inc.Reference, 0)
		fe := wantCode(t, err, firebreak.EInvalid, "impact.description", "contributing_factors", "went_well",
			"lessons_learned", "action_items", "approvals", "detection.gap")
		if slices.ContainsFunc(fe.Fields, func(f firebreak.FieldError) bool { return f.Field == "trigger" }) {
			t.Errorf("trigger is filled but reported missing: %+v", fe.Fields)
		}

		// Fill it, name the responder as approver, submit, approve, publish.
		if _, err := e.responder.AddActionItem(ctx, inc.Reference, firebreak.ActionItemInput{
			Title: "Roll out flags per region", Kind: firebreak.KindPrevent}); err != nil {
			t.Fatal(err)
		}
		pm, err = e.responder.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{
			Impact:    &firebreak.PostmortemImpact{Description: "Card payments failed in EU", DurationSeconds: ptrTo(int64(600))},
			Detection: &firebreak.PostmortemDetection{Narrative: "A latency alert fired.", Gap: "No alert on error rate."},
			LeadUp:    ptrTo("The flag was scheduled."), Response: ptrTo("The flag was turned off."),
			Recovery: ptrTo("Payments recovered within a minute."), Summary: ptrTo("Payments failed for ten minutes."),
			ContributingFactors: &[]firebreak.ContributingFactor{{Category: firebreak.CategoryChange,
				Description: "The flag had no per-region rollout", Evidence: []string{"https://flags.example/f/1"}}},
			WentWell: &[]string{"Rollback was fast"}, WentPoorly: &[]string{"Error rate was not alerted"},
			Lessons:   &[]string{"Flags need staged rollouts"},
			Reviewers: &[]firebreak.Reviewer{{User: e.responderU, Approver: true}},
		}, pm.Version)
		if err != nil {
			t.Fatal(err)
		}
		if pm, err = e.responder.SubmitPostmortem(ctx, inc.Reference, pm.Version); err != nil ||
			pm.Status != firebreak.PostmortemInReview {
			t.Fatalf("submit: %v", err)
		}
		_, err = e.admin.ApprovePostmortem(ctx, inc.Reference, firebreak.ApproveInput{}, 0)
		wantCode(t, err, firebreak.EForbidden) // admin is no approver of this one
		if pm, err = e.responder.ApprovePostmortem(ctx, inc.Reference, firebreak.ApproveInput{Comment: "lgtm"}, 0); err != nil {
			t.Fatal(err)
		}
		before := time.Now().UTC()
		pm, err = e.responder.PublishPostmortem(ctx, inc.Reference, pm.Version)
		if err != nil {
			t.Fatal(err)
		}
		if pm.Status != firebreak.PostmortemPublished || pm.FollowUpAt == nil ||
			!pm.FollowUpAt.Equal(pm.PublishedAt.Add(firebreak.DefaultFollowUpDelay)) || pm.PublishedAt.Before(before.Add(-time.Second)) {
			t.Fatalf("published %+v", pm)
		}
		_, err = e.responder.SubmitPostmortem(ctx, inc.Reference, 0)
		if fe := wantCode(t, err, firebreak.EConflict); !slices.Equal(fe.Allowed, []string{"draft"}) {
			t.Errorf("allowed %v", fe.Allowed)
		}

		// Markdown export.
		md, v, err := e.viewer.PostmortemMarkdown(ctx, inc.Reference)
		if err != nil || v != pm.Version {
			t.Fatalf("markdown: %v (version %d)", err, v)
		}
		for _, want := range []string{"# Post-mortem: Checkout errors (" + inc.Reference + ")", "- **Status:** published",
			"## Contributing factors", "**Change \\& release**", "[https://flags.example/f/1](<https://flags.example/f/1>)",
			"| Roll out flags per region | prevent | medium |", "- Flags need staged rollouts"} {
			if !strings.Contains(md, want) {
				t.Errorf("markdown lacks %q:\n%s", want, md)
			}
		}
		if r := e.asViewer("GET", path+".md", ""); r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/markdown") {
			t.Errorf("GET .md: %d %s", r.status, r.header.Get("Content-Type"))
		}

		// Close after the follow-up review, once the action item is done and verified by someone other than its
		// owner (the close policy); every version was kept.
		_, err = e.responder.ClosePostmortem(ctx, inc.Reference, "items verified", pm.Version)
		if fe := wantCode(t, err, firebreak.EConflict); len(fe.Fields) != 1 || fe.Fields[0].Field != "action_items[0]" {
			t.Fatalf("close with an open item: %+v", fe)
		}
		item := pm.ActionItems[0]
		if _, err := e.responder.UpdateActionItem(ctx, inc.Reference, item.ID,
			firebreak.ActionItemPatch{Status: ptrTo(firebreak.ActionDone)}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin.VerifyActionItem(ctx, item.ID, 0); err != nil {
			t.Fatal(err)
		}
		if pm, err = e.responder.ClosePostmortem(ctx, inc.Reference, "items verified", pm.Version); err != nil ||
			pm.Status != firebreak.PostmortemClosed || pm.FollowUpNotes != "items verified" {
			t.Fatalf("close: %v %+v", err, pm)
		}
		revs, err := e.viewer.ListPostmortemRevisions(ctx, inc.Reference)
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, r := range revs {
			acts = append(acts, r.Action)
		}
		if !slices.Equal(acts, []string{"created", "edited", "edited", "submitted", "approved", "published", "closed"}) {
			t.Fatalf("revisions %v", acts)
		}
	})
}

func TestAPIPostmortemOnRequest(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		inc := e.declare("Disk filling up", firebreak.SEV3)
		if _, err := e.responder.ChangeStatus(ctx, inc.Reference, firebreak.StatusResolved, "", 0); err != nil {
			t.Fatal(err)
		}
		_, err := e.viewer.GetPostmortem(ctx, inc.Reference) // SEV3: no automatic draft
		wantCode(t, err, firebreak.ENotFound)
		_, err = e.viewer.CreatePostmortem(ctx, inc.Reference)
		wantCode(t, err, firebreak.EForbidden)
		r := e.asResponder("POST", "/api/v1/incidents/"+inc.Reference+"/postmortem", "")
		if r.status != http.StatusCreated || r.header.Get("Location") != "/api/v1/incidents/"+inc.Reference+"/postmortem" {
			t.Fatalf("create: %d %s %s", r.status, r.header.Get("Location"), r.body)
		}
		_, err = e.responder.CreatePostmortem(ctx, inc.Reference)
		wantCode(t, err, firebreak.EConflict)
		_, err = e.responder.CreatePostmortem(ctx, "INC-999")
		wantCode(t, err, firebreak.ENotFound)
		// Lint on save is visible in the answer.
		pm, err := e.responder.UpdatePostmortem(ctx, inc.Reference, firebreak.PostmortemPatch{
			Trigger: ptrTo("Human error during the cleanup.")}, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(pm.Lint, func(f firebreak.LintFinding) bool {
			return f.Field == "trigger" && f.Severity == "blocking"
		}) {
			t.Errorf("lint %+v", pm.Lint)
		}
		_, err = e.responder.PublishPostmortem(ctx, inc.Reference, 0)
		fe := wantCode(t, err, firebreak.EInvalid, "trigger")
		if !slices.ContainsFunc(fe.Fields, func(f firebreak.FieldError) bool {
			return f.Field == "trigger" && strings.Contains(f.Message, "blameless lint")
		}) {
			t.Errorf("publish refusal does not list the blocking finding: %+v", fe.Fields)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

// TestOpenAPIPostmortemSchemas keeps the post-mortem schemas equal to the JSON of their Go types (embedded structs
// flattened, as encoding/json does).
func TestOpenAPIPostmortemSchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{
		"Postmortem": firebreak.Postmortem{}, "PostmortemPatch": firebreak.PostmortemPatch{},
		"PostmortemImpact": firebreak.PostmortemImpact{}, "PostmortemDetection": firebreak.PostmortemDetection{},
		"ContributingFactor": firebreak.ContributingFactor{}, "WhyChain": firebreak.WhyChain{},
		"WhyStep": firebreak.WhyStep{}, "Reviewer": firebreak.Reviewer{}, "SeverityChange": firebreak.SeverityChange{},
		"Responder": firebreak.Responder{}, "IncidentDurations": firebreak.IncidentDurations{},
		"PostmortemAlert": firebreak.PostmortemAlert{}, "PostmortemFacts": firebreak.PostmortemFacts{},
		"LintFinding": firebreak.LintFinding{}, "LintOverride": firebreak.LintOverride{},
		"ApproveInput": firebreak.ApproveInput{}, "PostmortemClose": web.PostmortemClose{},
		"PostmortemRevision": firebreak.PostmortemRevision{},
	} {
		s := d.Components.Schemas[name]
		if s == nil {
			t.Errorf("schema %s missing", name)
			continue
		}
		props, _ := s["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		want := flatJSONFields(reflect.TypeOf(typ))
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
		}
	}
}

func flatJSONFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" {
			out = append(out, flatJSONFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}
