package sqlstore_test

// The conformance suite: every method and rule of the store, on SQLite and (when FIREBREAK_TEST_POSTGRES_URL is
// set) PostgreSQL, against real databases.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// --- helpers ---------------------------------------------------------------------------------------------------

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// forEach is sqltest.ForEach, turning a must panic into a test failure so that the other tests still run.
func forEach(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	sqltest.ForEach(t, func(t *testing.T, s *sqlstore.Store) {
		defer recoverMust(t)
		fn(t, s)
	})
}

func recoverMust(t *testing.T) {
	if r := recover(); r != nil {
		t.Fatalf("%v\n%s", r, debug.Stack())
	}
}

// forEachClock runs fn per dialect with a fresh store on a fake clock starting at t0.
func forEachClock(t *testing.T, fn func(t *testing.T, s *sqlstore.Store, c *fakeClock)) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			c := &fakeClock{t: t0}
			o := sqltest.Options(t, d)
			o.Now = c.Now
			s := openStore(t, o)
			defer recoverMust(t)
			fn(t, s, c)
		})
	}
}

func openStore(t testing.TB, o sqlstore.Options) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func as(user string, role firebreak.UserRole) context.Context {
	return firebreak.WithActor(context.Background(), firebreak.Actor{UserID: "u-" + user, Username: user, Role: role})
}

var alice = as("alice", firebreak.RoleResponder)

// must returns v, and panics (failing the test, with the caller's line in the trace) on an error. Go cannot pass
// a call's two results plus t to one function, hence the panic instead of t.Fatal.
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}

func wantCode(t testing.TB, err error, code string) *firebreak.Error {
	t.Helper()
	if got := firebreak.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	var e *firebreak.Error
	errors.As(err, &e)
	return e
}

func wantField(t testing.TB, err error, field, contains string) {
	t.Helper()
	e := wantCode(t, err, firebreak.EInvalid)
	for _, f := range e.Fields {
		if f.Field == field && strings.Contains(f.Message, contains) {
			return
		}
	}
	t.Fatalf("error %v has no field %q mentioning %q", err, field, contains)
}

func declare(t testing.TB, s *sqlstore.Store, title string, sev firebreak.Severity, services ...string) *firebreak.Incident {
	t.Helper()
	return must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: title, Severity: sev, Services: services}))
}

func service(t testing.TB, s *sqlstore.Store, slug, team string, deps ...string) *firebreak.Service {
	t.Helper()
	return must(s.CreateService(alice, firebreak.ServiceInput{Slug: slug, OwnerTeam: team, DependsOn: deps}))
}

func timeline(t testing.TB, s *sqlstore.Store, ref string) []firebreak.TimelineEvent {
	t.Helper()
	var all []firebreak.TimelineEvent
	f := firebreak.TimelineFilter{Limit: firebreak.MaxLimit}
	for {
		p := must(s.ListTimeline(context.Background(), ref, f))
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			return all
		}
		f.Cursor = p.NextCursor
	}
}

func kinds(evs []firebreak.TimelineEvent) []firebreak.EventKind {
	out := make([]firebreak.EventKind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// --- incidents -------------------------------------------------------------------------------------------------

func TestDeclareAndGet(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		service(t, s, "api", "core")
		service(t, s, "db", "core")
		a := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "  API down ", Summary: "5xx everywhere",
			Severity: firebreak.SEV1, Services: []string{"db", "api"},
			Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}}))
		b := declare(t, s, "Slow search", firebreak.SEV3)
		if a.Number != 1 || b.Number != 2 || a.Reference != "INC-1" || b.Reference != "INC-2" {
			t.Fatalf("numbers: %d %s, %d %s", a.Number, a.Reference, b.Number, b.Reference)
		}
		if a.Title != "API down" || a.Status != firebreak.StatusDetected || a.Version != 1 || a.CreatedBy != "alice" {
			t.Fatalf("declared: %+v", a)
		}
		if !slices.Equal(a.Services, []string{"db", "api"}) || a.Roles[firebreak.RoleCommander] != "alice" {
			t.Fatalf("services/roles: %v %v", a.Services, a.Roles)
		}
		if a.Milestones.DeclaredAt == nil || a.Milestones.DetectedAt == nil || a.Milestones.AcknowledgedAt == nil {
			t.Fatalf("milestones: %+v", a.Milestones)
		}
		for _, ref := range []string{a.ID, strings.ToUpper(a.ID), "INC-1", "inc-1", "1", " 1 "} {
			got := must(s.GetIncident(ctx, ref))
			if got.ID != a.ID {
				t.Fatalf("GetIncident(%q) = %s", ref, got.ID)
			}
			assertSameIncident(t, got, a)
		}
		if b2 := must(s.GetIncident(ctx, "INC-2")); len(b2.Services) != 0 || b2.Services == nil || b2.Roles == nil {
			t.Fatalf("empty services/roles must be empty, not nil: %#v %#v", b2.Services, b2.Roles)
		}
		_, err := s.GetIncident(ctx, "INC-42")
		if e := wantCode(t, err, firebreak.ENotFound); e.Message != "incident INC-42 not found" {
			t.Fatalf("message %q", e.Message)
		}
		for _, ref := range []string{"nope", "", "0", "INC-", "018f0000-0000-7000-8000-000000000000"} {
			_, err := s.GetIncident(ctx, ref)
			wantCode(t, err, firebreak.ENotFound)
		}
		_, err = s.DeclareIncident(alice, firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV2,
			Services: []string{"api", "ghost"}})
		wantField(t, err, "services", `"ghost"`)
		_, err = s.DeclareIncident(alice, firebreak.DeclareInput{Title: "", Severity: "SEV9"})
		wantField(t, err, "title", "required")
		wantField(t, err, "severity", "SEV1")

		// A refused declaration used no number.
		c := declare(t, s, "third", firebreak.SEV2)
		if c.Number != 3 {
			t.Fatalf("number after refused declarations = %d, want 3", c.Number)
		}
		evs := timeline(t, s, a.ID)
		if !slices.Equal(kinds(evs), []firebreak.EventKind{firebreak.EventDeclared, firebreak.EventRoleAssigned}) {
			t.Fatalf("declaration events: %v", kinds(evs))
		}
		if evs[0].Actor != "alice" || evs[0].IncidentID != a.ID || evs[0].Data["severity"] != "SEV1" {
			t.Fatalf("declared event: %+v", evs[0])
		}
	})
}

func assertSameIncident(t testing.TB, got, want *firebreak.Incident) {
	t.Helper()
	g, w := *got, *want
	if g.ID != w.ID || g.Number != w.Number || g.Title != w.Title || g.Summary != w.Summary ||
		g.Severity != w.Severity || g.Status != w.Status || g.Version != w.Version || g.CreatedBy != w.CreatedBy ||
		!g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) || !slices.Equal(g.Services, w.Services) ||
		fmt.Sprint(g.Roles) != fmt.Sprint(w.Roles) || g.Reference != w.Reference {
		t.Fatalf("incident differs:\n got %+v\nwant %+v", g, w)
	}
	for _, name := range firebreak.MilestoneNames {
		a, b := *g.Milestones.Field(name), *w.Milestones.Field(name)
		if (a == nil) != (b == nil) || (a != nil && !a.Equal(*b)) {
			t.Fatalf("milestone %s: got %v want %v", name, a, b)
		}
	}
}

func TestDeclareBackdated(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		impact := t0.Add(-2 * time.Hour)
		detected := t0.Add(-90 * time.Minute).Add(123456789 * time.Nanosecond) // sub-microsecond is dropped
		inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: "old", Severity: firebreak.SEV2,
			Status: firebreak.StatusInvestigating, ImpactStartedAt: &impact, DetectedAt: &detected}))
		got := must(s.GetIncident(context.Background(), inc.Reference))
		assertSameIncident(t, got, inc)
		if !got.Milestones.ImpactStartedAt.Equal(impact) || got.Milestones.DetectedAt.Nanosecond()%1000 != 0 ||
			!got.Milestones.DeclaredAt.Equal(t0) || !got.Milestones.AcknowledgedAt.Equal(t0) {
			t.Fatalf("milestones: %+v", got.Milestones)
		}
		if got.Status != firebreak.StatusInvestigating || !got.CreatedAt.Equal(t0) {
			t.Fatalf("status %s created %v", got.Status, got.CreatedAt)
		}
	})
}

