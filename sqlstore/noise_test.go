package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func resolveEv(key string, sev firebreak.AlertSeverity) firebreak.AlertEvent {
	return firebreak.AlertEvent{Action: "resolve", DedupKey: key, Severity: sev}
}

func allIncidents(t *testing.T, s *sqlstore.Store) []firebreak.Incident {
	t.Helper()
	return must(s.ListIncidents(context.Background(), firebreak.IncidentFilter{Limit: firebreak.MaxLimit,
		Status: firebreak.Statuses})).Items
}

// A flapping alert pages once, is then marked flapping (said once on its incident's timeline) and opens no
// incident while it flaps, even after its incident is resolved; after a quiet window it pages again.
func TestFlappingAlert(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)
		fire := trigger("flappy", "checkout latency")

		first := ingest(t, s, am.ID, fire)[0]
		incs := allIncidents(t, s)
		if len(incs) != 1 || first.IncidentID != incs[0].ID || first.Flapping || first.Suppressed != "" {
			t.Fatalf("first firing: %d incidents, alert %+v", len(incs), first)
		}
		inc := incs[0]
		// Five state changes within the hour (the default is "more than 5 in 1h"): still paging (re-firings
		// rejoin the open incident).
		var a firebreak.Alert
		for i := range 5 {
			c.Advance(time.Minute)
			ev := fire
			if i%2 == 0 {
				ev = resolveEv("flappy", firebreak.AlertCritical)
			}
			a = ingest(t, s, am.ID, ev)[0]
			if a.Flapping {
				t.Fatalf("flapping after %d changes", i+1)
			}
		}
		if a.Status != firebreak.AlertResolved || a.IncidentID != inc.ID || len(allIncidents(t, s)) != 1 {
			t.Fatalf("after 5 changes: %+v, %d incidents", a, len(allIncidents(t, s)))
		}
		// The sixth: marked flapping, not routed, the incident says so once.
		c.Advance(time.Minute)
		marked := c.Now()
		a = ingest(t, s, am.ID, fire)[0]
		if !a.Flapping || a.FlappingSince == nil || !a.FlappingSince.Equal(marked) ||
			a.Suppressed != firebreak.SuppressedFlapping || a.Status != firebreak.AlertFiring {
			t.Fatalf("sixth change: %+v", a)
		}
		tl := timeline(t, s, inc.ID)
		if n := countKind(tl, firebreak.EventAlertFlapping); n != 1 {
			t.Fatalf("%d flapping events", n)
		}
		for _, e := range tl {
			if e.Kind == firebreak.EventAlertFlapping && (e.Message !=
				"Alert checkout latency is flapping: 6 state changes in 1h; it no longer pages" ||
				e.Actor != "alertmanager" || e.Data["alert_id"] != a.ID) {
				t.Fatalf("flapping event %+v", e)
			}
		}
		stored := must(s.ListAlerts(ctx, firebreak.AlertFilter{})).Items[0]
		if !stored.Flapping || stored.Suppressed != firebreak.SuppressedFlapping || !stored.FlappingSince.Equal(marked) {
			t.Fatalf("stored %+v", stored)
		}
		if got := must(s.ListAlerts(ctx, firebreak.AlertFilter{Flapping: true})).Items; len(got) != 1 || got[0].ID != stored.ID {
			t.Fatalf("flapping filter: %d alerts", len(got))
		}
		if got := must(s.ListAlerts(ctx, firebreak.AlertFilter{Suppressed: firebreak.SuppressedMaintenance})).Items; len(got) != 0 {
			t.Fatalf("suppressed=maintenance found %d alerts, none is", len(got))
		}

		// The incident is resolved; the alert keeps flapping: no new incident, no second flapping event.
		must(s.ChangeStatus(alice, inc.ID, firebreak.StatusResolved, "fixed", 0))
		for i := range 6 {
			c.Advance(5 * time.Minute)
			ev := fire
			if i%2 == 0 {
				ev = resolveEv("flappy", firebreak.AlertCritical)
			}
			a = ingest(t, s, am.ID, ev)[0]
		}
		if got := allIncidents(t, s); len(got) != 1 || !a.Flapping || a.IncidentID != inc.ID {
			t.Fatalf("while flapping: %d incidents, alert %+v", len(got), a)
		}
		if n := countKind(timeline(t, s, inc.ID), firebreak.EventAlertFlapping); n != 1 {
			t.Fatalf("%d flapping events after more flapping", n)
		}
		// Not quite a quiet window: a redelivery changes nothing.
		c.Advance(59 * time.Minute)
		if a = ingest(t, s, am.ID, fire)[0]; !a.Flapping || len(allIncidents(t, s)) != 1 {
			t.Fatalf("59 minutes later: %+v", a)
		}
		// A full quiet window: the still-firing alert pages again at its next trigger.
		c.Advance(time.Minute)
		a = ingest(t, s, am.ID, fire)[0]
		incs = allIncidents(t, s)
		if a.Flapping || a.FlappingSince != nil || a.Suppressed != "" || len(incs) != 2 || a.IncidentID == inc.ID ||
			a.IncidentID != incs[0].ID || incs[0].Status != firebreak.StatusDetected {
			t.Fatalf("after a quiet hour: %+v, %d incidents", a, len(incs))
		}
	})
}

