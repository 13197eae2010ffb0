package main

import (
	"context"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/demo"
)

// serve --demo loads the demo data (once: a database with incidents is left alone), with the app's clock pinned
// to each operation's historical time.
func init() {
	loadDemo = func(ctx context.Context, a *app.App) error {
		p, err := a.Store.ListIncidents(ctx, firebreak.IncidentFilter{Limit: 1})
		if err != nil {
			return err
		}
		if len(p.Items) > 0 {
			a.Logger.Info("demo data not loaded: the database already has incidents")
			return nil
		}
		if err := demo.Load(ctx, demo.Target{Incidents: a.Store, Catalog: a.Store, Users: a.Store,
			Alerts: a.Store, Changes: a.Store, Status: a.Store, Postmortems: a.Store, Pin: a.Clock.Pin, Unpin: a.Clock.Unpin,
			Runbooks: a.Store, ChangeControl: a.Store, Contacts: a.Store, Schedules: a.Store, Escalation: a.Store,
			Now: time.Now()}); err != nil {
			return err
		}
		names := make([]string, len(demo.Users))
		for i, u := range demo.Users {
			names[i] = u.Username
		}
		a.Logger.Info("demo data loaded; demo users sign in with the demo password", "users", names,
			"password", demo.Password)
		return nil
	}
}
