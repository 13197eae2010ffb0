package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/oncall"
	"github.com/firebreak/firebreak/sqlstore"
)

func oncallUsers(t *testing.T, s *sqlstore.Store, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := s.CreateUser(context.Background(), firebreak.UserInput{Username: n, Name: "User " + n}); err != nil {
			t.Fatal(err)
		}
	}
}

func wantOncallCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if firebreak.ErrorCode(err) != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

func TestTeams(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		oncallUsers(t, s, "ann", "bob")
		tm, err := s.CreateTeam(ctx, firebreak.TeamInput{Slug: "payments", Name: "Payments",
			Members: []firebreak.TeamMemberInput{{Username: "ann", Role: firebreak.TeamRoleManager}}})
		if err != nil {
			t.Fatal(err)
		}
		if tm.Version != 1 || len(tm.Members) != 1 || tm.Members[0].Role != "manager" || tm.Members[0].Name != "User ann" {
			t.Fatalf("team %+v", tm)
		}
		_, err = s.CreateTeam(ctx, firebreak.TeamInput{Slug: "payments"})
		wantOncallCode(t, "duplicate slug", err, firebreak.EConflict)
		_, err = s.CreateTeam(ctx, firebreak.TeamInput{Slug: "x", Members: []firebreak.TeamMemberInput{{Username: "zed"}}})
		wantOncallCode(t, "unknown member", err, firebreak.EInvalid)
		_, err = s.CreateTeam(ctx, firebreak.TeamInput{Slug: "Bad Slug"})
		wantOncallCode(t, "bad slug", err, firebreak.EInvalid)

		tm, err = s.SetTeamMember(ctx, "payments", firebreak.TeamMemberInput{Username: "bob"})
		if err != nil || len(tm.Members) != 2 || tm.Members[1].Role != "member" || tm.Version != 2 {
			t.Fatalf("add member: %+v %v", tm, err)
		}
		tm, err = s.SetTeamMember(ctx, tm.ID, firebreak.TeamMemberInput{Username: "bob", Role: "manager"})
		if err != nil || tm.Members[1].Role != "manager" {
			t.Fatalf("change role: %+v %v", tm, err)
		}
		_, err = s.SetTeamMember(ctx, "payments", firebreak.TeamMemberInput{Username: "zed"})
		wantOncallCode(t, "unknown user", err, firebreak.ENotFound)
		tm, err = s.RemoveTeamMember(ctx, "payments", "ann")
		if err != nil || len(tm.Members) != 1 || tm.Members[0].Username != "bob" {
			t.Fatalf("remove: %+v %v", tm, err)
		}
		_, err = s.RemoveTeamMember(ctx, "payments", "ann")
		wantOncallCode(t, "remove non-member", err, firebreak.ENotFound)

		name := "Payments Team"
		_, err = s.UpdateTeam(ctx, "payments", firebreak.TeamPatch{Name: &name}, 1)
		wantOncallCode(t, "stale version", err, firebreak.EPreconditionFailed)
		tm, err = s.UpdateTeam(ctx, "payments", firebreak.TeamPatch{Name: &name}, tm.Version)
		if err != nil || tm.Name != name {
			t.Fatalf("rename: %+v %v", tm, err)
		}
		if _, err := s.CreateTeam(ctx, firebreak.TeamInput{Slug: "infra"}); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListTeams(ctx)
		if err != nil || len(all) != 2 || all[0].Slug != "infra" || len(all[0].Members) != 0 || all[1].Name != name {
			t.Fatalf("list: %+v %v", all, err)
		}
		_, err = s.GetTeam(ctx, "nope")
		wantOncallCode(t, "get unknown", err, firebreak.ENotFound)
	})
}

func scheduleInput() firebreak.ScheduleInput {
	return firebreak.ScheduleInput{Name: "Payments primary", Team: "payments", TimeZone: "Europe/Berlin",
		Layers: []firebreak.Layer{{Name: "weekly", Rotation: "weekly", Start: "2025-03-03", HandoffTime: "09:00",
			Participants: []string{"ann", "bob"}}}}
}

