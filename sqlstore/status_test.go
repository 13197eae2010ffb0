package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

func TestStatusPageConfig(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		service(t, s, "api", "core")
		service(t, s, "db", "platform")
		cfg := must(s.GetStatusPageConfig(ctx))
		if cfg.Name != firebreak.DefaultStatusPageName || len(cfg.Components) != 0 || cfg.Version != 0 {
			t.Fatalf("default config %+v", cfg)
		}
		// Unknown services, duplicates and multi-line names are refused, naming the field.
		_, err := s.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Components: []firebreak.StatusComponentInput{
			{Service: "api"}, {Service: "nope"}}}, 0)
		wantField(t, err, "components[1].service", "unknown service")
		_, err = s.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Components: []firebreak.StatusComponentInput{
			{Service: "api"}, {Service: "api"}}}, 0)
		wantField(t, err, "components[1].service", "twice")
		_, err = s.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Name: "a\nb"}, 0)
		wantField(t, err, "name", "one line")

		cfg = must(s.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Name: " Acme status ",
			Components: []firebreak.StatusComponentInput{
				{Service: "db", Name: "Database", Group: "Backend", Description: "Where data lives"},
				{Service: "api"}}}, 0))
		if cfg.Name != "Acme status" || cfg.Version != 1 || len(cfg.Components) != 2 {
			t.Fatalf("config %+v", cfg)
		}
		db, api := cfg.Components[0], cfg.Components[1]
		if db.Service != "db" || db.Name != "Database" || db.Group != "Backend" || db.Position != 0 ||
			db.Description != "Where data lives" || db.ID == "" || !db.CreatedAt.Equal(t0) {
			t.Fatalf("db component %+v", db)
		}
		if api.Service != "api" || api.Name != "api" || api.Position != 1 { // the service's name by default
			t.Fatalf("api component %+v", api)
		}
		// A renamed service renames its component when it has no name of its own.
		newName := "Public API"
		must(s.UpdateService(alice, "api", firebreak.ServicePatch{Name: &newName}, 0))
		if got := must(s.GetStatusPageConfig(ctx)).Components[1].Name; got != newName {
			t.Fatalf("component name %q after renaming the service", got)
		}
		// A stale version is refused; an unchanged component keeps its times.
		_, err = s.SetStatusPageConfig(ctx, firebreak.StatusPageInput{}, 7)
		wantCode(t, err, firebreak.EPreconditionFailed)
		c.Advance(time.Hour)
		cfg = must(s.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Name: "Acme status",
			Components: []firebreak.StatusComponentInput{
				{Service: "db", Name: "Database", Group: "Backend", Description: "Where data lives"},
				{Service: "api", Group: "Frontend"}}}, 1))
		if cfg.Version != 2 || !cfg.Components[0].UpdatedAt.Equal(t0) || !cfg.Components[1].CreatedAt.Equal(t0) ||
			!cfg.Components[1].UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("after a second change %+v", cfg)
		}
		// An empty list hides everything.
		cfg = must(s.SetStatusPageConfig(ctx, firebreak.StatusPageInput{}, 0))
		if len(cfg.Components) != 0 || cfg.Name != firebreak.DefaultStatusPageName {
			t.Fatalf("cleared config %+v", cfg)
		}
	})
}

func TestStatusData(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		for _, slug := range []string{"api", "db", "secret"} {
			service(t, s, slug, "core")
		}
		// Nothing is public before components are configured.
		declare(t, s, "Before config", firebreak.SEV1, "api")
		d := must(s.StatusData(ctx, c.Now()))
		if len(d.Incidents) != 0 || len(d.Maintenance) != 0 {
			t.Fatalf("unconfigured page shows %+v", d)
		}
		must(s.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Components: []firebreak.StatusComponentInput{
			{Service: "api"}, {Service: "db"}}}, 0))

		open := declare(t, s, "API errors", firebreak.SEV2, "api", "secret")
		must(s.PostUpdate(alice, open.ID, firebreak.UpdateInput{Message: "internal only", Audience: firebreak.AudienceInternal}))
		must(s.PostUpdate(alice, open.ID, firebreak.UpdateInput{Message: "We are investigating", Audience: firebreak.AudienceExternal}))
		must(s.PostUpdate(alice, open.ID, firebreak.UpdateInput{Message: "For everyone", Audience: firebreak.AudienceAll}))
		must(s.AddTimelineEvent(alice, open.ID, firebreak.TimelineInput{Message: "a private note"}))
		hidden := declare(t, s, "Secret only", firebreak.SEV1, "secret")
		cancelled := declare(t, s, "False alarm", firebreak.SEV1, "db")
		must(s.ChangeStatus(alice, cancelled.ID, firebreak.StatusCancelled, "", 0))
		old := declare(t, s, "Long ago", firebreak.SEV3, "db")
		must(s.ChangeStatus(alice, old.ID, firebreak.StatusResolved, "", 0))
		c.Advance(91 * 24 * time.Hour)
		recent := declare(t, s, "Recent", firebreak.SEV3, "db")
		must(s.ChangeStatus(alice, recent.ID, firebreak.StatusResolved, "", 0))

		now := c.Now()
		in := firebreak.MaintenanceInput{Services: []string{"db", "secret"}, Title: "Upgrade", Description: "d",
			StartsAt: now.Add(time.Hour), EndsAt: now.Add(2 * time.Hour)}
		win := must(s.CreateMaintenance(alice, in))
		in.Services = []string{"secret"}
		must(s.CreateMaintenance(alice, in)) // not public
		in.Services = []string{"api"}
		gone := must(s.CreateMaintenance(alice, in))
		must(s.CancelMaintenance(alice, gone.ID, 0))

		d = must(s.StatusData(ctx, now))
		var refs []string
		for _, inc := range d.Incidents {
			refs = append(refs, inc.Reference)
		}
		// Newest first; the first incident (declared before the page had components) affects api too.
		if want := []string{recent.Reference, open.Reference, "INC-1"}; !slices.Equal(refs, want) {
			t.Fatalf("incidents %v, want %v (hidden %s, cancelled %s, old %s)", refs, want, hidden.Reference,
				cancelled.Reference, old.Reference)
		}
		got := d.Incidents[1]
		if !slices.Equal(got.Services, []string{"api"}) {
			t.Fatalf("services %v: a non-public service leaked", got.Services)
		}
		if len(got.Updates) != 2 || got.Updates[0].Message != "We are investigating" ||
			got.Updates[1].Message != "For everyone" {
			t.Fatalf("updates %+v", got.Updates)
		}
		for _, u := range got.Updates {
			if u.Author != "" || !u.Audience.External() {
				t.Fatalf("update %+v", u)
			}
		}
		if got.Title != "API errors" || got.Severity != firebreak.SEV2 || got.Status != firebreak.StatusDetected ||
			got.StartedAt.IsZero() {
			t.Fatalf("incident %+v", got)
		}
		if r := d.Incidents[0]; r.ResolvedAt == nil || r.Status != firebreak.StatusResolved {
			t.Fatalf("resolved incident %+v", r)
		}
		if len(d.Maintenance) != 1 || d.Maintenance[0].ID != win.ID ||
			!slices.Equal(d.Maintenance[0].Services, []string{"db"}) || d.Maintenance[0].CreatedBy != "" {
			t.Fatalf("maintenance %+v", d.Maintenance)
		}
		// Once over, a window leaves the page.
		if d := must(s.StatusData(ctx, now.Add(3*time.Hour))); len(d.Maintenance) != 0 {
			t.Fatalf("ended maintenance still shown: %+v", d.Maintenance)
		}
	})
}
