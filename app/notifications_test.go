package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestDeclareAnnouncedThroughTheApp: the running app's engine delivers a declaration to a service's webhook
// channel, woken by the commit (and, on PostgreSQL, by the replica listener).
func TestDeclareAnnouncedThroughTheApp(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			got := make(chan http.Header, 4)
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.Header.Clone()
			}))
			defer rcv.Close()
			a := startApp(t, d, nil)
			c := client.New(a.URL(), adminToken)
			ctx := context.Background()
			if _, err := c.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: "hook",
				URL: rcv.URL, Secret: "0123456789abcdef"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateService(ctx, firebreak.ServiceInput{Slug: "api", Name: "API"}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.UpdateService(ctx, "api", firebreak.ServicePatch{Channels: &[]string{"hook"}}, 0); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			inc, err := c.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Checkout down", Severity: firebreak.SEV2,
				Services: []string{"api"}})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case h := <-got:
				if h.Get("Idempotency-Key") == "" || h.Get("Firebreak-Event") != "declared" {
					t.Errorf("headers %v", h)
				}
				t.Logf("declared %s; webhook received after %v", inc.Reference, time.Since(start))
			case <-time.After(20 * time.Second):
				t.Fatal("the declaration was not delivered")
			}
		})
	}
}

func TestConfigFileNotifications(t *testing.T) {
	path := t.TempDir() + "/firebreak.yaml"
	if err := os.WriteFile(path, []byte(`notifications:
  attempt_timeout: 5s
  reminders: {SEV1: 15m}
  smtp: {host: smtp.example.com, port: 465, from: "Firebreak <fb@example.com>", tls: implicit}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var c app.Config
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	n := c.Notifications
	if n.AttemptTimeout != 5*time.Second || n.Reminders[firebreak.SEV1] != 15*time.Minute || len(n.Reminders) != 1 ||
		n.SMTP.Host != "smtp.example.com" || n.SMTP.Port != 465 || n.SMTP.TLS != notify.TLSImplicit {
		t.Fatalf("notifications config %+v", n)
	}
	if err := os.WriteFile(path, []byte("notifications:\n  reminders: {SEV9: 1m}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (&app.Config{}).LoadFile(path); err == nil {
		t.Fatal("an unknown severity was accepted")
	}
}