// A stricter flapping policy, and an alert that flaps within one delivery.
func TestFlappingPolicy(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)
		p := must(s.GetRoutingPolicy(ctx, "checkout"))
		if p.Flapping.Toggles != 5 || p.Flapping.Window != time.Hour {
			t.Fatalf("default flapping %+v", p.Flapping)
		}
		p.Flapping = firebreak.FlappingPolicy{Toggles: 1}
		_, err := s.SetRoutingPolicy(ctx, "checkout", *p)
		wantField(t, err, "flapping.toggles", "")
		p.Flapping = firebreak.FlappingPolicy{Toggles: 2, Window: 10 * time.Minute}
		if got := must(s.SetRoutingPolicy(ctx, "checkout", *p)); got.Flapping.Toggles != 2 ||
			got.Flapping.Window != 10*time.Minute {
			t.Fatalf("stored %+v", got.Flapping)
		}
		fire := trigger("k", "k")
		out := ingest(t, s, am.ID, fire, resolveEv("k", firebreak.AlertCritical), fire,
			resolveEv("k", firebreak.AlertCritical), fire)
		last := out[len(out)-1]
		// New, then 4 changes in one delivery: flapping from the third, so its firing pages nobody.
		if !last.Flapping || last.IncidentID != "" || last.Suppressed != firebreak.SuppressedFlapping ||
			len(allIncidents(t, s)) != 0 {
			t.Fatalf("one delivery: %+v, %d incidents", last, len(allIncidents(t, s)))
		}
		// Changes older than the window do not count.
		ingest(t, s, am.ID, trigger("slow", "slow"))
		for range 4 {
			c.Advance(6 * time.Minute)
			a := ingest(t, s, am.ID, resolveEv("slow", firebreak.AlertCritical))[0]
			c.Advance(6 * time.Minute)
			a = ingest(t, s, am.ID, trigger("slow", "slow"))[0]
			if a.Flapping {
				t.Fatal("changes 6 minutes apart flap with 2 in 10 minutes")
			}
		}
	})
}

