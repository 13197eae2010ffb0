package sqlstore_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func runbookUsers(t *testing.T, s *sqlstore.Store, names ...string) {
	t.Helper()
	for _, n := range names {
		must(s.CreateUser(context.Background(), firebreak.UserInput{Username: n, Role: firebreak.RoleResponder}))
	}
}

func TestRunbookRevisionsAndConflicts(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		runbookUsers(t, s, "alice", "bob")
		service(t, s, "db", "platform")
		service(t, s, "api", "core")
		rb := must(s.CreateRunbook(alice, firebreak.RunbookInput{Service: "db", Title: " Failover ",
			Body: "1. Promote the replica\n2. Repoint pgbouncer"}))
		if rb.Version != 1 || rb.Owner != "alice" || rb.Title != "Failover" || rb.Service != "db" || rb.Stale ||
			rb.LastReviewedAt != nil || !rb.ReviewDueAt.Equal(c.Now().Add(90*24*time.Hour)) || rb.CreatedBy != "alice" {
			t.Fatalf("created %+v", rb)
		}
		c.Advance(time.Hour)
		bob := as("bob", firebreak.RoleResponder)
		body := "1. Promote through the cluster operator\n2. Services reconnect by themselves"
		v2 := must(s.UpdateRunbook(bob, rb.ID, firebreak.RunbookPatch{Body: &body}, 1))
		if v2.Version != 2 || v2.Body != body || v2.UpdatedBy != "bob" || !v2.UpdatedAt.Equal(c.Now()) {
			t.Fatalf("v2 %+v", v2)
		}
		// A stale If-Match is refused and says what the current version is.
		title := "Database failover"
		e := wantCode(t, errOf(s.UpdateRunbook(alice, rb.ID, firebreak.RunbookPatch{Title: &title}, 1)),
			firebreak.EPreconditionFailed)
		if !strings.Contains(e.Message, "current version is 2") {
			t.Errorf("412 message %q", e.Message)
		}
		// A patch that changes nothing saves nothing.
		same := must(s.UpdateRunbook(alice, rb.ID, firebreak.RunbookPatch{Body: &body}, 2))
		if same.Version != 2 {
			t.Errorf("no-op patch made version %d", same.Version)
		}
		owner, svc := "bob", "api"
		v3 := must(s.UpdateRunbook(alice, rb.ID, firebreak.RunbookPatch{Title: &title, Owner: &owner, Service: &svc}, 0))
		if v3.Version != 3 || v3.Owner != "bob" || v3.Service != "api" || v3.Title != title {
			t.Fatalf("v3 %+v", v3)
		}
		revs := must(s.ListRunbookRevisions(ctx, rb.ID))
		if len(revs) != 3 || revs[0].Body != "1. Promote the replica\n2. Repoint pgbouncer" || revs[0].Author != "alice" ||
			revs[1].Body != body || revs[1].Author != "bob" || revs[2].Service != "api" || revs[2].Owner != "bob" ||
			revs[2].Version != 3 {
			t.Fatalf("revisions %+v", revs)
		}

		// Bad input names the field.
		nobody := "nobody"
		wantCode(t, errOf(s.UpdateRunbook(alice, rb.ID, firebreak.RunbookPatch{Owner: &nobody}, 0)), firebreak.EInvalid)
		e = wantCode(t, errOf(s.CreateRunbook(alice, firebreak.RunbookInput{Service: "nope", Title: "t", Body: "b"})),
			firebreak.EInvalid)
		if fieldNames(e)[0] != "service" {
			t.Errorf("fields %v", fieldNames(e))
		}
		e = wantCode(t, errOf(s.CreateRunbook(alice, firebreak.RunbookInput{Service: "db", Title: "", Body: " ",
			Owner: "ghost"})), firebreak.EInvalid)
		if got := strings.Join(fieldNames(e), ","); got != "title,body" {
			t.Errorf("fields %v", got)
		}
		wantCode(t, errOf(s.CreateRunbook(alice, firebreak.RunbookInput{Service: "db", Title: "t", Body: "b",
			Owner: "ghost"})), firebreak.EInvalid)
		wantCode(t, errOf(s.CreateRunbook(alice, firebreak.RunbookInput{Service: "db", Title: "t",
			Body: strings.Repeat("x", firebreak.MaxRunbookLen+1)})), firebreak.EInvalid)
		wantCode(t, errOf(s.GetRunbook(ctx, "0190c1d2-0000-7000-8000-000000000000")), firebreak.ENotFound)
		wantCode(t, errOf(s.GetRunbook(ctx, "x")), firebreak.ENotFound)
		wantCode(t, errOf(s.ReviewRunbook(alice, rb.ID, 1)), firebreak.EPreconditionFailed)
	})
}

