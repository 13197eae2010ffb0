// Package demo loads realistic demonstration data into Firebreak: a service catalog, a few people and a set of
// incidents drawn from real incident scenarios (cascading failures during peak traffic, database deadlocks,
// connection-pool exhaustion, a payment outage, a stale runbook, a false alarm, a recurring incident whose
// earlier action items were never finished). Every incident status and severity is present, with timelines,
// roles, status updates and action items dated relative to the time of loading. With the paging services it also
// sets up contact methods, on-call schedules and escalation policies, and its newest incidents are being paged
// (paging.go).
//
// The loader works through the domain services only, so it can load into the store directly (firebreak serve
// --demo) or through any other implementation of the interfaces.
package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/firebreak/firebreak"
)

// Password is the password of every demo user.
const Password = "firebreak-demo"

// Target is where the demo data goes.
type Target struct {
	Incidents firebreak.IncidentService
	Catalog   firebreak.CatalogService
	Users     firebreak.UserService
	// Alerts and Changes, when set, also load integrations, alerts (one storm opens an incident) and a deploy.
	Alerts  firebreak.AlertService
	Changes firebreak.ChangeService
	// Status, when set, also configures the public status page's components.
	Status firebreak.StatusPageService
	// Postmortems, when set, also writes and publishes the post-mortems the stories review, and closes the
	// incidents that followed through (the close policy needs a published post-mortem for SEV1 and SEV2).
	Postmortems firebreak.PostmortemService
	// Runbooks and ChangeControl, when set, also write runbooks (one of them stale) and the changes proposed and
	// decided on the open incidents (runbooks.go).
	Runbooks      firebreak.RunbookService
	ChangeControl firebreak.ChangeControlService
	// Contacts, Schedules and Escalation, when all set, also give the responders contact methods (their
	// example.com addresses: see paging.go), two on-call schedules and an escalation policy on every service.
	Contacts   firebreak.ContactService
	Schedules  firebreak.ScheduleService
	Escalation firebreak.EscalationService
	// Pin, when set, pins the store's clock to a time before each operation so that what the store stamps
	// itself (recorded_at, milestones set by status changes, created_at) carries the historical time. Unpin
	// returns the clock to real time. Without them only declarations and notes are backdated.
	Pin   func(time.Time)
	Unpin func()
	// Now is the moment the data is relative to; zero means time.Now().
	Now time.Time
}

// User describes one demo account.
type User struct {
	Username string
	Name     string
	Email    string
	Role     firebreak.UserRole
}

// Users are the demo accounts; each logs in with Password.
var Users = []User{
	{"alice", "Alice Chen", "alice@example.com", firebreak.RoleResponder},      // incident commander
	{"bob", "Bob Okafor", "bob@example.com", firebreak.RoleResponder},          // database team
	{"carol", "Carol Díaz", "carol@example.com", firebreak.RoleResponder},      // communications
	{"dave", "Dave Kim", "dave@example.com", firebreak.RoleResponder},          // on-call, platform team
	{"erin", "Erin Novak", "erin@example.com", firebreak.RoleResponder},        // SRE lead
	{"victor", "Victor Lindqvist", "victor@example.com", firebreak.RoleViewer}, // customer support lead
}

