package web

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

// samplePostmortemPage is a post-mortem page with user text that must be escaped ("<down>") in every part.
func samplePostmortemPage(now time.Time) *pmPage {
	earlier := now.Add(-time.Hour)
	inc := &firebreak.Incident{ID: "id", Number: 7, Reference: "INC-7", Title: "Checkout <down>", Severity: firebreak.SEV2,
		Status: firebreak.StatusResolved, Services: []string{"api"}, Roles: map[firebreak.Role]string{},
		Milestones: firebreak.Milestones{ImpactStartedAt: &earlier, DetectedAt: &earlier, DeclaredAt: &earlier,
			ResolvedAt: &now}, CreatedAt: earlier, Version: 4}
	pm := firebreak.DraftPostmortem(firebreak.DraftSources{Incident: *inc,
		Timeline: []firebreak.TimelineEvent{{ID: 1, Kind: firebreak.EventNote, Message: "note <down>", Actor: "alice",
			OccurredAt: earlier, Starred: true}},
		Changes: []firebreak.Change{{Service: "api", Summary: "Deploy <down>", OccurredAt: earlier}},
		Alerts:  []firebreak.PostmortemAlert{{Summary: "alert <down>", FirstSeenAt: earlier}},
		Updates: []firebreak.StatusUpdate{{Message: "update <down>", Audience: firebreak.AudienceAll, CreatedAt: earlier}},
	}, "alice", now)
	pm.Trigger = "Human error <down>"
	pm.ContributingFactors = []firebreak.ContributingFactor{{Category: firebreak.CategoryChange,
		Description: "factor <down>", Evidence: []string{"https://x/<down>"}, PrimaryTrigger: true}}
	pm.FiveWhys = []firebreak.WhyChain{{Title: "t <down>", Steps: []firebreak.WhyStep{{ID: "1", Question: "q <down>",
		Answer: "a <down>"}, {ID: "2", ParentID: "1", Question: "q2", Answer: "a2"}}}}
	pm.WentWell, pm.Lessons = []string{"well <down>"}, []string{"lesson <down>"}
	pm.Reviewers = []firebreak.Reviewer{{User: "alice", Approver: true}}
	pm.ActionItems = []firebreak.ActionItem{{Title: "item <down>", Kind: firebreak.KindDetect,
		Priority: firebreak.PriorityHigh, Status: firebreak.ActionOpen}}
	pm.Status = firebreak.PostmortemInReview
	pm.Lint = []firebreak.LintFinding{{Field: "trigger", Rule: "human-error-cause", Severity: "blocking", Start: 0,
		End: 11, Words: "Human error", Message: "m <down>", Suggestion: "s <down>"},
		{Field: "went_well[0]", Rule: "minimiser", Severity: "warning", Start: 0, End: 4, Words: "well", Message: "m"}}
	pm.Overrides = []firebreak.LintOverride{{Field: "x", By: "alice", Reason: "r <down>"}}
	pm.FollowUpNotes = "notes <down>"
	d := &pmPage{Ref: "INC-7", Inc: inc, Errors: formErrors{"trigger": "Trigger <down>"}, Problem: "p <down>",
		Categories: firebreak.FishboneCategories}
	d.setPM(&pm, "alice")
	d.Form = pmFormOf(&pm)
	return d
}

func TestPostmortemPageRendersLintAndMissing(t *testing.T) {
	static, err := loadStatic()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := static.files["postmortem.css"]; !ok {
		t.Fatal("postmortem.css missing")
	}
	tm, err := parseTemplates(static)
	if err != nil {
		t.Fatal(err)
	}
	d := samplePostmortemPage(time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC))
	v := viewer{Actor: firebreak.Actor{Username: "alice", Role: firebreak.RoleResponder}, CSRF: "tok"}
	var buf bytes.Buffer
	if err := tm.execute(&buf, "postmortem", layoutData{Title: "pm", Viewer: v, Page: d}); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`<mark>Human error</mark> &lt;down&gt;`,               // the flagged words highlighted in the field's text
		`class="pm-lint-blocking"`, `class="pm-lint-warning"`, // both kinds listed
		`<li><code>approvals</code>`,                                // what is missing, next to the publish button
		`blameless lint (human-error-cause)`,                        // the blocking finding too
		`Publish (`, `action="/incidents/INC-7/postmortem/approve"`, // alice approves: the approve form
		`name="if_match" value="1"`, `<option value="change_release" selected>`,
		`href="/api/v1/incidents/INC-7/postmortem.md"`, `href="/incidents/INC-7/postmortem/print"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(html, "<down>") {
		t.Error("user text is not escaped")
	}
	buf.Reset()
	if err := tm.pages["postmortem_print"].ExecuteTemplate(&buf, "postmortem_document",
		layoutData{Title: "pm", Viewer: v, Page: d}); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	if !strings.HasPrefix(doc, "<!doctype html>") || !strings.Contains(doc, "postmortem.css") ||
		strings.Contains(doc, "topbar") || !strings.Contains(doc, "<h2>Contributing factors</h2>") ||
		strings.Contains(doc, "<down>") {
		t.Errorf("print document:\n%s", doc)
	}
}

func TestFiveWhysText(t *testing.T) {
	text := "# Checkout\nWhy did it fail? => Pool exhausted\n  Why exhausted? => Retries held connections\n" +
		"  Why not caught? => No retry load test\n    Why? => Not in the plan\n\nSecond? => Yes\n"
	chains, err := parseWhys(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(chains) != 2 || chains[0].Title != "Checkout" || len(chains[0].Steps) != 4 ||
		chains[0].Steps[1].ParentID != "s1" || chains[0].Steps[2].ParentID != "s1" ||
		chains[0].Steps[3].ParentID != "s3" || chains[1].Steps[0].Answer != "Yes" {
		t.Fatalf("parsed %+v", chains)
	}
	if got := formatWhys(chains); got != text {
		t.Errorf("round trip:\n%q\n%q", got, text)
	}
	if _, err := parseWhys("a => b\n    too deep => x"); err == nil {
		t.Error("a jump of two levels was accepted")
	}
}
