package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

func TestAPIAuthentication(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		for _, c := range []struct{ name, auth string }{
			{"no token", ""},
			{"wrong token", "Bearer fbt_not-a-real-token"},
			{"not bearer", "Basic dXNlcjpwYXNz"},
			{"empty bearer", "Bearer "},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.do("GET", "/api/v1/incidents", "", "", "Authorization", c.auth)
				r.problem(t, http.StatusUnauthorized)
				if r.header.Get("WWW-Authenticate") == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
				r = e.do("POST", "/api/v1/incidents", "", `{"title":"x","severity":"SEV1"}`, "Authorization", c.auth)
				r.problem(t, http.StatusUnauthorized)
			})
		}
		// Through the client, a bad token is EUnauthorized.
		_, err := client.New(e.url, "fbt_wrong").ListIncidents(context.Background(), firebreak.IncidentFilter{})
		wantCode(t, err, firebreak.EUnauthorized)

		// The document is public.
		r := e.do("GET", "/api/v1/openapi.json", "", "")
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Fatalf("openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
		}
	})
}

func TestAPIRoles(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		inc := e.declare("Checkout errors", firebreak.SEV2)
		path := "/api/v1/incidents/" + inc.ID

		// A viewer reads everything about incidents but changes nothing.
		for _, p := range []string{"/api/v1/incidents", path, path + "/timeline", path + "/updates",
			path + "/action-items", "/api/v1/services", "/api/v1/severities", "/api/v1/me"} {
			if r := e.asViewer("GET", p, ""); r.status != http.StatusOK {
				t.Fatalf("viewer GET %s: %d %s", p, r.status, r.body)
			}
		}
		writes := []struct{ method, path, body string }{
			{"POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1"}`},
			{"PATCH", path, `{"title":"y"}`},
			{"POST", path + "/status", `{"status":"investigating"}`},
			{"POST", path + "/roles", `{"role":"commander","user":"test-viewer"}`},
			{"POST", path + "/timeline", `{"kind":"note","message":"hi"}`},
			{"POST", path + "/timeline/1/star", ``},
			{"DELETE", path + "/timeline/1/star", ``},
			{"POST", path + "/updates", `{"message":"hi","audience":"internal"}`},
			{"POST", path + "/action-items", `{"title":"fix"}`},
			{"PATCH", path + "/action-items/x", `{"title":"fix"}`},
			{"POST", "/api/v1/services", `{"slug":"db","name":"DB"}`},
			{"PATCH", "/api/v1/services/db", `{"name":"DB"}`},
			{"POST", "/api/v1/users", `{"username":"eve","role":"admin"}`},
			{"POST", "/api/v1/tokens", `{"username":"test-viewer","name":"more"}`},
		}
		for _, w := range writes {
			p := e.asViewer(w.method, w.path, w.body).problem(t, http.StatusForbidden)
			if !strings.Contains(p.Detail, "viewer") {
				t.Fatalf("403 detail should say which role: %q", p.Detail)
			}
		}
		_, err := e.viewer.DeclareIncident(ctx, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV1})
		wantCode(t, err, firebreak.EForbidden)

		// A responder acts on incidents but configures nothing.
		if _, err := e.responder.ChangeStatus(ctx, inc.ID, firebreak.StatusInvestigating, "", 0); err != nil {
			t.Fatal(err)
		}
		_, err = e.responder.CreateService(ctx, firebreak.ServiceInput{Slug: "db"})
		wantCode(t, err, firebreak.EForbidden)
		_, err = e.responder.CreateUser(ctx, firebreak.UserInput{Username: "eve", Role: firebreak.RoleAdmin})
		wantCode(t, err, firebreak.EForbidden)
		_, err = e.responder.CreateToken(ctx, firebreak.TokenInput{Username: "test-responder", Name: "x"})
		wantCode(t, err, firebreak.EForbidden)
		_, err = e.responder.ListUsers(ctx)
		wantCode(t, err, firebreak.EForbidden)
		_, err = e.viewer.GetUser(ctx, "test-viewer")
		wantCode(t, err, firebreak.EForbidden)

		// An admin can.
		svc := e.service("db")
		if _, err := e.admin.UpdateService(ctx, "db", firebreak.ServicePatch{Tier: new(1)}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.admin.CreateUser(ctx, firebreak.UserInput{Username: "eve", Role: firebreak.RoleViewer}); err != nil {
			t.Fatal(err)
		}
		// Admins act on incidents too.
		if _, err := e.admin.UpdateIncident(ctx, inc.ID, firebreak.IncidentPatch{Services: &[]string{svc.Slug}}, 0); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAPIMe(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		for role, c := range map[firebreak.UserRole]*client.Client{firebreak.RoleViewer: e.viewer,
			firebreak.RoleResponder: e.responder, firebreak.RoleAdmin: e.admin} {
			me, err := c.Me(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if me.Role != role || me.Username == "" {
				t.Fatalf("me as %s: %+v", role, me)
			}
		}
		// A token may act with less than its user's role; /me tells the role the token acts with.
		tok, err := e.admin.CreateToken(ctx, firebreak.TokenInput{Username: "test-responder", Name: "read-only",
			Role: firebreak.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		me, err := client.New(e.url, tok.Secret).Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if me.Username != "test-responder" || me.Role != firebreak.RoleViewer {
			t.Fatalf("me with a viewer token of a responder: %+v", me)
		}
		_, err = client.New(e.url, tok.Secret).DeclareIncident(ctx, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV3})
		wantCode(t, err, firebreak.EForbidden)
	})
}

func TestAPIUsersAndTokens(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		r := e.asAdmin("POST", "/api/v1/users", `{"username":"alice","name":"Alice","email":"alice@example.com","role":"responder"}`)
		if r.status != http.StatusCreated || r.header.Get("Location") != "/api/v1/users/alice" {
			t.Fatalf("create user: %d %s %s", r.status, r.header.Get("Location"), r.body)
		}
		var u firebreak.User
		r.json(t, &u)
		if u.Username != "alice" || u.Role != firebreak.RoleResponder || u.ID == "" {
			t.Fatalf("created user %+v", u)
		}
		got, err := e.admin.GetUser(ctx, "alice")
		if err != nil || got.Email != "alice@example.com" {
			t.Fatalf("get user: %+v %v", got, err)
		}
		_, err = e.admin.GetUser(ctx, "nobody")
		wantCode(t, err, firebreak.ENotFound)
		_, err = e.admin.CreateUser(ctx, firebreak.UserInput{Username: "alice"})
		wantCode(t, err, firebreak.EConflict)
		_, err = e.admin.CreateUser(ctx, firebreak.UserInput{Username: "Not Valid!"})
		wantCode(t, err, firebreak.EInvalid, "username")
		e.asAdmin("POST", "/api/v1/users", `{"username":"bob","role":"root"}`).problem(t, 422)

		users, err := e.admin.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range users {
			names = append(names, u.Username)
		}
		for _, want := range []string{"alice", "test-responder", "test-viewer"} {
			if !slices.Contains(names, want) {
				t.Fatalf("ListUsers %v lacks %s", names, want)
			}
		}
		// Users page like every list.
		var pg struct {
			Items      []firebreak.User `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		e.asAdmin("GET", "/api/v1/users?limit=1", "").json(t, &pg)
		if len(pg.Items) != 1 || pg.NextCursor == "" {
			t.Fatalf("users page: %+v", pg)
		}

		tok, err := e.admin.CreateToken(ctx, firebreak.TokenInput{Username: "alice", Name: "laptop"})
		if err != nil {
			t.Fatal(err)
		}
		if tok.Secret == "" || tok.Username != "alice" || tok.Role != firebreak.RoleResponder {
			t.Fatalf("token %+v", tok)
		}
		alice := client.New(e.url, tok.Secret)
		inc, err := alice.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Alice's incident", Severity: firebreak.SEV3})
		if err != nil {
			t.Fatal(err)
		}
		if inc.CreatedBy != "alice" {
			t.Fatalf("created_by %q, want alice", inc.CreatedBy)
		}
		_, err = e.admin.CreateToken(ctx, firebreak.TokenInput{Username: "nobody", Name: "x"})
		if code := firebreak.ErrorCode(err); code != firebreak.ENotFound && code != firebreak.EInvalid {
			t.Fatalf("token for unknown user: %v", err)
		}
		// A token cannot act above its user.
		_, err = e.admin.CreateToken(ctx, firebreak.TokenInput{Username: "alice", Name: "x", Role: firebreak.RoleAdmin})
		wantCode(t, err, firebreak.EInvalid, "role")
		// The secret cannot be chosen through the API.
		p := e.asAdmin("POST", "/api/v1/tokens", `{"username":"alice","name":"x","token":"mine"}`).problem(t, 422)
		fieldNamed(t, p, "token")

		// Listing never shows secrets; users see their own tokens, admins anyone's.
		own, err := alice.ListTokens(ctx, "")
		if err != nil || len(own) != 1 || own[0].ID != tok.ID || own[0].Secret != "" || own[0].Name != "laptop" {
			t.Fatalf("alice's tokens: %+v %v", own, err)
		}
		_, err = alice.ListTokens(ctx, "test-viewer")
		wantCode(t, err, firebreak.EForbidden)
		all, err := e.admin.ListTokens(ctx, "")
		if err != nil || len(all) < 4 {
			t.Fatalf("admin lists %d tokens: %v", len(all), err)
		}
		if strings.Contains(string(e.asAdmin("GET", "/api/v1/tokens", "").body), tok.Secret) {
			t.Fatal("a token list shows a secret")
		}
		// Someone else's token looks not found to a non-admin; one's own can be revoked, and then it is dead.
		viewerTokens, err := e.admin.ListTokens(ctx, "test-viewer")
		if err != nil || len(viewerTokens) == 0 {
			t.Fatal(viewerTokens, err)
		}
		wantCode(t, alice.RevokeToken(ctx, viewerTokens[0].ID), firebreak.ENotFound)
		if _, err := e.viewer.Me(ctx); err != nil {
			t.Fatalf("the viewer's token died from a refused revoke: %v", err)
		}
		if err := alice.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err = alice.Me(ctx)
		wantCode(t, err, firebreak.EUnauthorized)
		wantCode(t, e.admin.RevokeToken(ctx, tok.ID), firebreak.ENotFound)
	})
}

