package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// The incident page's change control: a responder proposes, only the commander sees (and may use) approve and
// reject, the decision is on the timeline; the runbooks of the affected services are listed, stale ones flagged.
func TestConsoleChangeControlAndRunbooksOnIncident(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			st := sqltest.Open(t, dialect)
			e := newConsoleEnv(t, st)
			ctx := context.Background()
			inc, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{
				Title: "Checkout fails", Severity: firebreak.SEV1, Services: []string{"api", "web"},
				Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}})
			if err != nil {
				t.Fatal(err)
			}
			rb, err := st.CreateRunbook(as("alice", firebreak.RoleResponder), firebreak.RunbookInput{Service: "api",
				Title: "API overload <b>", Body: "1. Shed load"})
			if err != nil {
				t.Fatal(err)
			}
			changed := time.Now().UTC()
			if _, err := st.UpdateService(as("ada", firebreak.RoleAdmin), "api",
				firebreak.ServicePatch{ArchitectureChangedAt: &changed}, 0); err != nil {
				t.Fatal(err)
			}
			path := "/incidents/" + inc.Reference

			bob := e.browser()
			bob.login("bob")
			p := bob.get(path)
			wantStatus(t, p, http.StatusOK)
			if got := p.text(t, "#runbook-ref-"+rb.ID); !strings.Contains(got, "API overload <b>") ||
				!strings.Contains(got, "stale") || !strings.Contains(got, "architecture of api changed") {
				t.Errorf("runbook on the incident page: %q", got)
			}
			if got := p.text(t, ".runbook-none"); !strings.Contains(got, "No runbook for web") {
				t.Errorf("services without a runbook: %q", got)
			}
			// A failed proposal keeps what was typed and names the field.
			res := bob.submit(p, "#propose-form", url.Values{"action": {""}, "reason": {"pool exhausted"}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if res.attr(t, "#proposal-action", "aria-invalid") != "true" || res.text(t, "#proposal-reason") != "pool exhausted" ||
				!strings.Contains(res.text(t, "#proposals .field-error"), "Action is required") {
				t.Errorf("failed proposal: %s", res.text(t, "#proposals"))
			}
			res = bob.submit(p, "#propose-form", url.Values{"action": {"Restart the API pods"},
				"reason": {"pool exhausted"}, "risk": {"medium"}})
			wantStatus(t, res, http.StatusSeeOther)
			ps, err := st.ListProposals(ctx, inc.ID)
			if err != nil || len(ps) != 1 {
				t.Fatalf("proposals %+v %v", ps, err)
			}
			p = bob.get(path)
			if p.find(t, ".proposal-decide").Length() != 0 || p.find(t, ".proposal-withdraw").Length() != 1 {
				t.Error("the proposer sees decision buttons, or no withdraw button")
			}
			// Posting a decision anyway is refused with the reason.
			res = bob.post(path+"/proposals/"+ps[0].ID+"/approve", url.Values{"csrf_token": {p.attr(t,
				"input[name=csrf_token]", "value")}})
			wantStatus(t, res, http.StatusForbidden)
			if !strings.Contains(res.text(t, "main"), "only the incident commander of "+inc.Reference+" (alice)") {
				t.Errorf("403 page: %s", res.text(t, "main"))
			}

			alice := e.browser()
			alice.login("alice")
			p = alice.get(path)
			if got := p.text(t, "#proposals .count"); got != "1 waiting" {
				t.Errorf("pending count %q", got)
			}
			res = alice.submit(p, "#proposal-"+ps[0].ID+" .proposal-decide", url.Values{"note": {"go, one at a time"}})
			wantStatus(t, res, http.StatusSeeOther)
			p = alice.get(path)
			if got := p.text(t, "#proposal-"+ps[0].ID); !strings.Contains(got, "approved") ||
				!strings.Contains(got, "go, one at a time") || p.find(t, ".proposal-decide").Length() != 0 {
				t.Errorf("after approval: %q", got)
			}
			if got := p.text(t, "#timeline-list"); !strings.Contains(got, "Change approved: Restart the API pods") {
				t.Errorf("timeline: %s", got)
			}
			// The sections the live script swaps in carry both parts.
			frag := alice.get(path + "/sections")
			if frag.find(t, "#proposals[data-section]").Length() != 1 || frag.find(t, "#runbooks[data-section]").Length() != 1 {
				t.Error("the refreshable sections lack the proposals or runbooks")
			}
			// A viewer reads, without forms.
			vera := e.browser()
			vera.login("vera")
			p = vera.get(path)
			if p.find(t, "#propose-form").Length() != 0 || p.find(t, "#proposals form").Length() != 0 {
				t.Error("a viewer got change control forms")
			}
		})
	}
}

