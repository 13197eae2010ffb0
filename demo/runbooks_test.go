package demo_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/demo"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// The demo's runbooks and change control: one stale runbook (an architecture change after its review), the
// failover runbook rewritten after the incident it slowed down, and decided and waiting proposals on the open
// incidents.
func TestLoadRunbooksAndChangeControl(t *testing.T) {
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			s, clock := openStore(t, dialect)
			now := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
			tg := target(s, clock, now)
			tg.Runbooks, tg.ChangeControl = s, s
			if err := demo.Load(ctx, tg); err != nil {
				t.Fatal(err)
			}
			clock.Pin(now) // staleness is read relative to the moment the data describes
			defer clock.Unpin()
			p, err := s.ListRunbooks(ctx, firebreak.RunbookFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var stale []string
			var failover *firebreak.Runbook
			for i, rb := range p.Items {
				if rb.Stale {
					stale = append(stale, rb.Title)
				}
				if rb.Title == demo.FailoverRunbook {
					failover = &p.Items[i]
				}
			}
			if len(p.Items) != 4 || !slices.Equal(stale, []string{demo.StaleRunbook}) {
				t.Fatalf("%d runbooks, stale %v", len(p.Items), stale)
			}
			if failover == nil || failover.Version != 2 || failover.LastReviewedBy != "erin" ||
				strings.Contains(failover.Body, "pgbouncer-legacy") {
				t.Fatalf("failover runbook %+v", failover)
			}
			revs, err := s.ListRunbookRevisions(ctx, failover.ID)
			if err != nil || len(revs) != 2 || !strings.Contains(revs[0].Body, "pgbouncer-legacy.internal") {
				t.Fatalf("failover revisions %+v %v", revs, err)
			}
			states := map[string][]firebreak.ProposalState{}
			for _, inc := range allIncidents(t, s) {
				ps, err := s.ListProposals(ctx, inc.ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, pr := range ps {
					states[inc.Title] = append(states[inc.Title], pr.State)
				}
			}
			if got := states["Orders API slow: database connection pool exhausted"]; !slices.Equal(got,
				[]firebreak.ProposalState{firebreak.ProposalRejected, firebreak.ProposalApproved}) {
				t.Errorf("pool incident proposals %v", got)
			}
			if got := states["Product pages slow: catalog latency elevated"]; !slices.Equal(got,
				[]firebreak.ProposalState{firebreak.ProposalProposed}) {
				t.Errorf("catalog incident proposals %v", got)
			}
		})
	}
}
