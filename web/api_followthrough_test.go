package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
)

// Closing a SEV2 with an unpublished post-mortem and open action items is a 409 problem naming each blocker;
// a SEV3 closes.
func TestAPIClosePolicy(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		inc := e.declare("Checkout down", firebreak.SEV2)
		if _, err := e.responder.ChangeStatus(ctx, inc.ID, firebreak.StatusResolved, "", 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.responder.AddActionItem(ctx, inc.ID, firebreak.ActionItemInput{Title: "Add breakers",
			Owner: "dave"}); err != nil {
			t.Fatal(err)
		}
		p := e.asResponder("POST", "/api/v1/incidents/"+inc.Reference+"/status", `{"status":"closed"}`).
			problem(t, http.StatusConflict)
		fieldNamed(t, p, "postmortem")
		fieldNamed(t, p, "action_items[0]")
		if !strings.Contains(p.Detail, "cannot be closed yet") || !strings.Contains(p.Errors[1].Message, "Add breakers") {
			t.Fatalf("problem %+v", p)
		}
		low := e.declare("Slow page", firebreak.SEV3)
		for _, st := range []firebreak.Status{firebreak.StatusResolved, firebreak.StatusClosed} {
			if _, err := e.responder.ChangeStatus(ctx, low.ID, st, "", 0); err != nil {
				t.Fatalf("SEV3 to %s: %v", st, err)
			}
		}
	})
}

// Team channels over the API: PATCH sets them, GET shows them, an unknown one is a 422 naming channels.
func TestAPITeamChannels(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		if _, err := e.admin.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: "sre-room",
			URL: "https://hooks.example.com/sre"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin.CreateTeam(ctx, firebreak.TeamInput{Slug: "sre"}); err != nil {
			t.Fatal(err)
		}
		r := e.asAdmin("PATCH", "/api/v1/teams/sre", `{"channels":["sre-room"]}`)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"channels":["sre-room"]`) {
			t.Fatalf("patch: %d %s", r.status, r.body)
		}
		tm, err := e.viewer.GetTeam(ctx, "sre")
		if err != nil || !slices.Equal(tm.Channels, []string{"sre-room"}) {
			t.Fatalf("team %+v %v", tm, err)
		}
		p := e.asAdmin("PATCH", "/api/v1/teams/sre", `{"channels":["nope"]}`).problem(t, http.StatusUnprocessableEntity)
		fieldNamed(t, p, "channels")
		e.asResponder("PATCH", "/api/v1/teams/sre", `{"channels":[]}`).problem(t, http.StatusForbidden)
	})
}

// The follow-up reviews list, the search filters (category, tag) and the metrics' follow-through, through the
// client and raw HTTP; bad values are 422 naming the parameter.
func TestAPIFollowThroughReads(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		page, err := e.viewer.ListFollowUpReviews(ctx, firebreak.FollowUpReviewFilter{Due: true})
		if err != nil || len(page.Items) != 0 {
			t.Fatalf("reviews %+v %v", page, err)
		}
		fieldNamed(t, e.asViewer("GET", "/api/v1/follow-up-reviews?due=soon", "").problem(t, 422), "due")

		inc, err := e.responder.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Checkout timeouts in the promotion",
			Severity: firebreak.SEV2, Tags: []string{"promo-event"}})
		if err != nil || !slices.Equal(inc.Tags, []string{"promo-event"}) {
			t.Fatalf("declare with tags %+v %v", inc, err)
		}
		hits, err := e.viewer.Search(ctx, firebreak.SearchQuery{Q: "checkout", Tags: []string{"promo-event"}})
		if err != nil || len(hits.Items) != 1 || !slices.Equal(hits.Items[0].Tags, []string{"promo-event"}) {
			t.Fatalf("tag search %+v %v", hits, err)
		}
		hits, err = e.viewer.Search(ctx, firebreak.SearchQuery{Q: "checkout",
			Categories: []firebreak.FishboneCategory{firebreak.CategoryCapacity}})
		if err != nil || len(hits.Items) != 0 {
			t.Fatalf("category search %+v %v", hits, err)
		}
		fieldNamed(t, e.asViewer("GET", "/api/v1/search?q=x&category=blame", "").problem(t, 422), "category")
		fieldNamed(t, e.asViewer("GET", "/api/v1/search?q=x&tag=50%25", "").problem(t, 422), "tag")
		p := e.asResponder("PATCH", "/api/v1/incidents/"+inc.Reference, `{"tags":["no spaces"]}`).problem(t, 422)
		fieldNamed(t, p, "tags")

		rep, err := e.viewer.Metrics(ctx, firebreak.MetricsQuery{})
		if err != nil || rep.FollowThrough == nil || rep.FollowThrough.Postmortems.TargetBusinessDays != 5 {
			t.Fatalf("metrics follow-through %+v %v", rep, err)
		}
		b, err := e.viewer.MetricsCSV(ctx, firebreak.MetricsQuery{From: time.Now().Add(-time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var metrics []string
		for _, r := range rows {
			metrics = append(metrics, r[2])
		}
		for _, m := range []string{"postmortems_on_time", "action_items_on_time", "overdue_action_items"} {
			if !slices.Contains(metrics, m) {
				t.Errorf("CSV lacks %s: %v", m, metrics)
			}
		}
	})
}
