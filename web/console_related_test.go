package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestConsoleRelatedIncidents: the incident page warns of a probable recurrence, linking the earlier incident,
// and lists the related incidents with their score and reasons; the warning goes once the earlier incident's
// action items are verified.
func TestConsoleRelatedIncidents(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			st := sqltest.Open(t, d)
			e := newConsoleEnv(t, st)
			alice := as("alice", firebreak.RoleResponder)
			decl := func(title string, svc ...string) *firebreak.Incident {
				inc, err := st.DeclareIncident(alice, firebreak.DeclareInput{Title: title, Severity: firebreak.SEV2,
					Services: svc})
				if err != nil {
					t.Fatal(err)
				}
				return inc
			}
			first := decl("Database connections exhausted", "db")
			item, err := st.AddActionItem(alice, first.Reference, firebreak.ActionItemInput{
				Title: "Cap the pool per replica", Owner: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			second := decl("Database connections exhausted again", "db")
			decl("Web assets slow <b>bold</b>", "web")
			runRecurrenceChecks(t, st)

			b := e.browser()
			b.login("vera")
			p := b.get("/incidents/" + second.Reference)
			wantStatus(t, p, http.StatusOK)
			warn := p.text(t, "#recurrence-warning")
			if !strings.Contains(warn, "This looks like "+first.Reference+" (Database connections exhausted); 1 of its action items is still open.") {
				t.Fatalf("warning %q", warn)
			}
			if href := p.attr(t, "#recurrence-warning a", "href"); href != "/incidents/"+first.Reference {
				t.Fatalf("warning links %q", href)
			}
			rows := p.find(t, "#related li.related")
			if rows.Length() != 1 {
				t.Fatalf("%d related rows: %s", rows.Length(), p.text(t, "#related"))
			}
			row := rows.First()
			if row.Find("a.ref").Text() != first.Reference || !strings.Contains(row.Text(), "Database connections exhausted") {
				t.Fatalf("row %q", row.Text())
			}
			var reasons []string
			row.Find(".related-reasons li").Each(func(_ int, s *goquery.Selection) {
				k, _ := s.Attr("data-kind")
				reasons = append(reasons, k+": "+s.Text())
			})
			if len(reasons) != 3 || reasons[1] != "services: both affect db" ||
				!strings.HasPrefix(reasons[0], "text: similar text: database, connections, exhausted") ||
				reasons[2] != "recency: declared the same day" {
				t.Fatalf("reasons %q", reasons)
			}
			// The timeline says it once.
			if n := p.find(t, "#timeline-list li").FilterFunction(func(_ int, s *goquery.Selection) bool {
				return strings.Contains(s.Text(), "Recurrence?")
			}).Length(); n != 1 {
				t.Errorf("%d recurrence entries on the timeline", n)
			}

			// An incident with nothing related says so, and its markup-looking title is text.
			p = b.get("/incidents/INC-3")
			if p.find(t, "#recurrence-warning").Length() != 0 || p.find(t, "#related .empty").Length() != 1 {
				t.Fatalf("INC-3 page: %s", p.text(t, "#related"))
			}

			// Verified: the warning no longer shows.
			done, verified := firebreak.ActionDone, firebreak.ActionVerified
			if _, err := st.UpdateActionItem(alice, first.Reference, item.ID, firebreak.ActionItemPatch{Status: &done}, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := st.UpdateActionItem(as("bob", firebreak.RoleResponder), first.Reference, item.ID,
				firebreak.ActionItemPatch{Status: &verified}, 0); err != nil {
				t.Fatal(err)
			}
			if p = b.get("/incidents/" + second.Reference); p.find(t, "#recurrence-warning").Length() != 0 {
				t.Fatalf("warning still shown: %s", p.text(t, "#recurrence-warning"))
			}
		})
	}
}
