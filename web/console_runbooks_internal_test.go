package web

import (
	"time"

	"github.com/firebreak/firebreak"
)

// Sample data for TestConsoleTemplates: every user text holds "<down>", which must come out escaped.

func sampleRunbook(now time.Time) firebreak.Runbook {
	return firebreak.Runbook{ID: "r1", Service: "api", Title: "Failover <down>", Body: "# Step <down>\n\n1. a <down>",
		Owner: "bob", LastReviewedAt: &now, LastReviewedBy: "ann", Stale: true,
		StaleReasons: []string{"the architecture of api changed <down>"}, ReviewDueAt: now, CreatedAt: now,
		UpdatedAt: now, UpdatedBy: "bob", Version: 3}
}

func sampleRunbookList(now time.Time) *runbookListPage {
	return &runbookListPage{Rows: []firebreak.Runbook{sampleRunbook(now)}, Services: []firebreak.Service{{Slug: "api",
		Name: "API <down>"}}, Users: []firebreak.User{{Username: "bob", Name: "Bob <down>"}}, Service: "api",
		StaleOnly: true, StaleCount: 1, NextURL: "/runbooks?cursor=x", In: runbookForm{Title: "t <down>",
			Body: "<down>"}, Errors: formErrors{"title": "bad <down>"}, Error: "e <down>", Open: true}
}

func sampleRunbookPage(now time.Time) *runbookPageData {
	rb := sampleRunbook(now)
	rev := firebreak.RunbookRevision{Version: 2, Title: "Old <down>", Body: "<down>", Author: "ann", SavedAt: now}
	return &runbookPageData{RB: &rb, Body: renderMarkdown(rb.Body, 2), Viewing: &rev,
		Revisions: []firebreak.RunbookRevision{rev}, Services: []firebreak.Service{{Slug: "api", Name: "API"}},
		In: runbookForm{Title: "t <down>", Body: "<down>", Version: 3}, Errors: formErrors{"body": "bad <down>"},
		Error: "stale <down>", Stale: true, EditOpen: true, Notice: "n <down>"}
}

func sampleChannelsPage(now time.Time) *channelsPage {
	return &channelsPage{Rows: []firebreak.Channel{{ID: "c1", Kind: firebreak.ChannelSlack, Name: "ops <down>",
		URL: "https://hooks.slack.com/****", Enabled: true, Services: []string{"api"}, CreatedAt: now},
		{ID: "c2", Kind: firebreak.ChannelEmail, Name: "mail", Address: "a@example.com", User: "bob <down>"}},
		Kinds: firebreak.ChannelKinds, In: firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: "<down>"},
		Errors: formErrors{"url": "bad <down>"}, Error: "e <down>", Notice: "n <down>", Open: true, Dead: 2}
}

func sampleNotificationsPage(now time.Time) *notificationsPage {
	return &notificationsPage{Status: firebreak.NotificationDead, Statuses: notificationStatuses,
		Notice: "n <down>", Incident: "INC-7", Rows: []firebreak.Notification{{ID: "n1", ChannelID: "c1",
			Channel: "ops <down>", Incident: "INC-7", Kind: "declared", Status: firebreak.NotificationDead,
			Attempts: 7, LastError: "500 <down>", CreatedAt: now, DeadAt: &now}}}
}

func sampleIncidentChanges(iv *incidentView, now time.Time) *incidentView {
	c := *iv
	c.Form, c.Errors = "proposal", formErrors{"action": "Action is required <down>"}
	p := firebreak.ChangeProposal{ID: "p1", Incident: "INC-7", Action: "Restart <down>", Reason: "why <down>",
		Risk: firebreak.RiskHigh, State: firebreak.ProposalProposed, ProposedBy: "bob", ProposedAt: now}
	done := p
	done.ID, done.State, done.DecidedBy, done.DecidedAt, done.Note = "p2", firebreak.ProposalRejected, "alice", &now,
		"note <down>"
	rb := sampleRunbook(now)
	c.Changes = &incidentChanges{Enabled: true, Commander: "alice", CanPropose: true, Pending: 1, HasRunbooks: true,
		Proposals: []proposalView{{P: p, N: 1, CanDecide: true}, {P: done, N: 2}, {P: p, N: 3, CanWithdraw: true}},
		Runbooks:  []firebreak.Runbook{rb}, StaleCount: 1, NoneServices: []string{"db"}}
	return &c
}
