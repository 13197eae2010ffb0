package web_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// The incident page offers "Acknowledge" until someone has; pressing it sets acknowledged_at as that person.
func TestConsoleAcknowledge(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newConsoleEnv(t, st)
		ctx := firebreak.WithActor(context.Background(), firebreak.Actor{Username: "alice", Role: firebreak.RoleResponder})
		inc, err := st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Checkout errors", Severity: firebreak.SEV1})
		if err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		b.login("bob")
		page := b.get("/incidents/" + inc.Reference)
		wantStatus(t, page, http.StatusOK)
		wantStatus(t, b.submit(page, "form.ack-form", nil), http.StatusSeeOther)
		done := b.get("/incidents/" + inc.Reference)
		if done.find(t, "form.ack-form").Length() != 0 {
			t.Fatal("the Acknowledge button is still offered after acknowledging")
		}
		got, err := st.GetIncident(context.Background(), inc.ID)
		if err != nil || got.Milestones.AcknowledgedAt == nil {
			t.Fatalf("acknowledged_at not set: %+v %v", got, err)
		}
		viewer := e.browser()
		viewer.login("vera")
		if viewer.get("/incidents/"+inc.Reference).find(t, "form.ack-form").Length() != 0 {
			t.Fatal("a viewer is offered the Acknowledge button")
		}
	})
}
