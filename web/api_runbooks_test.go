package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

func TestAPIRunbooks(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		e.service("db")
		e.service("api")

		// Create over HTTP: 201, Location, ETag "1"; the owner defaults to the author.
		res := e.asResponder(http.MethodPost, "/api/v1/runbooks",
			`{"service": "db", "title": "Failover", "body": "# Failover\n\n1. Promote the replica"}`)
		if res.status != http.StatusCreated || res.header.Get("ETag") != `"1"` {
			t.Fatalf("create: %d %s %v", res.status, res.body, res.header)
		}
		var rb firebreak.Runbook
		res.json(t, &rb)
		if rb.Owner != e.responderU || rb.Stale || rb.Version != 1 || res.header.Get("Location") != "/api/v1/runbooks/"+rb.ID {
			t.Fatalf("created %+v", rb)
		}
		path := "/api/v1/runbooks/" + rb.ID

		// PATCH needs If-Match; a stale one is 412 with the current version as ETag.
		e.asResponder(http.MethodPatch, path, `{"title": "x"}`).problem(t, http.StatusBadRequest)
		ok := e.asResponder(http.MethodPatch, path, `{"body": "1. Promote through the operator"}`, "If-Match", `"1"`)
		if ok.status != http.StatusOK || ok.header.Get("ETag") != `"2"` {
			t.Fatalf("patch: %d %s", ok.status, ok.body)
		}
		stale := e.asResponder(http.MethodPatch, path, `{"title": "Old"}`, "If-Match", `"1"`)
		pr := stale.problem(t, http.StatusPreconditionFailed)
		if stale.header.Get("ETag") != `"2"` || !strings.Contains(pr.Detail, "current version is 2") {
			t.Fatalf("412: %v %q", stale.header, pr.Detail)
		}
		pb := e.asResponder(http.MethodPatch, path, `{"owner": "nobody"}`, "If-Match", `"2"`).
			problem(t, http.StatusUnprocessableEntity)
		fieldNamed(t, pb, "owner")
		pb = e.asResponder(http.MethodPost, "/api/v1/runbooks", `{"service": "nope", "title": "t", "body": "b"}`).
			problem(t, http.StatusUnprocessableEntity)
		fieldNamed(t, pb, "service")
		e.asViewer(http.MethodPost, "/api/v1/runbooks", `{"service": "db", "title": "t", "body": "b"}`).
			problem(t, http.StatusForbidden)
		e.asViewer(http.MethodGet, "/api/v1/runbooks/not-an-id", "").problem(t, http.StatusNotFound)

		// The client: edit without a version (it reads the current one), revisions, review.
		title := "Database failover"
		v3, err := e.responder.UpdateRunbook(ctx, rb.ID, firebreak.RunbookPatch{Title: &title}, 0)
		if err != nil || v3.Version != 3 {
			t.Fatalf("client update %+v %v", v3, err)
		}
		revs, err := e.viewer.ListRunbookRevisions(ctx, rb.ID)
		if err != nil || len(revs) != 3 || revs[0].Body != "# Failover\n\n1. Promote the replica" || revs[2].Title != title {
			t.Fatalf("revisions %+v %v", revs, err)
		}
		e.asResponder(http.MethodPost, path+"/review", "", "If-Match", `"2"`).problem(t, http.StatusPreconditionFailed)
		rev, err := e.responder.ReviewRunbook(ctx, rb.ID, 3)
		if err != nil || rev.LastReviewedBy != e.responderU || rev.LastReviewedAt == nil || rev.Version != 3 {
			t.Fatalf("review %+v %v", rev, err)
		}

		// An architecture change of the service (PATCH /services) makes it stale; ?stale=true lists it.
		changed := time.Now().UTC() // after the review
		if _, err := e.admin.UpdateService(ctx, "db", firebreak.ServicePatch{ArchitectureChangedAt: &changed}, 0); err != nil {
			t.Fatal(err)
		}
		got, err := e.viewer.GetRunbook(ctx, rb.ID)
		if err != nil || !got.Stale || len(got.StaleReasons) != 1 {
			t.Fatalf("after the architecture change: %+v %v", got, err)
		}
		other, err := e.responder.CreateRunbook(ctx, firebreak.RunbookInput{Service: "api", Title: "Rate limits",
			Body: "Raise them.", Owner: "test-viewer"})
		if err != nil || other.Owner != "test-viewer" {
			t.Fatalf("create for api: %+v %v", other, err)
		}
		var page struct {
			Items []firebreak.Runbook `json:"items"`
		}
		e.asViewer(http.MethodGet, "/api/v1/runbooks?stale=true", "").json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != rb.ID {
			t.Fatalf("stale=true: %+v", page.Items)
		}
		e.asViewer(http.MethodGet, "/api/v1/runbooks?service=api&stale=false", "").json(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != other.ID {
			t.Fatalf("service=api&stale=false: %+v", page.Items)
		}
		fieldNamed(t, e.asViewer(http.MethodGet, "/api/v1/runbooks?stale=maybe", "").problem(t, http.StatusUnprocessableEntity), "stale")
		fieldNamed(t, e.asViewer(http.MethodGet, "/api/v1/runbooks?owner=x", "").problem(t, http.StatusUnprocessableEntity), "owner")
		pb = e.asAdmin(http.MethodPatch, "/api/v1/services/db", `{"architecture_changed_at": "2999-01-01T00:00:00Z"}`).
			problem(t, http.StatusUnprocessableEntity)
		fieldNamed(t, pb, "architecture_changed_at")

		// Runbooks are in the knowledge base.
		hits, err := e.viewer.Search(ctx, firebreak.SearchQuery{Q: "operator", Kinds: []string{"runbook"}})
		if err != nil || len(hits.Items) != 1 || hits.Items[0].ID != rb.ID || hits.Items[0].Kind != "runbook" {
			t.Fatalf("search %+v %v", hits, err)
		}
	})
}
