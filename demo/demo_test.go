package demo_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/demo"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// openStore opens a fresh store whose clock the demo loader can pin.
func openStore(t *testing.T, dialect string) (*sqlstore.Store, *app.Clock) {
	t.Helper()
	clock := &app.Clock{}
	o := sqltest.Options(t, dialect)
	o.Now = clock.Now
	s, err := sqlstore.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, clock
}

func target(s *sqlstore.Store, c *app.Clock, now time.Time) demo.Target {
	return demo.Target{Incidents: s, Catalog: s, Users: s, Postmortems: s, Pin: c.Pin, Unpin: c.Unpin, Now: now}
}

func allIncidents(t *testing.T, s *sqlstore.Store) []firebreak.Incident {
	t.Helper()
	p, err := s.ListIncidents(context.Background(), firebreak.IncidentFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

func timeline(t *testing.T, s *sqlstore.Store, ref string) []firebreak.TimelineEvent {
	t.Helper()
	p, err := s.ListTimeline(context.Background(), ref, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if p.NextCursor != "" {
		t.Fatalf("%s: timeline longer than one page", ref)
	}
	return p.Items
}

func TestLoad(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) { testLoad(t, dialect) })
	}
}

func testLoad(t *testing.T, dialect string) {
	ctx := context.Background()
	s, clock := openStore(t, dialect)
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	if err := demo.Load(ctx, target(s, clock, now)); err != nil {
		t.Fatal(err)
	}
	if got := clock.Now(); got.Sub(time.Now()) > time.Minute || time.Since(got) > time.Minute {
		t.Fatalf("the clock is still pinned after Load: %s", got)
	}

	incs := allIncidents(t, s)
	if len(incs) < 6 {
		t.Fatalf("%d incidents, want at least 6", len(incs))
	}
	statuses := map[firebreak.Status]int{}
	severities := map[firebreak.Severity]int{}
	for _, inc := range incs {
		statuses[inc.Status]++
		severities[inc.Severity]++
	}
	for _, st := range firebreak.Statuses {
		if statuses[st] == 0 {
			t.Errorf("no incident is %s (have %v)", st, statuses)
		}
	}
	for _, sev := range firebreak.Severities {
		if severities[sev] == 0 {
			t.Errorf("no %s incident (have %v)", sev, severities)
		}
	}

	// Every operation was done by a demo user, at a time before now, in the recent past.
	people := map[string]bool{}
	for _, u := range demo.Users {
		people[u.Username] = true
	}
	for _, inc := range incs {
		if !people[inc.CreatedBy] {
			t.Errorf("%s declared by %q", inc.Reference, inc.CreatedBy)
		}
		d := *inc.Milestones.DeclaredAt
		if d.After(now) || now.Sub(d) > 60*24*time.Hour {
			t.Errorf("%s declared at %s, want within 60 days before %s", inc.Reference, d, now)
		}
		evs := timeline(t, s, inc.ID)
		if len(evs) < 2 {
			t.Errorf("%s has %d timeline events", inc.Reference, len(evs))
		}
		for _, ev := range evs {
			if !people[ev.Actor] {
				t.Errorf("%s: event %q by %q, not a person", inc.Reference, ev.Message, ev.Actor)
			}
			if ev.RecordedAt.After(now) || ev.OccurredAt.After(ev.RecordedAt.Add(time.Second)) {
				t.Errorf("%s: event %q occurred %s, recorded %s (now %s)", inc.Reference, ev.Message,
					ev.OccurredAt, ev.RecordedAt, now)
			}
		}
	}

	// The SEV1 follows the seed post-mortem's timeline, 14:15 → 17:45 UTC on one recent day.
	i := slices.IndexFunc(incs, func(inc firebreak.Incident) bool { return inc.Title == demo.CascadeTitle })
	if i < 0 {
		t.Fatalf("no incident %q", demo.CascadeTitle)
	}
	sev1 := incs[i]
	if sev1.Severity != firebreak.SEV1 || sev1.Status != firebreak.StatusResolved {
		t.Errorf("cascade: %s %s, want SEV1 resolved", sev1.Severity, sev1.Status)
	}
	m := sev1.Milestones
	day := m.DeclaredAt.UTC().Truncate(24 * time.Hour)
	if now.Sub(day) > 14*24*time.Hour {
		t.Errorf("cascade happened on %s, want a recent date", day)
	}
	at := func(h, min int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(min)*time.Minute)
	}
	for _, c := range []struct {
		name string
		got  *time.Time
		want time.Time
	}{{"impact_started_at", m.ImpactStartedAt, at(14, 30)}, {"detected_at", m.DetectedAt, at(14, 30)},
		{"acknowledged_at", m.AcknowledgedAt, at(14, 35)}, {"declared_at", m.DeclaredAt, at(15, 5)},
		{"mitigated_at", m.MitigatedAt, at(16, 0)}, {"resolved_at", m.ResolvedAt, at(17, 45)}} {
		if c.got == nil || !c.got.Equal(c.want) {
			t.Errorf("cascade %s = %v, want %s", c.name, c.got, c.want)
		}
	}
	if m.ClosedAt != nil {
		t.Errorf("cascade closed_at = %s, want none", m.ClosedAt)
	}
	wantRoles := map[firebreak.Role]string{firebreak.RoleCommander: "alice", firebreak.RoleTechLead: "erin",
		firebreak.RoleCommsLead: "carol"}
	for r, u := range wantRoles {
		if sev1.Roles[r] != u {
			t.Errorf("cascade role %s = %q, want %q", r, sev1.Roles[r], u)
		}
	}
	evs := timeline(t, s, sev1.ID)
	if first := evs[0]; !first.OccurredAt.Equal(at(14, 15)) || !strings.Contains(first.Message, "Promotional event") {
		t.Errorf("cascade timeline starts with %q at %s, want the promotion at 14:15", first.Message, first.OccurredAt)
	}
	var resolved, declared *firebreak.TimelineEvent
	starred := 0
	for i, ev := range evs {
		if ev.Starred {
			starred++
		}
		switch {
		case ev.Kind == firebreak.EventStatusChanged && ev.Data["to"] == string(firebreak.StatusResolved):
			resolved = &evs[i]
		case ev.Kind == firebreak.EventDeclared:
			declared = &evs[i]
		}
		if i > 0 && ev.OccurredAt.Before(evs[i-1].OccurredAt) {
			t.Errorf("cascade timeline out of order at %q", ev.Message)
		}
	}
	if resolved == nil || !resolved.OccurredAt.Equal(at(17, 45)) || !resolved.RecordedAt.Equal(at(17, 45)) ||
		resolved.Actor != "alice" || !resolved.Starred {
		t.Errorf("cascade resolution event = %+v, want alice at 17:45, starred", resolved)
	}
	if declared == nil || !declared.OccurredAt.Equal(at(15, 5)) || !declared.Starred {
		t.Errorf("cascade declaration event = %+v, want 15:05, starred", declared)
	}
	if starred < 4 {
		t.Errorf("cascade has %d starred events, want at least 4", starred)
	}
	// A backdated note keeps both times: what happened at 14:50, written down at 15:08.
	j := slices.IndexFunc(evs, func(ev firebreak.TimelineEvent) bool { return strings.Contains(ev.Message, "pool size") })
	if j < 0 || !evs[j].OccurredAt.Equal(at(14, 50)) || !evs[j].RecordedAt.Equal(at(15, 8)) || evs[j].Actor != "bob" {
		t.Errorf("cascade pool-size note = %+v", evs)
	}

	ups, err := s.ListUpdates(ctx, sev1.ID)
	if err != nil {
		t.Fatal(err)
	}
	audiences := map[firebreak.Audience]int{}
	for _, u := range ups {
		audiences[u.Audience]++
	}
	if audiences[firebreak.AudienceInternal] == 0 || audiences[firebreak.AudienceExternal] == 0 {
		t.Errorf("cascade updates by audience: %v, want internal and external", audiences)
	}
	if len(ups) == 0 || !ups[0].CreatedAt.Equal(at(15, 15)) || ups[0].Status != firebreak.StatusInvestigating {
		t.Errorf("first cascade update = %+v, want the 15:15 status page update while investigating", ups)
	}

	items, err := s.ListActionItems(ctx, sev1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 10 {
		t.Fatalf("cascade has %d action items, want the 10 of the post-mortem", len(items))
	}
	byStatus := map[firebreak.ActionItemStatus][]firebreak.ActionItem{}
	for _, a := range items {
		byStatus[a.Status] = append(byStatus[a.Status], a)
		if a.Owner == "" || a.DueDate == "" {
			t.Errorf("action item %q has no owner or due date", a.Title)
		}
	}
	for _, st := range firebreak.ActionItemStatuses {
		if len(byStatus[st]) == 0 {
			t.Errorf("no cascade action item is %s", st)
		}
	}
	if nd := byStatus[firebreak.ActionNotDoing]; len(nd) != 1 || nd[0].Reason == "" {
		t.Errorf("not_doing items = %+v, want one with a reason", nd)
	}
	if got := len(byStatus[firebreak.ActionInProgress]); got != 4 {
		t.Errorf("%d cascade items in progress, want the seed's 4", got)
	}
	if d := byStatus[firebreak.ActionVerified]; len(d) != 1 || d[0].Owner != "Monitoring Team" ||
		d[0].DueDate != day.AddDate(0, 0, 5).Format(time.DateOnly) {
		t.Errorf("verified item = %+v, want the Monitoring Team's dashboards due 5 days after the incident", d)
	}

	// The recurring incident points at its predecessor, whose action items were never finished.
	var first, again *firebreak.Incident
	for i := range incs {
		switch {
		case strings.HasPrefix(incs[i].Title, "Payment processing failing again"):
			again = &incs[i]
		case strings.HasPrefix(incs[i].Title, "Payment processing failing:"):
			first = &incs[i]
		}
	}
	if first == nil || again == nil {
		t.Fatal("the recurring payment incidents are missing")
	}
	// The first stays resolved: its action items were never finished, so the close policy keeps it from closing.
	if first.Status != firebreak.StatusResolved || !again.Status.Open() ||
		!strings.Contains(again.Summary, first.Reference) {
		t.Errorf("recurring: first %s %s, again %s %q", first.Reference, first.Status, again.Status, again.Summary)
	}
	firstItems, err := s.ListActionItems(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range firstItems {
		if a.Status == firebreak.ActionDone || a.Status == firebreak.ActionVerified {
			t.Errorf("%s action item %q is %s; the scenario is that none was finished", first.Reference, a.Title, a.Status)
		}
	}
	if len(firstItems) == 0 {
		t.Errorf("%s has no action items", first.Reference)
	}

	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	viewers := 0
	for _, u := range demo.Users {
		a, err := s.AuthenticatePassword(ctx, u.Username, demo.Password)
		if err != nil {
			t.Errorf("demo user %s cannot log in with the demo password: %v", u.Username, err)
		}
		if a.Role != u.Role {
			t.Errorf("demo user %s has role %s, want %s", u.Username, a.Role, u.Role)
		}
		if u.Role == firebreak.RoleViewer {
			viewers++
		}
	}
	if viewers != 1 || len(demo.Users) < 5 {
		t.Errorf("%d demo users with %d viewers, want about 6 with one viewer", len(demo.Users), viewers)
	}
	svcs, err := s.ListServices(ctx, firebreak.ServiceFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(svcs.Items) != len(demo.Services) {
		t.Errorf("%d services, want %d", len(svcs.Items), len(demo.Services))
	}

	// Follow-through: the closed SEV2 has its post-mortem published and every action item resolved; the SEV1
	// checkout outage has a published post-mortem whose follow-up review is due, and stays resolved.
	reviews, err := s.ListFollowUpReviews(ctx, firebreak.FollowUpReviewFilter{})
	if err != nil {
		t.Fatal(err)
	}
	due := 0
	for _, r := range reviews.Items {
		if r.Due {
			due++
		}
	}
	if len(reviews.Items) != 2 || due != 1 {
		t.Errorf("follow-up reviews %+v, want two published post-mortems, one review due", reviews.Items)
	}
	for _, inc := range incs {
		if inc.Status != firebreak.StatusClosed || !s.FollowThroughPolicy().RequiresFollowThrough(inc.Severity) {
			continue
		}
		pm, err := s.GetPostmortem(ctx, inc.ID)
		if err != nil || pm.Status != firebreak.PostmortemPublished {
			t.Errorf("closed %s: post-mortem %v %v", inc.Reference, pm, err)
			continue
		}
		for _, a := range pm.ActionItems {
			if !a.Resolved() || (a.Status == firebreak.ActionVerified && a.VerifiedBy == a.Owner) {
				t.Errorf("closed %s has action item %q %s", inc.Reference, a.Title, a.Status)
			}
		}
	}

	// Loading again adds nothing.
	if err := demo.Load(ctx, target(s, clock, now.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if got := allIncidents(t, s); len(got) != len(incs) {
		t.Errorf("second load: %d incidents, had %d", len(got), len(incs))
	}
	if got := timeline(t, s, sev1.ID); len(got) != len(evs) {
		t.Errorf("second load: cascade timeline has %d events, had %d", len(got), len(evs))
	}
	users2, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users2) != len(users) {
		t.Errorf("second load: %d users, had %d", len(users2), len(users))
	}
}

// The demo is relative to the time of loading: whenever it is loaded, nothing lands in the future, and the
// incidents of "today" stay open.
func TestLoadAtAnyTime(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2027, 1, 1, 0, 5, 0, 0, time.UTC), // just after midnight on New Year's Day
		time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC),
	} {
		t.Run(now.Format(time.RFC3339), func(t *testing.T) {
			s, clock := openStore(t, "sqlite")
			if err := demo.Load(context.Background(), target(s, clock, now)); err != nil {
				t.Fatal(err)
			}
			for _, inc := range allIncidents(t, s) {
				for _, ev := range timeline(t, s, inc.ID) {
					if ev.RecordedAt.After(now) || ev.OccurredAt.After(now) {
						t.Errorf("%s: %q at %s, after now %s", inc.Reference, ev.Message, ev.RecordedAt, now)
					}
				}
			}
		})
	}
}

