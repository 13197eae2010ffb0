package sqlstore_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func kbSearch(t *testing.T, s *sqlstore.Store, q firebreak.SearchQuery) []firebreak.SearchHit {
	t.Helper()
	p, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return p.Items
}

func hitRefs(hits []firebreak.SearchHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Ref)
	}
	return out
}

func note(t *testing.T, s *sqlstore.Store, ref, msg string) {
	t.Helper()
	must(s.AddTimelineEvent(alice, ref, firebreak.TimelineInput{Kind: firebreak.EventNote, Message: msg}))
}

// A title match ranks above an incident that only mentions the words in its timeline; timeline notes and status
// updates are found, with the matched words highlighted in the snippet.
func TestSearchKBRankingAndParts(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		service(t, s, "payments", "team-pay")
		mention := declare(t, s, "Checkout latency", firebreak.SEV2, "payments")
		note(t, s, mention.Reference, "Saw connection pool exhaustion on the payments replica while paging")
		title := declare(t, s, "Connection pool exhaustion in payments", firebreak.SEV3)
		declare(t, s, "Unrelated login outage", firebreak.SEV1)

		hits := kbSearch(t, s, firebreak.SearchQuery{Q: "pool exhaustion"})
		if got := hitRefs(hits); len(got) != 2 || got[0] != title.Reference || got[1] != mention.Reference {
			t.Fatalf("hits = %v, want [%s %s]", got, title.Reference, mention.Reference)
		}
		if hits[0].Rank <= hits[1].Rank {
			t.Errorf("ranks %v <= %v", hits[0].Rank, hits[1].Rank)
		}
		h := hits[1]
		if !strings.Contains(h.Snippet, "replica") || h.Title != "Checkout latency" || h.Kind != "incident" ||
			h.ID != mention.ID || h.Severity != firebreak.SEV2 || len(h.Services) != 1 || h.DeclaredAt == nil {
			t.Errorf("hit = %+v", h)
		}
		var marked []string
		for _, sp := range h.Highlights {
			marked = append(marked, strings.ToLower(h.Snippet[sp.Start:sp.End]))
		}
		if !strings.Contains(strings.Join(marked, " "), "exhaustion") {
			t.Errorf("highlights %v of %q do not mark exhaustion", marked, h.Snippet)
		}

		// Status updates and summary edits are indexed in the writing transaction.
		must(s.PostUpdate(alice, mention.Reference, firebreak.UpdateInput{Message: "Failover to the standby region completed"}))
		if got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: "standby region"})); len(got) != 1 ||
			got[0] != mention.Reference {
			t.Errorf("status update search = %v", got)
		}
		sum := "Retries amplified the thundering herd"
		must(s.UpdateIncident(alice, title.Reference, firebreak.IncidentPatch{Summary: &sum}, 0))
		if got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: "thundering"})); len(got) != 1 ||
			got[0] != title.Reference {
			t.Errorf("summary search = %v", got)
		}
		// Words split between the title and a timeline note still find the incident (via the context column).
		if got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: "checkout replica"})); len(got) != 1 ||
			got[0] != mention.Reference {
			t.Errorf("title+note search = %v", got)
		}
		// A renamed incident is found by its new title, also through its notes.
		nt := "Database failover stalled"
		must(s.UpdateIncident(alice, mention.Reference, firebreak.IncidentPatch{Title: &nt}, 0))
		if got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: "stalled replica"})); len(got) != 1 {
			t.Errorf("renamed search = %v", got)
		}
		// The old title stays findable through the timeline event that records the change; hits show the new one.
		if got := kbSearch(t, s, firebreak.SearchQuery{Q: "checkout latency"}); len(got) != 1 || got[0].Title != nt {
			t.Errorf("old title search = %+v", got)
		}
		// Exclusion and prefixes.
		if got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: "exhaustion -thundering"})); len(got) != 1 ||
			got[0] != mention.Reference {
			t.Errorf("exclusion = %v", got)
		}
		if got := kbSearch(t, s, firebreak.SearchQuery{Q: "exhaust*"}); len(got) != 2 {
			t.Errorf("prefix = %v", hitRefs(got))
		}
		// A prefix finds longer words even where the stemmer changes the prefix itself ("deploy" stems to
		// "deploi", but "deployment" to "deploy").
		pay := declare(t, s, "Payments deployment failed", firebreak.SEV3)
		for _, q := range []string{"deploy*", "payment*", "Payments deploy*", "fail*", "deployment*"} {
			if got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: q})); !slices.Contains(got, pay.Reference) {
				t.Errorf("prefix %q = %v, want %s among them", q, got, pay.Reference)
			}
		}
		_ = ctx
	})
}