// PagerDuty acknowledge events acknowledge the incident of the alert, once.
func TestAlertAcknowledgeAcknowledgesIncident(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		pd := integration(t, s, "checkout", firebreak.IntegrationPagerDuty)
		out := ingest(t, s, pd.ID, trigger("k1", "db down"), trigger("k2", "db slow"),
			sevEvent("w", firebreak.AlertWarning, nil))
		inc := must(s.GetIncident(ctx, out[0].IncidentID))
		if inc.Milestones.AcknowledgedAt != nil || out[1].IncidentID != inc.ID {
			t.Fatalf("incident %+v", inc)
		}
		c.Advance(3 * time.Minute)
		acked := c.Now()
		a := ingest(t, s, pd.ID, firebreak.AlertEvent{Action: "acknowledge", DedupKey: "k1",
			Severity: firebreak.AlertCritical})[0]
		inc = must(s.GetIncident(ctx, inc.ID))
		if a.Status != firebreak.AlertAcknowledged || inc.Milestones.AcknowledgedAt == nil ||
			!inc.Milestones.AcknowledgedAt.Equal(acked) || inc.Status != firebreak.StatusDetected {
			t.Fatalf("after acknowledge: alert %s, incident %+v", a.Status, inc.Milestones)
		}
		tl := timeline(t, s, inc.ID)
		ev := tl[len(tl)-1]
		if ev.Kind != firebreak.EventMilestoneChanged || ev.Actor != "pagerduty" ||
			ev.Data["milestone"] != "acknowledged_at" || ev.Data["alert_id"] != a.ID {
			t.Fatalf("event %+v", ev)
		}
		// Later acknowledgements (another alert, the same one again, an alert without incident) change nothing.
		c.Advance(time.Minute)
		ingest(t, s, pd.ID, firebreak.AlertEvent{Action: "acknowledge", DedupKey: "k2", Severity: firebreak.AlertCritical},
			firebreak.AlertEvent{Action: "acknowledge", DedupKey: "k1", Severity: firebreak.AlertCritical},
			firebreak.AlertEvent{Action: "acknowledge", DedupKey: "w", Severity: firebreak.AlertWarning})
		inc = must(s.GetIncident(ctx, inc.ID))
		if !inc.Milestones.AcknowledgedAt.Equal(acked) ||
			countKind(timeline(t, s, inc.ID), firebreak.EventMilestoneChanged) != 1 {
			t.Fatalf("acknowledged again: %+v", inc.Milestones)
		}
	})
}