// Services is the demo service catalog, dependencies before their dependents.
var Services = []firebreak.ServiceInput{
	{Slug: "postgres-primary", Name: "PostgreSQL primary", OwnerTeam: "Database Team", Tier: 1,
		Description: "The primary PostgreSQL cluster behind orders, payments, auth and the catalog. " +
			"Connection pool: 100 per application instance.",
		RunbookURL: "https://runbooks.example.com/postgres-primary/failover"},
	{Slug: "search", Name: "Search", OwnerTeam: "Search Team", Tier: 2,
		Description: "Product search and the search indexer.",
		RunbookURL:  "https://runbooks.example.com/search"},
	{Slug: "notifications", Name: "Notifications", OwnerTeam: "Platform Team", Tier: 3,
		Description: "Order confirmation emails and push notifications, fed from a queue.",
		RunbookURL:  "https://runbooks.example.com/notifications"},
	{Slug: "auth", Name: "User Authentication", OwnerTeam: "Identity Team", Tier: 1,
		Description: "Sign-in, sessions and API tokens.",
		RunbookURL:  "https://runbooks.example.com/auth", DependsOn: []string{"postgres-primary"}},
	{Slug: "product-catalog", Name: "Product Catalog", OwnerTeam: "Catalog Team", Tier: 2,
		Description: "Product metadata, categories and tags.",
		RunbookURL:  "https://runbooks.example.com/product-catalog", DependsOn: []string{"postgres-primary", "search"}},
	{Slug: "shipping", Name: "Shipping", OwnerTeam: "Fulfilment Team", Tier: 2,
		Description: "Shipping quotes and label creation.",
		RunbookURL:  "https://runbooks.example.com/shipping"},
	{Slug: "payments", Name: "Payment Gateway", OwnerTeam: "Payments Team", Tier: 1,
		Description: "Card payments through the external payment provider, and the nightly settlement batch.",
		RunbookURL:  "https://runbooks.example.com/payments", DependsOn: []string{"postgres-primary"}},
	{Slug: "orders", Name: "Order Processing", OwnerTeam: "Commerce Team", Tier: 1,
		Description: "Checkout and order lifecycle.",
		RunbookURL:  "https://runbooks.example.com/orders",
		DependsOn:   []string{"postgres-primary", "payments", "shipping", "product-catalog", "notifications"}},
	{Slug: "api-gateway", Name: "API Gateway", OwnerTeam: "Platform Team", Tier: 1,
		Description: "Public entry point: routing, authentication and rate limiting for every API.",
		RunbookURL:  "https://runbooks.example.com/api-gateway",
		DependsOn:   []string{"auth", "product-catalog", "orders", "search"}},
}

// CascadeTitle is the title of the SEV1 incident that follows the seed post-mortem's timeline.
const CascadeTitle = "Cascading service failures during peak traffic"

// Load loads the demo data once: when any incident exists already it does nothing.
func Load(ctx context.Context, t Target) error {
	if t.Incidents == nil || t.Catalog == nil || t.Users == nil {
		return errors.New("demo: Target needs Incidents, Catalog and Users")
	}
	if t.Now.IsZero() {
		t.Now = time.Now()
	}
	t.Now = t.Now.UTC().Truncate(time.Second)
	page, err := t.Incidents.ListIncidents(ctx, firebreak.IncidentFilter{Limit: 1})
	if err != nil {
		return fmt.Errorf("demo: checking for existing incidents: %w", err)
	}
	if len(page.Items) > 0 {
		return nil
	}
	if t.Unpin != nil {
		defer t.Unpin()
	}
	l := &loader{t: t, ctx: ctx, actors: map[string]firebreak.Actor{
		"admin": {Username: "admin", Role: firebreak.RoleAdmin}}}
	l.users()
	l.catalog()
	l.onCall() // paging.go
	l.runbooks()
	// Declared in chronological order, so incident numbers grow with time.
	l.recurringPaymentFirst()
	l.checkoutSilent()
	l.deadlock()
	l.cascade()
	l.staleRunbook()
	l.falseAlarm()
	l.poolExhaustion()
	l.catalogLatency()
	l.recurringPaymentAgain()
	// From here on the services page: the alert storm's incident and the delayed emails are being paged.
	l.escalation(l.t.Now.Add(-45 * time.Minute))
	l.detection()
	l.emailsDelayed()
	l.changeControl()
	l.statusPage()
	if l.err != nil {
		return fmt.Errorf("demo: %w", l.err)
	}
	return nil
}

// loader runs the operations, each as a person at a pinned time, and keeps the first error.
type loader struct {
	t      Target
	ctx    context.Context
	actors map[string]firebreak.Actor
	err    error
	// refs of incidents declared so far, by a short key, for cross references.
	refs map[string]string
}

