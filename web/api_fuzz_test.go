package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

// fuzzServer is a real server on a real SQLite store with an admin token. Bodies are capped at 64 KiB so the
// fuzzer also reaches the size limit.
func fuzzServer(f *testing.F) (*sqlstore.Store, *web.Server, string) {
	st := sqltest.Open(f, "sqlite")
	secret := randomSecret()
	if err := st.EnsureAdminToken(context.Background(), secret); err != nil {
		f.Fatal(err)
	}
	if _, err := st.CreateService(context.Background(), firebreak.ServiceInput{Slug: "api"}); err != nil {
		f.Fatal(err)
	}
	return st, newServer(f, st, func(c *web.Config) { c.MaxBodyBytes = 64 << 10 }), secret
}

// serveFuzz sends one request through the real handler and checks what every answer must be: never a 5xx, and
// a refusal is problem+json.
func serveFuzz(t *testing.T, srv http.Handler, secret, path string, body []byte, key string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%d for body %q: %s", rec.Code, body, rec.Body)
	}
	if rec.Code >= 300 {
		var p web.Problem
		if rec.Header().Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code || p.Detail == "" {
			t.Fatalf("refusal %d is not a problem: %s", rec.Code, rec.Body)
		}
	} else if rec.Code != http.StatusCreated {
		t.Fatalf("success is %d, want 201", rec.Code)
	}
	return rec
}

func FuzzDeclareIncident(f *testing.F) {
	st, srv, secret := fuzzServer(f)
	for _, s := range []string{
		`{"title":"Checkout down","severity":"SEV1"}`,
		`{"title":"API slow","summary":"p99","severity":"SEV2","services":["api"],"status":"investigating"}`,
		`{"title":"x","severity":"SEV3","roles":{"commander":"alice"},"impact_started_at":"2024-05-01T14:00:00Z"}`,
		`{"title":"x","severity":"SEV3","detected_at":"2024-05-01T13:00:00Z","impact_started_at":"2024-05-01T14:00:00Z"}`,
		`{"title":"x","severity":"SEV1","services":["nope"]}`,
		`{"title":"","severity":"SEV1"}`,
		`{"title":1}`,
		`{"title":"x","severity":"SEV1","extra":true}`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte(`{"title":"Retry me","severity":"SEV2"}`), "key-1")
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		rec := serveFuzz(t, srv, secret, "/api/v1/incidents", body, key)
		if rec.Code != http.StatusCreated {
			return
		}
		var inc firebreak.Incident
		if err := json.Unmarshal(rec.Body.Bytes(), &inc); err != nil {
			t.Fatalf("201 body: %v", err)
		}
		stored, err := st.GetIncident(context.Background(), inc.ID)
		if err != nil {
			t.Fatalf("201 for %q but the incident is not stored: %v", body, err)
		}
		if stored.Title != inc.Title || stored.Severity != inc.Severity || stored.Status != inc.Status ||
			!stored.Severity.Valid() || !stored.Status.Open() || stored.Title == "" {
			t.Fatalf("stored %+v, answered %+v", stored, inc)
		}
		if rec.Header().Get("Location") != "/api/v1/incidents/"+inc.ID {
			t.Fatalf("Location %q", rec.Header().Get("Location"))
		}
	})
}

func FuzzTimelineNote(f *testing.F) {
	st, srv, secret := fuzzServer(f)
	inc, err := st.DeclareIncident(context.Background(), firebreak.DeclareInput{Title: "Fuzz target", Severity: firebreak.SEV3})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"kind":"note","message":"deploy went out"}`,
		`{"message":"backdated","occurred_at":"2024-05-01T14:00:00Z","starred":true}`,
		`{"kind":"note","message":"future","occurred_at":"2999-01-01T00:00:00Z"}`,
		`{"kind":"declared","message":"x"}`,
		`{"message":""}`,
		`{"message":"x","occurred_at":"14:00"}`,
		`{"message":5}`,
		`{"message":"\u0000"}`,
		`"note"`, `{}`, `{"message":"x"} trailing`,
	} {
		f.Add([]byte(s))
	}
	path := "/api/v1/incidents/" + inc.ID + "/timeline"
	f.Fuzz(func(t *testing.T, body []byte) {
		ctx := context.Background()
		rec := serveFuzz(t, srv, secret, path, body, "")
		if rec.Code != http.StatusCreated {
			return
		}
		var ev firebreak.TimelineEvent
		if err := json.Unmarshal(rec.Body.Bytes(), &ev); err != nil {
			t.Fatalf("201 body: %v", err)
		}
		p, err := st.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{AfterID: ev.ID - 1, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != 1 || p.Items[0].ID != ev.ID || p.Items[0].Message != ev.Message ||
			p.Items[0].Kind != firebreak.EventNote || ev.Message == "" {
			t.Fatalf("201 for %q but stored %+v (answered %+v)", body, p.Items, ev)
		}
	})
}

// serveGetFuzz sends a GET with a raw query through the real handler: never a 5xx, a refusal is problem+json
// naming a field, and a success is a list envelope.
func serveGetFuzz(t *testing.T, srv http.Handler, secret, path, rawQuery string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.URL.RawQuery = rawQuery
	req.Header.Set("Authorization", "Bearer "+secret)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		t.Fatalf("%d for query %q: %s", rec.Code, rawQuery, rec.Body)
	}
	if rec.Code != http.StatusOK {
		var p web.Problem
		if rec.Header().Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Status != rec.Code || p.Detail == "" {
			t.Fatalf("refusal %d for %q is not a problem: %s", rec.Code, rawQuery, rec.Body)
		}
		return rec
	}
	var page struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor *string           `json:"next_cursor"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || page.Items == nil || page.NextCursor == nil {
		t.Fatalf("200 for %q is not a list envelope: %s", rawQuery, rec.Body)
	}
	return rec
}