func TestAPIIncidentLifecycle(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		// The lifecycle alone: no close policy (TestAPIClosePolicy covers it).
		e.st.SetFollowThroughPolicy(firebreak.FollowThroughPolicy{CloseRequires: []firebreak.Severity{}})
		e.service("api")
		e.service("db")

		// Declare: 201, Location, ETag; the automation contract's fields.
		r := e.asResponder("POST", "/api/v1/incidents",
			`{"title":"API latency","summary":"p99 > 2s","severity":"SEV2","services":["api"]}`)
		if r.status != http.StatusCreated {
			t.Fatalf("declare: %d %s", r.status, r.body)
		}
		var raw map[string]any
		r.json(t, &raw)
		for _, k := range []string{"id", "number", "title", "summary", "severity", "status", "services", "roles", "milestones"} {
			if _, ok := raw[k]; !ok {
				t.Fatalf("incident JSON lacks %q: %s", k, r.body)
			}
		}
		var inc firebreak.Incident
		r.json(t, &inc)
		if inc.Status != firebreak.StatusDetected || inc.Severity != firebreak.SEV2 || !slices.Equal(inc.Services, []string{"api"}) {
			t.Fatalf("declared %+v", inc)
		}
		if loc := r.header.Get("Location"); loc != "/api/v1/incidents/"+inc.ID {
			t.Fatalf("Location %q", loc)
		}
		if et := r.header.Get("ETag"); et != strconv.Quote(strconv.FormatInt(inc.Version, 10)) {
			t.Fatalf("ETag %q, version %d", et, inc.Version)
		}
		if r.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("first request marked as replay")
		}

		// A declaration may name its starting status and roles.
		inv, err := e.responder.DeclareIncident(ctx, firebreak.DeclareInput{Title: "DB down", Severity: firebreak.SEV1,
			Status: firebreak.StatusInvestigating, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "test-responder"}})
		if err != nil {
			t.Fatal(err)
		}
		if inv.Status != firebreak.StatusInvestigating || inv.Roles[firebreak.RoleCommander] != "test-responder" {
			t.Fatalf("declared with status and role: %+v", inv)
		}

		// Get by UUID, INC-n and n.
		for _, ref := range []string{inc.ID, "INC-" + strconv.FormatInt(inc.Number, 10), strconv.FormatInt(inc.Number, 10)} {
			got, err := e.viewer.GetIncident(ctx, ref)
			if err != nil {
				t.Fatalf("get %s: %v", ref, err)
			}
			if got.ID != inc.ID {
				t.Fatalf("get %s gave %s", ref, got.ID)
			}
		}
		_, err = e.viewer.GetIncident(ctx, "INC-99999")
		wantCode(t, err, firebreak.ENotFound)
		e.asViewer("GET", "/api/v1/incidents/"+"00000000-0000-0000-0000-000000000000", "").problem(t, 404)

		// Patch.
		inc2, err := e.responder.UpdateIncident(ctx, "INC-"+strconv.FormatInt(inc.Number, 10), firebreak.IncidentPatch{
			Title: new("API latency in eu-west"), Services: &[]string{"api", "db"}, Reason: "scope grew"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if inc2.Title != "API latency in eu-west" || len(inc2.Services) != 2 || inc2.Version <= inc.Version {
			t.Fatalf("patched %+v", inc2)
		}

		// Status: 200 with the incident and its new ETag.
		r = e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/status", `{"status":"investigating","message":"looking"}`)
		if r.status != http.StatusOK {
			t.Fatalf("status: %d %s", r.status, r.body)
		}
		var inc3 firebreak.Incident
		r.json(t, &inc3)
		if inc3.Status != firebreak.StatusInvestigating || inc3.Milestones.AcknowledgedAt == nil ||
			r.header.Get("ETag") != strconv.Quote(strconv.FormatInt(inc3.Version, 10)) {
			t.Fatalf("after status change: %+v ETag %s", inc3, r.header.Get("ETag"))
		}

		// Roles: 200 with the incident.
		r = e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/roles", `{"role":"commander","user":"test-responder"}`)
		if r.status != http.StatusOK {
			t.Fatalf("roles: %d %s", r.status, r.body)
		}
		var inc4 firebreak.Incident
		r.json(t, &inc4)
		if inc4.Roles[firebreak.RoleCommander] != "test-responder" || r.header.Get("ETag") == "" {
			t.Fatalf("after role: %+v", inc4)
		}
		if _, err := e.responder.AssignRole(ctx, inc.ID, firebreak.RoleTechLead, "test-viewer", 0); err != nil {
			t.Fatal(err)
		}
		_, err = e.responder.AssignRole(ctx, inc.ID, "janitor", "test-viewer", 0)
		wantCode(t, err, firebreak.EInvalid, "role")

		// Timeline: a backdated note, then the full timeline in time order.
		at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		r = e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/timeline",
			fmt.Sprintf(`{"kind":"note","message":"deploy 1234 went out","occurred_at":%q}`, at.Format(time.RFC3339)))
		if r.status != http.StatusCreated {
			t.Fatalf("note: %d %s", r.status, r.body)
		}
		var note firebreak.TimelineEvent
		r.json(t, &note)
		if note.Kind != firebreak.EventNote || !note.OccurredAt.Equal(at) || note.Actor != "test-responder" {
			t.Fatalf("note %+v", note)
		}
		if loc := r.header.Get("Location"); loc != fmt.Sprintf("/api/v1/incidents/%s/timeline/%d", inc.ID, note.ID) {
			t.Fatalf("note Location %q", loc)
		}
		got, err := e.viewer.GetTimelineEvent(ctx, inc.ID, note.ID)
		if err != nil || got.Message != "deploy 1234 went out" {
			t.Fatalf("get note: %+v %v", got, err)
		}
		tl, err := e.viewer.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(tl.Items) < 5 || tl.Items[0].ID != note.ID {
			t.Fatalf("timeline (backdated note first): %+v", tl.Items)
		}
		kinds := map[firebreak.EventKind]bool{}
		for i, ev := range tl.Items {
			kinds[ev.Kind] = true
			if i > 0 && ev.OccurredAt.Before(tl.Items[i-1].OccurredAt) {
				t.Fatal("timeline not in time order")
			}
		}
		for _, k := range []firebreak.EventKind{firebreak.EventDeclared, firebreak.EventStatusChanged,
			firebreak.EventRoleAssigned, firebreak.EventNote, firebreak.EventTitleChanged} {
			if !kinds[k] {
				t.Fatalf("timeline lacks %s: %v", k, kinds)
			}
		}

		// Star and unstar; starred=true filters.
		r = e.asResponder("POST", fmt.Sprintf("/api/v1/incidents/%s/timeline/%d/star", inc.ID, note.ID), "")
		if r.status != http.StatusOK {
			t.Fatalf("star: %d %s", r.status, r.body)
		}
		starred, err := e.viewer.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{StarredOnly: true})
		if err != nil || len(starred.Items) != 1 || starred.Items[0].ID != note.ID || !starred.Items[0].Starred {
			t.Fatalf("starred: %+v %v", starred, err)
		}
		if ev, err := e.responder.StarTimelineEvent(ctx, inc.ID, note.ID, false); err != nil || ev.Starred {
			t.Fatalf("unstar: %+v %v", ev, err)
		}
		if starred, _ := e.viewer.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{StarredOnly: true}); len(starred.Items) != 0 {
			t.Fatalf("still starred: %+v", starred.Items)
		}
		_, err = e.responder.StarTimelineEvent(ctx, inc.ID, 99999999, true)
		wantCode(t, err, firebreak.ENotFound)
		e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/timeline/abc/star", "").problem(t, 404)
		// An event of another incident is not found through this one.
		_, err = e.responder.StarTimelineEvent(ctx, inv.ID, note.ID, true)
		wantCode(t, err, firebreak.ENotFound)

		// after=<event id> tails the timeline.
		tail, err := e.viewer.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{AfterID: note.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(tail.Items) != 0 {
			t.Fatalf("events after the last one: %+v", tail.Items)
		}

		// Updates.
		r = e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/updates", `{"message":"We are investigating.","audience":"external"}`)
		if r.status != http.StatusCreated {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		var upd firebreak.StatusUpdate
		r.json(t, &upd)
		if upd.Audience != firebreak.AudienceExternal || upd.Status != firebreak.StatusInvestigating ||
			r.header.Get("Location") != "/api/v1/incidents/"+inc.ID+"/updates/"+upd.ID {
			t.Fatalf("update %+v at %s", upd, r.header.Get("Location"))
		}
		ups, err := e.viewer.ListUpdates(ctx, inc.ID)
		if err != nil || len(ups) != 1 || ups[0].ID != upd.ID {
			t.Fatalf("updates %+v %v", ups, err)
		}
		if u, err := e.viewer.GetUpdate(ctx, inc.ID, upd.ID); err != nil || u.Message != "We are investigating." {
			t.Fatalf("get update %+v %v", u, err)
		}
		_, err = e.viewer.GetUpdate(ctx, inc.ID, "nope")
		wantCode(t, err, firebreak.ENotFound)
		_, err = e.responder.PostUpdate(ctx, inc.ID, firebreak.UpdateInput{Message: "x", Audience: "everyone"})
		wantCode(t, err, firebreak.EInvalid, "audience")

		// Action items: create, get with ETag, patch with If-Match, list.
		r = e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/action-items",
			`{"title":"Add a p99 alert","owner":"test-responder","due_date":"2030-01-31","priority":"high","kind":"detect"}`)
		if r.status != http.StatusCreated {
			t.Fatalf("action item: %d %s", r.status, r.body)
		}
		var item firebreak.ActionItem
		r.json(t, &item)
		if item.Status != firebreak.ActionOpen || item.Kind != firebreak.KindDetect || r.header.Get("ETag") == "" ||
			r.header.Get("Location") != "/api/v1/incidents/"+inc.ID+"/action-items/"+item.ID {
			t.Fatalf("item %+v", item)
		}
		r = e.asViewer("GET", "/api/v1/incidents/"+inc.ID+"/action-items/"+item.ID, "")
		if r.status != 200 || r.header.Get("ETag") != strconv.Quote(strconv.FormatInt(item.Version, 10)) {
			t.Fatalf("get item: %d %s %s", r.status, r.header.Get("ETag"), r.body)
		}
		item2, err := e.responder.UpdateActionItem(ctx, inc.ID, item.ID, firebreak.ActionItemPatch{
			Status: new(firebreak.ActionInProgress)}, item.Version)
		if err != nil || item2.Status != firebreak.ActionInProgress || item2.Version <= item.Version {
			t.Fatalf("patch item: %+v %v", item2, err)
		}
		_, err = e.responder.UpdateActionItem(ctx, inc.ID, item.ID, firebreak.ActionItemPatch{
			Status: new(firebreak.ActionNotDoing)}, 0)
		wantCode(t, err, firebreak.EInvalid, "reason")
		items, err := e.viewer.ListActionItems(ctx, inc.ID)
		if err != nil || len(items) != 1 || items[0].Status != firebreak.ActionInProgress {
			t.Fatalf("items %+v %v", items, err)
		}
		if a, err := e.viewer.GetActionItem(ctx, inc.ID, item.ID); err != nil || a.Version != item2.Version {
			t.Fatalf("get item %+v %v", a, err)
		}
		_, err = e.viewer.GetActionItem(ctx, inc.ID, "nope")
		wantCode(t, err, firebreak.ENotFound)

		// Resolve, close; the final state refuses further changes.
		for _, st := range []firebreak.Status{firebreak.StatusResolved, firebreak.StatusClosed} {
			if _, err := e.responder.ChangeStatus(ctx, inc.ID, st, "", 0); err != nil {
				t.Fatal(err)
			}
		}
		final, err := e.viewer.GetIncident(ctx, inc.ID)
		if err != nil || final.Milestones.ResolvedAt == nil || final.Milestones.ClosedAt == nil {
			t.Fatalf("closed incident %+v %v", final, err)
		}
	})
}