func TestLifecycle(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		// The lifecycle alone: no close policy (TestClosePolicy covers it).
		s.SetFollowThroughPolicy(firebreak.FollowThroughPolicy{CloseRequires: []firebreak.Severity{}})
		inc := declare(t, s, "Checkout failing", firebreak.SEV1)
		step := func(to firebreak.Status, msg string) *firebreak.Incident {
			t.Helper()
			c.Advance(time.Minute)
			cur := must(s.GetIncident(ctx, inc.ID))
			got := must(s.ChangeStatus(alice, inc.Reference, to, msg, cur.Version))
			if got.Status != to || got.Version != cur.Version+1 || !got.UpdatedAt.Equal(c.Now()) {
				t.Fatalf("after %s: %+v", to, got)
			}
			assertSameIncident(t, must(s.GetIncident(ctx, inc.ID)), got)
			return got
		}
		x := step(firebreak.StatusInvestigating, "looking")
		if !x.Milestones.AcknowledgedAt.Equal(t0.Add(time.Minute)) || x.Milestones.MitigatedAt != nil {
			t.Fatalf("ack: %+v", x.Milestones)
		}
		x = step(firebreak.StatusMitigating, "rolled back")
		if !x.Milestones.MitigatedAt.Equal(t0.Add(2*time.Minute)) || !x.Milestones.AcknowledgedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("mitigated: %+v", x.Milestones)
		}
		x = step(firebreak.StatusResolved, "")
		if !x.Milestones.ResolvedAt.Equal(t0.Add(3 * time.Minute)) {
			t.Fatalf("resolved: %+v", x.Milestones)
		}
		// Reopen: impact is back.
		x = step(firebreak.StatusInvestigating, "it is back")
		if x.Milestones.ResolvedAt != nil || x.Milestones.MitigatedAt != nil {
			t.Fatalf("reopened: %+v", x.Milestones)
		}
		x = step(firebreak.StatusResolved, "for real")
		x = step(firebreak.StatusClosed, "")
		if !x.Milestones.ClosedAt.Equal(t0.Add(6 * time.Minute)) {
			t.Fatalf("closed: %+v", x.Milestones)
		}
		_, err := s.ChangeStatus(alice, inc.Reference, firebreak.StatusInvestigating, "", 0)
		if e := wantCode(t, err, firebreak.EConflict); len(e.Allowed) != 0 || !strings.Contains(e.Message, "closed") {
			t.Fatalf("closed is final: %+v", e)
		}
		other := declare(t, s, "other", firebreak.SEV3)
		_, err = s.ChangeStatus(alice, other.ID, firebreak.StatusClosed, "", 0)
		e := wantCode(t, err, firebreak.EConflict)
		if !slices.Equal(e.Allowed, []string{"investigating", "identified", "mitigating", "resolved", "cancelled"}) {
			t.Fatalf("allowed: %v", e.Allowed)
		}
		_, err = s.ChangeStatus(alice, other.ID, "bogus", "", 0)
		wantField(t, err, "status", "must be one of")
		_, err = s.ChangeStatus(alice, "INC-99", firebreak.StatusResolved, "", 0)
		wantCode(t, err, firebreak.ENotFound)
		if got := must(s.GetIncident(ctx, other.ID)); got.Version != 1 {
			t.Fatalf("refused transitions changed the incident: %+v", got)
		}

		evs := timeline(t, s, inc.ID)
		var statusEvents []string
		for _, e := range evs {
			if e.Kind == firebreak.EventStatusChanged {
				statusEvents = append(statusEvents, e.Data["from"]+">"+e.Data["to"])
			}
		}
		want := []string{"detected>investigating", "investigating>mitigating", "mitigating>resolved",
			"resolved>investigating", "investigating>resolved", "resolved>closed"}
		if !slices.Equal(statusEvents, want) {
			t.Fatalf("status events %v", statusEvents)
		}
		if !strings.Contains(evs[4].Message, "reopened") {
			t.Fatalf("reopen message: %q", evs[4].Message)
		}
	})
}

func TestUpdateIncident(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "api", "core")
		service(t, s, "web", "edge")
		inc := declare(t, s, "Errors", firebreak.SEV3, "api")
		c.Advance(time.Minute)
		impact := t0.Add(-time.Hour)
		got := must(s.UpdateIncident(alice, inc.Reference, firebreak.IncidentPatch{
			Severity: ptr(firebreak.SEV1), Title: ptr("Errors on checkout"), Services: &[]string{"web", "api"},
			Milestones: map[string]*time.Time{"impact_started_at": &impact}, Reason: "customers affected",
		}, inc.Version))
		if got.Severity != firebreak.SEV1 || got.Title != "Errors on checkout" || got.Version != 2 ||
			!slices.Equal(got.Services, []string{"web", "api"}) || !got.Milestones.ImpactStartedAt.Equal(impact) {
			t.Fatalf("patched: %+v", got)
		}
		assertSameIncident(t, must(s.GetIncident(ctx, inc.ID)), got)
		evs := timeline(t, s, inc.ID)
		gotKinds := kinds(evs)
		for _, k := range []firebreak.EventKind{firebreak.EventSeverityChanged, firebreak.EventTitleChanged,
			firebreak.EventServicesChanged, firebreak.EventMilestoneChanged} {
			if !slices.Contains(gotKinds, k) {
				t.Fatalf("no %s event in %v", k, gotKinds)
			}
		}
		for _, e := range evs {
			if e.Kind == firebreak.EventSeverityChanged {
				if e.Data["from"] != "SEV3" || e.Data["to"] != "SEV1" || !strings.Contains(e.Message, "customers affected") {
					t.Fatalf("severity event %+v", e)
				}
			}
		}
		// A stale version is refused and names the current one.
		_, err := s.UpdateIncident(alice, inc.ID, firebreak.IncidentPatch{Summary: ptr("x")}, 1)
		if e := wantCode(t, err, firebreak.EPreconditionFailed); !strings.Contains(e.Message, "2") {
			t.Fatalf("message %q", e.Message)
		}
		// A patch that changes nothing writes nothing.
		same := must(s.UpdateIncident(alice, inc.ID, firebreak.IncidentPatch{Severity: ptr(firebreak.SEV1)}, 2))
		if same.Version != 2 || len(timeline(t, s, inc.ID)) != len(evs) {
			t.Fatalf("no-op patch bumped version or wrote events: %d", same.Version)
		}
		_, err = s.UpdateIncident(alice, inc.ID, firebreak.IncidentPatch{Services: &[]string{"nope"}}, 0)
		wantField(t, err, "services", `"nope"`)
		_, err = s.UpdateIncident(alice, inc.ID, firebreak.IncidentPatch{Milestones: map[string]*time.Time{"x": nil}}, 0)
		wantField(t, err, "milestones.x", "unknown")
		// Clearing a milestone, and services to none.
		got = must(s.UpdateIncident(alice, inc.ID, firebreak.IncidentPatch{Services: &[]string{},
			Milestones: map[string]*time.Time{"impact_started_at": nil}}, 0))
		if got.Milestones.ImpactStartedAt != nil || len(got.Services) != 0 || got.Version != 3 {
			t.Fatalf("cleared: %+v", got)
		}
		assertSameIncident(t, must(s.GetIncident(ctx, inc.ID)), got)
	})
}

func TestRoles(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		inc := declare(t, s, "Roles", firebreak.SEV2)
		got := must(s.AssignRole(alice, inc.Reference, firebreak.RoleCommander, "bob", inc.Version))
		if got.Roles[firebreak.RoleCommander] != "bob" || got.Milestones.AcknowledgedAt == nil || got.Version != 2 {
			t.Fatalf("assigned: %+v", got)
		}
		got = must(s.AssignRole(alice, inc.Reference, firebreak.RoleCommander, "carol", 2))
		got = must(s.AssignRole(alice, inc.Reference, firebreak.RoleCommsLead, "dave", 0))
		want := map[firebreak.Role]string{firebreak.RoleCommander: "carol", firebreak.RoleCommsLead: "dave"}
		if fmt.Sprint(got.Roles) != fmt.Sprint(want) {
			t.Fatalf("roles %v", got.Roles)
		}
		assertSameIncident(t, must(s.GetIncident(ctx, inc.ID)), got)
		_, err := s.AssignRole(alice, inc.Reference, firebreak.RoleTechLead, "erin", 2)
		wantCode(t, err, firebreak.EPreconditionFailed)
		_, err = s.AssignRole(alice, inc.Reference, "chef", "erin", 0)
		wantField(t, err, "role", "commander")
		evs := timeline(t, s, inc.ID)
		var msgs []string
		for _, e := range evs[1:] {
			msgs = append(msgs, e.Message)
		}
		if len(msgs) != 3 || !strings.Contains(msgs[1], "handed over from bob to carol") || evs[2].Data["previous"] != "bob" {
			t.Fatalf("role events: %q", msgs)
		}
	})
}

// --- timeline --------------------------------------------------------------------------------------------------