// Stale: not reviewed for 90 days, or reviewed before the service's last architecture change. The flag and the
// ?stale filter follow the same rule.
func TestRunbookStaleness(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		runbookUsers(t, s, "alice", "erin")
		service(t, s, "db", "platform")
		service(t, s, "api", "core")
		failover := must(s.CreateRunbook(alice, firebreak.RunbookInput{Service: "db", Title: "Failover", Body: "b"}))
		c.Advance(30 * 24 * time.Hour)
		gateway := must(s.CreateRunbook(alice, firebreak.RunbookInput{Service: "api", Title: "Rate limits", Body: "b"}))

		staleIDs := func() map[string]bool {
			t.Helper()
			out := map[string]bool{}
			all := must(s.ListRunbooks(ctx, firebreak.RunbookFilter{}))
			stale := must(s.ListRunbooks(ctx, firebreak.RunbookFilter{Stale: ptr(true)}))
			fresh := must(s.ListRunbooks(ctx, firebreak.RunbookFilter{Stale: ptr(false)}))
			for _, r := range stale.Items {
				out[r.ID] = true
			}
			if len(stale.Items)+len(fresh.Items) != len(all.Items) {
				t.Fatalf("stale %d + fresh %d != all %d", len(stale.Items), len(fresh.Items), len(all.Items))
			}
			for _, r := range all.Items {
				if r.Stale != out[r.ID] {
					t.Fatalf("runbook %s: flag %v but filter says %v (%v)", r.Title, r.Stale, out[r.ID], r.StaleReasons)
				}
			}
			return out
		}
		if len(staleIDs()) != 0 {
			t.Fatal("new runbooks are stale")
		}
		// Exactly 90 days after it was written, the failover runbook is due.
		c.Advance(60*24*time.Hour - time.Second)
		if staleIDs()[failover.ID] {
			t.Fatal("stale a second before 90 days")
		}
		c.Advance(time.Second)
		got := must(s.GetRunbook(ctx, failover.ID))
		if !got.Stale || len(got.StaleReasons) != 1 || !strings.Contains(got.StaleReasons[0], "never reviewed") {
			t.Fatalf("after 90 days: %v %v", got.Stale, got.StaleReasons)
		}
		if ids := staleIDs(); !ids[failover.ID] || ids[gateway.ID] {
			t.Fatalf("stale set %v", ids)
		}
		// A review makes it fresh for another 90 days and keeps its version.
		c.Advance(time.Minute)
		rev := must(s.ReviewRunbook(as("erin", firebreak.RoleResponder), failover.ID, 1))
		if rev.Stale || rev.Version != 1 || rev.LastReviewedBy != "erin" || !rev.LastReviewedAt.Equal(c.Now()) {
			t.Fatalf("reviewed %+v", rev)
		}
		// The api's architecture changes (rate limiting added): its runbook, written before, is stale now.
		c.Advance(time.Hour)
		changed := c.Now().Add(-time.Minute)
		svc := must(s.UpdateService(alice, "api", firebreak.ServicePatch{ArchitectureChangedAt: &changed}, 0))
		if svc.ArchitectureChangedAt == nil || !svc.ArchitectureChangedAt.Equal(changed) || svc.Version != 2 {
			t.Fatalf("service %+v", svc)
		}
		got = must(s.GetRunbook(ctx, gateway.ID))
		if !got.Stale || !strings.Contains(strings.Join(got.StaleReasons, ";"), "architecture of api changed") {
			t.Fatalf("after the change: %v", got.StaleReasons)
		}
		if ids := staleIDs(); ids[failover.ID] || !ids[gateway.ID] {
			t.Fatalf("stale set %v", ids)
		}
		only := must(s.ListRunbooks(ctx, firebreak.RunbookFilter{Services: []string{"api"}, Stale: ptr(true)}))
		if len(only.Items) != 1 || only.Items[0].ID != gateway.ID {
			t.Fatalf("api stale %+v", only.Items)
		}
		must(s.ReviewRunbook(alice, gateway.ID, 0))
		if ids := staleIDs(); len(ids) != 0 {
			t.Fatalf("stale after reviews %v", ids)
		}
		// An architecture change cannot be dated in the future; an unchanged one writes nothing.
		future := c.Now().Add(time.Hour)
		e := wantCode(t, errOf(s.UpdateService(alice, "api", firebreak.ServicePatch{ArchitectureChangedAt: &future}, 0)),
			firebreak.EInvalid)
		if fieldNames(e)[0] != "architecture_changed_at" {
			t.Errorf("fields %v", fieldNames(e))
		}
		if again := must(s.UpdateService(alice, "api", firebreak.ServicePatch{ArchitectureChangedAt: &changed}, 0)); again.Version != 2 {
			t.Errorf("unchanged patch made version %d", again.Version)
		}
	})
}

