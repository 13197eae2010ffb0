package sqlstore_test

import (
	"context"
	"testing"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

// The incident search (?q=) is case-insensitive for every letter, not only ASCII: a title with an upper-case
// non-ASCII letter is found by its own text, and by the text in any case, on both dialects alike.
func TestListIncidentsQueryNonASCIICase(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		inc := declare(t, s, "Überlast im Zahlungsdienst", firebreak.SEV2)
		declare(t, s, "Unrelated", firebreak.SEV3)
		for _, q := range []string{"Überlast", "überlast", "ÜBERLAST", "zahlungsdienst"} {
			p := must(s.ListIncidents(ctx, firebreak.IncidentFilter{Query: q}))
			if len(p.Items) != 1 || p.Items[0].ID != inc.ID {
				t.Errorf("q=%q found %d incidents, want exactly %s", q, len(p.Items), inc.Reference)
			}
		}
	})
}