func TestNotesAndStars(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		inc := declare(t, s, "Notes", firebreak.SEV2)
		c.Advance(10 * time.Minute)
		n1 := must(s.AddTimelineEvent(alice, inc.Reference, firebreak.TimelineInput{Message: " first note "}))
		if n1.Kind != firebreak.EventNote || n1.Message != "first note" || n1.Actor != "alice" ||
			!n1.OccurredAt.Equal(c.Now()) || !n1.RecordedAt.Equal(c.Now()) || n1.ID == 0 || n1.IncidentID != inc.ID {
			t.Fatalf("note: %+v", n1)
		}
		back := t0.Add(-30 * time.Minute) // "14:00 deploy": before the declaration
		n2 := must(s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "deploy", OccurredAt: &back,
			Starred: true}))
		same := c.Now() // equal occurred_at: ties break by id
		n3 := must(s.AddTimelineEvent(alice, "1", firebreak.TimelineInput{Message: "same time", OccurredAt: &same}))
		evs := timeline(t, s, inc.ID)
		var ids []int64
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
		if want := []int64{n2.ID, evs[1].ID, n1.ID, n3.ID}; !slices.Equal(ids, want) || evs[1].Kind != firebreak.EventDeclared {
			t.Fatalf("order %v, want %v (%v)", ids, want, kinds(evs))
		}
		if !evs[0].Starred || !evs[0].OccurredAt.Equal(back) || !evs[0].RecordedAt.Equal(c.Now()) {
			t.Fatalf("backdated: %+v", evs[0])
		}
		if got := must(s.GetIncident(ctx, inc.ID)); got.Version != 1 || !got.UpdatedAt.Equal(t0) {
			t.Fatalf("notes changed the incident: version %d updated %v", got.Version, got.UpdatedAt)
		}
		future := c.Now().Add(time.Hour)
		_, err := s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "x", OccurredAt: &future})
		wantField(t, err, "occurred_at", "future")
		_, err = s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Kind: firebreak.EventDeclared, Message: "x"})
		wantField(t, err, "kind", "note")
		_, err = s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "  "})
		wantField(t, err, "message", "required")
		_, err = s.AddTimelineEvent(alice, "INC-77", firebreak.TimelineInput{Message: "x"})
		wantCode(t, err, firebreak.ENotFound)

		st := must(s.StarTimelineEvent(alice, inc.Reference, n1.ID, true))
		if !st.Starred || st.ID != n1.ID || st.Message != n1.Message || !st.OccurredAt.Equal(n1.OccurredAt) {
			t.Fatalf("starred: %+v", st)
		}
		starred := must(s.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{StarredOnly: true}))
		if len(starred.Items) != 2 || starred.Items[0].ID != n2.ID || starred.Items[1].ID != n1.ID {
			t.Fatalf("starred only: %+v", starred.Items)
		}
		if un := must(s.StarTimelineEvent(alice, inc.Reference, n2.ID, false)); un.Starred {
			t.Fatal("unstar")
		}
		other := declare(t, s, "other", firebreak.SEV3)
		_, err = s.StarTimelineEvent(alice, other.ID, n1.ID, true)
		wantCode(t, err, firebreak.ENotFound)
		_, err = s.StarTimelineEvent(alice, inc.ID, 999999, true)
		wantCode(t, err, firebreak.ENotFound)
	})
}

func TestTimelinePaging(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		inc := declare(t, s, "Paging", firebreak.SEV2)
		c.Advance(10 * time.Minute)
		// 29 notes with interleaved backdating and equal timestamps: time order differs from id order.
		for i := range 29 {
			at := t0.Add(time.Duration(i%7) * time.Minute)
			must(s.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: fmt.Sprint("n", i),
				OccurredAt: &at, Starred: i%3 == 0}))
		}
		all := timeline(t, s, inc.ID)
		if len(all) != 30 {
			t.Fatalf("%d events", len(all))
		}
		for i := 1; i < len(all); i++ {
			a, b := all[i-1], all[i]
			if a.OccurredAt.After(b.OccurredAt) || (a.OccurredAt.Equal(b.OccurredAt) && a.ID > b.ID) {
				t.Fatalf("out of order at %d: %v/%d then %v/%d", i, a.OccurredAt, a.ID, b.OccurredAt, b.ID)
			}
		}
		for _, limit := range []int{1, 7, 10, 29, 30, 31} {
			var got []firebreak.TimelineEvent
			f := firebreak.TimelineFilter{Limit: limit}
			pages := 0
			for {
				p := must(s.ListTimeline(ctx, inc.ID, f))
				pages++
				if len(p.Items) > limit {
					t.Fatalf("page of %d > limit %d", len(p.Items), limit)
				}
				got = append(got, p.Items...)
				if p.NextCursor == "" {
					break
				}
				f.Cursor = p.NextCursor
			}
			if len(got) != len(all) {
				t.Fatalf("limit %d: %d events in %d pages", limit, len(got), pages)
			}
			for i := range got {
				if got[i].ID != all[i].ID {
					t.Fatalf("limit %d: event %d is %d, want %d", limit, i, got[i].ID, all[i].ID)
				}
			}
		}
		// Live tail: by id after a given id, paged.
		byID := slices.Clone(all)
		slices.SortFunc(byID, func(a, b firebreak.TimelineEvent) int { return int(a.ID - b.ID) })
		after := byID[9].ID
		var tail []int64
		f := firebreak.TimelineFilter{AfterID: after, Limit: 6}
		for {
			p := must(s.ListTimeline(ctx, inc.Reference, f))
			for _, e := range p.Items {
				tail = append(tail, e.ID)
			}
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		var want []int64
		for _, e := range byID[10:] {
			want = append(want, e.ID)
		}
		if !slices.Equal(tail, want) {
			t.Fatalf("tail %v, want %v", tail, want)
		}
		if p := must(s.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{AfterID: byID[29].ID})); len(p.Items) != 0 ||
			p.NextCursor != "" {
			t.Fatalf("tail at end: %+v", p)
		}
		// Starred only, paged.
		var starred int
		f = firebreak.TimelineFilter{StarredOnly: true, Limit: 4}
		for {
			p := must(s.ListTimeline(ctx, inc.ID, f))
			for _, e := range p.Items {
				if !e.Starred {
					t.Fatalf("unstarred event %d", e.ID)
				}
				starred++
			}
			if p.NextCursor == "" {
				break
			}
			f.Cursor = p.NextCursor
		}
		if starred != 10 {
			t.Fatalf("%d starred", starred)
		}
		for _, bad := range []string{"!!!", "eA", "dHx4fDE", encodeCursor("t|2025-01-01T00:00:00Z|x"), encodeCursor("i|-1")} {
			_, err := s.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{Cursor: bad})
			wantField(t, err, "cursor", "")
		}
		for _, bad := range []int{-1, firebreak.MaxLimit + 1} {
			_, err := s.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{Limit: bad})
			wantField(t, err, "limit", "")
		}
		if p := must(s.ListTimeline(ctx, inc.ID, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})); len(p.Items) != 30 {
			t.Fatalf("max limit: %d", len(p.Items))
		}
		_, err := s.ListTimeline(ctx, "INC-5", firebreak.TimelineFilter{})
		wantCode(t, err, firebreak.ENotFound)
	})
}

func encodeCursor(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// base64url without padding, written out to keep the test independent of the implementation's helper.
	var out []byte
	b := []byte(s)
	for i := 0; i < len(b); i += 3 {
		var n uint32
		k := min(3, len(b)-i)
		for j := range 3 {
			n <<= 8
			if j < k {
				n |= uint32(b[i+j])
			}
		}
		for j := range k + 1 {
			out = append(out, enc[(n>>(18-6*j))&63])
		}
	}
	return string(out)
}

// --- updates and action items ----------------------------------------------------------------------------------

func TestUpdates(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		inc := declare(t, s, "Updates", firebreak.SEV1)
		u1 := must(s.PostUpdate(alice, inc.Reference, firebreak.UpdateInput{Message: "Investigating"}))
		if u1.Audience != firebreak.AudienceInternal || u1.Status != firebreak.StatusDetected || u1.Author != "alice" ||
			u1.IncidentID != inc.ID || !u1.CreatedAt.Equal(t0) || u1.ID == "" {
			t.Fatalf("update: %+v", u1)
		}
		c.Advance(time.Minute)
		must(s.ChangeStatus(alice, inc.ID, firebreak.StatusMitigating, "", 0))
		u2 := must(s.PostUpdate(alice, inc.ID, firebreak.UpdateInput{Message: "Fix rolling out",
			Audience: firebreak.AudienceExternal}))
		if u2.Status != firebreak.StatusMitigating || u2.Audience != firebreak.AudienceExternal {
			t.Fatalf("update 2: %+v", u2)
		}
		list := must(s.ListUpdates(ctx, "INC-1"))
		if len(list) != 2 || list[0] != *u1 || list[1] != *u2 {
			t.Fatalf("list: %+v", list)
		}
		var posted []firebreak.TimelineEvent
		for _, e := range timeline(t, s, inc.ID) {
			if e.Kind == firebreak.EventUpdatePosted {
				posted = append(posted, e)
			}
		}
		if len(posted) != 2 || posted[1].Data["audience"] != "external" || posted[1].Data["update_id"] != u2.ID ||
			!strings.Contains(posted[1].Message, "Fix rolling out") {
			t.Fatalf("update events: %+v", posted)
		}
		if got := must(s.GetIncident(ctx, inc.ID)); got.Version != 2 {
			t.Fatalf("posting an update changed the incident version: %d", got.Version)
		}
		_, err := s.PostUpdate(alice, inc.ID, firebreak.UpdateInput{Message: "x", Audience: "press"})
		wantField(t, err, "audience", "internal")
		_, err = s.PostUpdate(alice, "INC-3", firebreak.UpdateInput{Message: "x"})
		wantCode(t, err, firebreak.ENotFound)
		if l := must(s.ListUpdates(ctx, declare(t, s, "none", firebreak.SEV3).ID)); l == nil || len(l) != 0 {
			t.Fatalf("empty list: %#v", l)
		}
	})
}

