package sqlstore_test

import (
	"context"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

// The follow-up list: action items across incidents, due soonest first, with their incident; overdue ones are
// open or in progress and due before today; filters by owner and status; pages cover every item once.
func TestListFollowUps(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		a := declare(t, s, "Checkout errors", firebreak.SEV1)
		b := declare(t, s, "Search slow", firebreak.SEV3)
		today := c.Now().UTC()
		day := func(d int) string { return today.AddDate(0, 0, d).Format(time.DateOnly) }
		late := must(s.AddActionItem(alice, a.ID, firebreak.ActionItemInput{Title: "late", Owner: "bob", DueDate: day(-2)}))
		doneLate := must(s.AddActionItem(alice, a.ID, firebreak.ActionItemInput{Title: "done late", Owner: "bob",
			DueDate: day(-3), Status: firebreak.ActionDone}))
		soon := must(s.AddActionItem(alice, b.ID, firebreak.ActionItemInput{Title: "soon", Owner: "carol", DueDate: day(3),
			Status: firebreak.ActionInProgress}))
		undated := must(s.AddActionItem(alice, b.ID, firebreak.ActionItemInput{Title: "undated", Owner: "bob"}))
		defaulted := must(s.AddActionItem(alice, a.ID, firebreak.ActionItemInput{Title: "SEV1 default"})) // +15 days

		all := must(s.ListFollowUps(ctx, firebreak.ActionItemFilter{})).Items
		var order []string
		for _, f := range all {
			order = append(order, f.ID)
		}
		want := []string{doneLate.ID, late.ID, soon.ID, defaulted.ID, undated.ID}
		if len(order) != len(want) {
			t.Fatalf("%d follow-ups, want %d", len(order), len(want))
		}
		for i := range want {
			if order[i] != want[i] {
				t.Fatalf("order %v, want %v", order, want)
			}
		}
		if all[1].IncidentRef != a.Reference || all[1].IncidentTitle != "Checkout errors" ||
			all[1].Severity != firebreak.SEV1 || !all[1].Overdue || all[0].Overdue || all[2].Overdue {
			t.Fatalf("follow-ups %+v", all[:3])
		}
		over := must(s.ListFollowUps(ctx, firebreak.ActionItemFilter{Overdue: true})).Items
		if len(over) != 1 || over[0].ID != late.ID {
			t.Fatalf("overdue: %+v", over)
		}
		c.Advance(4 * 24 * time.Hour) // "soon" is now late too
		if over := must(s.ListFollowUps(ctx, firebreak.ActionItemFilter{Overdue: true})).Items; len(over) != 2 {
			t.Fatalf("overdue four days later: %d", len(over))
		}
		bobs := must(s.ListFollowUps(ctx, firebreak.ActionItemFilter{Owner: "bob",
			Status: []firebreak.ActionItemStatus{firebreak.ActionOpen}})).Items
		if len(bobs) != 2 || bobs[0].ID != late.ID || bobs[1].ID != undated.ID {
			t.Fatalf("bob's open items: %+v", bobs)
		}
		seen := map[string]bool{}
		f := firebreak.ActionItemFilter{Limit: 2}
		for pages := 0; ; pages++ {
			p := must(s.ListFollowUps(ctx, f))
			for _, it := range p.Items {
				if seen[it.ID] {
					t.Fatalf("%s on two pages", it.ID)
				}
				seen[it.ID] = true
			}
			if p.NextCursor == "" || pages > 5 {
				break
			}
			f.Cursor = p.NextCursor
		}
		if len(seen) != 5 {
			t.Fatalf("pages held %d items, want 5", len(seen))
		}
		_, err := s.ListFollowUps(ctx, firebreak.ActionItemFilter{Status: []firebreak.ActionItemStatus{"lost"}})
		wantField(t, err, "status", "")
		_, err = s.ListFollowUps(ctx, firebreak.ActionItemFilter{Cursor: "nonsense!"})
		wantCode(t, err, firebreak.EInvalid)
	})
}