func (l *loader) fail(what string, err error) {
	if l.err == nil && err != nil {
		l.err = fmt.Errorf("%s: %w", what, err)
	}
}

// as pins the clock to at (never later than Now) and returns a context acting as user.
func (l *loader) as(user string, at time.Time) context.Context {
	if at.After(l.t.Now) {
		at = l.t.Now
	}
	if l.t.Pin != nil {
		l.t.Pin(at)
	}
	a, ok := l.actors[user]
	if !ok {
		a = firebreak.Actor{Username: user, Role: firebreak.RoleResponder}
	}
	return firebreak.WithActor(l.ctx, a)
}

func (l *loader) clamp(at time.Time) time.Time {
	if at.After(l.t.Now) {
		return l.t.Now
	}
	return at
}

func (l *loader) users() {
	created := l.t.Now.AddDate(0, 0, -90)
	for i, u := range Users {
		if l.err != nil {
			return
		}
		ctx := l.as("admin", created.Add(time.Duration(i)*time.Hour))
		nu, err := l.t.Users.CreateUser(ctx, firebreak.UserInput{Username: u.Username, Name: u.Name, Email: u.Email,
			Role: u.Role, Password: Password})
		if firebreak.ErrorCode(err) == firebreak.EConflict { // left by an earlier, interrupted load
			nu, err = l.t.Users.GetUser(ctx, u.Username)
		}
		if err != nil {
			l.fail("creating user "+u.Username, err)
			return
		}
		l.actors[u.Username] = firebreak.Actor{UserID: nu.ID, Username: nu.Username, Role: nu.Role}
	}
}

func (l *loader) catalog() {
	created := l.t.Now.AddDate(0, 0, -80)
	for i, s := range Services {
		if l.err != nil {
			return
		}
		ctx := l.as("admin", created.Add(time.Duration(i)*10*time.Minute))
		_, err := l.t.Catalog.CreateService(ctx, s)
		if firebreak.ErrorCode(err) == firebreak.EConflict {
			err = nil
		}
		l.fail("creating service "+s.Slug, err)
	}
}

// incident is the script of one incident.
type incident struct {
	l   *loader
	ref string
}

func (l *loader) declare(key, who string, at time.Time, in firebreak.DeclareInput) *incident {
	if l.err != nil {
		return &incident{l: l}
	}
	at = l.clamp(at)
	in.DeclaredAt = &at
	inc, err := l.t.Incidents.DeclareIncident(l.as(who, at), in)
	if err != nil {
		l.fail("declaring "+in.Title, err)
		return &incident{l: l}
	}
	if l.refs == nil {
		l.refs = map[string]string{}
	}
	l.refs[key] = inc.Reference
	return &incident{l: l, ref: inc.Reference}
}

func (s *incident) ok() bool { return s.l.err == nil && s.ref != "" }

// note adds a note that happened at at and was written down then.
func (s *incident) note(who string, at time.Time, msg string) *incident {
	return s.noteLate(who, at, at, msg, false)
}

// star adds a starred (key) note.
func (s *incident) star(who string, at time.Time, msg string) *incident {
	return s.noteLate(who, at, at, msg, true)
}

// noteLate adds a note written down at recorded about something that happened at occurred.
func (s *incident) noteLate(who string, recorded, occurred time.Time, msg string, starred bool) *incident {
	if !s.ok() {
		return s
	}
	recorded, occurred = s.l.clamp(recorded), s.l.clamp(occurred)
	_, err := s.l.t.Incidents.AddTimelineEvent(s.l.as(who, recorded), s.ref,
		firebreak.TimelineInput{Kind: firebreak.EventNote, Message: msg, OccurredAt: &occurred, Starred: starred})
	s.l.fail(s.ref+": adding a note", err)
	return s
}

func (s *incident) status(who string, at time.Time, to firebreak.Status, msg string) *incident {
	if !s.ok() {
		return s
	}
	_, err := s.l.t.Incidents.ChangeStatus(s.l.as(who, at), s.ref, to, msg, 0)
	s.l.fail(fmt.Sprintf("%s: moving to %s", s.ref, to), err)
	return s
}