func TestAPIInvalidTransition(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		inc := e.declare("Queue backlog", firebreak.SEV3)
		// detected → closed is not allowed.
		p := e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/status", `{"status":"closed"}`).problem(t, http.StatusConflict)
		want := []string{"investigating", "identified", "mitigating", "resolved", "cancelled"}
		if !slices.Equal(p.Allowed, want) {
			t.Fatalf("allowed %v, want %v", p.Allowed, want)
		}
		_, err := e.responder.ChangeStatus(ctx, inc.ID, firebreak.StatusClosed, "", 0)
		fe := wantCode(t, err, firebreak.EConflict)
		if !slices.Equal(fe.Allowed, want) {
			t.Fatalf("client Allowed %v", fe.Allowed)
		}
		// Unknown and missing statuses are 422 naming status.
		p = e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/status", `{"status":"bogus"}`).problem(t, 422)
		fieldNamed(t, p, "status")
		p = e.asResponder("POST", "/api/v1/incidents/"+inc.ID+"/status", `{"message":"hm"}`).problem(t, 422)
		fieldNamed(t, p, "status")
		// A cancelled incident allows nothing.
		if _, err := e.responder.ChangeStatus(ctx, inc.ID, firebreak.StatusCancelled, "false alarm", 0); err != nil {
			t.Fatal(err)
		}
		_, err = e.responder.ChangeStatus(ctx, inc.ID, firebreak.StatusInvestigating, "", 0)
		if fe := wantCode(t, err, firebreak.EConflict); len(fe.Allowed) != 0 {
			t.Fatalf("allowed from cancelled: %v", fe.Allowed)
		}
	})
}