func TestSearchKBFiltersAndPaging(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		service(t, s, "api", "team-a")
		service(t, s, "db", "team-b")
		a := declare(t, s, "Disk full on primary", firebreak.SEV1, "db")
		c.Advance(48 * time.Hour)
		b := declare(t, s, "Disk full on api hosts", firebreak.SEV3, "api")
		c.Advance(48 * time.Hour)
		cc := declare(t, s, "Disk latency", firebreak.SEV3, "api", "db")

		since := b.Milestones.DeclaredAt.Add(-time.Hour)
		until := b.Milestones.DeclaredAt.Add(time.Hour)
		cases := []struct {
			q    firebreak.SearchQuery
			want []string
		}{
			{firebreak.SearchQuery{Q: "disk", Services: []string{"db"}}, []string{a.Reference, cc.Reference}},
			{firebreak.SearchQuery{Q: "disk", Severities: []firebreak.Severity{firebreak.SEV1}}, []string{a.Reference}},
			{firebreak.SearchQuery{Q: "disk full", Services: []string{"api"}}, []string{b.Reference}},
			{firebreak.SearchQuery{Q: "disk", Since: &since}, []string{b.Reference, cc.Reference}},
			{firebreak.SearchQuery{Q: "disk", Since: &since, Until: &until}, []string{b.Reference}},
			{firebreak.SearchQuery{Q: "disk", Kinds: []string{"postmortem"}}, nil},
		}
		for _, tc := range cases {
			got := hitRefs(kbSearch(t, s, tc.q))
			if !sameSet(got, tc.want) {
				t.Errorf("%+v: got %v, want %v", tc.q, got, tc.want)
			}
		}

		// Paging: every hit exactly once.
		var all []string
		q := firebreak.SearchQuery{Q: "disk", Limit: 1}
		for range 5 {
			p := must(s.Search(context.Background(), q))
			all = append(all, hitRefs(p.Items)...)
			if p.NextCursor == "" {
				break
			}
			q.Cursor = p.NextCursor
		}
		if !sameSet(all, []string{a.Reference, b.Reference, cc.Reference}) || len(all) != 3 {
			t.Errorf("paged = %v", all)
		}

		// Bad filters are EInvalid; queries that cannot match find nothing.
		_, err := s.Search(context.Background(), firebreak.SearchQuery{Q: "disk", Severities: []firebreak.Severity{"SEV9"}})
		wantField(t, err, "severity", "unknown")
		_, err = s.Search(context.Background(), firebreak.SearchQuery{Q: "disk", Cursor: "zzz"})
		wantCode(t, err, firebreak.EInvalid)
		_, err = s.Search(context.Background(), firebreak.SearchQuery{Q: "disk", Kinds: []string{"nope"}})
		wantField(t, err, "kind", "unknown")
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// Hostile queries never reach the database's query syntax: they find nothing or something, never an error.
func TestSearchKBHostileQueries(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		declare(t, s, `Quotes "and" NEAR(things) AND OR NOT`, firebreak.SEV3)
		for _, q := range []string{`"`, `"unbalanced`, `NEAR(`, `a AND`, `OR`, `*`, `-`, `-"x"`, `(((`, `'`,
			`title:foo`, `^x`, `x:*`, `a & b | !c`, `\`, `"" ""`, `NOT`, "\x00", "日本語 テスト",
			strings.Repeat("w ", 400), `!!`, `<->`, `quotes"and`} {
			if _, err := s.Search(context.Background(), firebreak.SearchQuery{Q: q}); err != nil {
				t.Errorf("q=%q: %v", q, err)
			}
		}
		if got := kbSearch(t, s, firebreak.SearchQuery{Q: `near(things`}); len(got) != 1 {
			t.Errorf("near(things found %d", len(got))
		}
	})
}

// Stop words (PostgreSQL's english list) neither require nor exclude anything, on either database: "the replica"
// finds a replica incident whose text has no "the", and a query of stop words alone finds nothing. A phrase keeps
// them between its other words.
func TestSearchKBStopWords(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		bare := declare(t, s, "Replica lag", firebreak.SEV2)
		with := declare(t, s, "The replica ran out of memory", firebreak.SEV2)
		declare(t, s, "Memory out of bounds", firebreak.SEV3)
		for _, q := range []string{"the replica", "replica -the", "replica OF", "replica don't", "replica the*"} {
			got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: q}))
			slices.Sort(got)
			want := []string{bare.Reference, with.Reference}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("q=%q: hits %v, want %v", q, got, want)
			}
		}
		for _, q := range []string{"the", "of the", `"out of"`, "-replica the"} {
			if got := kbSearch(t, s, firebreak.SearchQuery{Q: q}); len(got) != 0 {
				t.Errorf("q=%q (stop words only): hits %v, want none", q, hitRefs(got))
			}
		}
		if got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: `"ran out of memory"`})); len(got) != 1 ||
			got[0] != with.Reference {
			t.Errorf(`"ran out of memory": hits %v, want [%s]`, got, with.Reference)
		}
	})
}

