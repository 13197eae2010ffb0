package sqlstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/sqlstore"
)

// TestContactMethods: a user's contact methods are channels owned by them, named after them when unnamed, and
// nobody else's channels are theirs.
func TestContactMethods(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := as("admin", firebreak.RoleAdmin)
		must(s.CreateUser(ctx, firebreak.UserInput{Username: "bob", Name: "Bob", Role: firebreak.RoleResponder}))
		a := must(s.AddContactMethod(ctx, "bob", firebreak.ChannelInput{Kind: firebreak.ChannelEmail,
			Address: "bob@example.com"}))
		b := must(s.AddContactMethod(ctx, "bob", firebreak.ChannelInput{Kind: firebreak.ChannelEmail,
			Address: "bob@home.example"}))
		if a.Name != "bob email" || b.Name != "bob email 2" || a.User != "bob" {
			t.Errorf("names %q %q, owner %q", a.Name, b.Name, a.User)
		}
		shared := must(s.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: "ops",
			URL: "https://hooks.slack.example/services/T/B/x"}))
		got := must(s.ListContactMethods(ctx, "bob"))
		if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID {
			t.Errorf("contact methods %+v", got)
		}
		if _, err := s.ContactMethod(ctx, "bob", shared.ID); firebreak.ErrorCode(err) != firebreak.ENotFound {
			t.Errorf("a shared channel is bob's: %v", err)
		}
		if _, err := s.AddContactMethod(ctx, "nobody", firebreak.ChannelInput{Kind: firebreak.ChannelEmail,
			Address: "x@example.com"}); firebreak.ErrorCode(err) != firebreak.EInvalid {
			t.Errorf("contact method of an unknown user: %v", err)
		}
		if _, err := s.AddContactMethod(ctx, "bob", firebreak.ChannelInput{Kind: firebreak.ChannelEmail,
			Address: "not an address"}); firebreak.ErrorCode(err) != firebreak.EInvalid {
			t.Errorf("a bad address was accepted: %v", err)
		}
	})
}

// claimAll claims every notification due now and returns their messages by channel name.
func claimAll(t *testing.T, s *sqlstore.Store, now time.Time) map[string][]notify.Message {
	t.Helper()
	out := map[string][]notify.Message{}
	cs, err := s.ClaimNotifications(as("admin", firebreak.RoleAdmin), now, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		out[c.ChannelName] = append(out[c.ChannelName], c.Message)
	}
	return out
}

// TestAckLinks: every notification about an open, unacknowledged incident carries its own link; the link
// acknowledges once, as the person it was sent to, before it expires; a forged one is refused.
func TestAckLinks(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := as("admin", firebreak.RoleAdmin)
		s.SetNotificationSettings("https://fb.example.com/", nil)
		must(s.CreateUser(ctx, firebreak.UserInput{Username: "bob", Name: "Bob", Role: firebreak.RoleResponder}))
		must(s.AddContactMethod(ctx, "bob", firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Address: "bob@example.com"}))
		must(s.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelSlack, Name: "ops",
			URL: "https://hooks.slack.example/services/T/B/x"}))
		must(s.CreateService(ctx, firebreak.ServiceInput{Slug: "api", Name: "API"}))
		must(s.UpdateService(ctx, "api", firebreak.ServicePatch{Channels: &[]string{"ops", "bob email"}}, 0))

		inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout <down>", Severity: firebreak.SEV2,
			Services: []string{"api"}}))
		msgs := claimAll(t, s, c.Now())
		if len(msgs["ops"]) != 1 || len(msgs["bob email"]) != 1 {
			t.Fatalf("declared: %v", msgs)
		}
		opsLink, bobLink := msgs["ops"][0].Incident.AckURL, msgs["bob email"][0].Incident.AckURL
		if !strings.HasPrefix(bobLink, "https://fb.example.com/ack/") || opsLink == bobLink {
			t.Fatalf("links %q %q", opsLink, bobLink)
		}
		secret := strings.TrimPrefix(bobLink, "https://fb.example.com/ack/")

		info := must(s.AckLink(ctx, secret))
		if info.Incident != inc.Reference || info.Recipient != "bob" || info.UsedAt != nil || info.Expired {
			t.Errorf("link %+v", info)
		}
		for _, bad := range []string{"", "forged", secret + "x", strings.ToUpper(secret)} {
			if _, err := s.AcknowledgeByLink(ctx, bad); firebreak.ErrorCode(err) != firebreak.ENotFound {
				t.Errorf("forged link %q: %v", bad, err)
			}
		}
		if got := must(s.GetIncident(ctx, inc.Reference)); got.Milestones.AcknowledgedAt != nil {
			t.Fatal("a forged link acknowledged")
		}

		c.Advance(3 * time.Minute)
		used := must(s.AcknowledgeByLink(ctx, secret))
		if used.UsedBy != "bob" || used.AcknowledgedAt == nil || !used.AcknowledgedAt.Equal(c.Now()) {
			t.Errorf("used %+v", used)
		}
		got := must(s.GetIncident(ctx, inc.Reference))
		if got.Milestones.AcknowledgedAt == nil || !got.Milestones.AcknowledgedAt.Equal(c.Now()) {
			t.Errorf("acknowledged_at %v", got.Milestones.AcknowledgedAt)
		}
		tl := must(s.ListTimeline(ctx, inc.Reference, firebreak.TimelineFilter{}))
		last := tl.Items[len(tl.Items)-1]
		if last.Actor != "bob" || last.Data["acknowledged_by"] != "bob" {
			t.Errorf("timeline %+v", last)
		}
		if _, err := s.AcknowledgeByLink(ctx, secret); firebreak.ErrorCode(err) != firebreak.EConflict {
			t.Errorf("second use: %v", err)
		}
		if info := must(s.AckLink(ctx, secret)); info.UsedAt == nil {
			t.Error("the used link does not say so")
		}

		// Once acknowledged, new notifications carry no link; the channel's old link is used up but harmless.
		must(s.ChangeStatus(alice, inc.Reference, firebreak.StatusIdentified, "found it", 0))
		changed := 0
		for name, ms := range claimAll(t, s, c.Now()) { // (the declarations' leases ran out: they come again)
			for _, m := range ms {
				if m.Kind != notify.KindStatusChanged {
					continue
				}
				changed++
				if m.Incident.AckURL != "" {
					t.Errorf("%s: a link after acknowledgement", name)
				}
			}
		}
		if changed != 2 {
			t.Errorf("%d status change messages, want 2", changed)
		}
		ops := strings.TrimPrefix(opsLink, "https://fb.example.com/ack/")
		if u := must(s.AcknowledgeByLink(ctx, ops)); u.UsedBy != "channel ops" {
			t.Errorf("shared channel link %+v", u)
		}

		// Links expire.
		inc2 := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Second", Severity: firebreak.SEV2,
			Services: []string{"api"}}))
		link := claimAll(t, s, c.Now())["bob email"][0].Incident.AckURL
		c.Advance(sqlstore.AckLinkTTL + time.Second)
		if _, err := s.AcknowledgeByLink(ctx, strings.TrimPrefix(link, "https://fb.example.com/ack/")); firebreak.ErrorCode(err) != firebreak.EGone {
			t.Errorf("expired link: %v", err)
		}
		if got := must(s.GetIncident(ctx, inc2.Reference)); got.Milestones.AcknowledgedAt != nil {
			t.Error("an expired link acknowledged")
		}
	})
}