func TestActionItems(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		inc := declare(t, s, "Action", firebreak.SEV2)
		a := must(s.AddActionItem(alice, inc.Reference, firebreak.ActionItemInput{Title: "Add alert", Owner: "bob",
			DueDate: "2025-04-01"}))
		if a.Priority != firebreak.PriorityMedium || a.Kind != firebreak.KindPrevent || a.Status != firebreak.ActionOpen ||
			a.Version != 1 || a.IncidentID != inc.ID || !a.CreatedAt.Equal(t0) {
			t.Fatalf("item: %+v", a)
		}
		c.Advance(time.Hour)
		b := must(s.AddActionItem(alice, inc.ID, firebreak.ActionItemInput{Title: "Runbook", Kind: firebreak.KindProcess,
			Priority: firebreak.PriorityLow}))
		_, err := s.UpdateActionItem(alice, inc.ID, a.ID, firebreak.ActionItemPatch{
			Status: ptr(firebreak.ActionNotDoing)}, 1)
		wantField(t, err, "reason", "not_doing")
		c.Advance(time.Minute)
		a2 := must(s.UpdateActionItem(alice, inc.ID, a.ID, firebreak.ActionItemPatch{
			Status: ptr(firebreak.ActionNotDoing), Reason: ptr("superseded by INC-9")}, 1))
		if a2.Status != firebreak.ActionNotDoing || a2.Reason != "superseded by INC-9" || a2.Version != 2 ||
			!a2.UpdatedAt.Equal(c.Now()) || !a2.CreatedAt.Equal(t0) {
			t.Fatalf("updated: %+v", a2)
		}
		_, err = s.UpdateActionItem(alice, inc.ID, a.ID, firebreak.ActionItemPatch{Status: ptr(firebreak.ActionDone)}, 1)
		wantCode(t, err, firebreak.EPreconditionFailed)
		a3 := must(s.UpdateActionItem(alice, inc.ID, a.ID, firebreak.ActionItemPatch{Status: ptr(firebreak.ActionDone)}, 0))
		if a3.Reason != "" || a3.Version != 3 {
			t.Fatalf("done clears reason: %+v", a3)
		}
		noop := must(s.UpdateActionItem(alice, inc.ID, a.ID, firebreak.ActionItemPatch{Owner: ptr("bob")}, 3))
		if noop.Version != 3 {
			t.Fatalf("no-op patch: %+v", noop)
		}
		_, err = s.UpdateActionItem(alice, inc.ID, "nope", firebreak.ActionItemPatch{}, 0)
		wantCode(t, err, firebreak.ENotFound)
		other := declare(t, s, "other", firebreak.SEV3)
		_, err = s.UpdateActionItem(alice, other.ID, a.ID, firebreak.ActionItemPatch{Owner: ptr("x")}, 0)
		wantCode(t, err, firebreak.ENotFound)
		_, err = s.AddActionItem(alice, inc.ID, firebreak.ActionItemInput{Title: "x", DueDate: "tomorrow"})
		wantField(t, err, "due_date", "YYYY-MM-DD")

		list := must(s.ListActionItems(ctx, inc.ID))
		if len(list) != 2 || !reflect.DeepEqual(list[0], *a3) || !reflect.DeepEqual(list[1], *b) {
			t.Fatalf("list:\n%+v\nwant\n%+v\n%+v", list, a3, b)
		}
		var got []string
		for _, e := range timeline(t, s, inc.ID) {
			switch e.Kind {
			case firebreak.EventActionItemAdded, firebreak.EventActionItemChanged:
				got = append(got, string(e.Kind)+":"+e.Data["action_item_id"]+":"+e.Data["status"])
			}
		}
		want := []string{"action_item_added:" + a.ID + ":open", "action_item_added:" + b.ID + ":open",
			"action_item_changed:" + a.ID + ":not_doing", "action_item_changed:" + a.ID + ":done"}
		if !slices.Equal(got, want) {
			t.Fatalf("events %v\nwant %v", got, want)
		}

		// Without a due date, a SEV2's item is due in 30 days; its owner cannot verify it, someone else can.
		c1 := must(s.AddActionItem(alice, inc.ID, firebreak.ActionItemInput{Title: "Floor the consumer count",
			Owner: "alice", TrackerURL: "https://tracker.example/OPS-12"}))
		if want := c.Now().AddDate(0, 0, 30).UTC().Format(time.DateOnly); c1.DueDate != want {
			t.Fatalf("default due date %q, want %q (SEV2: 30 days)", c1.DueDate, want)
		}
		must(s.UpdateActionItem(alice, inc.ID, c1.ID, firebreak.ActionItemPatch{Status: ptr(firebreak.ActionDone)}, 0))
		_, err = s.UpdateActionItem(alice, inc.ID, c1.ID, firebreak.ActionItemPatch{Status: ptr(firebreak.ActionVerified)}, 0)
		wantField(t, err, "status", "other than the owner")
		c.Advance(time.Minute)
		v := must(s.UpdateActionItem(lee, inc.ID, c1.ID, firebreak.ActionItemPatch{Status: ptr(firebreak.ActionVerified)}, 0))
		stored := must(s.ListActionItems(ctx, inc.ID))[2]
		if v.VerifiedBy != "lee" || stored.VerifiedBy != "lee" || stored.VerifiedAt == nil ||
			!stored.VerifiedAt.Equal(c.Now()) || stored.TrackerURL != "https://tracker.example/OPS-12" {
			t.Fatalf("verified item as stored: %+v", stored)
		}
		sev3 := declare(t, s, "minor", firebreak.SEV3)
		if d := must(s.AddActionItem(alice, sev3.ID, firebreak.ActionItemInput{Title: "x"})).DueDate; d != "" {
			t.Fatalf("a SEV3 item got a default due date %q", d)
		}
	})
}

// --- lists -----------------------------------------------------------------------------------------------------

func TestListIncidents(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "api", "core")
		service(t, s, "db", "core")
		var all []*firebreak.Incident
		for i := range 23 {
			sev := firebreak.Severities[i%3]
			var svcs []string
			switch i % 4 {
			case 1:
				svcs = []string{"api"}
			case 2:
				svcs = []string{"db", "api"}
			}
			title := fmt.Sprintf("Incident %02d", i)
			if i == 5 {
				title = "Disk 100% FULL on db-1"
			}
			inc := must(s.DeclareIncident(alice, firebreak.DeclareInput{Title: title, Severity: sev, Services: svcs,
				Summary: map[bool]string{true: "The Payment provider times out"}[i == 7],
				Roles:   map[firebreak.Role]string{firebreak.RoleCommander: fmt.Sprint("ic", i)}}))
			if i%5 == 0 {
				inc = must(s.ChangeStatus(alice, inc.ID, firebreak.StatusResolved, "", 0))
			}
			all = append(all, inc)
			c.Advance(time.Hour)
		}
		list := func(f firebreak.IncidentFilter) []*firebreak.Incident {
			t.Helper()
			var out []*firebreak.Incident
			seen := map[string]bool{}
			for {
				p := must(s.ListIncidents(ctx, f))
				if f.Limit > 0 && len(p.Items) > f.Limit {
					t.Fatalf("page larger than limit")
				}
				for i := range p.Items {
					if seen[p.Items[i].ID] {
						t.Fatalf("duplicate %s", p.Items[i].Reference)
					}
					seen[p.Items[i].ID] = true
					out = append(out, &p.Items[i])
				}
				if p.NextCursor == "" {
					return out
				}
				f.Cursor = p.NextCursor
			}
		}
		expect := func(name string, f firebreak.IncidentFilter, keep func(i int, inc *firebreak.Incident) bool) {
			t.Helper()
			var want []int64
			for i := len(all) - 1; i >= 0; i-- {
				if keep(i, all[i]) {
					want = append(want, all[i].Number)
				}
			}
			for _, limit := range []int{0, 1, 4, 50} {
				f.Limit = limit
				got := list(f)
				var nums []int64
				for _, inc := range got {
					nums = append(nums, inc.Number)
				}
				if !slices.Equal(nums, want) {
					t.Fatalf("%s (limit %d): got %v want %v", name, limit, nums, want)
				}
				for _, inc := range got {
					assertSameIncident(t, inc, all[inc.Number-1])
				}
			}
		}
		expect("all", firebreak.IncidentFilter{}, func(int, *firebreak.Incident) bool { return true })
		expect("status", firebreak.IncidentFilter{Status: []firebreak.Status{firebreak.StatusResolved}},
			func(i int, _ *firebreak.Incident) bool { return i%5 == 0 })
		expect("status any", firebreak.IncidentFilter{Status: []firebreak.Status{firebreak.StatusResolved,
			firebreak.StatusDetected}}, func(int, *firebreak.Incident) bool { return true })
		expect("open", firebreak.IncidentFilter{Open: true}, func(i int, _ *firebreak.Incident) bool { return i%5 != 0 })
		expect("severity", firebreak.IncidentFilter{Severity: []firebreak.Severity{firebreak.SEV1, firebreak.SEV3}},
			func(i int, _ *firebreak.Incident) bool { return i%3 != 1 })
		expect("service", firebreak.IncidentFilter{Service: "api"},
			func(i int, _ *firebreak.Incident) bool { return i%4 == 1 || i%4 == 2 })
		expect("service db, open, sev", firebreak.IncidentFilter{Service: "db", Open: true,
			Severity: []firebreak.Severity{firebreak.SEV3}},
			func(i int, _ *firebreak.Incident) bool { return i%4 == 2 && i%5 != 0 && i%3 == 2 })
		expect("unknown service", firebreak.IncidentFilter{Service: "ghost"},
			func(int, *firebreak.Incident) bool { return false })
		after, before := t0.Add(3*time.Hour), t0.Add(9*time.Hour)
		expect("declared range", firebreak.IncidentFilter{DeclaredAfter: &after, DeclaredBefore: &before},
			func(i int, _ *firebreak.Incident) bool { return i >= 3 && i < 9 })
		expect("query title", firebreak.IncidentFilter{Query: "incident 1"},
			func(i int, _ *firebreak.Incident) bool { return i >= 10 && i < 20 })
		expect("query percent", firebreak.IncidentFilter{Query: "100% full"},
			func(i int, _ *firebreak.Incident) bool { return i == 5 })
		expect("query wildcard is literal", firebreak.IncidentFilter{Query: "0_"},
			func(int, *firebreak.Incident) bool { return false })
		expect("query summary", firebreak.IncidentFilter{Query: "PAYMENT"},
			func(i int, _ *firebreak.Incident) bool { return i == 7 })

		_, err := s.ListIncidents(ctx, firebreak.IncidentFilter{Cursor: "zzz"})
		wantField(t, err, "cursor", "")
		_, err = s.ListIncidents(ctx, firebreak.IncidentFilter{Limit: firebreak.MaxLimit + 1})
		wantField(t, err, "limit", "")
		_, err = s.ListIncidents(ctx, firebreak.IncidentFilter{Status: []firebreak.Status{"gone"}})
		wantField(t, err, "status", "gone")
		p := must(s.ListIncidents(ctx, firebreak.IncidentFilter{Service: "ghost"}))
		if p.Items == nil || len(p.Items) != 0 || p.NextCursor != "" {
			t.Fatalf("empty page: %#v", p)
		}

		counts := must(s.IncidentCounts(ctx))
		total := 0
		for _, st := range firebreak.Statuses {
			for _, sv := range firebreak.Severities {
				if _, ok := counts[st][sv]; !ok {
					t.Fatalf("count missing for %s/%s", st, sv)
				}
				total += counts[st][sv]
			}
		}
		if total != 23 || counts[firebreak.StatusResolved][firebreak.SEV1] != 2 ||
			counts[firebreak.StatusDetected][firebreak.SEV2] != 7 || counts[firebreak.StatusClosed][firebreak.SEV1] != 0 {
			t.Fatalf("counts %v", counts)
		}
	})
}

