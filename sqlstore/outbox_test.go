package sqlstore_test

import (
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestAnnouncementsQueuedWithTheEvent: an announced change queues one notification per announcement channel of
// the incident's services, in the transaction that records it.
func TestAnnouncementsQueuedWithTheEvent(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := as("admin", firebreak.RoleAdmin)
		chs := map[string]*firebreak.Channel{}
		for _, in := range []firebreak.ChannelInput{
			{Kind: firebreak.ChannelSlack, Name: "slack-ops", URL: "https://hooks.slack.example/services/T/B/secret"},
			{Kind: firebreak.ChannelTeams, Name: "teams-ops", URL: "https://teams.example/workflows/secret"},
			{Kind: firebreak.ChannelEmail, Name: "mail", Address: "oncall@example.com"},
			{Kind: firebreak.ChannelWebhook, Name: "off", URL: "http://10.1.2.3/hook", Secret: "0123456789abcdef", Enabled: new(false)},
		} {
			chs[in.Name] = must(s.CreateChannel(ctx, in))
		}
		if chs["slack-ops"].URL != "https://hooks.slack.example/****" {
			t.Errorf("URL not masked: %s", chs["slack-ops"].URL)
		}
		must(s.CreateService(ctx, firebreak.ServiceInput{Slug: "api", Name: "API"}))
		must(s.CreateService(ctx, firebreak.ServiceInput{Slug: "web", Name: "Web"}))
		must(s.CreateService(ctx, firebreak.ServiceInput{Slug: "quiet", Name: "Quiet"}))
		must(s.UpdateService(ctx, "api", firebreak.ServicePatch{Channels: &[]string{"slack-ops", chs["mail"].ID, "off"}}, 0))
		must(s.UpdateService(ctx, "web", firebreak.ServicePatch{Channels: &[]string{"slack-ops", "teams-ops"}}, 0))
		if _, err := s.UpdateService(ctx, "web", firebreak.ServicePatch{Channels: &[]string{"nope"}}, 0); err == nil {
			t.Fatal("an unknown channel was accepted")
		}

		quiet := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "q", Severity: firebreak.SEV3,
			Services: []string{"quiet"}}))
		inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout down", Severity: firebreak.SEV1,
			Services: []string{"api", "web"}, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}}))
		// slack-ops is shared by both services: 3 distinct enabled channels, one message each, no separate role one.
		got := must(s.ListNotifications(ctx, firebreak.NotificationFilter{Incident: inc.Reference}))
		if len(got) != 3 {
			t.Fatalf("declare queued %d notifications, want 3: %+v", len(got), got)
		}
		seen := map[string]bool{}
		for _, n := range got {
			if n.Kind != string(notify.KindDeclared) || n.Status != firebreak.NotificationQueued || n.NextAttemptAt == nil {
				t.Errorf("notification %+v", n)
			}
			seen[n.Channel] = true
		}
		if !seen["slack-ops"] || !seen["teams-ops"] || !seen["mail"] || seen["off"] {
			t.Errorf("channels %v", seen)
		}
		if n := must(s.ListNotifications(ctx, firebreak.NotificationFilter{Incident: quiet.Reference})); len(n) != 0 {
			t.Errorf("an incident of a service without channels queued %d", len(n))
		}

		must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusResolved, "fixed", 0))
		got = must(s.ListNotifications(ctx, firebreak.NotificationFilter{Incident: inc.Reference}))
		resolved := 0
		for _, n := range got {
			if n.Kind == string(notify.KindResolved) {
				resolved++
			}
		}
		if len(got) != 6 || resolved != 3 {
			t.Errorf("after resolution: %d notifications, %d resolved", len(got), resolved)
		}

		// A test message has no incident.
		tm := must(s.TestChannel(ctx, "mail"))
		if tm.Kind != string(notify.KindTest) || tm.Incident != "" || tm.Status != firebreak.NotificationQueued {
			t.Errorf("test message %+v", tm)
		}

		// A failed write queues nothing: the idempotency key replays, and an invalid declare rolls back.
		if _, err := s.DeclareIncident(alice, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV1,
			Services: []string{"api", "nope"}}); err == nil {
			t.Fatal("unknown service accepted")
		}
		if all := must(s.ListNotifications(ctx, firebreak.NotificationFilter{Limit: 100})); len(all) != 7 {
			t.Errorf("%d notifications in all, want 7", len(all))
		}
	})
}