func (s *incident) assign(who string, at time.Time, role firebreak.Role, user string) *incident {
	if !s.ok() {
		return s
	}
	_, err := s.l.t.Incidents.AssignRole(s.l.as(who, at), s.ref, role, user, 0)
	s.l.fail(fmt.Sprintf("%s: assigning %s", s.ref, role), err)
	return s
}

func (s *incident) update(who string, at time.Time, aud firebreak.Audience, msg string) *incident {
	if !s.ok() {
		return s
	}
	_, err := s.l.t.Incidents.PostUpdate(s.l.as(who, at), s.ref, firebreak.UpdateInput{Message: msg, Audience: aud})
	s.l.fail(s.ref+": posting an update", err)
	return s
}

// correct sets a milestone to what really happened, with the reason on the timeline.
func (s *incident) correct(who string, at time.Time, milestone string, value time.Time, reason string) *incident {
	if !s.ok() {
		return s
	}
	v := value.UTC()
	_, err := s.l.t.Incidents.UpdateIncident(s.l.as(who, at), s.ref,
		firebreak.IncidentPatch{Milestones: map[string]*time.Time{milestone: &v}, Reason: reason}, 0)
	s.l.fail(s.ref+": correcting "+milestone, err)
	return s
}

// progress is a later change of an action item's status.
type progress struct {
	who    string
	at     time.Time
	status firebreak.ActionItemStatus
	reason string
}

// action adds an open action item at at, then moves it through its progress (steps later than Now are skipped).
func (s *incident) action(who string, at time.Time, in firebreak.ActionItemInput, steps ...progress) *incident {
	if !s.ok() {
		return s
	}
	in.Status = firebreak.ActionOpen
	item, err := s.l.t.Incidents.AddActionItem(s.l.as(who, at), s.ref, in)
	if err != nil {
		s.l.fail(s.ref+": adding action item "+in.Title, err)
		return s
	}
	for _, p := range steps {
		if p.at.After(s.l.t.Now) {
			break
		}
		st := p.status
		patch := firebreak.ActionItemPatch{Status: &st}
		if p.reason != "" {
			r := p.reason
			patch.Reason = &r
		}
		if _, err := s.l.t.Incidents.UpdateActionItem(s.l.as(p.who, p.at), s.ref, item.ID, patch, 0); err != nil {
			s.l.fail(s.ref+": updating action item "+in.Title, err)
			return s
		}
	}
	return s
}

// starEvents stars the events of the given kinds whose data matches (e.g. the move to resolved).
func (s *incident) starEvents(who string, match func(firebreak.TimelineEvent) bool) *incident {
	if !s.ok() {
		return s
	}
	ctx := s.l.as(who, s.l.t.Now)
	page, err := s.l.t.Incidents.ListTimeline(ctx, s.ref, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		s.l.fail(s.ref+": reading the timeline", err)
		return s
	}
	for _, ev := range page.Items {
		if match(ev) && !ev.Starred {
			if _, err := s.l.t.Incidents.StarTimelineEvent(ctx, s.ref, ev.ID, true); err != nil {
				s.l.fail(s.ref+": starring an event", err)
				return s
			}
		}
	}
	return s
}

// day returns midnight UTC of the day n days before Now.
func (l *loader) day(n int) time.Time {
	d := l.t.Now.AddDate(0, 0, -n)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
}

// hm returns the time of day h:m on day d.
func hm(d time.Time, h, m int) time.Time {
	return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func ptr(t time.Time) *time.Time { return &t }

func date(t time.Time) string { return t.Format(time.DateOnly) }

func isStatus(to firebreak.Status) func(firebreak.TimelineEvent) bool {
	return func(ev firebreak.TimelineEvent) bool {
		return ev.Kind == firebreak.EventStatusChanged && ev.Data["to"] == string(to)
	}
}

func isKind(k firebreak.EventKind) func(firebreak.TimelineEvent) bool {
	return func(ev firebreak.TimelineEvent) bool { return ev.Kind == k }
}