// --- catalog ---------------------------------------------------------------------------------------------------

func TestServices(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		db := must(s.CreateService(alice, firebreak.ServiceInput{Slug: "db", OwnerTeam: "data", Tier: 1,
			RunbookURL: "https://wiki/db"}))
		if db.Name != "db" || db.Tier != 1 || db.Version != 1 || db.DependsOn == nil || !db.CreatedAt.Equal(t0) {
			t.Fatalf("created: %+v", db)
		}
		api := must(s.CreateService(alice, firebreak.ServiceInput{Slug: "api", Name: "Public API", OwnerTeam: "core",
			DependsOn: []string{"db"}}))
		if api.Tier != 3 || !slices.Equal(api.DependsOn, []string{"db"}) {
			t.Fatalf("api: %+v", api)
		}
		_, err := s.CreateService(alice, firebreak.ServiceInput{Slug: "api"})
		if e := wantCode(t, err, firebreak.EConflict); e.Message != "service slug api already exists" {
			t.Fatalf("conflict message %q", e.Message)
		}
		_, err = s.CreateService(alice, firebreak.ServiceInput{Slug: "web", DependsOn: []string{"api", "cdn"}})
		wantField(t, err, "depends_on", `"cdn"`)
		_, err = s.CreateService(alice, firebreak.ServiceInput{Slug: "Bad Slug"})
		wantField(t, err, "slug", "lowercase")
		for _, ref := range []string{api.ID, "api"} {
			got := must(s.GetService(ctx, ref))
			if got.ID != api.ID || got.Name != "Public API" || !slices.Equal(got.DependsOn, []string{"db"}) ||
				!got.CreatedAt.Equal(api.CreatedAt) {
				t.Fatalf("GetService(%s): %+v", ref, got)
			}
		}
		_, err = s.GetService(ctx, "nope")
		wantCode(t, err, firebreak.ENotFound)

		for i := range 9 {
			service(t, s, fmt.Sprintf("svc-%d", i), []string{"core", "edge"}[i%2])
		}
		listAll := func(f firebreak.ServiceFilter) []string {
			var out []string
			for {
				p := must(s.ListServices(ctx, f))
				for _, sv := range p.Items {
					out = append(out, sv.Slug)
				}
				if p.NextCursor == "" {
					return out
				}
				f.Cursor = p.NextCursor
			}
		}
		want := []string{"api", "db", "svc-0", "svc-1", "svc-2", "svc-3", "svc-4", "svc-5", "svc-6", "svc-7", "svc-8"}
		for _, limit := range []int{0, 1, 3, 11} {
			if got := listAll(firebreak.ServiceFilter{Limit: limit}); !slices.Equal(got, want) {
				t.Fatalf("limit %d: %v", limit, got)
			}
		}
		if got := listAll(firebreak.ServiceFilter{Team: "core", Limit: 2}); !slices.Equal(got,
			[]string{"api", "svc-0", "svc-2", "svc-4", "svc-6", "svc-8"}) {
			t.Fatalf("team: %v", got)
		}
		p := must(s.ListServices(ctx, firebreak.ServiceFilter{Limit: 2}))
		if p.Items[0].Slug != "api" || !slices.Equal(p.Items[0].DependsOn, []string{"db"}) {
			t.Fatalf("list item: %+v", p.Items[0])
		}
		_, err = s.ListServices(ctx, firebreak.ServiceFilter{Cursor: "%%%"})
		wantField(t, err, "cursor", "")

		c.Advance(time.Minute)
		up := must(s.UpdateService(alice, "api", firebreak.ServicePatch{Tier: ptr(2),
			DependsOn: &[]string{"svc-1", "db"}}, 1))
		if up.Tier != 2 || up.Version != 2 || !slices.Equal(up.DependsOn, []string{"svc-1", "db"}) ||
			!up.UpdatedAt.Equal(c.Now()) || !up.CreatedAt.Equal(t0) {
			t.Fatalf("updated: %+v", up)
		}
		if got := must(s.GetService(ctx, "api")); got.Version != 2 || !slices.Equal(got.DependsOn, up.DependsOn) {
			t.Fatalf("reread: %+v", got)
		}
		_, err = s.UpdateService(alice, "api", firebreak.ServicePatch{Name: ptr("x")}, 1)
		if e := wantCode(t, err, firebreak.EPreconditionFailed); !strings.Contains(e.Message, "2") {
			t.Fatalf("stale message %q", e.Message)
		}
		_, err = s.UpdateService(alice, "api", firebreak.ServicePatch{DependsOn: &[]string{"ghost"}}, 0)
		wantField(t, err, "depends_on", `"ghost"`)
		_, err = s.UpdateService(alice, "api", firebreak.ServicePatch{DependsOn: &[]string{"api"}}, 0)
		wantField(t, err, "depends_on", "itself")
		_, err = s.UpdateService(alice, "api", firebreak.ServicePatch{Tier: ptr(7)}, 0)
		wantField(t, err, "tier", "1, 2 or 3")
		noop := must(s.UpdateService(alice, api.ID, firebreak.ServicePatch{Tier: ptr(2)}, 2))
		if noop.Version != 2 {
			t.Fatalf("no-op update bumped the version")
		}
		_, err = s.UpdateService(alice, "nope", firebreak.ServicePatch{}, 0)
		wantCode(t, err, firebreak.ENotFound)
	})
}

// --- users, tokens, sessions -----------------------------------------------------------------------------------

