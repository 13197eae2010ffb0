package main

import (
	"context"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

func TestFollowThroughCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "incident", "declare", "--title", "Checkout timeouts in the promotion", "--severity", "SEV2",
		"--tag", "Promo-Event", "--tag", "checkout")
	contains(t, s.ok(t, "incident", "tags", "INC-1"), "INC-1: checkout, promo-event")
	contains(t, s.ok(t, "incident", "tags", "INC-1", "promo-event,third-party"), "INC-1: promo-event, third-party")
	contains(t, s.ok(t, "search", "checkout", "--tag", "third-party"), "INC-1", "#third-party")
	contains(t, s.ok(t, "search", "checkout", "--category", "capacity_scale"), "Nothing found.")
	if out, err := s.cli(t, "incident", "tags", "INC-1", "not a tag!"); err == nil {
		t.Fatalf("a bad tag was accepted:\n%s", out)
	}
	contains(t, s.ok(t, "incident", "tags", "INC-1", "--clear"), "INC-1 has no tags.")

	c := client.New(s.url, s.token)
	if _, err := c.CreateChannel(context.Background(), firebreak.ChannelInput{Kind: firebreak.ChannelSlack,
		Name: "sre-room", URL: "https://hooks.example.com/sre"}); err != nil {
		t.Fatal(err)
	}
	s.ok(t, "team", "add", "--slug", "sre")
	contains(t, s.ok(t, "team", "channels", "sre"), "Team sre has no channels.")
	contains(t, s.ok(t, "team", "channels", "sre", "sre-room"), "Team sre: sre-room")

	contains(t, s.ok(t, "follow-ups", "reviews", "--due"), "No follow-up reviews.")
	var p firebreak.Page[firebreak.FollowUpReview]
	s.jsonOut(t, &p, "follow-ups", "reviews")
	if len(p.Items) != 0 {
		t.Fatalf("reviews %+v", p.Items)
	}
	if _, err := c.AddActionItem(context.Background(), "INC-1", firebreak.ActionItemInput{Title: "Add a timeout",
		Owner: "bob", DueDate: "2020-01-01"}); err != nil {
		t.Fatal(err)
	}
	contains(t, s.ok(t, "follow-ups", "--overdue"), "Add a timeout", "(overdue)", "REMINDED")
	contains(t, s.ok(t, "metrics"), "Follow-through:", "post-mortems published within 5 business days",
		"Overdue action items: 1")
}