func TestConsoleRunbookPages(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			st := sqltest.Open(t, dialect)
			e := newConsoleEnv(t, st)
			bob := e.browser()
			bob.login("bob")
			p := bob.get("/runbooks?new=1")
			wantStatus(t, p, http.StatusOK)
			res := bob.submit(p, "form[action='/runbooks'][method=post]", url.Values{"service": {"db"}, "title": {""},
				"body": {"# Failover\n\n<script>alert(1)</script>"}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if res.find(t, "#rb-body").Text() != "# Failover\n\n<script>alert(1)</script>" || !strings.Contains(res.body, "&lt;script&gt;") {
				t.Error("the body was not kept")
			}
			if !strings.Contains(res.text(t, ".field-error"), "Title is required") {
				t.Errorf("errors: %s", res.text(t, ".field-error"))
			}
			res = bob.submit(p, "form[action='/runbooks'][method=post]", url.Values{"service": {"db"}, "title": {"Failover"},
				"body": {"# Failover\n\n1. **Promote** the replica\n2. Run `pg_ctl promote`\n\n<script>alert(1)</script>"}})
			wantStatus(t, res, http.StatusSeeOther)
			loc := res.location()
			p = bob.get(loc)
			wantStatus(t, p, http.StatusOK)
			if p.find(t, "#runbook-body h2").Text() != "Failover" || p.find(t, "#runbook-body ol li strong").Text() != "Promote" ||
				p.find(t, "#runbook-body code").Text() != "pg_ctl promote" || p.find(t, "#runbook-body script").Length() != 0 ||
				!strings.Contains(p.text(t, "#runbook-body"), "<script>alert(1)</script>") {
				t.Errorf("rendered body: %s", p.text(t, "#runbook-body"))
			}
			id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/runbooks/")
			// The knowledge base finds it, and links to it.
			hits := bob.get("/search?q=promote+replica")
			if hits.find(t, "#search-hits a[href='/runbooks/"+id+"']").Length() != 1 {
				t.Errorf("search page: %s", hits.text(t, "main"))
			}

			// Someone else saves meanwhile: bob's save is refused and his text is kept.
			other := "# Failover\n\n1. Use the cluster operator"
			if _, err := st.UpdateRunbook(as("alice", firebreak.RoleResponder), id,
				firebreak.RunbookPatch{Body: &other}, 1); err != nil {
				t.Fatal(err)
			}
			res = bob.submit(p, "#edit form", url.Values{"body": {"# Failover\n\n1. Bob's steps"}})
			wantStatus(t, res, http.StatusPreconditionFailed)
			if res.find(t, "#rb-body").Text() != "# Failover\n\n1. Bob's steps" || !strings.Contains(res.text(t, "#edit-error"), "newer version") ||
				res.attr(t, "#edit input[name=if_match]", "value") != "2" || !strings.Contains(res.text(t, "#runbook-body"), "cluster operator") {
				t.Errorf("stale save: %s", res.text(t, "#edit"))
			}
			res = bob.submit(res, "#edit form", nil) // saving again, knowingly, over version 2
			wantStatus(t, res, http.StatusSeeOther)
			p = bob.get(res.location())
			if !strings.Contains(p.text(t, "#notice"), "Saved as version 3") || p.find(t, ".rb-rev-list li").Length() != 3 {
				t.Errorf("after saving: %s", p.text(t, "main"))
			}
			old := bob.get("/runbooks/" + id + "?version=1")
			if !strings.Contains(old.text(t, ".rb-old"), "reading version 1") || !strings.Contains(old.text(t, "#runbook-body"), "Promote") {
				t.Errorf("old version: %s", old.text(t, "main"))
			}

			// Stale after an architecture change; a review clears it.
			changed := time.Now().UTC()
			if _, err := st.UpdateService(as("ada", firebreak.RoleAdmin), "db",
				firebreak.ServicePatch{ArchitectureChangedAt: &changed}, 0); err != nil {
				t.Fatal(err)
			}
			list := bob.get("/runbooks?stale=1")
			if got := list.text(t, "#rb-"+id); !strings.Contains(got, "stale") {
				t.Errorf("stale list: %q", got)
			}
			p = bob.get("/runbooks/" + id)
			if !strings.Contains(p.text(t, "#stale-warning"), "architecture of db changed") {
				t.Errorf("stale warning: %q", p.text(t, "#stale-warning"))
			}
			res = bob.submit(p, "#review-form", nil)
			wantStatus(t, res, http.StatusSeeOther)
			p = bob.get(res.location())
			if p.find(t, "#stale-warning").Length() != 0 || !strings.Contains(p.text(t, "#rb-reviewed"), "by bob") {
				t.Errorf("after review: %s", p.text(t, ".rb-facts"))
			}
			if got := bob.get("/runbooks?stale=1"); got.find(t, "#runbook-list").Length() != 0 {
				t.Error("still listed as stale")
			}
			// Viewers read but get no forms; unknown runbooks are 404.
			vera := e.browser()
			vera.login("vera")
			p = vera.get("/runbooks/" + id)
			wantStatus(t, p, http.StatusOK)
			if p.find(t, "form[method=post]").Length() != 1 { // only the sign-out form
				t.Error("a viewer got runbook forms")
			}
			wantStatus(t, vera.get("/runbooks/0190c1d2-0000-7000-8000-000000000000"), http.StatusNotFound)
		})
	}
}

