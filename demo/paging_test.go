package demo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/demo"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/oncall"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// With contact, schedule and escalation services the demo pages: responders have example.com email contact
// methods, two schedules rotate weekly, every service has a policy, the last hour's unacknowledged incidents are
// being paged (the escalation panel has something to show) and the older incidents paged nobody.
func TestLoadPaging(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) { testLoadPaging(t, dialect) })
	}
}

func testLoadPaging(t *testing.T, dialect string) {
	ctx := context.Background()
	s, clock := openStore(t, dialect)
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	tg := target(s, clock, now)
	tg.Alerts, tg.Changes, tg.ChangeControl, tg.Runbooks = s, s, s, s
	tg.Contacts, tg.Schedules, tg.Escalation = s, s, s
	if err := demo.Load(ctx, tg); err != nil {
		t.Fatal(err)
	}

	for _, u := range demo.Users {
		cms, err := s.ListContactMethods(ctx, u.Username)
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if u.Role == firebreak.RoleViewer {
			want = 0
		}
		if len(cms) != want || (want == 1 && (cms[0].Kind != firebreak.ChannelEmail || cms[0].Address != u.Email)) {
			t.Errorf("%s: contact methods %+v", u.Username, cms)
		}
	}
	scheds, err := s.ListSchedules(ctx, firebreak.ScheduleFilter{})
	if err != nil || len(scheds) != 2 {
		t.Fatalf("schedules %+v %v", scheds, err)
	}
	// The primary rotation hands over weekly: three different people over three weeks.
	var primary firebreak.Schedule
	for _, sc := range scheds {
		if sc.Name == demo.PrimarySchedule {
			primary = sc
		}
	}
	seen := map[string]bool{}
	plan, err := oncall.Compile(&primary)
	if err != nil {
		t.Fatal(err)
	}
	for w := range 3 {
		for _, u := range plan.UsersAt(now.AddDate(0, 0, 7*w)) {
			seen[u] = true
		}
	}
	if len(seen) != 3 {
		t.Errorf("the primary rotation over three weeks: %v", seen)
	}
	for _, sv := range demo.Services {
		got, err := s.GetService(ctx, sv.Slug)
		if err != nil {
			t.Fatal(err)
		}
		want := demo.OtherPolicy
		if sv.Tier == 1 {
			want = demo.Tier1Policy
		}
		if got.EscalationPolicy != want {
			t.Errorf("%s: escalation policy %q, want %q", sv.Slug, got.EscalationPolicy, want)
		}
	}

	// The incidents of the last hour that nobody acknowledged are being paged; the others paged nobody.
	paging := map[string]bool{}
	for _, inc := range allIncidents(t, s) {
		st, err := s.IncidentEscalation(ctx, inc.Reference)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == firebreak.EscalationRunning {
			paging[inc.Title] = true
			if r := st.Running[0]; r.Current == nil || len(r.Current.Paged) == 0 || r.Next == nil {
				t.Errorf("%s: running %+v", inc.Reference, r)
			}
		}
		if inc.Milestones.DeclaredAt.Before(now.Add(-45 * time.Minute)) {
			for _, ev := range timeline(t, s, inc.ID) {
				if ev.Kind == firebreak.EventEscalationPaged || ev.Kind == firebreak.EventEscalationStopped {
					t.Errorf("%s (declared %s) has escalation event %q", inc.Reference, inc.Milestones.DeclaredAt, ev.Message)
				}
			}
		}
	}
	if !paging[demo.DetectionTitle] || !paging["Order confirmation emails delayed"] || len(paging) != 2 {
		t.Fatalf("incidents being paged: %v", paging)
	}
	// Every page queued went to a demo contact method (an example.com address) and was created in the last hour.
	ns, err := s.ListNotifications(ctx, firebreak.NotificationFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	pages := 0
	for _, n := range ns {
		if n.Kind != string(notify.KindPage) {
			continue
		}
		pages++
		if n.CreatedAt.Before(now.Add(-45*time.Minute)) || !slices.ContainsFunc(demo.Users, func(u demo.User) bool {
			return n.Channel == u.Username+" email"
		}) {
			t.Errorf("page %+v", n)
		}
	}
	if pages == 0 {
		t.Fatal("no page was queued")
	}
}