func TestAPIIdempotency(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		body := `{"title":"Payments failing","severity":"SEV1"}`
		first := e.asResponder("POST", "/api/v1/incidents", body, "Idempotency-Key", "alert-123")
		if first.status != http.StatusCreated {
			t.Fatalf("first: %d %s", first.status, first.body)
		}
		var a, b firebreak.Incident
		first.json(t, &a)
		again := e.asResponder("POST", "/api/v1/incidents", body, "Idempotency-Key", "alert-123")
		if again.status != http.StatusCreated || again.header.Get("Idempotent-Replayed") != "true" ||
			again.header.Get("Location") != first.header.Get("Location") || again.header.Get("ETag") == "" {
			t.Fatalf("replay: %d %v %s", again.status, again.header, again.body)
		}
		again.json(t, &b)
		if a.ID != b.ID || a.Number != b.Number {
			t.Fatalf("replay created another incident: %s vs %s", a.ID, b.ID)
		}
		// Through the client: same key → same incident.
		kctx := firebreak.WithIdempotency(ctx, firebreak.Idempotency{Key: "alert-123"})
		c, err := e.responder.DeclareIncident(kctx, firebreak.DeclareInput{Title: "Payments failing", Severity: firebreak.SEV1})
		if err != nil || c.ID != a.ID {
			t.Fatalf("client replay: %+v %v", c, err)
		}
		list, err := e.viewer.ListIncidents(ctx, firebreak.IncidentFilter{Query: "Payments failing"})
		if err != nil || len(list.Items) != 1 {
			t.Fatalf("incidents after 3 tries with one key: %d %v", len(list.Items), err)
		}
		// The same key with another body is a conflict.
		p := e.asResponder("POST", "/api/v1/incidents", `{"title":"Something else","severity":"SEV1"}`,
			"Idempotency-Key", "alert-123").problem(t, http.StatusConflict)
		if !strings.Contains(p.Detail, "Idempotency-Key") {
			t.Fatalf("conflict detail %q", p.Detail)
		}
		// Keys are per user: another user's key does not replay someone else's request.
		other := e.asAdmin("POST", "/api/v1/incidents", body, "Idempotency-Key", "alert-123")
		var o firebreak.Incident
		other.json(t, &o)
		if other.status != http.StatusCreated || o.ID == a.ID || other.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("another user's key: %d %s", other.status, other.body)
		}
		// Keys longer than 255 characters are refused, naming the header.
		p = e.asResponder("POST", "/api/v1/incidents", body, "Idempotency-Key", strings.Repeat("k", 256)).problem(t, 400)
		fieldNamed(t, p, "Idempotency-Key")
		if r := e.asResponder("POST", "/api/v1/incidents", body, "Idempotency-Key", strings.Repeat("k", 255)); r.status != 201 {
			t.Fatalf("255-character key: %d %s", r.status, r.body)
		}

		// Every creating endpoint replays.
		path := "/api/v1/incidents/" + a.ID
		for _, c := range []struct{ path, body string }{
			{path + "/timeline", `{"kind":"note","message":"retry me"}`},
			{path + "/updates", `{"message":"retry me","audience":"internal"}`},
			{path + "/action-items", `{"title":"retry me"}`},
		} {
			r1 := e.asResponder("POST", c.path, c.body, "Idempotency-Key", "k-"+c.path)
			r2 := e.asResponder("POST", c.path, c.body, "Idempotency-Key", "k-"+c.path)
			if r1.status != 201 || r2.status != 201 || r2.header.Get("Idempotent-Replayed") != "true" ||
				string(r1.body) != string(r2.body) || r1.header.Get("Location") != r2.header.Get("Location") {
				t.Fatalf("%s: %d %s / %d %s", c.path, r1.status, r1.body, r2.status, r2.body)
			}
		}
		tl, _ := e.viewer.ListTimeline(ctx, a.ID, firebreak.TimelineFilter{})
		notes := 0
		for _, ev := range tl.Items {
			if ev.Message == "retry me" {
				notes++
			}
		}
		ups, _ := e.viewer.ListUpdates(ctx, a.ID)
		items, _ := e.viewer.ListActionItems(ctx, a.ID)
		if notes != 1 || len(ups) != 1 || len(items) != 1 {
			t.Fatalf("after replays: %d notes, %d updates, %d items", notes, len(ups), len(items))
		}
		s1 := e.asAdmin("POST", "/api/v1/services", `{"slug":"pay","name":"Payments"}`, "Idempotency-Key", "svc-1")
		s2 := e.asAdmin("POST", "/api/v1/services", `{"slug":"pay","name":"Payments"}`, "Idempotency-Key", "svc-1")
		if s1.status != 201 || s2.status != 201 || s2.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("service replay: %d %d %s", s1.status, s2.status, s2.body)
		}
		// Without a key, a second identical service is a conflict (slug taken).
		e.asAdmin("POST", "/api/v1/services", `{"slug":"pay","name":"Payments"}`).problem(t, http.StatusConflict)
	})
}

