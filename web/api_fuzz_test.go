package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