func TestConsoleChannelsAndDeadLetters(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			st := sqltest.Open(t, dialect)
			e := newConsoleEnv(t, st)
			ada := e.browser()
			ada.login("ada")
			p := ada.get("/channels")
			wantStatus(t, p, http.StatusOK)
			res := ada.submit(p, "#new-channel", url.Values{"kind": {"webhook"}, "name": {"ops-hook"},
				"url": {"https://hooks.example.com/secret/path"}, "secret": {"short"}})
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if !strings.Contains(res.text(t, "#new-channel"), "at least 16 characters") ||
				res.find(t, "#ch-secret[value]").Length() != 0 || res.attr(t, "#ch-name", "value") != "ops-hook" {
				t.Errorf("failed create: %s", res.text(t, "#new-channel"))
			}
			res = ada.submit(p, "#new-channel", url.Values{"kind": {"webhook"}, "name": {"ops-hook"},
				"url": {"https://hooks.example.com/secret/path"}, "secret": {"0123456789abcdef0123"}})
			wantStatus(t, res, http.StatusSeeOther)
			p = ada.get(res.location())
			row := p.text(t, "#channel-list tbody tr")
			if !strings.Contains(row, "ops-hook") || !strings.Contains(row, "https://hooks.example.com/****") ||
				strings.Contains(p.body, "secret/path") || !strings.Contains(row, "signed") || !strings.Contains(row, "enabled") {
				t.Errorf("channel row: %q", row)
			}
			chs, err := st.ListChannels(context.Background())
			if err != nil || len(chs) != 1 {
				t.Fatalf("channels %v %v", chs, err)
			}
			ch := chs[0]
			res = ada.submit(p, "#ch-"+ch.ID+" form[action$='/test']", nil)
			wantStatus(t, res, http.StatusSeeOther)
			res = ada.submit(p, "#ch-"+ch.ID+" form[action$='/enabled']", nil)
			wantStatus(t, res, http.StatusSeeOther)
			p = ada.get(res.location())
			if !strings.Contains(p.text(t, "#ch-"+ch.ID), "disabled") || !strings.Contains(p.text(t, "#notice"), "is disabled") {
				t.Errorf("after disabling: %s", p.text(t, "#ch-"+ch.ID))
			}
			res = ada.submit(p, "#ch-"+ch.ID+" form[action$='/enabled']", nil)
			wantStatus(t, res, http.StatusSeeOther)

			// The test message dies (the receiver refuses it for good): it is a dead letter an admin retries.
			n := deadLetter(t, st)
			p = ada.get("/notifications?status=dead")
			wantStatus(t, p, http.StatusOK)
			if got := p.text(t, "#nt-"+n); !strings.Contains(got, "ops-hook") || !strings.Contains(got, "410 Gone") {
				t.Errorf("dead letter row: %q", got)
			}
			res = ada.submit(p, "#nt-"+n+" form", nil)
			wantStatus(t, res, http.StatusSeeOther)
			p = ada.get(res.location())
			if p.find(t, "#nt-"+n).Length() != 0 || !strings.Contains(p.text(t, "#notice"), "queued again") {
				t.Errorf("after retry: %s", p.text(t, "main"))
			}
			if got := ada.get("/notifications?status=queued"); !strings.Contains(got.text(t, "#nt-"+n), "ops-hook") {
				t.Errorf("retried notification not queued: %s", got.text(t, "main"))
			}

			// Responders read without buttons; viewers may not look.
			bob := e.browser()
			bob.login("bob")
			p = bob.get("/channels")
			wantStatus(t, p, http.StatusOK)
			if p.find(t, "#new-channel").Length() != 0 || p.find(t, "#channel-list form").Length() != 0 {
				t.Error("a responder got admin forms")
			}
			vera := e.browser()
			vera.login("vera")
			wantStatus(t, vera.get("/notifications?status=dead"), http.StatusForbidden)
		})
	}
}

// deadLetter makes the one queued notification dead, as the engine does after a permanent failure, and returns
// its id.
func deadLetter(t *testing.T, st *sqlstore.Store) string {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	claimed, err := st.ClaimNotifications(ctx, now.Add(time.Minute), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	ok, err := st.CompleteNotification(ctx, claimed[0], sqlstore.Delivery{Now: now.Add(time.Minute),
		Attempt:  notify.Attempt{StatusCode: 410, Error: "410 Gone"},
		Decision: notify.Decision{Outcome: notify.OutcomeDeadLetter, Reason: "permanent failure: 410 Gone"}})
	if err != nil || !ok {
		t.Fatalf("complete: %v %v", ok, err)
	}
	return claimed[0].ID
}