func TestAPIETags(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		inc := e.declare("Login slow", firebreak.SEV3)
		path := "/api/v1/incidents/" + inc.ID
		r := e.asViewer("GET", path, "")
		tag := r.header.Get("ETag")
		if tag != `"`+strconv.FormatInt(inc.Version, 10)+`"` {
			t.Fatalf("ETag %q for version %d", tag, inc.Version)
		}
		// If-None-Match with the current tag: 304.
		if r := e.asViewer("GET", path, "", "If-None-Match", tag); r.status != http.StatusNotModified {
			t.Fatalf("If-None-Match: %d", r.status)
		}
		// Current If-Match proceeds and answers the new ETag.
		r = e.asResponder("PATCH", path, `{"summary":"only EU"}`, "If-Match", tag)
		if r.status != http.StatusOK {
			t.Fatalf("PATCH with current If-Match: %d %s", r.status, r.body)
		}
		newTag := r.header.Get("ETag")
		if newTag == tag || newTag == "" {
			t.Fatalf("ETag after change %q (was %q)", newTag, tag)
		}
		// The old tag is now stale: 412 on PATCH, status and roles.
		e.asResponder("PATCH", path, `{"summary":"all regions"}`, "If-Match", tag).problem(t, http.StatusPreconditionFailed)
		e.asResponder("POST", path+"/status", `{"status":"investigating"}`, "If-Match", tag).problem(t, http.StatusPreconditionFailed)
		e.asResponder("POST", path+"/roles", `{"role":"commander","user":"x"}`, "If-Match", tag).problem(t, http.StatusPreconditionFailed)
		// Tags that can never match: weak or not ours.
		e.asResponder("PATCH", path, `{"summary":"x"}`, "If-Match", "W/"+newTag).problem(t, http.StatusPreconditionFailed)
		e.asResponder("PATCH", path, `{"summary":"x"}`, "If-Match", `"abc"`).problem(t, http.StatusPreconditionFailed)
		e.asResponder("PATCH", path, `{"summary":"x"}`, "If-Match", `"0"`).problem(t, http.StatusPreconditionFailed)
		// A malformed header is a 400 naming it.
		p := e.asResponder("PATCH", path, `{"summary":"x"}`, "If-Match", "7").problem(t, http.StatusBadRequest)
		fieldNamed(t, p, "If-Match")
		// Nothing was written by the refused requests.
		got, _ := e.viewer.GetIncident(ctx, inc.ID)
		if got.Summary != "only EU" || `"`+strconv.FormatInt(got.Version, 10)+`"` != newTag {
			t.Fatalf("after refused writes: %+v", got)
		}
		// Without If-Match, scripts just write; "*" matches any version.
		if r := e.asResponder("PATCH", path, `{"summary":"no tag"}`); r.status != 200 {
			t.Fatalf("PATCH without If-Match: %d %s", r.status, r.body)
		}
		if r := e.asResponder("POST", path+"/status", `{"status":"investigating"}`, "If-Match", "*"); r.status != 200 {
			t.Fatalf("If-Match *: %d %s", r.status, r.body)
		}
		// The client sends ifVersion as If-Match.
		cur, _ := e.viewer.GetIncident(ctx, inc.ID)
		_, err := e.responder.UpdateIncident(ctx, inc.ID, firebreak.IncidentPatch{Title: new("Login slow (EU)")}, cur.Version-1)
		wantCode(t, err, firebreak.EPreconditionFailed)
		if _, err := e.responder.ChangeStatus(ctx, inc.ID, firebreak.StatusIdentified, "", cur.Version); err != nil {
			t.Fatal(err)
		}
		_, err = e.responder.AssignRole(ctx, inc.ID, firebreak.RoleCommander, "test-responder", cur.Version)
		wantCode(t, err, firebreak.EPreconditionFailed)

		// Services.
		svc := e.service("search")
		r = e.asViewer("GET", "/api/v1/services/search", "")
		stag := r.header.Get("ETag")
		if stag != `"`+strconv.FormatInt(svc.Version, 10)+`"` {
			t.Fatalf("service ETag %q", stag)
		}
		if r := e.asAdmin("PATCH", "/api/v1/services/"+svc.ID, `{"tier":1}`, "If-Match", stag); r.status != 200 || r.header.Get("ETag") == stag {
			t.Fatalf("service PATCH: %d %s", r.status, r.body)
		}
		e.asAdmin("PATCH", "/api/v1/services/search", `{"tier":2}`, "If-Match", stag).problem(t, http.StatusPreconditionFailed)
		_, err = e.admin.UpdateService(ctx, "search", firebreak.ServicePatch{Tier: new(2)}, svc.Version)
		wantCode(t, err, firebreak.EPreconditionFailed)

		// Action items.
		item, err := e.responder.AddActionItem(ctx, inc.ID, firebreak.ActionItemInput{Title: "Cache sessions"})
		if err != nil {
			t.Fatal(err)
		}
		ipath := path + "/action-items/" + item.ID
		itag := e.asViewer("GET", ipath, "").header.Get("ETag")
		if r := e.asResponder("PATCH", ipath, `{"owner":"test-responder"}`, "If-Match", itag); r.status != 200 {
			t.Fatalf("item PATCH: %d %s", r.status, r.body)
		}
		e.asResponder("PATCH", ipath, `{"owner":"someone"}`, "If-Match", itag).problem(t, http.StatusPreconditionFailed)
	})
}

