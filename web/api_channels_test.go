package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/engine"
	"github.com/firebreak/firebreak/notify"
)

func TestChannelsAPI(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}))
		defer down.Close()
		hook := down.URL + "/hooks/T000/B000/very-secret-token"

		// Admins create; responders cannot.
		e.asResponder("POST", "/api/v1/channels", `{"kind":"slack","name":"x","url":"https://h.example/x"}`).problem(t, 403)
		r := e.asAdmin("POST", "/api/v1/channels", `{"kind":"webhook","name":"ops","url":"`+hook+`","secret":"0123456789abcdef!"}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		var ch firebreak.Channel
		r.json(t, &ch)
		if strings.Contains(string(r.body), "very-secret-token") || strings.Contains(string(r.body), "0123456789abcdef") ||
			!ch.HasSecret || ch.URL != down.URL+"/****" {
			t.Fatalf("the answer shows a secret or lacks the mask: %s", r.body)
		}
		fieldNamed(t, e.asAdmin("POST", "/api/v1/channels", `{"kind":"teams","name":"t","url":"file:///etc/passwd"}`).problem(t, 422), "url")
		fieldNamed(t, e.asAdmin("POST", "/api/v1/channels", `{"kind":"sms","name":"t"}`).problem(t, 422), "kind")
		fieldNamed(t, e.asAdmin("POST", "/api/v1/channels", `{"kind":"webhook","name":"t","url":"http://10.0.0.1/x","secret":"short"}`).problem(t, 422), "secret")
		e.asAdmin("POST", "/api/v1/channels", `{"kind":"email","name":"ops","address":"a@example.com"}`).problem(t, 409)

		// Services choose their announcement channels by name or id.
		e.service("api")
		e.asAdmin("PATCH", "/api/v1/services/api", `{"channels":["nope"]}`).problem(t, 422)
		if r := e.asAdmin("PATCH", "/api/v1/services/api", `{"channels":["ops"]}`); r.status != 200 {
			t.Fatalf("patch service: %d %s", r.status, r.body)
		}
		r = e.asResponder("GET", "/api/v1/channels/ops", "")
		r.json(t, &ch)
		if !slices.Equal(ch.Services, []string{"api"}) {
			t.Fatalf("channel services %v", ch.Services)
		}

		inc := e.declare("Checkout down", firebreak.SEV2, "api")
		var list struct{ Items []firebreak.Notification }
		e.asResponder("GET", "/api/v1/notifications?incident="+inc.Reference, "").json(t, &list)
		if len(list.Items) != 1 || list.Items[0].Status != firebreak.NotificationQueued || list.Items[0].Kind != "declared" {
			t.Fatalf("queued on declare: %+v", list.Items)
		}

		// The receiver refuses; with a deadline already passed the first failure is the last.
		ob := &engine.Outbox{Store: e.st, Notifier: notify.New(notify.Config{}),
			Policy: func(k notify.DestinationKind) notify.Policy {
				p := notify.DefaultPolicy(k)
				p.Deadline = time.Nanosecond
				return p
			}}
		engine.New(engine.Options{}, ob.Queues()...).RunDue(context.Background())
		e.asResponder("GET", "/api/v1/notifications?status=dead", "").json(t, &list)
		if len(list.Items) != 1 || list.Items[0].Incident != inc.Reference || list.Items[0].DeadAt == nil ||
			!strings.Contains(list.Items[0].LastError, "503") {
			t.Fatalf("dead letters: %+v", list.Items)
		}
		tl := e.asViewer("GET", "/api/v1/incidents/"+inc.Reference+"/timeline", "")
		if !strings.Contains(string(tl.body), `"notification_dead"`) {
			t.Fatalf("timeline lacks notification_dead: %s", tl.body)
		}
		e.asResponder("POST", "/api/v1/notifications/"+list.Items[0].ID+"/retry", "").problem(t, 403)
		var n firebreak.Notification
		r = e.asAdmin("POST", "/api/v1/notifications/"+list.Items[0].ID+"/retry", "")
		r.json(t, &n)
		if r.status != 200 || n.Status != firebreak.NotificationQueued {
			t.Fatalf("retry: %d %s", r.status, r.body)
		}
		e.asAdmin("POST", "/api/v1/notifications/"+n.ID+"/retry", "").problem(t, 409)
		e.asResponder("GET", "/api/v1/notifications?status=bogus", "").problem(t, 422)

		if r := e.asAdmin("POST", "/api/v1/channels/ops/test", ""); r.status != 202 {
			t.Fatalf("test message: %d %s", r.status, r.body)
		}
		if r := e.asAdmin("PATCH", "/api/v1/channels/ops", `{"enabled":false}`); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		if r := e.asAdmin("DELETE", "/api/v1/channels/ops", ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		e.asResponder("GET", "/api/v1/channels/ops", "").problem(t, 404)
	})
}

// TestOpenAPIChannelSchemas keeps the channel schemas and the Go types in step.
func TestOpenAPIChannelSchemas(t *testing.T) {
	d := loadOpenAPI(t)
	for name, typ := range map[string]any{"Channel": firebreak.Channel{}, "ChannelInput": firebreak.ChannelInput{},
		"ChannelPatch": firebreak.ChannelPatch{}, "Notification": firebreak.Notification{}} {
		props, _ := d.Components.Schemas[name]["properties"].(map[string]any)
		var got []string
		for k := range props {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := jsonFields(reflect.TypeOf(typ)); !slices.Equal(got, want) {
			t.Errorf("schema %s has %v; the Go type has %v", name, got, want)
		}
	}
}