// FuzzListQueries: list filters, limits and cursors come straight from URLs that people and scripts write.
func FuzzListQueries(f *testing.F) {
	st, srv, secret := fuzzServer(f)
	ctx := context.Background()
	var inc *firebreak.Incident
	for i := range 3 {
		var err error
		inc, err = st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Listed", Severity: firebreak.SEV2,
			Services: []string{"api"}})
		if err != nil {
			f.Fatal(err)
		}
		if _, err := st.AddTimelineEvent(ctx, inc.ID, firebreak.TimelineInput{Message: "note", Starred: i == 1}); err != nil {
			f.Fatal(err)
		}
	}
	first := serveGetFuzzSeed(f, srv, secret, "/api/v1/incidents", "limit=1")
	for _, q := range []string{"", "status=detected,investigating&severity=SEV2", "service=api&open=true",
		"since=2026-01-01T00:00:00Z&until=2027-01-01T00:00:00Z", "q=list", "limit=0", "limit=10000", "limit=x",
		"cursor=" + first, "cursor=%%%", "cursor=AAAA", "status=bogus", "since=yesterday", "until=2020-01-01T00:00:00Z&since=2021-01-01T00:00:00Z",
		"stauts=detected", "limit=1&limit=2"} {
		f.Add("/api/v1/incidents", q)
	}
	tl := "/api/v1/incidents/" + inc.ID + "/timeline"
	for _, q := range []string{"", "starred=true", "after=0", "after=-1", "after=x", "limit=1", "cursor=Zm9v", "starred=maybe"} {
		f.Add(tl, q)
	}
	f.Add("/api/v1/services", "limit=1&cursor=api")
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		switch path {
		case "/api/v1/incidents", tl, "/api/v1/services":
		default:
			return // the paths are fixed; the fuzzer varies the query
		}
		serveGetFuzz(t, srv, secret, path, rawQuery)
	})
}

func serveGetFuzzSeed(f *testing.F, srv http.Handler, secret, path, rawQuery string) string {
	req := httptest.NewRequest("GET", path+"?"+rawQuery, nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil || page.NextCursor == "" {
		f.Fatalf("seed list: %d %s", rec.Code, rec.Body)
	}
	return page.NextCursor
}

// FuzzIfMatch: the If-Match header of an update is outside input; a write happens only when it names the
// current version (or is absent or "*"), and nothing answers 5xx.
func FuzzIfMatch(f *testing.F) {
	st, srv, secret := fuzzServer(f)
	inc, err := st.DeclareIncident(context.Background(), firebreak.DeclareInput{Title: "Versioned", Severity: firebreak.SEV3})
	if err != nil {
		f.Fatal(err)
	}
	for _, h := range []string{`"1"`, `"2"`, `W/"1"`, `1`, `*`, `"1", "2"`, `""`, `"0"`, `"-1"`, `"99999999999999999999"`, ``} {
		f.Add(h)
	}
	path := "/api/v1/incidents/" + inc.ID
	f.Fuzz(func(t *testing.T, ifMatch string) {
		ctx := context.Background()
		before, err := st.GetIncident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("PATCH", path, bytes.NewReader([]byte(`{"summary":"`+strconvQuote(ifMatch)+`"}`)))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header["If-Match"] = []string{ifMatch}
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%d for If-Match %q: %s", rec.Code, ifMatch, rec.Body)
		}
		after, err := st.GetIncident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Code != http.StatusOK && after.Version != before.Version {
			t.Fatalf("refused (%d) but written, If-Match %q", rec.Code, ifMatch)
		}
		current := `"` + strconvItoa(before.Version) + `"`
		sent := strings.Trim(ifMatch, " \t") // optional whitespace around a header value is not part of it
		if rec.Code == http.StatusOK && sent != "" && sent != "*" && sent != current {
			t.Fatalf("If-Match %q accepted against version %d", ifMatch, before.Version)
		}
	})
}

func strconvItoa(n int64) string { return strconv.FormatInt(n, 10) }

// strconvQuote makes s safe inside a JSON string literal (without the surrounding quotes).
func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