func TestAPIBadInput(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		e.service("api")
		inc := e.declare("Bad input target", firebreak.SEV3)
		path := "/api/v1/incidents/" + inc.ID
		big := strings.Repeat("x", 10*1024)
		cases := []struct {
			name, method, path, body string
			status                   int
			field                    string // "" when no field applies
		}{
			{"unknown field", "POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1","colour":"red"}`, 422, "colour"},
			{"missing title", "POST", "/api/v1/incidents", `{"severity":"SEV1"}`, 422, "title"},
			{"missing severity", "POST", "/api/v1/incidents", `{"title":"x"}`, 422, "severity"},
			{"wrong severity", "POST", "/api/v1/incidents", `{"title":"x","severity":"SEV9"}`, 422, "severity"},
			{"severity as number", "POST", "/api/v1/incidents", `{"title":"x","severity":1}`, 422, "severity"},
			{"title as number", "POST", "/api/v1/incidents", `{"title":5,"severity":"SEV1"}`, 422, "title"},
			{"services not an array", "POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1","services":"api"}`, 422, "services"},
			{"10 KB title", "POST", "/api/v1/incidents", `{"title":"` + big + `","severity":"SEV1"}`, 422, "title"},
			{"two-line title", "POST", "/api/v1/incidents", `{"title":"a\nb","severity":"SEV1"}`, 422, "title"},
			{"unknown service", "POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1","services":["nope"]}`, 422, "services"},
			{"final starting status", "POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1","status":"closed"}`, 422, "status"},
			{"bad timestamp", "POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1","detected_at":"yesterday"}`, 422, "detected_at"},
			{"timestamp as number", "POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1","impact_started_at":5}`, 422, "impact_started_at"},
			{"malformed JSON", "POST", "/api/v1/incidents", `{"title":"x",`, 400, ""},
			{"not JSON", "POST", "/api/v1/incidents", `title=x`, 400, ""},
			{"empty body", "POST", "/api/v1/incidents", ``, 400, ""},
			{"array body", "POST", "/api/v1/incidents", `[]`, 422, "(body)"},
			{"two values", "POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1"}{}`, 400, ""},
			{"patch unknown field", "PATCH", path, `{"status":"resolved"}`, 422, "status"},
			{"patch 10 KB title", "PATCH", path, `{"title":"` + big + `"}`, 422, "title"},
			{"patch unknown milestone", "PATCH", path, `{"milestones":{"ended_at":"2024-01-01T00:00:00Z"}}`, 422, "milestones.ended_at"},
			{"patch bad milestone time", "PATCH", path, `{"milestones":{"resolved_at":"soon"}}`, 422, "milestones.resolved_at"},
			{"patch unknown service", "PATCH", path, `{"services":["nope"]}`, 422, "services"},
			{"note without message", "POST", path + "/timeline", `{"kind":"note"}`, 422, "message"},
			{"note of another kind", "POST", path + "/timeline", `{"kind":"declared","message":"x"}`, 422, "kind"},
			{"note in the future", "POST", path + "/timeline", `{"message":"x","occurred_at":"2999-01-01T00:00:00Z"}`, 422, "occurred_at"},
			{"note bad time", "POST", path + "/timeline", `{"message":"x","occurred_at":"14:00"}`, 422, "occurred_at"},
			{"note unknown field", "POST", path + "/timeline", `{"message":"x","text":"y"}`, 422, "text"},
			{"update without message", "POST", path + "/updates", `{"audience":"internal"}`, 422, "message"},
			{"role without user", "POST", path + "/roles", `{"role":"commander"}`, 422, "user"},
			{"item without title", "POST", path + "/action-items", `{"owner":"x"}`, 422, "title"},
			{"item bad due date", "POST", path + "/action-items", `{"title":"x","due_date":"tomorrow"}`, 422, "due_date"},
			{"service bad slug", "POST", "/api/v1/services", `{"slug":"Not A Slug"}`, 422, "slug"},
			{"service bad tier", "POST", "/api/v1/services", `{"slug":"ok","tier":9}`, 422, "tier"},
			{"service unknown dependency", "POST", "/api/v1/services", `{"slug":"ok","depends_on":["nope"]}`, 422, "depends_on"},
			{"service slug taken", "POST", "/api/v1/services", `{"slug":"api"}`, 409, ""},
			{"service patch slug", "PATCH", "/api/v1/services/api", `{"slug":"other"}`, 422, "slug"},
			{"unknown incident", "GET", "/api/v1/incidents/INC-424242", ``, 404, ""},
			{"unknown incident timeline", "POST", "/api/v1/incidents/INC-424242/timeline", `{"message":"x"}`, 404, ""},
			{"unknown service ref", "GET", "/api/v1/services/nope", ``, 404, ""},
			// Query parameters.
			{"status=bogus", "GET", "/api/v1/incidents?status=bogus", ``, 422, "status"},
			{"status list with bogus", "GET", "/api/v1/incidents?status=detected,bogus", ``, 422, "status"},
			{"severity=SEV7", "GET", "/api/v1/incidents?severity=SEV7", ``, 422, "severity"},
			{"limit=0", "GET", "/api/v1/incidents?limit=0", ``, 422, "limit"},
			{"limit=10000", "GET", "/api/v1/incidents?limit=10000", ``, 422, "limit"},
			{"limit=ten", "GET", "/api/v1/incidents?limit=ten", ``, 422, "limit"},
			{"since=not-a-time", "GET", "/api/v1/incidents?since=not-a-time", ``, 422, "since"},
			{"until=yesterday", "GET", "/api/v1/incidents?until=yesterday", ``, 422, "until"},
			{"until before since", "GET", "/api/v1/incidents?since=2024-02-01T00:00:00Z&until=2024-01-01T00:00:00Z", ``, 422, "until"},
			{"open=maybe", "GET", "/api/v1/incidents?open=maybe", ``, 422, "open"},
			{"service=Bad Slug", "GET", "/api/v1/incidents?service=Bad+Slug", ``, 422, "service"},
			{"unknown parameter", "GET", "/api/v1/incidents?stauts=open", ``, 422, "stauts"},
			{"bad cursor", "GET", "/api/v1/incidents?cursor=garbage", ``, 422, "cursor"},
			{"limit twice", "GET", "/api/v1/incidents?limit=1&limit=2", ``, 422, "limit"},
			{"timeline after=x", "GET", path + "/timeline?after=x", ``, 422, "after"},
			{"timeline starred=yes please", "GET", path + "/timeline?starred=yes+please", ``, 422, "starred"},
			{"timeline limit=0", "GET", path + "/timeline?limit=0", ``, 422, "limit"},
			{"timeline bad cursor", "GET", path + "/timeline?cursor=garbage", ``, 422, "cursor"},
			{"updates bad cursor", "GET", path + "/updates?cursor=garbage", ``, 422, "cursor"},
			{"action items limit=-1", "GET", path + "/action-items?limit=-1", ``, 422, "limit"},
			{"services limit=501", "GET", "/api/v1/services?limit=501", ``, 422, "limit"},
			{"services bad cursor", "GET", "/api/v1/services?cursor=garbage", ``, 422, "cursor"},
			{"severities unknown parameter", "GET", "/api/v1/severities?x=1", ``, 422, "x"},
			// Routing.
			{"unknown endpoint", "GET", "/api/v1/nothing-here", ``, 404, ""},
			{"wrong method", "DELETE", "/api/v1/incidents", ``, 405, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.asAdmin(c.method, c.path, c.body)
				p := r.problem(t, c.status)
				if c.field != "" {
					fieldNamed(t, p, c.field)
				}
			})
		}
		// Content-Type other than JSON names the header.
		p := e.asResponder("POST", "/api/v1/incidents", `{"title":"x","severity":"SEV1"}`, "Content-Type", "text/plain").problem(t, 400)
		fieldNamed(t, p, "Content-Type")
		// 405 says what is allowed.
		if r := e.asAdmin("PUT", path, `{}`); r.status != 405 || !strings.Contains(r.header.Get("Allow"), "PATCH") {
			t.Fatalf("PUT incident: %d Allow %q", r.status, r.header.Get("Allow"))
		}
		// Nothing the refusals above tried was stored.
		list, err := e.viewer.ListIncidents(context.Background(), firebreak.IncidentFilter{})
		if err != nil || len(list.Items) != 1 {
			t.Fatalf("incidents after bad input: %d %v", len(list.Items), err)
		}
		// The client turns each refusal into the domain error, with the field.
		_, err = e.responder.DeclareIncident(context.Background(), firebreak.DeclareInput{Title: big, Severity: firebreak.SEV1})
		wantCode(t, err, firebreak.EInvalid, "title")
		_, err = e.responder.DeclareIncident(context.Background(), firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV1,
			Services: []string{"nope"}})
		wantCode(t, err, firebreak.EInvalid, "services")
		_, err = e.viewer.ListIncidents(context.Background(), firebreak.IncidentFilter{Limit: 10000})
		wantCode(t, err, firebreak.EInvalid, "limit")
	})
}

func TestAPIBodyLimit(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		huge := `{"title":"x","severity":"SEV1","summary":"` + strings.Repeat("y", 2<<20) + `"}`
		e.asResponder("POST", "/api/v1/incidents", huge).problem(t, http.StatusRequestEntityTooLarge)
		e.asResponder("POST", "/api/v1/incidents", huge, "Idempotency-Key", "big").problem(t, http.StatusRequestEntityTooLarge)
		_, err := e.responder.DeclareIncident(context.Background(), firebreak.DeclareInput{Title: "x",
			Severity: firebreak.SEV1, Summary: strings.Repeat("y", 2<<20)})
		wantCode(t, err, firebreak.ETooLarge)
	})
}

func TestAPIPagination(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		const n = 11
		want := map[string]bool{}
		for i := range n {
			want[e.declare(fmt.Sprintf("Incident %02d", i), firebreak.SEV3).ID] = true
		}
		// Incidents: 4 pages of 3, no duplicates, nothing missing.
		seen := map[string]bool{}
		cursor, pages := "", 0
		for {
			p, err := e.viewer.ListIncidents(ctx, firebreak.IncidentFilter{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(p.Items) > 3 {
				t.Fatalf("page of %d with limit 3", len(p.Items))
			}
			for _, inc := range p.Items {
				if seen[inc.ID] {
					t.Fatalf("incident %s on two pages", inc.ID)
				}
				seen[inc.ID] = true
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if pages != 4 || len(seen) != n {
			t.Fatalf("%d pages, %d incidents", pages, len(seen))
		}
		for id := range want {
			if !seen[id] {
				t.Fatalf("incident %s missing from the pages", id)
			}
		}
		// The envelope on the wire.
		r := e.asViewer("GET", "/api/v1/incidents?limit=5", "")
		var env map[string]any
		r.json(t, &env)
		if items, ok := env["items"].([]any); !ok || len(items) != 5 || env["next_cursor"] == "" {
			t.Fatalf("envelope %s", r.body)
		}
		r = e.asViewer("GET", "/api/v1/incidents?limit=500", "")
		r.json(t, &env)
		if env["next_cursor"] != "" {
			t.Fatalf("last page next_cursor %v", env["next_cursor"])
		}

		// Timeline: one incident with many notes.
		inc := e.declare("Chatty", firebreak.SEV2)
		for i := range 9 {
			if _, err := e.responder.AddTimelineEvent(ctx, inc.ID, firebreak.TimelineInput{Message: fmt.Sprintf("note %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		evs := pageAll(t, func(cursor string) ([]int64, string) {
			p, err := e.viewer.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{Limit: 4, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, ev := range p.Items {
				ids = append(ids, ev.ID)
			}
			return ids, p.NextCursor
		})
		if len(evs) != 10 {
			t.Fatalf("timeline pages gave %d events, want 10", len(evs))
		}

		// Updates and action items page in the handler.
		for i := range 5 {
			if _, err := e.responder.PostUpdate(ctx, inc.ID, firebreak.UpdateInput{Message: fmt.Sprintf("u%d", i)}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.responder.AddActionItem(ctx, inc.ID, firebreak.ActionItemInput{Title: fmt.Sprintf("a%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		for _, sub := range []string{"updates", "action-items"} {
			ids := pageAll(t, func(cursor string) ([]string, string) {
				q := url.Values{"limit": {"2"}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				var p struct {
					Items []struct {
						ID string `json:"id"`
					} `json:"items"`
					NextCursor string `json:"next_cursor"`
				}
				e.asViewer("GET", "/api/v1/incidents/"+inc.ID+"/"+sub+"?"+q.Encode(), "").json(t, &p)
				var ids []string
				for _, it := range p.Items {
					ids = append(ids, it.ID)
				}
				return ids, p.NextCursor
			})
			if len(ids) != 5 {
				t.Fatalf("%s pages gave %d items", sub, len(ids))
			}
		}
		// The client's whole-list calls follow the pages.
		if ups, err := e.viewer.ListUpdates(ctx, inc.ID); err != nil || len(ups) != 5 {
			t.Fatalf("ListUpdates: %d %v", len(ups), err)
		}

		// Services.
		for i := range 7 {
			e.service(fmt.Sprintf("svc-%d", i))
		}
		slugs := pageAll(t, func(cursor string) ([]string, string) {
			p, err := e.viewer.ListServices(ctx, firebreak.ServiceFilter{Limit: 3, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, s := range p.Items {
				out = append(out, s.Slug)
			}
			return out, p.NextCursor
		})
		if len(slugs) != 7 || !slices.IsSorted(slugs) {
			t.Fatalf("service pages %v", slugs)
		}
	})
}

// pageAll follows cursors and fails on a duplicate or a runaway loop.
func pageAll[K comparable](t *testing.T, next func(cursor string) ([]K, string)) []K {
	t.Helper()
	var out []K
	seen := map[K]bool{}
	cursor := ""
	for range 100 {
		ids, nc := next(cursor)
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("%v on two pages", id)
			}
			seen[id] = true
			out = append(out, id)
		}
		if nc == "" {
			return out
		}
		cursor = nc
	}
	t.Fatal("pagination does not end")
	return nil
}

func TestAPIIncidentFilters(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		e.service("api")
		e.service("db")
		a := e.declare("API errors", firebreak.SEV1, "api")
		b := e.declare("DB replication lag", firebreak.SEV2, "db")
		c := e.declare("Slow builds", firebreak.SEV3)
		if _, err := e.responder.ChangeStatus(ctx, b.ID, firebreak.StatusResolved, "", 0); err != nil {
			t.Fatal(err)
		}
		old := time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC)
		d, err := e.responder.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Old outage", Severity: firebreak.SEV2, DeclaredAt: &old})
		if err != nil {
			t.Fatal(err)
		}
		ids := func(q string) []string {
			t.Helper()
			var p struct {
				Items []firebreak.Incident `json:"items"`
			}
			r := e.asViewer("GET", "/api/v1/incidents?"+q, "")
			if r.status != 200 {
				t.Fatalf("?%s: %d %s", q, r.status, r.body)
			}
			r.json(t, &p)
			var out []string
			for _, inc := range p.Items {
				out = append(out, inc.ID)
			}
			slices.Sort(out)
			return out
		}
		sorted := func(xs ...string) []string { slices.Sort(xs); return xs }
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"status=resolved", sorted(b.ID)},
			{"status=detected&status=resolved", sorted(a.ID, b.ID, c.ID, d.ID)},
			{"status=resolved,cancelled", sorted(b.ID)},
			{"severity=SEV1", sorted(a.ID)},
			{"severity=SEV1,SEV3", sorted(a.ID, c.ID)},
			{"severity=sev2", sorted(b.ID, d.ID)},
			{"service=db", sorted(b.ID)},
			{"open=true", sorted(a.ID, c.ID, d.ID)},
			{"open=false", sorted(a.ID, b.ID, c.ID, d.ID)},
			{"since=2021-01-01T00:00:00Z", sorted(a.ID, b.ID, c.ID)},
			{"until=2021-01-01T00:00:00Z", sorted(d.ID)},
			{"since=2019-12-31T00:00:00Z&until=2020-01-02T00:00:00%2B01:00", sorted(d.ID)},
			{"q=replication", sorted(b.ID)},
			{"q=nothing-matches", nil},
			{"severity=SEV2&open=true", sorted(d.ID)},
		} {
			if got := ids(c.q); !slices.Equal(got, c.want) {
				t.Errorf("?%s: got %v, want %v", c.q, got, c.want)
			}
		}
		// The client sends the same filters.
		p, err := e.viewer.ListIncidents(ctx, firebreak.IncidentFilter{Status: []firebreak.Status{firebreak.StatusDetected},
			Severity: []firebreak.Severity{firebreak.SEV1, firebreak.SEV3}, Open: true, DeclaredAfter: new(old.Add(time.Hour))})
		if err != nil || len(p.Items) != 2 {
			t.Fatalf("client filter: %d %v", len(p.Items), err)
		}
	})
}

func TestAPIServices(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		r := e.asAdmin("POST", "/api/v1/services",
			`{"slug":"checkout","name":"Checkout","owner_team":"payments","tier":1,"runbook_url":"https://runbooks.example/checkout"}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		var svc firebreak.Service
		r.json(t, &svc)
		if r.header.Get("Location") != "/api/v1/services/"+svc.ID || r.header.Get("ETag") == "" || svc.Tier != 1 {
			t.Fatalf("created %+v %v", svc, r.header)
		}
		if _, err := e.admin.CreateService(ctx, firebreak.ServiceInput{Slug: "cart", OwnerTeam: "payments",
			DependsOn: []string{"checkout"}}); err != nil {
			t.Fatal(err)
		}
		e.service("search")
		for _, ref := range []string{svc.ID, "checkout"} {
			got, err := e.viewer.GetService(ctx, ref)
			if err != nil || got.ID != svc.ID {
				t.Fatalf("get %s: %+v %v", ref, got, err)
			}
		}
		upd, err := e.admin.UpdateService(ctx, "checkout", firebreak.ServicePatch{Description: new("Takes money")}, svc.Version)
		if err != nil || upd.Description != "Takes money" || upd.Version <= svc.Version {
			t.Fatalf("update: %+v %v", upd, err)
		}
		p, err := e.viewer.ListServices(ctx, firebreak.ServiceFilter{Team: "payments"})
		if err != nil || len(p.Items) != 2 {
			t.Fatalf("team filter: %+v %v", p, err)
		}
		_, err = e.admin.UpdateService(ctx, "nope", firebreak.ServicePatch{Tier: new(1)}, 0)
		wantCode(t, err, firebreak.ENotFound)
	})
}