func TestMaintenanceWindows(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		service(t, s, "search", "discovery")
		co := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)
		se := integration(t, s, "search", firebreak.IntegrationAlertmanager)

		// Validation.
		in := firebreak.MaintenanceInput{Services: []string{"checkout"}, Title: "DB upgrade",
			Description: "Checkout may be slow.", StartsAt: t0.Add(10 * time.Minute), EndsAt: t0.Add(time.Hour)}
		bad := in
		bad.EndsAt = bad.StartsAt
		_, err := s.CreateMaintenance(alice, bad)
		wantField(t, err, "ends_at", "after")
		bad = in
		bad.Services = []string{"nope"}
		_, err = s.CreateMaintenance(alice, bad)
		wantField(t, err, "services", "nope")
		bad = in
		bad.Title, bad.Services = " ", nil
		_, err = s.CreateMaintenance(alice, bad)
		wantField(t, err, "title", "")
		wantField(t, err, "services", "")
		bad = in
		bad.StartsAt, bad.EndsAt = t0.Add(-2*time.Hour), t0.Add(-time.Hour)
		_, err = s.CreateMaintenance(alice, bad)
		wantField(t, err, "ends_at", "future")

		w := must(s.CreateMaintenance(alice, in))
		if w.State != firebreak.MaintenanceScheduled || w.CreatedBy != "alice" || w.Version != 1 ||
			len(w.Services) != 1 || w.Services[0] != "checkout" || !w.StartsAt.Equal(in.StartsAt) {
			t.Fatalf("created %+v", w)
		}
		if got := must(s.GetMaintenance(ctx, w.ID)); got.Title != "DB upgrade" || got.Description != in.Description ||
			got.State != firebreak.MaintenanceScheduled || got.Services[0] != "checkout" {
			t.Fatalf("get %+v", got)
		}
		_, err = s.GetMaintenance(ctx, "00000000-0000-7000-8000-000000000000")
		wantCode(t, err, firebreak.ENotFound)
		_, err = s.GetMaintenance(ctx, "x")
		wantCode(t, err, firebreak.ENotFound)
		list := func(f firebreak.MaintenanceFilter) []string {
			var ids []string
			for _, w := range must(s.ListMaintenance(ctx, f)).Items {
				ids = append(ids, w.ID)
			}
			return ids
		}
		if got := list(firebreak.MaintenanceFilter{State: firebreak.MaintenanceScheduled}); len(got) != 1 || got[0] != w.ID {
			t.Fatalf("scheduled %v", got)
		}
		if got := list(firebreak.MaintenanceFilter{State: firebreak.MaintenanceActive}); len(got) != 0 {
			t.Fatalf("active %v", got)
		}
		at := t0.Add(30 * time.Minute)
		if got := list(firebreak.MaintenanceFilter{State: firebreak.MaintenanceActive, At: &at}); len(got) != 1 {
			t.Fatalf("active at %v: %v", at, got)
		}
		if got := list(firebreak.MaintenanceFilter{Service: "search"}); len(got) != 0 {
			t.Fatalf("search %v", got)
		}
		_, err = s.ListMaintenance(ctx, firebreak.MaintenanceFilter{State: "soon"})
		wantField(t, err, "state", "")

		// Before the window: alerts page.
		if a := ingest(t, s, co.ID, trigger("before", "before"))[0]; a.IncidentID == "" || a.Suppressed != "" {
			t.Fatalf("before the window %+v", a)
		}
		first := allIncidents(t, s)[0]
		must(s.ChangeStatus(alice, first.ID, firebreak.StatusResolved, "", 0))

		// During the window: recorded, suppressed, no incident; other services page as usual.
		c.Advance(15 * time.Minute)
		a := ingest(t, s, co.ID, trigger("during", "disk full"))[0]
		if a.IncidentID != "" || a.Suppressed != firebreak.SuppressedMaintenance || a.MaintenanceWindowID != w.ID {
			t.Fatalf("during the window %+v", a)
		}
		if got := must(s.ListAlerts(ctx, firebreak.AlertFilter{Suppressed: firebreak.SuppressedMaintenance})).Items; len(got) != 1 || got[0].ID != a.ID {
			t.Fatalf("suppressed=maintenance filter: %d alerts", len(got))
		}
		_, err = s.ListAlerts(ctx, firebreak.AlertFilter{Suppressed: "boredom"})
		wantField(t, err, "suppressed", "")
		if b := ingest(t, s, se.ID, trigger("search", "search down"))[0]; b.IncidentID == "" {
			t.Fatalf("other service %+v", b)
		}
		if n := len(allIncidents(t, s)); n != 2 {
			t.Fatalf("%d incidents", n)
		}
		// A redelivery during the window changes nothing.
		if again := ingest(t, s, co.ID, trigger("during", "disk full"))[0]; again.IncidentID != "" ||
			!again.LastSeenAt.Equal(a.LastSeenAt) {
			t.Fatalf("redelivered %+v", again)
		}
		// A stale or ended window cannot be changed.
		title := "DB upgrade (extended)"
		_, err = s.UpdateMaintenance(ctx, w.ID, firebreak.MaintenancePatch{Title: &title}, 7)
		wantCode(t, err, firebreak.EPreconditionFailed)
		w = must(s.UpdateMaintenance(ctx, w.ID, firebreak.MaintenancePatch{Title: &title}, 1))
		if w.Title != title || w.Version != 2 || w.State != firebreak.MaintenanceActive {
			t.Fatalf("updated %+v", w)
		}

		// After the window: the still-firing alert pages at its next trigger.
		c.Advance(time.Hour)
		a = ingest(t, s, co.ID, trigger("during", "disk full"))[0]
		if a.IncidentID == "" || a.Suppressed != "" || a.MaintenanceWindowID != "" {
			t.Fatalf("after the window %+v", a)
		}
		if got := must(s.GetMaintenance(ctx, w.ID)); got.State != firebreak.MaintenanceCompleted {
			t.Fatalf("state after %s", got.State)
		}
		_, err = s.CancelMaintenance(ctx, w.ID, 0)
		wantCode(t, err, firebreak.EConflict)
		_, err = s.UpdateMaintenance(ctx, w.ID, firebreak.MaintenancePatch{Title: &in.Title}, 0)
		wantCode(t, err, firebreak.EConflict)

		// Cancelling an active window ends the suppression at once.
		w2 := must(s.CreateMaintenance(alice, firebreak.MaintenanceInput{Services: []string{"search", "checkout"},
			Title: "Network", StartsAt: c.Now(), EndsAt: c.Now().Add(time.Hour)}))
		if b := ingest(t, s, se.ID, trigger("net1", "net"))[0]; b.Suppressed != firebreak.SuppressedMaintenance ||
			b.MaintenanceWindowID != w2.ID || b.IncidentID != "" {
			t.Fatalf("second window %+v", b)
		}
		w2 = must(s.CancelMaintenance(ctx, w2.ID, w2.Version))
		if w2.State != firebreak.MaintenanceCancelled || w2.CancelledAt == nil || w2.Version != 2 ||
			len(w2.Services) != 2 || w2.Services[0] != "search" {
			t.Fatalf("cancelled %+v", w2)
		}
		if again := must(s.CancelMaintenance(ctx, w2.ID, 0)); again.Version != 2 {
			t.Fatalf("cancelled twice %+v", again)
		}
		if b := ingest(t, s, se.ID, trigger("net2", "net"))[0]; b.Suppressed != "" || b.IncidentID == "" {
			t.Fatalf("after cancelling %+v", b)
		}
		if got := list(firebreak.MaintenanceFilter{State: firebreak.MaintenanceCancelled}); len(got) != 1 || got[0] != w2.ID {
			t.Fatalf("cancelled list %v", got)
		}
		// Newest start first, paged.
		p := must(s.ListMaintenance(ctx, firebreak.MaintenanceFilter{Limit: 1}))
		if len(p.Items) != 1 || p.Items[0].ID != w2.ID || p.NextCursor == "" {
			t.Fatalf("page 1 %+v", p)
		}
		p = must(s.ListMaintenance(ctx, firebreak.MaintenanceFilter{Limit: 1, Cursor: p.NextCursor}))
		if len(p.Items) != 1 || p.Items[0].ID != w.ID || p.NextCursor != "" {
			t.Fatalf("page 2 %+v", p)
		}
	})
}