func TestUsersAndTokens(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		bob := must(s.CreateUser(ctx, firebreak.UserInput{Username: " Bob ", Email: "bob@example.com",
			Password: "correct horse"}))
		if bob.Username != "bob" || bob.Name != "bob" || bob.Role != firebreak.RoleResponder || !bob.CreatedAt.Equal(t0) {
			t.Fatalf("user: %+v", bob)
		}
		_, err := s.CreateUser(ctx, firebreak.UserInput{Username: "bob"})
		wantCode(t, err, firebreak.EConflict)
		_, err = s.CreateUser(ctx, firebreak.UserInput{Username: "x y", Password: "short"})
		wantField(t, err, "username", "lowercase")
		wantField(t, err, "password", "8")
		root := must(s.CreateUser(ctx, firebreak.UserInput{Username: "root", Role: firebreak.RoleAdmin}))
		if got := must(s.GetUser(ctx, "BOB")); *got != *bob {
			t.Fatalf("get: %+v", got)
		}
		_, err = s.GetUser(ctx, "nobody")
		wantCode(t, err, firebreak.ENotFound)
		users := must(s.ListUsers(ctx))
		if len(users) != 2 || users[0].Username != "bob" || users[1] != *root {
			t.Fatalf("users: %+v", users)
		}

		// Passwords.
		a := must(s.AuthenticatePassword(ctx, "Bob", "correct horse"))
		if a.Username != "bob" || a.UserID != bob.ID || a.Role != firebreak.RoleResponder {
			t.Fatalf("actor: %+v", a)
		}
		for _, c := range [][2]string{{"bob", "wrong horse"}, {"nobody", "correct horse"}, {"root", ""},
			{"root", "anything1"}} {
			_, err := s.AuthenticatePassword(ctx, c[0], c[1])
			wantCode(t, err, firebreak.EUnauthorized)
		}

		// Tokens.
		tok := must(s.CreateToken(ctx, firebreak.TokenInput{Username: "bob", Name: "laptop"}))
		if tok.Role != firebreak.RoleResponder || !strings.HasPrefix(tok.Secret, "fb_") || len(tok.Secret) < 40 ||
			tok.UserID != bob.ID || tok.Username != "bob" || tok.Name != "laptop" {
			t.Fatalf("token: %+v", tok)
		}
		_, err = s.CreateToken(ctx, firebreak.TokenInput{Username: "bob", Name: "x", Role: firebreak.RoleAdmin})
		wantField(t, err, "role", "above")
		_, err = s.CreateToken(ctx, firebreak.TokenInput{Username: "ghost", Name: "x"})
		wantCode(t, err, firebreak.ENotFound)
		ro := must(s.CreateToken(ctx, firebreak.TokenInput{Username: "bob", Name: "ro", Role: firebreak.RoleViewer}))
		fixed := must(s.CreateToken(ctx, firebreak.TokenInput{Username: "root", Name: "ci",
			Secret: "a-fixed-secret-0123456789"}))
		if fixed.Secret != "a-fixed-secret-0123456789" || fixed.Role != firebreak.RoleAdmin {
			t.Fatalf("fixed: %+v", fixed)
		}
		_, err = s.CreateToken(ctx, firebreak.TokenInput{Username: "bob", Name: "dup", Secret: "a-fixed-secret-0123456789"})
		wantCode(t, err, firebreak.EConflict)

		a = must(s.AuthenticateToken(ctx, tok.Secret))
		if a != (firebreak.Actor{UserID: bob.ID, Username: "bob", Role: firebreak.RoleResponder}) {
			t.Fatalf("token actor: %+v", a)
		}
		if a := must(s.AuthenticateToken(ctx, ro.Secret)); a.Role != firebreak.RoleViewer {
			t.Fatalf("viewer token: %+v", a)
		}
		if a := must(s.AuthenticateToken(ctx, fixed.Secret)); a.Role != firebreak.RoleAdmin || a.Username != "root" {
			t.Fatalf("fixed token: %+v", a)
		}
		for _, bad := range []string{"", "fb_nope", tok.Secret + "x"} {
			_, err := s.AuthenticateToken(ctx, bad)
			wantCode(t, err, firebreak.EUnauthorized)
		}

		// last_used_at: written on first use, then at most once a minute.
		lu := must(sqlstore.TokenLastUsed(ctx, s, tok.ID))
		if lu == nil || !lu.Equal(t0) {
			t.Fatalf("last used %v", lu)
		}
		c.Advance(30 * time.Second)
		must(s.AuthenticateToken(ctx, tok.Secret))
		if lu := must(sqlstore.TokenLastUsed(ctx, s, tok.ID)); !lu.Equal(t0) {
			t.Fatalf("last used rewritten within a minute: %v", lu)
		}
		c.Advance(31 * time.Second)
		must(s.AuthenticateToken(ctx, tok.Secret))
		if lu := must(sqlstore.TokenLastUsed(ctx, s, tok.ID)); !lu.Equal(c.Now()) {
			t.Fatalf("last used not updated after a minute: %v", lu)
		}

		// Expiry.
		exp := c.Now().Add(time.Hour)
		short := must(s.CreateToken(ctx, firebreak.TokenInput{Username: "bob", Name: "short", ExpiresAt: &exp}))
		if !short.ExpiresAt.Equal(exp) {
			t.Fatalf("expires %v", short.ExpiresAt)
		}
		must(s.AuthenticateToken(ctx, short.Secret))
		c.Advance(time.Hour)
		_, err = s.AuthenticateToken(ctx, short.Secret)
		wantCode(t, err, firebreak.EUnauthorized)
		past := c.Now().Add(-time.Second)
		_, err = s.CreateToken(ctx, firebreak.TokenInput{Username: "bob", Name: "old", ExpiresAt: &past})
		wantField(t, err, "expires_at", "future")

		// Sessions.
		sec := must(s.CreateSession(ctx, bob.ID, time.Hour))
		if len(sec) < 40 {
			t.Fatalf("session secret %q", sec)
		}
		a = must(s.AuthenticateSession(ctx, sec))
		if a.UserID != bob.ID || a.Username != "bob" || a.Role != firebreak.RoleResponder {
			t.Fatalf("session actor %+v", a)
		}
		_, err = s.AuthenticateSession(ctx, "nope")
		wantCode(t, err, firebreak.EUnauthorized)
		c.Advance(59 * time.Minute)
		must(s.AuthenticateSession(ctx, sec))
		c.Advance(time.Minute)
		_, err = s.AuthenticateSession(ctx, sec)
		wantCode(t, err, firebreak.EUnauthorized)
		sec2 := must(s.CreateSession(ctx, bob.ID, 0)) // default TTL; also deletes bob's expired session
		must(s.AuthenticateSession(ctx, sec2))
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM sessions`)); n != 1 {
			t.Fatalf("%d sessions, want the expired one deleted", n)
		}
		if err := s.DeleteSession(ctx, sec2); err != nil {
			t.Fatal(err)
		}
		_, err = s.AuthenticateSession(ctx, sec2)
		wantCode(t, err, firebreak.EUnauthorized)
		if err := s.DeleteSession(ctx, sec2); err != nil {
			t.Fatalf("deleting twice: %v", err)
		}
		_, err = s.CreateSession(ctx, "no-such-user", time.Hour)
		wantCode(t, err, firebreak.ENotFound)
		// Secrets are stored only as hashes.
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM api_tokens WHERE secret_hash = ?`,
			tok.Secret)); n != 0 {
			t.Fatal("token secret stored in clear")
		}
	})
}