func TestAPISeverities(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ps, err := e.viewer.SeverityPolicies(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := firebreak.DefaultSeverityPolicies()
		if len(ps) != len(want) {
			t.Fatalf("%d policies", len(ps))
		}
		for i := range want {
			if ps[i] != want[i] {
				t.Fatalf("policy %d: %+v, want %+v", i, ps[i], want[i])
			}
		}
	})
}

// POST /incidents/{id}/ack: responders acknowledge (once), viewers cannot, a resolved incident is a 409.
func TestAcknowledgeAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		inc, err := e.responder.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Checkout errors", Severity: firebreak.SEV1})
		if err != nil {
			t.Fatal(err)
		}
		e.asViewer("POST", "/api/v1/incidents/"+inc.Reference+"/ack", "").problem(t, http.StatusForbidden)
		acked, err := e.responder.AcknowledgeIncident(ctx, inc.Reference, inc.Version)
		if err != nil || acked.Milestones.AcknowledgedAt == nil {
			t.Fatalf("ack: %+v %v", acked, err)
		}
		again, err := e.responder.AcknowledgeIncident(ctx, inc.Reference, 0)
		if err != nil || again.Version != acked.Version {
			t.Fatalf("second ack changed the incident: %+v %v", again, err)
		}
		if _, err := e.responder.ChangeStatus(ctx, inc.Reference, firebreak.StatusResolved, "", 0); err != nil {
			t.Fatal(err)
		}
		other, err := e.responder.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Later", Severity: firebreak.SEV3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.responder.ChangeStatus(ctx, other.Reference, firebreak.StatusResolved, "", 0); err != nil {
			t.Fatal(err)
		}
		_, err = e.responder.AcknowledgeIncident(ctx, other.Reference, 0)
		if firebreak.ErrorCode(err) != firebreak.EConflict {
			t.Fatalf("ack of a resolved incident: %v", err)
		}
		_, err = e.responder.AcknowledgeIncident(ctx, "INC-999", 0)
		if firebreak.ErrorCode(err) != firebreak.ENotFound {
			t.Fatalf("ack of an unknown incident: %v", err)
		}
	})
}

