package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func TestSearchAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		e.service("db")
		hit := e.declare("Replica lag <script>alert(1)</script>", firebreak.SEV2, "db")
		if _, err := e.responder.AddTimelineEvent(ctx, hit.Reference, firebreak.TimelineInput{
			Kind: firebreak.EventNote, Message: "Vacuum blocked replication on the replica"}); err != nil {
			t.Fatal(err)
		}
		e.declare("Unrelated checkout outage", firebreak.SEV1)

		// Through the Go client, as a viewer.
		p, err := e.viewer.Search(ctx, firebreak.SearchQuery{Q: "replica", Services: []string{"db"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].Ref != hit.Reference || p.Items[0].Title != hit.Title {
			t.Fatalf("hits = %+v", p.Items)
		}
		if p, err = e.viewer.Search(ctx, firebreak.SearchQuery{Q: "replica",
			Severities: []firebreak.Severity{firebreak.SEV1}}); err != nil || len(p.Items) != 0 {
			t.Fatalf("severity filter: %v %+v", err, p)
		}

		// Raw: the JSON shape, and validation as 422 naming the parameter.
		r := e.asViewer("GET", "/api/v1/search?q=vacuum", "")
		for _, field := range []string{`"kind":"incident"`, `"highlights":[{"start":`, `"ref":"` + hit.Reference + `"`,
			`"next_cursor":""`} {
			if r.status != 200 || !strings.Contains(string(r.body), field) {
				t.Fatalf("answer %d lacks %s: %s", r.status, field, r.body)
			}
		}
		fieldNamed(t, e.asViewer("GET", "/api/v1/search", "").problem(t, 422), "q")
		fieldNamed(t, e.asViewer("GET", "/api/v1/search?q=x&severity=SEV9", "").problem(t, 422), "severity")
		fieldNamed(t, e.asViewer("GET", "/api/v1/search?q=x&kind=wiki", "").problem(t, 422), "kind")
		fieldNamed(t, e.asViewer("GET", "/api/v1/search?q=x&since=yesterday", "").problem(t, 422), "since")
		fieldNamed(t, e.asViewer("GET", "/api/v1/search?q=x&cursor=%21", "").problem(t, 422), "cursor")
		fieldNamed(t, e.asViewer("GET", "/api/v1/search?q=x&bogus=1", "").problem(t, 422), "bogus")
		// Query syntax never fails.
		for _, q := range []string{`"unbalanced`, `NEAR(`, `*`, `-x`, `a:b`, `'); DROP TABLE incidents; --`} {
			if r := e.asViewer("GET", "/api/v1/search?q="+url.QueryEscape(q), ""); r.status != 200 {
				t.Errorf("q=%q: %d %s", q, r.status, r.body)
			}
		}
		if r := e.do("GET", "/api/v1/search?q=x", "", ""); r.status != http.StatusUnauthorized {
			t.Errorf("anonymous search: %d", r.status)
		}
	})
}

func TestSearchConsole(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		inc, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{
			Title: `Gateway <script>alert("x")</script> timeouts`, Severity: firebreak.SEV2, Services: []string{"api"}})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.login("vera")
		p := b.get("/search")
		if p.status != 200 || p.find(t, "#s-q").Length() != 1 || p.find(t, `nav.nav a[href="/search"]`).Length() != 1 {
			t.Fatalf("empty search page: %d", p.status)
		}
		p = b.get("/search?q=gateway&service=api&severity=")
		if p.status != 200 {
			t.Fatalf("search: %d %s", p.status, p.body)
		}
		if strings.Contains(p.body, "<script>alert") {
			t.Fatal("a title's markup reached the page unescaped")
		}
		hits := p.find(t, "#search-hits li")
		if hits.Length() != 1 || !strings.Contains(hits.Find("a.inc-link").AttrOr("href", ""), inc.Reference) {
			t.Fatalf("hits: %d", hits.Length())
		}
		marks := hits.Find(".search-snippet mark")
		if marks.Length() == 0 || !strings.EqualFold(marks.First().Text(), "gateway") {
			t.Errorf("marks: %d %q", marks.Length(), marks.Text())
		}
		if !strings.Contains(hits.Find(".search-snippet").Text(), `<script>alert("x")</script>`) {
			t.Errorf("snippet text = %q", hits.Find(".search-snippet").Text())
		}
		p = b.get("/search?q=gateway&severity=SEV9")
		if p.status != http.StatusUnprocessableEntity || p.find(t, "#search-problem").Length() != 1 {
			t.Errorf("bad severity: %d", p.status)
		}
		p = b.get("/search?q=%22nothing+like+this")
		if p.status != 200 || p.find(t, "#search-hits").Length() != 0 {
			t.Errorf("no hits: %d", p.status)
		}
	})
}