func TestAdminBootstrap(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		// Replicas racing to bootstrap create one admin.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var created []string
		for range 6 {
			wg.Go(func() {
				pw, ok, err := s.BootstrapAdmin(ctx)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					created = append(created, pw)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(created) != 1 || len(created[0]) < 16 {
			t.Fatalf("bootstrap created %d admins (%q)", len(created), created)
		}
		a := must(s.AuthenticatePassword(ctx, "admin", created[0]))
		if a.Role != firebreak.RoleAdmin {
			t.Fatalf("admin role %s", a.Role)
		}
		if _, ok, err := s.BootstrapAdmin(ctx); ok || err != nil {
			t.Fatalf("second bootstrap: %v %v", ok, err)
		}
		// EnsureAdminToken with an existing admin user: reuses it; idempotent and race-safe.
		const secret = "fb_test-admin-token-0123456789"
		for range 2 {
			for range 4 {
				wg.Go(func() {
					if err := s.EnsureAdminToken(ctx, secret); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		a2 := must(s.AuthenticateToken(ctx, secret))
		if a2.Username != "admin" || a2.Role != firebreak.RoleAdmin || a2.UserID != a.UserID {
			t.Fatalf("admin token actor %+v", a2)
		}
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM api_tokens`)); n != 1 {
			t.Fatalf("%d tokens", n)
		}
		wantCode(t, s.EnsureAdminToken(ctx, "short"), firebreak.EInvalid)
	})
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		// On an empty database EnsureAdminToken creates the token-only user admin; bootstrap then does nothing.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if err := s.EnsureAdminToken(ctx, "fb_another-admin-token-0123"); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		users := must(s.ListUsers(ctx))
		if len(users) != 1 || users[0].Username != "admin" || users[0].Role != firebreak.RoleAdmin {
			t.Fatalf("users %+v", users)
		}
		if _, ok, err := s.BootstrapAdmin(ctx); ok || err != nil {
			t.Fatalf("bootstrap after token: %v %v", ok, err)
		}
		// A second secret adds a second admin token.
		if err := s.EnsureAdminToken(ctx, "fb_rotated-admin-token-0123"); err != nil {
			t.Fatal(err)
		}
		must(s.AuthenticateToken(ctx, "fb_rotated-admin-token-0123"))
		must(s.AuthenticateToken(ctx, "fb_another-admin-token-0123"))
	})
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		// A user called admin who is not an admin is not given an admin token.
		must(s.CreateUser(context.Background(), firebreak.UserInput{Username: "admin", Role: firebreak.RoleViewer}))
		wantCode(t, s.EnsureAdminToken(context.Background(), "fb_yet-another-admin-token-0123"), firebreak.EConflict)
	})
}

// --- idempotency -----------------------------------------------------------------------------------------------

func TestIdempotency(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		inc := declare(t, s, "Idem", firebreak.SEV2)
		key := func(ctx context.Context, k, hash string) context.Context {
			return firebreak.WithIdempotency(ctx, firebreak.Idempotency{Key: k, RequestHash: hash})
		}
		type call struct {
			kind string
			do   func(ctx context.Context) (string, error)
		}
		calls := []call{
			{"incident", func(ctx context.Context) (string, error) {
				x, err := s.DeclareIncident(ctx, firebreak.DeclareInput{Title: "retry", Severity: firebreak.SEV1})
				if err != nil {
					return "", err
				}
				return x.ID, nil
			}},
			{"service", func(ctx context.Context) (string, error) {
				x, err := s.CreateService(ctx, firebreak.ServiceInput{Slug: "retry"})
				if err != nil {
					return "", err
				}
				return x.ID, nil
			}},
			{"timeline_event", func(ctx context.Context) (string, error) {
				x, err := s.AddTimelineEvent(ctx, inc.ID, firebreak.TimelineInput{Message: "retry"})
				if err != nil {
					return "", err
				}
				return strconv.FormatInt(x.ID, 10), nil
			}},
			{"update", func(ctx context.Context) (string, error) {
				x, err := s.PostUpdate(ctx, inc.ID, firebreak.UpdateInput{Message: "retry"})
				if err != nil {
					return "", err
				}
				return x.ID, nil
			}},
			{"action_item", func(ctx context.Context) (string, error) {
				x, err := s.AddActionItem(ctx, inc.ID, firebreak.ActionItemInput{Title: "retry"})
				if err != nil {
					return "", err
				}
				return x.ID, nil
			}},
		}
		for _, c := range calls {
			k := "key-" + c.kind
			id := must(c.do(key(alice, k, "h1")))
			for range 2 {
				_, err := c.do(key(alice, k, "h1"))
				var rep *firebreak.IdempotentReplay
				if !errors.As(err, &rep) || rep.Kind != c.kind || rep.ID != id {
					t.Fatalf("%s replay: %v (%+v), want id %s", c.kind, err, rep, id)
				}
			}
			_, err := c.do(key(alice, k, "h2"))
			if e := wantCode(t, err, firebreak.EConflict); e.Message != "Idempotency-Key reused with a different request" {
				t.Fatalf("message %q", e.Message)
			}
			if c.kind != "service" { // the slug is taken now; other kinds create again
				// The same key from another user is another request.
				other := must(c.do(key(as("bob", firebreak.RoleResponder), k, "h1")))
				if other == id {
					t.Fatalf("%s: another user's key replayed the first user's request", c.kind)
				}
			}
		}
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM incidents WHERE title = 'retry'`)); n != 2 {
			t.Fatalf("%d retried incidents, want 2 (alice, bob)", n)
		}
		// A failed request records nothing: the retry (fixed) succeeds.
		_, err := s.DeclareIncident(key(alice, "k-fail", "h"), firebreak.DeclareInput{Title: "x", Severity: "bad"})
		wantCode(t, err, firebreak.EInvalid)
		_, err = s.DeclareIncident(key(alice, "k-fail2", "h"), firebreak.DeclareInput{Title: "x",
			Severity: firebreak.SEV1, Services: []string{"ghost"}})
		wantCode(t, err, firebreak.EInvalid)
		must(s.DeclareIncident(key(alice, "k-fail2", "h"), firebreak.DeclareInput{Title: "x", Severity: firebreak.SEV1}))

		// Concurrent duplicates create exactly one.
		for _, c := range calls[2:] {
			var wg sync.WaitGroup
			var mu sync.Mutex
			ids := map[string]int{}
			created := 0
			for range 16 {
				wg.Go(func() {
					id, err := c.do(key(alice, "race-"+c.kind, "h"))
					var rep *firebreak.IdempotentReplay
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						created++
						ids[id]++
					case errors.As(err, &rep):
						ids[rep.ID]++
					default:
						t.Errorf("%s: %v", c.kind, err)
					}
				})
			}
			wg.Wait()
			if created != 1 || len(ids) != 1 {
				t.Fatalf("%s: %d created, ids %v", c.kind, created, ids)
			}
		}
		var wg sync.WaitGroup
		var created, replays int
		var mu sync.Mutex
		for range 16 {
			wg.Go(func() {
				_, err := s.DeclareIncident(key(alice, "race-incident", "h"),
					firebreak.DeclareInput{Title: "raced", Severity: firebreak.SEV1})
				var rep *firebreak.IdempotentReplay
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					created++
				} else if errors.As(err, &rep) {
					replays++
				} else {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if created != 1 || replays != 15 {
			t.Fatalf("raced declare: %d created, %d replays", created, replays)
		}
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM incidents WHERE title = 'raced'`)); n != 1 {
			t.Fatalf("%d raced incidents", n)
		}
	})
}

// --- concurrency and notifications -----------------------------------------------------------------------------

func TestConcurrentWriters(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		inc := declare(t, s, "Busy", firebreak.SEV1)
		const writers, notes = 32, 50
		var wg sync.WaitGroup
		ids := make(chan int64, writers*notes)
		for w := range writers {
			wg.Go(func() {
				ctx := as(fmt.Sprint("user", w), firebreak.RoleResponder)
				for i := range notes {
					ev, err := s.AddTimelineEvent(ctx, inc.ID, firebreak.TimelineInput{Message: fmt.Sprintf("w%d n%d", w, i)})
					if err != nil {
						t.Error(err)
						return
					}
					ids <- ev.ID
					// Failing writes in the same batches must not disturb the others.
					if i%10 == 0 {
						_, err := s.DeclareIncident(ctx, firebreak.DeclareInput{Title: "bad", Severity: firebreak.SEV3,
							Services: []string{"ghost"}})
						if firebreak.ErrorCode(err) != firebreak.EInvalid {
							t.Errorf("bad declare: %v", err)
						}
						_, err = s.ChangeStatus(ctx, inc.ID, firebreak.StatusClosed, "", 0)
						if firebreak.ErrorCode(err) != firebreak.EConflict {
							t.Errorf("bad transition: %v", err)
						}
					}
				}
			})
		}
		wg.Wait()
		close(ids)
		seen := map[int64]bool{}
		for id := range ids {
			if seen[id] {
				t.Fatalf("event id %d answered twice", id)
			}
			seen[id] = true
		}
		evs := timeline(t, s, inc.ID)
		notesFound := 0
		for _, e := range evs {
			if e.Kind == firebreak.EventNote {
				notesFound++
				if !seen[e.ID] {
					t.Fatalf("stored event %d was never answered", e.ID)
				}
			}
		}
		if notesFound != writers*notes || len(seen) != writers*notes {
			t.Fatalf("%d notes stored, %d answered, want %d", notesFound, len(seen), writers*notes)
		}
		// Refused declarations used no numbers.
		if next := declare(t, s, "next", firebreak.SEV3); next.Number != 2 {
			t.Fatalf("next number %d", next.Number)
		}
		if got := must(s.GetIncident(ctx, inc.ID)); got.Version != 1 {
			t.Fatalf("version %d", got.Version)
		}
	})
}

func TestConcurrentIncidentEdits(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		inc := declare(t, s, "Edits", firebreak.SEV3)
		// Everyone read version 1; exactly one conditional write wins, the others get 412.
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, stale := 0, 0
		for i := range 12 {
			wg.Go(func() {
				_, err := s.UpdateIncident(alice, inc.ID, firebreak.IncidentPatch{Summary: ptr(fmt.Sprint("edit ", i))}, 1)
				mu.Lock()
				defer mu.Unlock()
				switch firebreak.ErrorCode(err) {
				case "":
					wins++
				case firebreak.EPreconditionFailed:
					stale++
				default:
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if wins != 1 || stale != 11 {
			t.Fatalf("%d wins, %d stale", wins, stale)
		}
		// Unconditional writes all apply, each with its own version.
		for i := range 10 {
			wg.Go(func() {
				if _, err := s.AssignRole(alice, inc.ID, firebreak.RoleTechLead, fmt.Sprint("lead-", i), 0); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := must(s.GetIncident(ctx, inc.ID)); got.Version != 12 {
			t.Fatalf("version %d, want 12", got.Version)
		}
	})
}

func TestSubscribe(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		a := declare(t, s, "A", firebreak.SEV2)
		b := declare(t, s, "B", firebreak.SEV2)
		ch, cancel := s.Subscribe(a.ID)
		drain(ch)
		waitSignal(t, ch, func() {
			must(s.AddTimelineEvent(alice, a.Reference, firebreak.TimelineInput{Message: "hi"}))
		})
		drain(ch) // on PostgreSQL the listener's echo of our own NOTIFY may signal once more
		// Writes that append to another incident, or append nothing, or fail, do not signal.
		must(s.AddTimelineEvent(alice, b.ID, firebreak.TimelineInput{Message: "other"}))
		_, err := s.ChangeStatus(alice, a.ID, firebreak.StatusClosed, "", 0)
		wantCode(t, err, firebreak.EConflict)
		must(s.UpdateIncident(alice, a.ID, firebreak.IncidentPatch{Title: ptr("A")}, 0)) // no change
		noSignal(t, ch)
		// Every kind of appending write signals.
		waitSignal(t, ch, func() { must(s.ChangeStatus(alice, a.ID, firebreak.StatusInvestigating, "", 0)) })
		waitSignal(t, ch, func() { must(s.AssignRole(alice, a.ID, firebreak.RoleCommander, "bob", 0)) })
		waitSignal(t, ch, func() { must(s.PostUpdate(alice, a.ID, firebreak.UpdateInput{Message: "x"})) })
		waitSignal(t, ch, func() { must(s.AddActionItem(alice, a.ID, firebreak.ActionItemInput{Title: "x"})) })
		// Signals coalesce: many events, one pending signal, no blocking.
		for range 5 {
			must(s.AddTimelineEvent(alice, a.ID, firebreak.TimelineInput{Message: "burst"}))
		}
		waitSignal(t, ch, func() {})
		ch2, cancel2 := s.Subscribe(a.ID)
		cancel()
		cancel() // twice is fine
		drain(ch)
		waitSignal(t, ch2, func() { must(s.AddTimelineEvent(alice, a.ID, firebreak.TimelineInput{Message: "again"})) })
		noSignal(t, ch)
		cancel2()
	})
}

// drain consumes signals until none has come for a while (on PostgreSQL the listener's echo of a replica's own
// NOTIFY arrives a little after the in-process signal).
func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}

func waitSignal(t *testing.T, ch <-chan struct{}, do func()) {
	t.Helper()
	do()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no signal")
	}
}

func noSignal(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
		t.Fatal("unexpected signal")
	case <-time.After(100 * time.Millisecond):
	}
}

// --- migrations and replicas -----------------------------------------------------------------------------------

func TestMigrationsAndReplicas(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			o := sqltest.Options(t, d)
			// Several replicas starting at once on one empty database.
			n := 1
			if d == "postgres" {
				n = 3
			}
			stores := make([]*sqlstore.Store, n)
			var wg sync.WaitGroup
			for i := range stores {
				wg.Go(func() {
					s, err := sqlstore.Open(ctx, o)
					if err != nil {
						t.Error(err)
						return
					}
					stores[i] = s
				})
			}
			wg.Wait()
			for _, s := range stores {
				if s != nil {
					t.Cleanup(func() { _ = s.Close() })
				}
			}
			if t.Failed() {
				t.FailNow()
			}
			for _, s := range stores {
				if err := s.Ping(ctx); err != nil {
					t.Fatalf("ping: %v", err)
				}
				if s.Dialect() != d {
					t.Fatalf("dialect %s", s.Dialect())
				}
			}
			inc := declare(t, stores[0], "shared", firebreak.SEV1)
			stores[0].Close()
			// Opening again applies nothing and finds the data.
			again := openStore(t, o)
			if err := again.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			got := must(again.GetIncident(ctx, "INC-1"))
			assertSameIncident(t, got, inc)
			if next := declare(t, again, "second", firebreak.SEV1); next.Number != 2 {
				t.Fatalf("number %d", next.Number)
			}
			if d != "postgres" {
				return
			}
			// Replicas see each other's writes and signals (LISTEN/NOTIFY), also after the listener reconnects.
			r1, r2 := stores[1], stores[2]
			<-sqlstore.ListenerReady(r1)
			ch, cancel := r1.Subscribe(inc.ID)
			defer cancel()
			drain(ch)
			waitSignal(t, ch, func() {
				must(r2.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "from replica 2"}))
			})
			if err := sqlstore.Exec(ctx, r2, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE application_name = ? AND datname = current_database()`, sqlstore.ListenerAppName); err != nil {
				t.Fatal(err)
			}
			// The listener reconnects (and then signals everyone once, as it may have missed notifications).
			deadline := time.Now().Add(15 * time.Second)
			for {
				drain(ch)
				must(r2.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "after reconnect"}))
				select {
				case <-ch:
				case <-time.After(500 * time.Millisecond):
					if time.Now().After(deadline) {
						t.Fatal("listener did not reconnect")
					}
					continue
				}
				break
			}
			// Now the replica's listener is connected; a further write signals again.
			time.Sleep(100 * time.Millisecond)
			drain(ch)
			waitSignal(t, ch, func() {
				must(r2.AddTimelineEvent(alice, inc.ID, firebreak.TimelineInput{Message: "once more"}))
			})
		})
	}
}

func TestPingReportsPendingMigrations(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if err := sqlstore.Exec(ctx, s, `DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)`); err != nil {
			t.Fatal(err)
		}
		if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "pending") {
			t.Fatalf("ping with a migration missing: %v", err)
		}
	})
}