func TestNoiseReport(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		service(t, s, "search", "discovery")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)
		pd := integration(t, s, "search", firebreak.IntegrationPagerDuty)
		p := must(s.GetRoutingPolicy(ctx, "checkout"))
		p.Flapping = firebreak.FlappingPolicy{Toggles: 2, Window: time.Hour}
		must(s.SetRoutingPolicy(ctx, "checkout", *p))
		ev := func(key, rule, summary string, sev firebreak.AlertSeverity) firebreak.AlertEvent {
			e := trigger(key, summary)
			e.Severity, e.Labels = sev, map[string]string{"env": "prod"}
			if rule != "-" {
				e.Labels["alertname"] = rule
			}
			return e
		}
		h1 := ev("h1", "HighLatency", "latency 1", firebreak.AlertCritical)
		ingest(t, s, am.ID, h1, ev("h2", "HighLatency", "latency 2", firebreak.AlertCritical),
			ev("h3", "HighLatency", "latency 3", firebreak.AlertCritical),
			ev("d1", "DiskSpace", "disk 1", firebreak.AlertWarning), ev("d2", "DiskSpace", "disk 2", firebreak.AlertWarning))
		c.Advance(time.Minute)
		ingest(t, s, am.ID, resolveEv("h1", firebreak.AlertCritical))
		c.Advance(time.Minute)
		ingest(t, s, am.ID, h1) // 2 occurrences, 2 changes: not flapping
		f1 := ev("f1", "Flappy", "flappy", firebreak.AlertWarning)
		for _, e := range []firebreak.AlertEvent{f1, resolveEv("f1", firebreak.AlertWarning), f1,
			resolveEv("f1", firebreak.AlertWarning)} {
			c.Advance(time.Minute)
			ingest(t, s, am.ID, e) // 2 occurrences, 3 changes: flapping
		}
		ingest(t, s, pd.ID, ev("s1", "-", "search down", firebreak.AlertCritical))
		must(s.CreateMaintenance(alice, firebreak.MaintenanceInput{Services: []string{"search"}, Title: "reindex",
			StartsAt: c.Now(), EndsAt: c.Now().Add(time.Hour)}))
		ingest(t, s, pd.ID, ev("s2", "", "search slow", firebreak.AlertCritical))
		c.Advance(time.Minute)

		r := must(s.NoiseReport(ctx, firebreak.NoiseFilter{}))
		if !r.Until.Equal(c.Now()) || !r.Since.Equal(c.Now().Add(-7*24*time.Hour)) {
			t.Fatalf("period %v – %v", r.Since, r.Until)
		}
		want := firebreak.NoiseTotals{Alerts: 8, Occurrences: 10, IncidentsOpened: 2, AlertsWithIncident: 4,
			AlertsWithoutIncident: 4, OccurrencesWithoutIncident: 5, FlappingAlerts: 1, MaintenanceAlerts: 1,
			MaintenanceFirings: 1}
		if r.Totals != want {
			t.Fatalf("totals\n%+v\nwant\n%+v", r.Totals, want)
		}
		d := r.AlertsPerIncident
		if d.Incidents != 2 || d.Mean != 2 || d.P50 != 1 || d.Max != 3 || len(d.Top) != 2 || d.Top[0].Alerts != 3 ||
			d.Top[0].Occurrences != 4 || d.Top[0].Title != "latency 1" || d.Top[0].Reference != "INC-1" ||
			d.Top[1].Alerts != 1 || d.Top[0].Severity != firebreak.SEV2 {
			t.Fatalf("alerts per incident %+v", d)
		}
		if len(r.Sources) != 2 || r.Sources[0].IntegrationID != am.ID || r.Sources[0].Alerts != 6 ||
			r.Sources[0].Occurrences != 8 || r.Sources[0].Incidents != 1 || r.Sources[0].Service != "checkout" ||
			r.Sources[0].Kind != firebreak.IntegrationAlertmanager || r.Sources[1].IntegrationID != pd.ID ||
			r.Sources[1].Alerts != 2 || r.Sources[1].Occurrences != 2 || r.Sources[1].Incidents != 1 {
			t.Fatalf("sources %+v", r.Sources)
		}
		rule := func(name, svc string, alerts, occ, incs int64) firebreak.NoiseRule {
			return firebreak.NoiseRule{Rule: name, Service: svc, Alerts: alerts, Occurrences: occ, Incidents: incs}
		}
		wantRules := []firebreak.NoiseRule{rule("HighLatency", "checkout", 3, 4, 1), rule("DiskSpace", "checkout", 2, 2, 0),
			rule("Flappy", "checkout", 1, 2, 0), rule("search down", "search", 1, 1, 1), rule("search slow", "search", 1, 1, 0)}
		if len(r.Rules) != len(wantRules) {
			t.Fatalf("rules %+v", r.Rules)
		}
		for i := range wantRules {
			if r.Rules[i] != wantRules[i] {
				t.Fatalf("rule %d: %+v, want %+v", i, r.Rules[i], wantRules[i])
			}
		}
		if len(r.Flapping) != 1 || r.Flapping[0].DedupKey != "f1" || !r.Flapping[0].Flapping ||
			r.Flapping[0].FlappedAt == nil || r.Flapping[0].Rule != "Flappy" || r.Flapping[0].Occurrences != 2 {
			t.Fatalf("flapping %+v", r.Flapping)
		}
		if len(r.NeverIncident) != 4 || r.NeverIncident[0].DedupKey != "f1" || r.NeverIncident[1].DedupKey != "s2" ||
			r.NeverIncident[0].IncidentID != "" {
			t.Fatalf("never incident %+v", r.NeverIncident)
		}

		// One service.
		r = must(s.NoiseReport(ctx, firebreak.NoiseFilter{Service: "checkout"}))
		if r.Service != "checkout" || r.Totals.Alerts != 6 || r.Totals.IncidentsOpened != 1 || len(r.Sources) != 1 ||
			r.AlertsPerIncident.Incidents != 1 || r.Totals.MaintenanceAlerts != 0 || len(r.Rules) != 3 {
			t.Fatalf("checkout %+v", r)
		}
		// A period without alerts.
		until := t0.Add(-time.Hour)
		since := until.Add(-time.Hour)
		r = must(s.NoiseReport(ctx, firebreak.NoiseFilter{Since: &since, Until: &until}))
		if r.Totals != (firebreak.NoiseTotals{}) || r.AlertsPerIncident.Incidents != 0 || len(r.Sources) != 0 ||
			r.Flapping == nil || r.AlertsPerIncident.Top == nil {
			t.Fatalf("empty period %+v", r)
		}
		_, err := s.NoiseReport(ctx, firebreak.NoiseFilter{Since: &until, Until: &since})
		wantField(t, err, "until", "")
		long := until.Add(-400 * 24 * time.Hour)
		_, err = s.NoiseReport(ctx, firebreak.NoiseFilter{Since: &long, Until: &until})
		wantField(t, err, "since", "")
		_, err = s.NoiseReport(ctx, firebreak.NoiseFilter{Service: "nope"})
		wantCode(t, err, firebreak.ENotFound)
	})
}

