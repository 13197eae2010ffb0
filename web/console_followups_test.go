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

// The follow-up list: linked from the nav, filters by owner, status and overdue, due soonest first, shows the
// last reminder, and offers Verify on done items only to someone other than the owner; a refused verification
// says why. The incident page's refused close names the blockers, and tags are edited with the details.
func TestConsoleFollowUps(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		ctx := context.Background()
		alice := as("alice", firebreak.RoleResponder)
		inc, err := st.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout down", Severity: firebreak.SEV2})
		if err != nil {
			t.Fatal(err)
		}
		late, _ := st.AddActionItem(alice, inc.ID, firebreak.ActionItemInput{Title: "Add breakers", Owner: "bob",
			DueDate: "2020-01-02"})
		done, _ := st.AddActionItem(alice, inc.ID, firebreak.ActionItemInput{Title: "Alert on pool", Owner: "alice",
			DueDate: "2020-01-05", Status: firebreak.ActionDone})
		bobDone, _ := st.AddActionItem(alice, inc.ID, firebreak.ActionItemInput{Title: "Tune retries", Owner: "bob",
			DueDate: "2099-01-01", Status: firebreak.ActionDone})
		if late == nil || done == nil || bobDone == nil {
			t.Fatal("adding action items failed")
		}
		// The engine's work, by hand: the overdue item's first reminder (its owner has no channel).
		at := *st.FollowThroughPolicy().NextOverdueReminder(late)
		ids, err := st.ClaimOverdueReminders(ctx, at, 0, 10)
		if err != nil || len(ids) != 1 {
			t.Fatalf("claimed %v %v", ids, err)
		}
		if err := st.FireOverdueReminder(ctx, ids[0], at); err != nil {
			t.Fatal(err)
		}

		b := e.browser()
		b.login("alice")
		p := b.get("/incidents")
		if got := p.attr(t, "nav a[href='/follow-ups']", "href"); got != "/follow-ups" {
			t.Fatalf("nav link %q", got)
		}
		p = b.get("/follow-ups")
		wantStatus(t, p, http.StatusOK)
		rows := p.find(t, "#follow-ups tbody tr")
		if rows.Length() != 3 {
			t.Fatalf("%d rows", rows.Length())
		}
		if id, _ := rows.First().Attr("id"); id != "item-"+late.ID {
			t.Fatalf("first row %s, want the item due soonest", id)
		}
		if got := p.text(t, "#item-"+late.ID+" .c-reminded"); !strings.Contains(got, "reminded at") {
			t.Fatalf("reminder cell %q", got)
		}
		if !strings.Contains(p.text(t, "#item-"+late.ID+" .c-due"), "overdue") {
			t.Fatal("the late item is not marked overdue")
		}
		// alice owns "Alert on pool": no Verify for her there; bob's done item has one.
		if p.find(t, "#item-"+done.ID+" form").Length() != 0 {
			t.Fatal("the owner is offered Verify")
		}
		res := b.submit(p, "#item-"+bobDone.ID+" form", nil)
		wantStatus(t, res, http.StatusSeeOther)
		if loc := res.location(); loc != "/follow-ups#item-"+bobDone.ID {
			t.Fatalf("redirect %q", loc)
		}
		items, _ := st.ListActionItems(ctx, inc.ID)
		if items[2].Status != firebreak.ActionVerified || items[2].VerifiedBy != "alice" {
			t.Fatalf("verified item %+v", items[2])
		}
		// Forcing a verification of one's own item is refused with the reason.
		refused := b.post("/follow-ups/verify", url.Values{"csrf_token": {p.attr(t, "input[name=csrf_token]", "value")},
			"incident": {inc.Reference}, "item": {done.ID}, "filters": {"overdue=true"}})
		wantStatus(t, refused, http.StatusUnprocessableEntity)
		if got := refused.text(t, "#problem"); !strings.Contains(got, "someone other than the owner") {
			t.Fatalf("refusal %q", got)
		}
		// The dashboard's follow-through: one item overdue now, linked to the list.
		dash := b.get("/dashboard")
		wantStatus(t, dash, http.StatusOK)
		if got := dash.text(t, "#follow-overdue a"); got != "1" {
			t.Fatalf("dashboard overdue %q", got)
		}
		if got := dash.attr(t, "#follow-overdue a", "href"); got != "/follow-ups?overdue=true" {
			t.Fatalf("dashboard link %q", got)
		}
		// Filters.
		p = b.get("/follow-ups?overdue=true")
		if n := p.find(t, "#follow-ups tbody tr").Length(); n != 1 {
			t.Fatalf("%d overdue rows", n)
		}
		p = b.get("/follow-ups?owner=bob&status=open")
		if n := p.find(t, "#follow-ups tbody tr").Length(); n != 1 || p.text(t, "#follow-ups .c-title") != "Add breakers" {
			t.Fatalf("bob's open items: %d", n)
		}

		// The incident page: a refused close names the post-mortem and the unresolved items.
		if _, err := st.ChangeStatus(alice, inc.ID, firebreak.StatusResolved, "", 0); err != nil {
			t.Fatal(err)
		}
		ip := b.get("/incidents/" + inc.Reference)
		res = b.submit(ip, ".status-form", url.Values{"status": {"closed"}})
		wantStatus(t, res, http.StatusConflict)
		if got := res.text(t, "#problem"); !strings.Contains(got, "cannot be closed yet") ||
			!strings.Contains(got, "post-mortem is draft") || !strings.Contains(got, "Add breakers") {
			t.Fatalf("close refusal %q", got)
		}
		// Tags through the details form.
		ip = b.get("/incidents/" + inc.Reference)
		wantStatus(t, b.submit(ip, "#edit-details form", url.Values{"tags": {"Promo-Event, checkout"}}), http.StatusSeeOther)
		ip = b.get("/incidents/" + inc.Reference)
		if got := ip.text(t, "#inc-tags dd"); !strings.Contains(got, "#checkout") || !strings.Contains(got, "#promo-event") {
			t.Fatalf("tags %q", got)
		}
	})
}
