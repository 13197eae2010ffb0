package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func openIncidents(t *testing.T, s *sqlstore.Store) []firebreak.Incident {
	t.Helper()
	return must(s.ListIncidents(context.Background(), firebreak.IncidentFilter{Limit: firebreak.MaxLimit})).Items
}

func countKind(evs []firebreak.TimelineEvent, k firebreak.EventKind) (n int) {
	for _, e := range evs {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func sevEvent(key string, sev firebreak.AlertSeverity, labels map[string]string) firebreak.AlertEvent {
	ev := trigger(key, "boom "+key)
	ev.Severity = sev
	if labels != nil {
		ev.Labels = labels
	}
	return ev
}

func TestAlertRouting(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)

		// A storm: 500 distinct critical alerts → one SEV2 incident with 500 attached alerts.
		var storm []firebreak.AlertEvent
		for i := range 500 {
			storm = append(storm, trigger(fmt.Sprintf("k%03d", i), fmt.Sprintf("high latency %d", i)))
		}
		got := ingest(t, s, am.ID, storm...)
		incs := openIncidents(t, s)
		if len(incs) != 1 {
			t.Fatalf("%d incidents", len(incs))
		}
		inc := incs[0]
		if inc.Severity != firebreak.SEV2 || inc.Status != firebreak.StatusDetected || inc.Title != "high latency 0" ||
			inc.CreatedBy != "alertmanager" || len(inc.Services) != 1 || inc.Services[0] != "checkout" {
			t.Fatalf("incident %+v", inc)
		}
		for _, a := range got {
			if a.IncidentID != inc.ID {
				t.Fatalf("alert %s incident %q", a.DedupKey, a.IncidentID)
			}
		}
		attached := must(s.ListAlerts(ctx, firebreak.AlertFilter{Incident: inc.ID, Limit: firebreak.MaxLimit}))
		n := len(attached.Items)
		for p := attached; p.NextCursor != ""; {
			p = must(s.ListAlerts(ctx, firebreak.AlertFilter{Incident: inc.ID, Limit: firebreak.MaxLimit,
				Cursor: p.NextCursor}))
			n += len(p.Items)
		}
		if n != 500 {
			t.Fatalf("%d attached alerts", n)
		}
		tl := timeline(t, s, inc.ID)
		if countKind(tl, firebreak.EventDeclared) != 1 || countKind(tl, firebreak.EventAlertAttached) != 500 {
			t.Fatalf("timeline kinds %v", kinds(tl)[:3])
		}
		for _, e := range tl {
			if e.Kind == firebreak.EventAlertAttached && (!strings.HasPrefix(e.Message, "Alert joined: high latency") ||
				e.Data["dedup_key"] == "" || e.Data["alert_id"] == "" || e.Data["source"] != "alertmanager") {
				t.Fatalf("event %+v", e)
			}
		}

		// 10 minutes later: joins the same incident.
		c.Advance(10 * time.Minute)
		a := ingest(t, s, am.ID, trigger("late", "late one"))[0]
		if a.IncidentID != inc.ID || len(openIncidents(t, s)) != 1 {
			t.Fatalf("late alert %q", a.IncidentID)
		}
		// A redelivery writes nothing new on the timeline.
		ingest(t, s, am.ID, trigger("late", "late one"))
		if got := countKind(timeline(t, s, inc.ID), firebreak.EventAlertAttached); got != 501 {
			t.Fatalf("%d attached events", got)
		}

		// 40 minutes after the declaration (window counted from the declaration): a new incident, even though
		// the first is still open.
		c.Advance(30 * time.Minute)
		b := ingest(t, s, am.ID, trigger("later", "later one"))[0]
		incs = openIncidents(t, s)
		if len(incs) != 2 || b.IncidentID == inc.ID || b.IncidentID != incs[0].ID {
			t.Fatalf("past the window: %d incidents, alert in %q", len(incs), b.IncidentID)
		}

		// Warnings open nothing.
		w := ingest(t, s, am.ID, sevEvent("warn", firebreak.AlertWarning, nil), sevEvent("info", firebreak.AlertInfo, nil))
		if w[0].IncidentID != "" || w[1].IncidentID != "" || len(openIncidents(t, s)) != 2 {
			t.Fatalf("warnings routed %+v", w)
		}

		// Resolving every alert of the SEV2 incident only records it.
		var res []firebreak.AlertEvent
		for _, ev := range append(storm, trigger("late", "")) {
			ev.Action = "resolve"
			res = append(res, ev)
		}
		ingest(t, s, am.ID, res...)
		after := must(s.GetIncident(ctx, inc.ID))
		tl = timeline(t, s, inc.ID)
		if after.Status != firebreak.StatusDetected || countKind(tl, firebreak.EventAlertsResolved) != 1 ||
			tl[len(tl)-1].Message != "All 501 alerts resolved" {
			t.Fatalf("SEV2 after resolve: %s %q", after.Status, tl[len(tl)-1].Message)
		}
	})
}