// The batched UPDATE of changed alerts (PostgreSQL; chunks of 256, 32, 4 and 1) stores exactly what the
// delivery answers, NULLs included.
func TestIngestBatchedUpdatesExact(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "checkout", "payments")
		am := integration(t, s, "checkout", firebreak.IntegrationAlertmanager)
		const n = 301
		evs := make([]firebreak.AlertEvent, n)
		for i := range evs {
			evs[i] = sevEvent(fmt.Sprintf("b%03d", i), firebreak.AlertWarning, nil)
		}
		ingest(t, s, am.ID, evs...)
		check := func(out []firebreak.Alert) {
			t.Helper()
			byID := map[string]firebreak.Alert{}
			for _, a := range allAlerts(t, s) {
				byID[a.ID] = a
			}
			for _, want := range out {
				got := byID[want.ID]
				if got.Status != want.Status || got.Summary != want.Summary || got.Labels["mount"] != want.Labels["mount"] ||
					!got.LastSeenAt.Equal(want.LastSeenAt) || got.Occurrences != want.Occurrences ||
					(got.ResolvedAt == nil) != (want.ResolvedAt == nil) ||
					(got.ResolvedAt != nil && !got.ResolvedAt.Equal(*want.ResolvedAt)) ||
					got.Suppressed != want.Suppressed || got.MaintenanceWindowID != "" || got.Flapping {
					t.Fatalf("stored\n%+v\nanswered\n%+v", got, want)
				}
			}
		}
		c.Advance(time.Minute)
		for i := range evs {
			switch i % 3 {
			case 0:
				evs[i].Action, evs[i].EndsAt = "resolve", c.Now().Add(-time.Second)
			case 1:
				evs[i].Summary, evs[i].Labels = "changed", map[string]string{"mount": fmt.Sprint(i)}
			}
		}
		out := ingest(t, s, am.ID, evs...)
		check(out)
		if got := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM alerts WHERE resolved_at IS NOT NULL`)); got != 101 {
			t.Fatalf("%d resolved", got)
		}
		c.Advance(time.Minute)
		for i := range evs {
			evs[i].Action = "trigger"
		}
		out = ingest(t, s, am.ID, evs...)
		check(out)
		if out[0].Occurrences != 2 || out[0].ResolvedAt != nil || out[1].Occurrences != 1 {
			t.Fatalf("re-fired %+v / %+v", out[0], out[1])
		}
	})
}