func TestPruneForgetsOldIdempotencyKeysAndSessions(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := firebreak.WithIdempotency(alice, firebreak.Idempotency{Key: "k", RequestHash: "h"})
		first := must(s.DeclareIncident(ctx, firebreak.DeclareInput{Title: "once", Severity: firebreak.SEV3}))
		u := must(s.CreateUser(context.Background(), firebreak.UserInput{Username: "pruned", Role: firebreak.RoleViewer}))
		secret := must(s.CreateSession(context.Background(), u.ID, time.Hour))

		// Within the window, nothing is pruned and the key still replays.
		c.Advance(23 * time.Hour)
		keys, sessions := must2(s.Prune(context.Background()))
		if keys != 0 || sessions != 1 {
			t.Fatalf("pruned %d keys, %d sessions after 23h; want 0 and the expired session", keys, sessions)
		}
		if _, err := s.AuthenticateSession(context.Background(), secret); firebreak.ErrorCode(err) != firebreak.EUnauthorized {
			t.Fatalf("pruned session still authenticates: %v", err)
		}
		var rep *firebreak.IdempotentReplay
		if _, err := s.DeclareIncident(ctx, firebreak.DeclareInput{Title: "once", Severity: firebreak.SEV3}); !errors.As(err, &rep) || rep.ID != first.ID {
			t.Fatalf("replay within the window: %v", err)
		}
		// After the window the key is forgotten and may be used afresh.
		c.Advance(2 * time.Hour)
		if keys, _ := must2(s.Prune(context.Background())); keys != 1 {
			t.Fatalf("pruned %d keys after 25h, want 1", keys)
		}
		again := must(s.DeclareIncident(ctx, firebreak.DeclareInput{Title: "once", Severity: firebreak.SEV3}))
		if again.ID == first.ID {
			t.Fatal("a forgotten key replayed")
		}
	})
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func TestTokenCacheKeepsExpiryAndRevocation(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		must(s.CreateUser(ctx, firebreak.UserInput{Username: "cached", Role: firebreak.RoleResponder}))
		exp := c.Now().Add(time.Minute)
		tok := must(s.CreateToken(ctx, firebreak.TokenInput{Username: "cached", Name: "short", ExpiresAt: &exp}))
		for range 3 { // the first lookup fills the cache, the others use it
			if a, err := s.AuthenticateToken(ctx, tok.Secret); err != nil || a.Username != "cached" {
				t.Fatalf("auth: %+v %v", a, err)
			}
		}
		c.Advance(time.Minute)
		if _, err := s.AuthenticateToken(ctx, tok.Secret); firebreak.ErrorCode(err) != firebreak.EUnauthorized {
			t.Fatalf("an expired token authenticated from the cache: %v", err)
		}
		other := must(s.CreateToken(ctx, firebreak.TokenInput{Username: "cached", Name: "long"}))
		must(s.AuthenticateToken(ctx, other.Secret))
		if err := s.RevokeToken(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateToken(ctx, other.Secret); firebreak.ErrorCode(err) != firebreak.EUnauthorized {
			t.Fatalf("a revoked token authenticated from the cache: %v", err)
		}
	})
}

// Reads are served from a cache on SQLite: every change is visible to the next read, and what a caller does to
// a returned incident never reaches another caller.
func TestIncidentReadsSeeEveryChange(t *testing.T) {
	forEach(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		must(s.CreateService(ctx, firebreak.ServiceInput{Slug: "cache-a"}))
		must(s.CreateService(ctx, firebreak.ServiceInput{Slug: "cache-b"}))
		inc := declare(t, s, "Cached", firebreak.SEV2, "cache-a")
		for _, ref := range []string{inc.ID, inc.Reference, strconv.FormatInt(inc.Number, 10)} {
			got := must(s.GetIncident(ctx, ref))
			got.Services[0] = "mutated"
			got.Roles[firebreak.RoleCommander] = "mallory"
			*got.Milestones.DeclaredAt = time.Time{}
		}
		again := must(s.GetIncident(ctx, inc.Reference))
		if again.Services[0] != "cache-a" || again.Roles[firebreak.RoleCommander] != "" || again.Milestones.DeclaredAt.IsZero() {
			t.Fatalf("a caller's changes leaked into the next read: %+v", again)
		}
		steps := []func() error{
			func() error { _, err := s.ChangeStatus(alice, inc.ID, firebreak.StatusMitigating, "", 0); return err },
			func() error { _, err := s.AssignRole(alice, inc.ID, firebreak.RoleCommander, "alice", 0); return err },
			func() error {
				_, err := s.UpdateIncident(alice, inc.ID, firebreak.IncidentPatch{Services: &[]string{"cache-b"}}, 0)
				return err
			},
		}
		for i, step := range steps {
			must(s.GetIncident(ctx, inc.Reference)) // warm
			before := must(s.GetIncident(ctx, inc.ID))
			if err := step(); err != nil {
				t.Fatal(err)
			}
			for _, ref := range []string{inc.ID, inc.Reference} {
				after := must(s.GetIncident(ctx, ref))
				if after.Version == before.Version {
					t.Fatalf("step %d: read by %s still shows version %d", i, ref, before.Version)
				}
			}
		}
		final := must(s.GetIncident(ctx, inc.Reference))
		if final.Status != firebreak.StatusMitigating || final.Roles[firebreak.RoleCommander] != "alice" ||
			!slices.Equal(final.Services, []string{"cache-b"}) {
			t.Fatalf("final read %+v", final)
		}
	})
}