// GET /action-items: the follow-up list across incidents, through the client; bad filters name their parameter.
func TestFollowUpsAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		ctx := context.Background()
		inc, err := e.responder.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Checkout errors", Severity: firebreak.SEV2})
		if err != nil {
			t.Fatal(err)
		}
		past := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
		late, err := e.responder.AddActionItem(ctx, inc.Reference, firebreak.ActionItemInput{Title: "Add a floor",
			Owner: "bob", DueDate: past})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.responder.AddActionItem(ctx, inc.Reference, firebreak.ActionItemInput{Title: "Runbook"}); err != nil {
			t.Fatal(err)
		}
		p, err := e.viewer.ListFollowUps(ctx, firebreak.ActionItemFilter{Overdue: true})
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != late.ID || !p.Items[0].Overdue ||
			p.Items[0].IncidentRef != inc.Reference {
			t.Fatalf("overdue follow-ups: %+v %v", p, err)
		}
		all, err := e.viewer.ListFollowUps(ctx, firebreak.ActionItemFilter{})
		if err != nil || len(all.Items) != 2 || all.Items[1].DueDate == "" {
			t.Fatalf("follow-ups (the SEV2 default due date fills the second): %+v %v", all, err)
		}
		fieldNamed(t, e.asViewer("GET", "/api/v1/action-items?overdue=soon", "").problem(t, 422), "overdue")
		fieldNamed(t, e.asViewer("GET", "/api/v1/action-items?status=lost", "").problem(t, 422), "status")
		e.do("GET", "/api/v1/action-items", "", "").problem(t, http.StatusUnauthorized)
	})
}
