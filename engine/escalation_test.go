package engine_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/engine"
	"github.com/firebreak/firebreak/notify"
	"github.com/firebreak/firebreak/notify/notifytest"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// pagingWorld is a store on a fake clock with real local receivers: an SMTP server for the people's email contact
// methods and a webhook receiver behind the shared channel "ops-pager". bob is on call on schedule "primary",
// ic is the incident commander to page, cto is leadership. Service "api" pages with policy "checkout":
// step 1 the on-call person, step 2 the ops-pager channel, each waiting 5 minutes; the steps run twice.
type pagingWorld struct {
	s     *sqlstore.Store
	clock *engine.FakeClock
	smtp  *notifytest.SMTPServer
	hook  *receiver
	eng   *engine.Engine
}

func newPagingWorld(t *testing.T, dialect string, t0 time.Time) *pagingWorld {
	t.Helper()
	w := &pagingWorld{clock: engine.NewFakeClock(t0)}
	w.s = openFake(t, dialect, w.clock)
	crit := firebreak.EscalationCriteria{
		Commander:      []firebreak.EscalationTarget{{Type: firebreak.TargetUser, Ref: "ic"}},
		Leadership:     []firebreak.EscalationTarget{{Type: firebreak.TargetUser, Ref: "cto"}},
		Unacknowledged: firebreak.EscalationCriterion{Enabled: true, Severities: []firebreak.Severity{firebreak.SEV1}},
	}
	w.s.SetEscalationSettings(crit, firebreak.DefaultSeverityPolicies()) // SEV1: 5 minutes to acknowledge
	w.smtp = notifytest.StartSMTP(t)
	w.hook = newReceiver(t, nil)
	for _, u := range []string{"bob", "ic", "cto"} {
		if _, err := w.s.CreateUser(alice, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.CreateChannel(alice, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: u + "-mail",
			Address: u + "@example.com", User: u}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.s.CreateChannel(alice, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: "ops-pager",
		URL: w.hook.srv.URL, Secret: "0123456789abcdef0123"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.CreateSchedule(alice, firebreak.ScheduleInput{Name: "primary", TimeZone: "UTC",
		Layers: []firebreak.Layer{{Name: "weekly", Rotation: firebreak.RotationWeekly, Start: "2026-01-05",
			HandoffTime: "09:00", Participants: []string{"bob"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.CreateEscalationPolicy(alice, firebreak.EscalationPolicyInput{Name: "checkout", Repeat: 1,
		Steps: []firebreak.EscalationStep{
			{Delay: firebreak.Duration(5 * time.Minute), Targets: []firebreak.EscalationTarget{{Type: firebreak.TargetSchedule, Ref: "primary"}}},
			{Delay: firebreak.Duration(5 * time.Minute), Targets: []firebreak.EscalationTarget{{Type: firebreak.TargetChannel, Ref: "ops-pager"}}},
		}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.CreateService(alice, firebreak.ServiceInput{Slug: "api", Name: "API"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.UpdateService(alice, "api", firebreak.ServicePatch{EscalationPolicy: new("checkout")}, 0); err != nil {
		t.Fatal(err)
	}
	ob := &engine.Outbox{Store: w.s, Clock: w.clock, Rand: rand.New(rand.NewPCG(1, 2)),
		Notifier: notify.New(notify.Config{Now: w.clock.Now, AttemptTimeout: 5 * time.Second,
			SMTP: notify.SMTPConfig{Host: "127.0.0.1", Port: w.smtp.Port(), TLS: notify.TLSOff,
				From: "Firebreak <firebreak@example.com>"}})}
	esc := &engine.Escalations{Store: w.s, Clock: w.clock}
	w.eng = engine.New(engine.Options{Clock: w.clock}, append(ob.Queues(), esc.Queues()...)...)
	return w
}

// at moves the clock to t0+d and runs everything due.
func (w *pagingWorld) at(t0 time.Time, d time.Duration) {
	w.clock.Set(t0.Add(d))
	w.eng.RunDue(context.Background())
}

func (w *pagingWorld) pages(addr string) int {
	n := 0
	for _, m := range w.smtp.To(addr) {
		if strings.HasPrefix(m.Subject, "Page: ") {
			n++
		}
	}
	return n
}

func (w *pagingWorld) hookPages() int {
	w.hook.mu.Lock()
	defer w.hook.mu.Unlock()
	return len(w.hook.accepted)
}

func countKind(evs []firebreak.TimelineEvent, k firebreak.EventKind) int {
	n := 0
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func allEvents(t *testing.T, s *sqlstore.Store, ref string) []firebreak.TimelineEvent {
	t.Helper()
	p, err := s.ListTimeline(context.Background(), ref, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

// The runbook, end to end: SEV1 declared → the on-call engineer is paged → no acknowledgement within the 5-minute
// response target → the incident commander is paged (and the policy's next step) → acknowledging stops the
// escalation: nobody is paged again, not the next round, not leadership.
func TestScenarioEscalationStopsOnAck(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
			w := newPagingWorld(t, d, t0)
			inc, err := w.s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout is down",
				Severity: firebreak.SEV1, Services: []string{"api"}})
			if err != nil {
				t.Fatal(err)
			}
			w.at(t0, 0)
			if got := w.pages("bob@example.com"); got != 1 {
				t.Fatalf("on-call bob got %d pages at declaration, want 1", got)
			}
			mail := w.smtp.To("bob@example.com")[0]
			if !strings.Contains(mail.Subject, inc.Reference) || !strings.Contains(string(mail.Data), "on call on primary") {
				t.Errorf("page to bob: %q\n%s", mail.Subject, mail.Data)
			}
			if w.pages("ic@example.com") != 0 || w.hookPages() != 0 {
				t.Fatal("someone beyond step 1 was paged at once")
			}

			w.at(t0, 4*time.Minute+59*time.Second)
			if w.pages("ic@example.com") != 0 || w.hookPages() != 0 {
				t.Fatal("paged before the 5-minute delay")
			}
			w.at(t0, 5*time.Minute) // no acknowledgement within the response target
			if got := w.pages("ic@example.com"); got != 1 {
				t.Fatalf("the incident commander got %d pages after 5 min, want 1", got)
			}
			if got := w.hookPages(); got != 1 {
				t.Fatalf("step 2 (ops-pager) got %d pages, want 1", got)
			}

			w.clock.Set(t0.Add(7 * time.Minute))
			if _, err := w.s.AcknowledgeIncident(firebreak.WithActor(context.Background(),
				firebreak.Actor{Username: "ic", Role: firebreak.RoleResponder}), inc.Reference, 0); err != nil {
				t.Fatal(err)
			}
			drive(t, w.eng, w.clock, t0.Add(6*time.Hour), nil)
			if b, i, c, h := w.pages("bob@example.com"), w.pages("ic@example.com"), w.pages("cto@example.com"),
				w.hookPages(); b != 1 || i != 1 || c != 0 || h != 1 {
				t.Fatalf("after the acknowledgement: bob %d, ic %d, cto %d, ops-pager %d pages; want 1 1 0 1", b, i, c, h)
			}
			evs := allEvents(t, w.s, inc.Reference)
			if n := countKind(evs, firebreak.EventEscalationPaged); n != 2 {
				t.Errorf("%d escalation_paged events, want 2", n)
			}
			if n := countKind(evs, firebreak.EventEscalationCriterion); n != 1 {
				t.Errorf("%d escalation_criterion events, want 1", n)
			}
			if n := countKind(evs, firebreak.EventEscalationExhausted); n != 0 {
				t.Errorf("exhausted after an acknowledgement")
			}
			var stopped *firebreak.TimelineEvent
			for i := range evs {
				if evs[i].Kind == firebreak.EventEscalationStopped {
					stopped = &evs[i]
				}
			}
			if stopped == nil || !strings.Contains(stopped.Message, "acknowledged by ic") {
				t.Fatalf("no stop event naming the acknowledgement: %+v", stopped)
			}
			if next, err := w.s.NextEscalationDue(context.Background()); err != nil || !next.IsZero() {
				t.Errorf("escalation work left after the acknowledgement: %v %v", next, err)
			}
		})
	}
}

// Nobody acknowledges: the steps run again (repeat 1), leadership is paged one response target after the
// commander, and the escalation ends exhausted, with every step paged exactly once per round.
func TestScenarioEscalationExhausts(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t0 := time.Date(2026, 3, 2, 14, 0, 0, 0, time.UTC)
			w := newPagingWorld(t, d, t0)
			inc, err := w.s.DeclareIncident(alice, firebreak.DeclareInput{Title: "Checkout is down",
				Severity: firebreak.SEV1, Services: []string{"api"}})
			if err != nil {
				t.Fatal(err)
			}
			drive(t, w.eng, w.clock, t0.Add(6*time.Hour), nil)
			if b, i, c, h := w.pages("bob@example.com"), w.pages("ic@example.com"), w.pages("cto@example.com"),
				w.hookPages(); b != 2 || i != 1 || c != 1 || h != 2 {
				t.Fatalf("bob %d, ic %d, cto %d, ops-pager %d pages; want 2 1 1 2", b, i, c, h)
			}
			evs := allEvents(t, w.s, inc.Reference)
			var paged []string
			var exhaustedAt time.Time
			for _, e := range evs {
				switch e.Kind {
				case firebreak.EventEscalationPaged:
					paged = append(paged, e.Data["round"]+"."+e.Data["step"]+"@"+e.OccurredAt.Sub(t0).String())
				case firebreak.EventEscalationExhausted:
					exhaustedAt = e.OccurredAt
				}
			}
			want := []string{"1.1@0s", "1.2@5m0s", "2.1@10m0s", "2.2@15m0s"}
			if strings.Join(paged, " ") != strings.Join(want, " ") {
				t.Fatalf("pages (round.step@offset) %v, want %v", paged, want)
			}
			if !exhaustedAt.Equal(t0.Add(20 * time.Minute)) {
				t.Fatalf("exhausted at %v, want 20 minutes after declaration", exhaustedAt.Sub(t0))
			}
		})
	}
}