func TestRunbookListPagesAndSearch(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		runbookUsers(t, s, "alice")
		service(t, s, "db", "platform")
		service(t, s, "api", "core")
		for _, in := range []firebreak.RunbookInput{
			{Service: "db", Title: "Replica lag", Body: "Check the WAL sender."},
			{Service: "api", Title: "Rate limiting", Body: "Raise the gateway limits carefully."},
			{Service: "db", Title: "Failover", Body: "Promote the standby with the cluster operator."},
		} {
			must(s.CreateRunbook(alice, in))
		}
		var titles []string
		f := firebreak.RunbookFilter{Limit: 1}
		for {
			p := must(s.ListRunbooks(ctx, f))
			for _, r := range p.Items {
				titles = append(titles, r.Service+"/"+r.Title)
			}
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		if got := strings.Join(titles, ", "); got != "api/Rate limiting, db/Failover, db/Replica lag" {
			t.Fatalf("pages: %s", got)
		}
		wantCode(t, errOf(s.ListRunbooks(ctx, firebreak.RunbookFilter{Cursor: "nonsense"})), firebreak.EInvalid)
		wantCode(t, errOf(s.ListRunbooks(ctx, firebreak.RunbookFilter{Services: []string{"Not A Slug"}})),
			firebreak.EInvalid)

		// The knowledge base finds runbooks by their words, with their service; filters apply.
		hits := must(s.Search(ctx, firebreak.SearchQuery{Q: "standby operator"}))
		if len(hits.Items) != 1 || hits.Items[0].Kind != "runbook" || hits.Items[0].Title != "Failover" ||
			strings.Join(hits.Items[0].Services, ",") != "db" || hits.Items[0].Ref != "" {
			t.Fatalf("hits %+v", hits.Items)
		}
		if !strings.Contains(hits.Items[0].Snippet, "standby") || len(hits.Items[0].Highlights) == 0 {
			t.Errorf("snippet %q %v", hits.Items[0].Snippet, hits.Items[0].Highlights)
		}
		declare(t, s, "Failover of the standby failed", firebreak.SEV2, "db")
		for _, c := range []struct {
			q    firebreak.SearchQuery
			want string
		}{
			{firebreak.SearchQuery{Q: "standby"}, "incident,runbook"},
			{firebreak.SearchQuery{Q: "standby", Kinds: []string{"runbook"}}, "runbook"},
			{firebreak.SearchQuery{Q: "standby", Services: []string{"db"}}, "incident,runbook"},
			{firebreak.SearchQuery{Q: "standby", Services: []string{"api"}}, ""},
			{firebreak.SearchQuery{Q: "standby", Severities: []firebreak.Severity{firebreak.SEV2}}, "incident"},
			{firebreak.SearchQuery{Q: "gateway limits", Services: []string{"api"}}, "runbook"},
		} {
			var kinds []string
			for _, h := range must(s.Search(ctx, c.q)).Items {
				kinds = append(kinds, h.Kind)
			}
			slices.Sort(kinds)
			if strings.Join(kinds, ",") != c.want {
				t.Errorf("search %+v: kinds %v, want %s", c.q, kinds, c.want)
			}
		}
		// An edit re-indexes: the old words are gone, the new ones found.
		p := must(s.ListRunbooks(ctx, firebreak.RunbookFilter{Services: []string{"api"}}))
		body := "Scale the gateway horizontally."
		must(s.UpdateRunbook(alice, p.Items[0].ID, firebreak.RunbookPatch{Body: &body}, 0))
		if n := len(must(s.Search(ctx, firebreak.SearchQuery{Q: "carefully"})).Items); n != 0 {
			t.Errorf("old words still found (%d)", n)
		}
		if n := len(must(s.Search(ctx, firebreak.SearchQuery{Q: "horizontally"})).Items); n != 1 {
			t.Errorf("new words found %d times", n)
		}
	})
}