// Snippets are plain text: markup in an incident's text stays text (the console escapes it, then marks).
func TestSearchKBSnippetIsPlainText(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		inc := declare(t, s, `<script>alert(1)</script> payment gateway`, firebreak.SEV2)
		note(t, s, inc.Reference, `<img src=x onerror=alert(1)> gateway timeout`)
		hits := kbSearch(t, s, firebreak.SearchQuery{Q: "gateway"})
		if len(hits) != 1 {
			t.Fatalf("hits = %v", hitRefs(hits))
		}
		h := hits[0]
		if strings.ContainsAny(h.Snippet, firebreak.HighlightStart+firebreak.HighlightEnd) {
			t.Errorf("markers left in %q", h.Snippet)
		}
		if !strings.Contains(h.Snippet, "<") {
			t.Errorf("snippet %q lost the text's markup characters", h.Snippet)
		}
		for _, sp := range h.Highlights {
			if got := strings.ToLower(h.Snippet[sp.Start:sp.End]); got != "gateway" {
				t.Errorf("highlight %q", got)
			}
		}
	})
}

// The migration's backfill indexes what existed before it: empty the index, run the backfill statements of the
// migration file again, and search.
func TestSearchKBBackfill(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		inc := declare(t, s, "Replication lag on the ledger", firebreak.SEV2)
		note(t, s, inc.Reference, "Vacuum blocked the replica")
		must(s.PostUpdate(alice, inc.Reference, firebreak.UpdateInput{Message: "Customers see stale balances"}))
		if err := sqlstore.Exec(ctx, s, `DELETE FROM search_docs`); err != nil {
			t.Fatal(err)
		}
		if got := kbSearch(t, s, firebreak.SearchQuery{Q: "ledger"}); len(got) != 0 {
			t.Fatalf("emptied index still finds %v", hitRefs(got))
		}
		dialect := "sqlite"
		if strings.HasSuffix(t.Name(), "postgres") {
			dialect = "postgres"
		}
		b, err := os.ReadFile("migrations/" + dialect + "/00008_search.sql")
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		text = text[strings.Index(text, "-- Backfill"):strings.Index(text, "-- +goose Down")]
		text = text[strings.Index(text, "\n")+1:]
		for _, stmt := range strings.Split(text, ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if err := sqlstore.Exec(ctx, s, stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		for _, q := range []string{"ledger", "vacuum replica", "stale balances"} {
			if got := hitRefs(kbSearch(t, s, firebreak.SearchQuery{Q: q})); len(got) != 1 || got[0] != inc.Reference {
				t.Errorf("q=%q after backfill: %v", q, got)
			}
		}
	})
}

// Post-mortems are in the knowledge base: a word of a section finds the post-mortem (kind "postmortem", linked to
// its incident), a later save replaces what was indexed, and the kind filter separates them from incidents.
func TestSearchKBPostmortems(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		inc := declare(t, s, "Queue backlog", firebreak.SEV3)
		pm := must(s.CreatePostmortem(alice, inc.Reference))
		pm = must(s.UpdatePostmortem(alice, inc.Reference, firebreak.PostmortemPatch{
			Trigger: ptr("A config push lowered the consumer count to one")}, pm.Version))
		hits := kbSearch(t, s, firebreak.SearchQuery{Q: "consumer count"})
		if len(hits) != 1 || hits[0].Kind != firebreak.SearchKindPostmortem || hits[0].ID != pm.ID ||
			hits[0].Ref != inc.Reference || !strings.Contains(hits[0].Snippet, "consumer") {
			t.Fatalf("hits for a trigger's words = %+v", hits)
		}
		if got := kbSearch(t, s, firebreak.SearchQuery{Q: "consumer", Kinds: []string{firebreak.SearchKindIncident}}); len(got) != 0 {
			t.Fatalf("kind=incident found the post-mortem: %+v", got)
		}
		must(s.UpdatePostmortem(alice, inc.Reference, firebreak.PostmortemPatch{
			Trigger: ptr("A deploy removed the autoscaler floor")}, pm.Version))
		if got := kbSearch(t, s, firebreak.SearchQuery{Q: "consumer"}); len(got) != 0 {
			t.Fatalf("the replaced trigger is still found: %+v", got)
		}
		if got := kbSearch(t, s, firebreak.SearchQuery{Q: "autoscaler floor"}); len(got) != 1 || got[0].Kind != "postmortem" {
			t.Fatalf("the new trigger is not found: %+v", got)
		}
	})
}
