package app_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestChangeControlAnnouncedThroughTheApp: on the running app, a responder's proposed change reaches the incident
// commander's pager (a real local webhook) and the commander's decision reaches the proposer's, through the
// outbox engine, each as its own message kind (the Firebreak-Event header).
func TestChangeControlAnnouncedThroughTheApp(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			rcv := newReceiver(t)
			a := startApp(t, d, nil)
			ctx := context.Background()
			admin := client.New(a.URL(), adminToken)
			people := map[string]*client.Client{}
			for _, u := range []string{"alice", "bob"} {
				if _, err := admin.CreateUser(ctx, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}); err != nil {
					t.Fatal(err)
				}
				if _, err := admin.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook,
					Name: u + "-pager", URL: rcv.srv.URL + "/" + u, Secret: "0123456789abcdef", User: u}); err != nil {
					t.Fatal(err)
				}
				tok, err := admin.CreateToken(ctx, firebreak.TokenInput{Username: u, Name: "test"})
				if err != nil {
					t.Fatal(err)
				}
				people[u] = client.New(a.URL(), tok.Secret)
			}
			inc, err := admin.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Orders pool exhausted",
				Severity: firebreak.SEV2, Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}})
			if err != nil {
				t.Fatal(err)
			}
			waitFor := func(want ...string) {
				t.Helper()
				var got []string
				deadline := time.Now().Add(20 * time.Second)
				for time.Now().Before(deadline) {
					got = append(got, rcv.take()...)
					slices.Sort(got)
					if slices.Equal(got, want) {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				t.Fatalf("the receiver got %v, want %v", got, want)
			}

			p, err := people["bob"].ProposeChange(ctx, inc.Reference, firebreak.ProposalInput{
				Action: "Restart the orders pods", Reason: "connections leak", Risk: firebreak.RiskMedium})
			if err != nil {
				t.Fatal(err)
			}
			waitFor("/alice change_proposed")
			if _, err := people["alice"].DecideProposal(ctx, inc.Reference, p.ID, firebreak.DecisionApprove,
				firebreak.DecisionInput{Note: "one pod at a time"}); err != nil {
				t.Fatal(err)
			}
			waitFor("/bob change_approved")
			p2, err := people["bob"].ProposeChange(ctx, inc.Reference, firebreak.ProposalInput{
				Action: "Fail over the database", Reason: "the primary is slow"})
			if err != nil {
				t.Fatal(err)
			}
			waitFor("/alice change_proposed")
			if _, err := people["alice"].DecideProposal(ctx, inc.Reference, p2.ID, firebreak.DecisionReject,
				firebreak.DecisionInput{Note: "the primary is healthy"}); err != nil {
				t.Fatal(err)
			}
			waitFor("/bob change_rejected")

			// Every delivery is on the timeline too (recorded once the receiver has answered, so it may follow the
			// receipt by a moment).
			var kinds []firebreak.EventKind
			sent := 0
			for deadline := time.Now().Add(10 * time.Second); sent < 4 && time.Now().Before(deadline); {
				tl, err := admin.ListTimeline(ctx, inc.Reference, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
				if err != nil {
					t.Fatal(err)
				}
				kinds, sent = kindsOf(tl.Items), 0
				for _, ev := range tl.Items {
					if ev.Kind == "notification_sent" {
						sent++
					}
				}
				if sent < 4 {
					time.Sleep(20 * time.Millisecond)
				}
			}
			if sent < 4 {
				t.Errorf("%d notification_sent events, want 4: %v", sent, kinds)
			}
		})
	}
}
