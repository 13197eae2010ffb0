package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

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
	}
}
