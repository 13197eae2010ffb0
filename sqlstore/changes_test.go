package sqlstore_test

import (
	"context"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func TestChanges(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		service(t, s, "search", "discovery")
		pd := integration(t, s, "checkout", firebreak.IntegrationPagerDuty)
		other := integration(t, s, "search", firebreak.IntegrationPagerDuty)

		_, err := s.RecordChange(ctx, pd.ID, firebreak.ChangeInput{Summary: " "})
		wantField(t, err, "summary", "")
		_, err = s.RecordChange(ctx, "nope", firebreak.ChangeInput{Summary: "x"})
		wantCode(t, err, firebreak.ENotFound)

		c.Advance(3 * time.Hour)
		now := c.Now()
		recent := must(s.RecordChange(ctx, pd.ID, firebreak.ChangeInput{Summary: "deploy v42", Source: "ci",
			Details: `{"sha":"abc"}`, Links: []firebreak.AlertLink{{Href: "https://ci.example/1", Text: "build"}},
			OccurredAt: now.Add(-30 * time.Minute)}))
		if recent.Service != "checkout" || recent.IntegrationID != pd.ID || !recent.RecordedAt.Equal(now) ||
			!recent.OccurredAt.Equal(now.Add(-30*time.Minute)) || len(recent.Links) != 1 {
			t.Fatalf("recorded %+v", recent)
		}
		old := must(s.RecordChange(ctx, pd.ID, firebreak.ChangeInput{Summary: "deploy v41", OccurredAt: now.Add(-3 * time.Hour)}))
		otherSvc := must(s.RecordChange(ctx, other.ID, firebreak.ChangeInput{Summary: "search deploy",
			OccurredAt: now.Add(-20 * time.Minute)}))
		// No dedup key: the same event twice is two changes.
		dup1 := must(s.RecordChange(ctx, pd.ID, firebreak.ChangeInput{Summary: "flag flip"}))
		dup2 := must(s.RecordChange(ctx, pd.ID, firebreak.ChangeInput{Summary: "flag flip"}))
		if dup1.ID == dup2.ID || !dup1.OccurredAt.Equal(now) {
			t.Fatalf("duplicates %+v %+v", dup1, dup2)
		}

		inc := declare(t, s, "checkout down", firebreak.SEV2, "checkout")
		got := must(s.ChangesBefore(ctx, inc.Reference, 0))
		ids := map[string]bool{}
		for _, ch := range got {
			ids[ch.ID] = true
		}
		if !ids[recent.ID] || ids[old.ID] || ids[otherSvc.ID] || !ids[dup1.ID] || !ids[dup2.ID] || len(got) != 3 {
			t.Fatalf("changes before: %+v", got)
		}
		if got := must(s.ChangesBefore(ctx, inc.ID, 4*time.Hour)); len(got) != 4 {
			t.Fatalf("4h window: %d changes", len(got))
		}
		_, err = s.ChangesBefore(ctx, "INC-999", 0)
		wantCode(t, err, firebreak.ENotFound)
		_, err = s.ChangesBefore(ctx, inc.ID, -time.Hour)
		wantField(t, err, "window", "")

		// Listing, filtering and paging.
		all := must(s.ListChanges(ctx, firebreak.ChangeFilter{}))
		if len(all.Items) != 5 || all.NextCursor != "" {
			t.Fatalf("all: %+v", all)
		}
		since := now.Add(-time.Hour)
		p := must(s.ListChanges(ctx, firebreak.ChangeFilter{Service: "checkout", Since: &since}))
		if len(p.Items) != 3 || p.Items[2].ID != recent.ID || p.Items[2].Details != `{"sha":"abc"}` ||
			p.Items[2].Links[0].Text != "build" {
			t.Fatalf("filtered: %+v", p.Items)
		}
		var seen []string
		f := firebreak.ChangeFilter{Limit: 2}
		for {
			p := must(s.ListChanges(ctx, f))
			for _, ch := range p.Items {
				seen = append(seen, ch.ID)
			}
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		if len(seen) != 5 || seen[4] != old.ID {
			t.Fatalf("paged: %v", seen)
		}
		_, err = s.ListChanges(ctx, firebreak.ChangeFilter{Cursor: "!!"})
		wantField(t, err, "cursor", "")
	})
}