func TestAlertRoutingSEV3AutoResolveAndGroupBy(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "search", "discovery")
		pd := integration(t, s, "search", firebreak.IntegrationPagerDuty)

		errs := ingest(t, s, pd.ID, sevEvent("e1", firebreak.AlertError, nil), sevEvent("e2", firebreak.AlertError, nil))
		inc := must(s.GetIncident(ctx, errs[0].IncidentID))
		if inc.Severity != firebreak.SEV3 || errs[1].IncidentID != inc.ID || inc.CreatedBy != "pagerduty" {
			t.Fatalf("error incident %+v", inc)
		}
		c.Advance(time.Minute)
		r1 := sevEvent("e1", firebreak.AlertError, nil)
		r1.Action = "resolve"
		ingest(t, s, pd.ID, r1)
		if got := must(s.GetIncident(ctx, inc.ID)); got.Status != firebreak.StatusDetected {
			t.Fatalf("resolved with an alert firing: %s", got.Status)
		}
		r2 := sevEvent("e2", firebreak.AlertError, nil)
		r2.Action = "resolve"
		ingest(t, s, pd.ID, r2)
		got := must(s.GetIncident(ctx, inc.ID))
		tl := timeline(t, s, inc.ID)
		if got.Status != firebreak.StatusResolved || countKind(tl, firebreak.EventAlertsResolved) != 1 ||
			!strings.HasSuffix(tl[len(tl)-1].Message, "all alerts resolved") || tl[len(tl)-1].Actor != "pagerduty" {
			t.Fatalf("SEV3 after resolve: %s %+v", got.Status, tl[len(tl)-1])
		}

		// GroupBy cluster splits groups.
		p := firebreak.DefaultRoutingPolicy()
		p.GroupBy = []string{"cluster"}
		must(s.SetRoutingPolicy(alice, "search", p))
		back := must(s.GetRoutingPolicy(ctx, "search"))
		if len(back.GroupBy) != 1 || back.GroupWindow != 30*time.Minute {
			t.Fatalf("policy %+v", back)
		}
		_, err := s.SetRoutingPolicy(alice, "search", firebreak.RoutingPolicy{GroupWindow: time.Second})
		wantField(t, err, "group_window", "")
		_, err = s.SetRoutingPolicy(alice, "nope", p)
		wantCode(t, err, firebreak.ENotFound)

		c.Advance(time.Minute)
		as := ingest(t, s, pd.ID,
			sevEvent("a", firebreak.AlertCritical, map[string]string{"cluster": "eu1"}),
			sevEvent("b", firebreak.AlertCritical, map[string]string{"cluster": "us1"}),
			sevEvent("c", firebreak.AlertCritical, map[string]string{"cluster": "eu1"}))
		if as[0].IncidentID == "" || as[0].IncidentID != as[2].IncidentID || as[1].IncidentID == as[0].IncidentID ||
			as[1].IncidentID == "" {
			t.Fatalf("group by: %q %q %q", as[0].IncidentID, as[1].IncidentID, as[2].IncidentID)
		}
	})
}

// Deliveries that arrive together for a new group open one incident between them (on PostgreSQL they run in
// parallel transactions; an advisory lock per group makes the second join the first's incident).
func TestConcurrentDeliveriesOpenOneIncident(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		service(t, s, "race", "payments")
		am := integration(t, s, "race", firebreak.IntegrationAlertmanager)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 16 {
			var evs []firebreak.AlertEvent
			for i := range 40 {
				evs = append(evs, trigger(fmt.Sprintf("r%d-%d", g, i), "queue backing up"))
			}
			wg.Go(func() {
				<-start
				if _, err := s.IngestAlerts(context.Background(), am.ID, evs); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		if incs := openIncidents(t, s); len(incs) != 1 {
			t.Fatalf("%d incidents opened by 16 simultaneous deliveries for one group", len(incs))
		}
	})
}

// A SEV2 that a policy resolves when its alerts resolve gets its post-mortem draft, as if a person resolved it.
func TestAutoResolvedSEV2GetsPostmortemDraft(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		pd := integration(t, s, "checkout", firebreak.IntegrationPagerDuty)
		p := firebreak.DefaultRoutingPolicy()
		p.AutoResolve = map[firebreak.Severity]bool{firebreak.SEV2: true}
		must(s.SetRoutingPolicy(alice, "checkout", p))
		fired := ingest(t, s, pd.ID, sevEvent("x", firebreak.AlertCritical, nil))
		c.Advance(5 * time.Minute)
		r := sevEvent("x", firebreak.AlertCritical, nil)
		r.Action = "resolve"
		ingest(t, s, pd.ID, r)
		inc := must(s.GetIncident(ctx, fired[0].IncidentID))
		if inc.Severity != firebreak.SEV2 || inc.Status != firebreak.StatusResolved {
			t.Fatalf("incident %s %s, want a resolved SEV2", inc.Severity, inc.Status)
		}
		pm, err := s.GetPostmortem(ctx, inc.ID)
		if err != nil {
			t.Fatalf("no post-mortem draft after the policy resolved the SEV2: %v", err)
		}
		if pm.Status != firebreak.PostmortemDraft {
			t.Fatalf("post-mortem status %s, want draft", pm.Status)
		}
	})
}
