package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestSearchTopKIsExact: ranking only the best pieces before grouping them per document (SQLite) gives the same
// pages as ranking every match, whatever the filters, exclusions and offsets.
func TestSearchTopKIsExact(t *testing.T) {
	s := sqltest.Open(t, "sqlite")
	ctx := context.Background()
	service(t, s, "db", "data")
	service(t, s, "web", "front")
	for i := range 30 {
		svc := []string{"db", "web"}[i%2]
		sev := []firebreak.Severity{firebreak.SEV1, firebreak.SEV2, firebreak.SEV3}[i%3]
		title := fmt.Sprintf("Replica lag %d", i)
		if i%4 == 0 {
			title = fmt.Sprintf("Replica lag replica lag on host %d", i)
		}
		inc := declare(t, s, title, sev, svc)
		for k := range i % 5 { // pieces of many sizes: a document may have several pieces among the best
			must(s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: fmt.Sprintf(
				"replica %s lag note %d", []string{"staging", "prod"}[k%2], k)}))
		}
	}
	queries := []firebreak.SearchQuery{
		{Q: "replica"}, {Q: "replica lag", Limit: 3}, {Q: "lag", Services: []string{"db"}, Limit: 4},
		{Q: "replica -staging", Limit: 5}, {Q: "lag", Severities: []firebreak.Severity{firebreak.SEV1}, Limit: 2},
	}
	pages := func(sq firebreak.SearchQuery) [][]string {
		var out [][]string
		for {
			p := must(s.Search(ctx, sq))
			var ids []string
			for _, h := range p.Items {
				ids = append(ids, fmt.Sprintf("%s %.6f", h.Ref, h.Rank))
			}
			out = append(out, ids)
			if p.NextCursor == "" {
				return out
			}
			sq.Cursor = p.NextCursor
		}
	}
	for _, sq := range queries {
		want := pages(sq)
		restore := sqlstore.SetSearchTopKMin(1)
		got := pages(sq)
		restore()
		if !slices.EqualFunc(got, want, slices.Equal) || len(want) == 0 || len(want[0]) == 0 {
			t.Errorf("%+v: top-k pages %v, all-matches pages %v", sq, got, want)
		}
		// Excluded words: the documents that have them found once or checked one by one, the same pages.
		restore = sqlstore.SetSearchExcludeOnce(0)
		got = pages(sq)
		restore()
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%+v: excluded per document: pages %v, found once: pages %v", sq, got, want)
		}
	}
}

// TestSearchWindow: a broad query is ranked among its most recent matching pieces (searchWindow). An old
// document that matches best is then not on the first page, yet a date filter that asks for its period finds it
// (the window yields too little and every match is ranked), and so does a window larger than the matches.
func TestSearchWindow(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, s *sqlstore.Store) { testSearchWindow(t, s) })
}

func testSearchWindow(t *testing.T, s *sqlstore.Store) {
	ctx := context.Background()
	service(t, s, "db", "data")
	old := declare(t, s, "Replica replica replica lag", firebreak.SEV2, "db")
	time.Sleep(5 * time.Millisecond)
	var later []*firebreak.Incident
	for i := range 12 {
		later = append(later, declare(t, s, fmt.Sprintf("Replica lag %d", i), firebreak.SEV2, "db"))
	}
	perIncident := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM search_docs WHERE incident_id = ?`,
		later[0].ID))
	first := func(sq firebreak.SearchQuery) []string {
		var refs []string
		for _, h := range must(s.Search(ctx, sq)).Items {
			refs = append(refs, h.Ref)
		}
		return refs
	}
	sq := firebreak.SearchQuery{Q: "replica", Kinds: []string{firebreak.SearchKindIncident}, Limit: 2}
	if got := first(sq); len(got) != 2 || got[0] != old.Reference {
		t.Fatalf("window larger than the matches: page %v, want %s first", got, old.Reference)
	}
	restore := sqlstore.SetSearchWindowMin(int(4 * perIncident))
	defer restore()
	got := first(sq)
	if len(got) != 2 || slices.Contains(got, old.Reference) {
		t.Fatalf("window of the 4 newest incidents' pieces: page %v, want two of the newest and not %s", got,
			old.Reference)
	}
	for _, ref := range got {
		if !slices.ContainsFunc(later[len(later)-4:], func(i *firebreak.Incident) bool { return i.Reference == ref }) {
			t.Errorf("window of the 4 newest incidents' pieces: %s is not among them (page %v)", ref, got)
		}
	}
	until := later[0].Milestones.DeclaredAt.Add(-time.Millisecond)
	sq.Until = &until
	if got := first(sq); len(got) != 1 || got[0] != old.Reference {
		t.Errorf("until before the later incidents: page %v, want [%s]", got, old.Reference)
	}
}
