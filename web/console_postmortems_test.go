package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

func TestConsolePostmortem(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		ctx := context.Background()
		alice := as("alice", firebreak.RoleResponder)
		inc, err := st.DeclareIncident(alice, firebreak.DeclareInput{Title: "API 502s", Severity: firebreak.SEV2,
			Services: []string{"api"}})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.login("alice")
		// The incident page links to it; before resolution there is none yet, with a button to draft it.
		p := b.get("/incidents/INC-1")
		if got := p.attr(t, "#postmortem a", "href"); got != "/incidents/INC-1/postmortem" {
			t.Fatalf("link %q", got)
		}
		p = b.get("/incidents/INC-1/postmortem")
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.text(t, ".empty"), "no post-mortem yet") {
			t.Fatalf("empty page: %s", p.text(t, "main"))
		}
		if _, err := st.ChangeStatus(alice, inc.ID, firebreak.StatusResolved, "fixed", 0); err != nil {
			t.Fatal(err)
		}

		// Resolving drafted it: the editor shows the pre-filled sections and what is missing.
		p = b.get("/incidents/INC-1/postmortem")
		wantStatus(t, p, http.StatusOK)
		if got := p.find(t, "#pm-summary").Text(); !strings.Contains(got, "INC-1 (SEV2, api): API 502s.") {
			t.Fatalf("summary %q", got)
		}
		if miss := p.text(t, "#pm-missing"); !strings.Contains(miss, "trigger is required") ||
			!strings.Contains(miss, "approvals") {
			t.Fatalf("missing: %q", miss)
		}

		// Save with a blaming trigger: the finding is listed under the field, the words highlighted.
		res := b.submit(p, "#editor", url.Values{"trigger": {"Human error during the config push."},
			"cf_category": {"change_release"}, "cf_description": {"The push skipped the canary stage"},
			"cf_evidence": {"https://ci.example/run/9"}, "went_well": {"Paging worked\nRollback was quick"},
			"reviewers": {"alice (approver)\nbob"}})
		wantStatus(t, res, http.StatusSeeOther)
		p = b.get("/incidents/INC-1/postmortem")
		if got := p.text(t, "#pm-trigger ~ .pm-lint .pm-lint-blocking mark"); got != "Human error" {
			t.Fatalf("highlight %q\n%s", got, p.text(t, ".pm-editor"))
		}
		pm, err := st.GetPostmortem(ctx, "INC-1")
		if err != nil {
			t.Fatal(err)
		}
		if pm.Version != 2 || len(pm.ContributingFactors) != 1 || pm.ContributingFactors[0].Evidence[0] != "https://ci.example/run/9" ||
			len(pm.WentWell) != 2 || len(pm.Reviewers) != 2 || !pm.Reviewers[0].Approver {
			t.Fatalf("saved %+v", pm)
		}

		// A stale form (someone saved meanwhile) is refused and keeps what was typed.
		if _, err := st.UpdatePostmortem(as("bob", firebreak.RoleResponder), "INC-1",
			firebreak.PostmortemPatch{Recovery: ptrTo("Bob's text")}, 0); err != nil {
			t.Fatal(err)
		}
		res = b.submit(p, "#editor", url.Values{"recovery": {"Alice's text"}})
		wantStatus(t, res, http.StatusPreconditionFailed)
		if !strings.Contains(res.text(t, "#problem"), "Someone else saved") ||
			res.find(t, "#pm-recovery").Text() != "Alice's text" {
			t.Fatalf("stale: %q / %q", res.text(t, "#problem"), res.find(t, "#pm-recovery").Text())
		}
		if cur, _ := st.GetPostmortem(ctx, "INC-1"); cur.Recovery != "Bob's text" {
			t.Fatalf("a stale form overwrote: %q", cur.Recovery)
		}

		// Publishing now shows every missing field; the print view is a plain document.
		p = b.get("/incidents/INC-1/postmortem")
		res = b.submit(p, "form[action='/incidents/INC-1/postmortem/publish']", nil)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if got := res.text(t, "#pm-missing"); !strings.Contains(got, "lessons_learned") ||
			!strings.Contains(got, "blameless lint (human-error-cause)") {
			t.Fatalf("publish refusal: %q", got)
		}
		pr := b.get("/incidents/INC-1/postmortem/print")
		wantStatus(t, pr, http.StatusOK)
		if pr.find(t, "header.topbar").Length() != 0 || !strings.Contains(pr.text(t, "h1"), "API 502s") ||
			!strings.Contains(pr.text(t, "article"), "The push skipped the canary stage") {
			t.Fatalf("print view: %.500s", pr.body)
		}
		// Submit for review and approve as the approver.
		res = b.submit(p, "form[action='/incidents/INC-1/postmortem/submit']", nil)
		wantStatus(t, res, http.StatusSeeOther)
		p = b.get("/incidents/INC-1/postmortem")
		res = b.submit(p, "form[action='/incidents/INC-1/postmortem/approve']", url.Values{
			"overrides": {"trigger = the chat quote is kept on purpose"}})
		wantStatus(t, res, http.StatusSeeOther)
		if cur, _ := st.GetPostmortem(ctx, "INC-1"); !cur.Approved() || len(cur.Overrides) != 1 ||
			cur.Overrides[0].Field != "trigger" || len(cur.BlockingLint()) != 0 {
			t.Fatalf("approved %+v %+v", cur.Reviewers, cur.Overrides)
		}
		// A viewer reads but cannot save.
		v := e.browser()
		v.login("vera")
		vp := v.get("/incidents/INC-1/postmortem")
		wantStatus(t, vp, http.StatusOK)
		if vp.find(t, "#editor button[type=submit]").Length() != 0 {
			t.Error("a viewer sees the save button")
		}
	})
}
