package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

// TestContactMethodsAPI: users manage their own contact methods; only admins manage someone else's.
func TestContactMethodsAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		r := e.asResponder("POST", "/api/v1/users/me/contact-methods", `{"kind":"email","address":"r@example.com"}`)
		if r.status != 201 {
			t.Fatalf("add: %d %s", r.status, r.body)
		}
		var ch firebreak.Channel
		r.json(t, &ch)
		if ch.User != e.responderU || ch.Name != e.responderU+" email" {
			t.Errorf("contact method %+v", ch)
		}
		fieldNamed(t, e.asResponder("POST", "/api/v1/users/me/contact-methods", `{"kind":"email","address":"nope"}`).
			problem(t, 422), "address")
		fieldNamed(t, e.asResponder("POST", "/api/v1/users/me/contact-methods",
			`{"kind":"email","address":"a@example.com","user":"test-viewer"}`).problem(t, 422), "user")
		// Someone else's: refused for a responder, allowed for an admin.
		e.asResponder("GET", "/api/v1/users/test-viewer/contact-methods", "").problem(t, 403)
		e.asViewer("DELETE", "/api/v1/users/"+e.responderU+"/contact-methods/"+ch.ID, "").problem(t, 403)
		var list struct{ Items []firebreak.Channel }
		e.asAdmin("GET", "/api/v1/users/"+e.responderU+"/contact-methods", "").json(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != ch.ID {
			t.Fatalf("admin list %+v", list.Items)
		}
		// The viewer cannot reach the responder's channel through their own path either.
		e.asViewer("POST", "/api/v1/users/me/contact-methods/"+ch.ID+"/test", "").problem(t, 404)
		if r := e.asResponder("POST", "/api/v1/users/me/contact-methods/"+ch.ID+"/test", ""); r.status != 202 {
			t.Fatalf("test: %d %s", r.status, r.body)
		}
		if r := e.asResponder("DELETE", "/api/v1/users/me/contact-methods/"+ch.ID, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		e.asResponder("GET", "/api/v1/users/me/contact-methods", "").json(t, &list)
		if len(list.Items) != 0 {
			t.Errorf("after delete %+v", list.Items)
		}
	})
}

// TestAckLinkPage: opening a notification's link shows what it acknowledges and changes nothing (link
// previews and mail scanners fetch links); the button acknowledges once, without signing in; forged and used
// links are refused with a page that says so.
func TestAckLinkPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		ctx := as("ada", firebreak.RoleAdmin)
		st.SetNotificationSettings(e.url, nil)
		statusMust(st.AddContactMethod(ctx, "bob", firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Address: "bob@example.com"}))
		statusMust(st.UpdateService(ctx, "api", firebreak.ServicePatch{Channels: &[]string{"bob email"}}, 0))
		inc := statusMust(st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{
			Title: "Checkout <b>down</b>", Severity: firebreak.SEV1, Services: []string{"api"}}))
		cs, err := st.ClaimNotifications(ctx, time.Now().Add(time.Minute), time.Minute, 10)
		if err != nil || len(cs) != 1 {
			t.Fatalf("claimed %d, %v", len(cs), err)
		}
		link, err := url.Parse(cs[0].Message.Incident.AckURL)
		if err != nil || !strings.HasPrefix(link.Path, "/ack/") {
			t.Fatalf("link %q", cs[0].Message.Incident.AckURL)
		}

		b := e.browser() // not signed in
		p := b.get(link.Path)
		wantStatus(t, p, http.StatusOK)
		if h := p.text(t, "h1"); !strings.Contains(h, "Acknowledge this incident") {
			t.Errorf("heading %q", h)
		}
		if txt := p.text(t, ".ack-incident"); !strings.Contains(txt, "Checkout <b>down</b>") || !strings.Contains(txt, inc.Reference) {
			t.Errorf("incident line %q", txt)
		}
		if p.header.Get("Referrer-Policy") != "no-referrer" || p.header.Get("Cache-Control") != "no-store" {
			t.Errorf("headers %v", p.header)
		}
		if got := statusMust(st.GetIncident(ctx, inc.Reference)); got.Milestones.AcknowledgedAt != nil {
			t.Fatal("opening the link acknowledged")
		}
		done := b.submit(p, "form[action^='/ack/']", nil)
		wantStatus(t, done, http.StatusOK)
		if h := done.text(t, "h1"); h != "Acknowledged" {
			t.Errorf("after the button: %q %s", h, done.text(t, ".alert"))
		}
		got := statusMust(st.GetIncident(ctx, inc.Reference))
		if got.Milestones.AcknowledgedAt == nil {
			t.Fatal("the button did not acknowledge")
		}
		again := b.post(link.Path, nil)
		wantStatus(t, again, http.StatusConflict)
		if h := again.text(t, "h1"); h != "Link already used" {
			t.Errorf("second use: %q", h)
		}
		wantStatus(t, b.get("/ack/forged-secret"), http.StatusNotFound)
		wantStatus(t, b.post("/ack/forged-secret", nil), http.StatusNotFound)
	})
}

// TestContactMethodsPage: a user adds, tests and removes their own contact methods in the console.
func TestContactMethodsPage(t *testing.T) {
	forEachStore(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		b := e.browser()
		b.login("vera")
		p := b.get("/account/contact-methods")
		wantStatus(t, p, http.StatusOK)
		bad := b.submit(p, "form#add", url.Values{"kind": {"email"}, "address": {"not-an-address"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if msg := bad.text(t, ".field-error"); msg == "" {
			t.Error("no field error for a bad address")
		}
		res := b.submit(p, "form#add", url.Values{"kind": {"email"}, "address": {"vera@example.com"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("add: %d", res.status)
		}
		p = b.get("/account/contact-methods")
		if n := p.find(t, "table.contact-table tbody tr").Length(); n != 1 {
			t.Fatalf("%d rows", n)
		}
		if txt := p.text(t, "#notice"); !strings.Contains(txt, "vera email") {
			t.Errorf("notice %q", txt)
		}
		ms := statusMust(st.ListContactMethods(as("vera", firebreak.RoleViewer), "vera"))
		if len(ms) != 1 || ms[0].Address != "vera@example.com" {
			t.Fatalf("stored %+v", ms)
		}
		// Someone else's contact method cannot be removed from this page.
		bobs := statusMust(st.AddContactMethod(as("ada", firebreak.RoleAdmin), "bob", firebreak.ChannelInput{
			Kind: firebreak.ChannelEmail, Address: "bob@example.com"}))
		wantStatus(t, b.submit(p, "form[action$='/"+ms[0].ID+"/delete']", url.Values{}), http.StatusSeeOther)
		p = b.get("/account/contact-methods")
		if n := p.find(t, "table.contact-table tbody tr").Length(); n != 0 {
			t.Errorf("%d rows after remove", n)
		}
		f := url.Values{"csrf_token": {p.attr(t, "input[name=csrf_token]", "value")}}
		wantStatus(t, b.post("/account/contact-methods/"+bobs.ID+"/delete", f), http.StatusNotFound)
		if got := statusMust(st.ListContactMethods(as("bob", firebreak.RoleResponder), "bob")); len(got) != 1 {
			t.Errorf("bob's contact method was removed by vera")
		}
	})
}