func TestSchedules(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := firebreak.WithActor(context.Background(), firebreak.Actor{Username: "ann", Role: firebreak.RoleAdmin})
		oncallUsers(t, s, "ann", "bob", "cyd")
		if _, err := s.CreateTeam(ctx, firebreak.TeamInput{Slug: "payments"}); err != nil {
			t.Fatal(err)
		}
		in := scheduleInput()
		in.Layers[0].Restriction = &firebreak.Restriction{From: "08:00", To: "20:00", Days: []string{"mon"}}
		sc, err := s.CreateSchedule(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if sc.Version != 1 || sc.Team != "payments" || sc.TimeZone != "Europe/Berlin" || len(sc.Overrides) != 0 ||
			!slices.Equal(sc.Layers[0].Participants, []string{"ann", "bob"}) || sc.Layers[0].Length != 1 ||
			sc.Layers[0].Restriction == nil || sc.Layers[0].Restriction.Days[0] != "mon" {
			t.Fatalf("created %+v", sc)
		}
		got, err := s.GetSchedule(ctx, sc.ID)
		if err != nil || got.Name != sc.Name || !got.CreatedAt.Equal(t0) {
			t.Fatalf("get %+v %v", got, err)
		}

		bad := scheduleInput()
		bad.Layers[0].Participants = []string{"ann", "zed"}
		_, err = s.CreateSchedule(ctx, bad)
		wantOncallCode(t, "unknown participant", err, firebreak.EInvalid)
		bad = scheduleInput()
		bad.Team = "nope"
		_, err = s.CreateSchedule(ctx, bad)
		wantOncallCode(t, "unknown team", err, firebreak.EInvalid)
		bad = scheduleInput()
		bad.TimeZone = "Nowhere/Land"
		_, err = s.CreateSchedule(ctx, bad)
		wantOncallCode(t, "unknown zone", err, firebreak.EInvalid)

		// Overrides.
		start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
		o, err := s.AddOverride(ctx, sc.ID, firebreak.OverrideInput{User: "cyd", Start: start, End: start.Add(4 * time.Hour)})
		if err != nil || o.CreatedBy != "ann" || o.User != "cyd" {
			t.Fatalf("override %+v %v", o, err)
		}
		_, err = s.AddOverride(ctx, sc.ID, firebreak.OverrideInput{User: "zed", Start: start, End: start.Add(time.Hour)})
		wantOncallCode(t, "override unknown user", err, firebreak.EInvalid)
		_, err = s.AddOverride(ctx, sc.ID, firebreak.OverrideInput{User: "bob", Start: start, End: start})
		wantOncallCode(t, "empty override", err, firebreak.EInvalid)
		got, err = s.GetSchedule(ctx, sc.ID)
		if err != nil || got.Version != 2 || len(got.Overrides) != 1 || !got.Overrides[0].End.Equal(start.Add(4*time.Hour)) {
			t.Fatalf("after override %+v %v", got, err)
		}
		sh, err := oncall.OnCallAt(got, start.Add(time.Hour))
		if err != nil || !slices.Equal(sh.Users, []string{"cyd"}) {
			t.Fatalf("on call %+v %v", sh, err)
		}

		// Replace the layers; stale versions are refused.
		in = scheduleInput()
		in.Name = "Renamed"
		in.Team = ""
		_, err = s.UpdateSchedule(ctx, sc.ID, in, 1)
		wantOncallCode(t, "stale", err, firebreak.EPreconditionFailed)
		up, err := s.UpdateSchedule(ctx, sc.ID, in, 2)
		if err != nil || up.Name != "Renamed" || up.Team != "" || up.Version != 3 || len(up.Overrides) != 1 ||
			up.Layers[0].Restriction != nil {
			t.Fatalf("update %+v %v", up, err)
		}

		list, err := s.ListSchedules(ctx, firebreak.ScheduleFilter{User: "cyd"})
		if err != nil || len(list) != 1 || len(list[0].Overrides) != 1 {
			t.Fatalf("list by user %+v %v", list, err)
		}
		list, err = s.ListSchedules(ctx, firebreak.ScheduleFilter{Team: "payments"})
		if err != nil || len(list) != 0 {
			t.Fatalf("list by team %+v %v", list, err)
		}

		// Calendar feeds: reissuing replaces the token.
		tok1, err := s.IssueCalendarFeed(ctx, firebreak.FeedSchedule, sc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CheckCalendarFeed(ctx, firebreak.FeedSchedule, sc.ID, tok1); err != nil {
			t.Fatal(err)
		}
		tok2, err := s.IssueCalendarFeed(ctx, firebreak.FeedSchedule, sc.ID)
		if err != nil || tok2 == tok1 {
			t.Fatal(err)
		}
		wantOncallCode(t, "old token", s.CheckCalendarFeed(ctx, firebreak.FeedSchedule, sc.ID, tok1), firebreak.ENotFound)
		wantOncallCode(t, "other subject", s.CheckCalendarFeed(ctx, firebreak.FeedUser, "ann", tok2), firebreak.ENotFound)
		utok, err := s.IssueCalendarFeed(ctx, firebreak.FeedUser, "bob")
		if err != nil || s.CheckCalendarFeed(ctx, firebreak.FeedUser, "bob", utok) != nil {
			t.Fatal(err)
		}
		_, err = s.IssueCalendarFeed(ctx, firebreak.FeedUser, "zed")
		wantOncallCode(t, "feed of unknown user", err, firebreak.ENotFound)

		wantOncallCode(t, "delete unknown override", s.DeleteOverride(ctx, sc.ID, "nope"), firebreak.ENotFound)
		if err := s.DeleteOverride(ctx, sc.ID, o.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSchedule(ctx, sc.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetSchedule(ctx, sc.ID)
		wantOncallCode(t, "deleted", err, firebreak.ENotFound)
		wantOncallCode(t, "feed of deleted", s.CheckCalendarFeed(ctx, firebreak.FeedSchedule, sc.ID, tok2), firebreak.ENotFound)
		wantOncallCode(t, "delete twice", s.DeleteSchedule(ctx, sc.ID), firebreak.ENotFound)
	})
}