// With an AlertService the demo also has integrations, alerts and a deploy: the latency storm opened one SEV2
// incident with its three alerts attached, the deploy shows as a change before it, and warnings were only recorded.
func TestLoadDetection(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t, "sqlite")
	now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	tg := target(s, clock, now)
	tg.Alerts, tg.Changes = s, s
	if err := demo.Load(ctx, tg); err != nil {
		t.Fatal(err)
	}
	var opened *firebreak.Incident
	incs := allIncidents(t, s)
	for i := range incs {
		if incs[i].Title == demo.DetectionTitle {
			opened = &incs[i]
		}
	}
	if opened == nil {
		t.Fatalf("no incident %q among %d", demo.DetectionTitle, len(incs))
	}
	if opened.Severity != firebreak.SEV2 || !opened.Status.Open() {
		t.Fatalf("alert incident is %s %s, want an open SEV2", opened.Severity, opened.Status)
	}
	for i := 1; i < len(incs); i++ { // newest first: numbers still grow with declaration time
		if incs[i].Milestones.DeclaredAt.After(*incs[i-1].Milestones.DeclaredAt) {
			t.Fatalf("%s declared after %s", incs[i].Reference, incs[i-1].Reference)
		}
	}
	attached, err := s.ListAlerts(ctx, firebreak.AlertFilter{Incident: opened.Reference})
	if err != nil {
		t.Fatal(err)
	}
	resolved := 0
	for _, a := range attached.Items {
		if a.Status == firebreak.AlertResolved {
			resolved++
		}
	}
	if len(attached.Items) != 3 || resolved != 1 {
		t.Fatalf("%d alerts attached (%d resolved), want 3 with 1 resolved", len(attached.Items), resolved)
	}
	all, err := s.ListAlerts(ctx, firebreak.AlertFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != 5 {
		t.Fatalf("%d alerts, want 5", len(all.Items))
	}
	changes, err := s.ChangesBefore(ctx, opened.Reference, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || !strings.Contains(changes[0].Summary, "orders v3.18.0") {
		t.Fatalf("changes before the alert incident: %+v", changes)
	}
}

// With a StatusPageService the demo's status page shows the shop's components, with the open incidents' states.
func TestLoadStatusPage(t *testing.T) {
	ctx := context.Background()
	s, clock := openStore(t, "sqlite")
	now := time.Now().UTC()
	tg := target(s, clock, now)
	tg.Status = s
	if err := demo.Load(ctx, tg); err != nil {
		t.Fatal(err)
	}
	d, err := s.StatusData(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	page := firebreak.BuildStatusPage(d, now)
	if page.Name != "Example Shop status" || len(page.Components) != 7 {
		t.Fatalf("status page %q with %d components", page.Name, len(page.Components))
	}
	degraded := 0
	for _, c := range page.Components {
		if c.State != firebreak.ComponentOperational {
			degraded++
		}
	}
	if degraded == 0 || len(page.Open) == 0 {
		t.Fatalf("no component affected and %d open incidents shown, though the demo has open incidents", len(page.Open))
	}
}
