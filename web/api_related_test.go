package web_test

import (
	"context"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

// runRecurrenceChecks runs the store's recurrence checks once they are due, as the engine would.
func runRecurrenceChecks(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Add(sqlstore.RecurrenceCheckDelay)
	ids, err := st.ClaimRecurrenceChecks(ctx, now, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := st.CheckRecurrence(ctx, id, now); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRelatedAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		e.service("checkout")
		e.service("search")
		first := e.declare("Checkout 5xx errors after deploy", firebreak.SEV2, "checkout")
		if _, err := e.responder.AddActionItem(ctx, first.Reference, firebreak.ActionItemInput{
			Title: "Canary the cart deploys", Owner: "bob"}); err != nil {
			t.Fatal(err)
		}
		second := e.declare("Checkout 5xx errors again", firebreak.SEV2, "checkout")
		other := e.declare("Search index stale", firebreak.SEV3, "search")
		runRecurrenceChecks(t, e.st)

		// Through the Go client, as a viewer.
		rel, err := e.viewer.RelatedIncidents(ctx, second.Reference, 0)
		if err != nil {
			t.Fatal(err)
		}
		if rel.Ref != second.Reference || len(rel.Items) != 1 || rel.Items[0].Ref != first.Reference {
			t.Fatalf("related %+v", rel)
		}
		var kinds []string
		for _, r := range rel.Items[0].Reasons {
			kinds = append(kinds, r.Kind)
		}
		if !slices.Equal(kinds, []string{firebreak.ReasonText, firebreak.ReasonServices, firebreak.ReasonRecency}) ||
			rel.Items[0].OpenActionItems != 1 || rel.Items[0].Score <= 0 || rel.Items[0].Score > 1 {
			t.Errorf("entry %+v", rel.Items[0])
		}
		w := rel.Recurrence
		if w == nil || w.OfRef != first.Reference || w.OpenActionItems != 1 || len(w.ActionItems) != 1 ||
			w.Message != "This looks like "+first.Reference+"; 1 of its action items is still open." {
			t.Fatalf("recurrence %+v", w)
		}
		if got, err := e.viewer.RecurrenceWarning(ctx, second.Reference); err != nil || got == nil || got.Message != w.Message {
			t.Errorf("RecurrenceWarning %+v %v", got, err)
		}

		// Raw: the JSON shape of an incident with nothing related, and validation naming the parameter.
		r := e.asViewer("GET", "/api/v1/incidents/"+other.Reference+"/related", "")
		for _, field := range []string{`"items":[]`, `"recurrence":null`, `"ref":"` + other.Reference + `"`} {
			if r.status != 200 || !strings.Contains(string(r.body), field) {
				t.Fatalf("answer %d lacks %s: %s", r.status, field, r.body)
			}
		}
		r = e.asViewer("GET", "/api/v1/incidents/"+second.Reference+"/related?limit=1", "")
		for _, field := range []string{`"reasons":[{"kind":"text"`, `"shared":["checkout"]`, `"open_action_items":1`,
			`"of_ref":"` + first.Reference + `"`} {
			if r.status != 200 || !strings.Contains(string(r.body), field) {
				t.Fatalf("answer %d lacks %s: %s", r.status, field, r.body)
			}
		}
		for _, q := range []string{"limit=0", "limit=51", "limit=ten"} {
			fieldNamed(t, e.asViewer("GET", "/api/v1/incidents/"+second.Reference+"/related?"+q, "").problem(t, 422), "limit")
		}
		fieldNamed(t, e.asViewer("GET", "/api/v1/incidents/"+second.Reference+"/related?bogus=1", "").problem(t, 422), "bogus")
		e.asViewer("GET", "/api/v1/incidents/INC-999/related", "").problem(t, 404)
		if r := e.do("GET", "/api/v1/incidents/"+second.Reference+"/related", "", ""); r.status != http.StatusUnauthorized {
			t.Errorf("anonymous: %d", r.status)
		}
	})
}

// TestOpenAPIRelatedSchemas keeps the related-incident schemas equal to the Go types.
func TestOpenAPIRelatedSchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{"Related": firebreak.Related{}, "RelatedIncident": firebreak.RelatedIncident{},
		"RelatedReason": firebreak.RelatedReason{}, "RecurrenceWarning": firebreak.RecurrenceWarning{}} {
		props, _ := d.Components.Schemas[name]["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := jsonFields(reflect.TypeOf(typ)); !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type has %v", name, got, want)
		}
	}
}
