package sqlstore_test

import (
	"context"
	"testing"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
)

// Acknowledging sets acknowledged_at once, as the acting person, on the timeline; again changes nothing; a
// resolved incident cannot be acknowledged; a stale version is refused.
func TestAcknowledgeIncident(t *testing.T) {
	forEachClock(t, func(t *testing.T, s *sqlstore.Store, c *fakeClock) {
		ctx := context.Background()
		inc := declare(t, s, "Checkout errors", firebreak.SEV1)
		c.Advance(4 * time.Minute)
		_, err := s.AcknowledgeIncident(lee, inc.Reference, inc.Version+5)
		wantCode(t, err, firebreak.EPreconditionFailed)
		acked := must(s.AcknowledgeIncident(lee, inc.Reference, inc.Version))
		if acked.Milestones.AcknowledgedAt == nil || !acked.Milestones.AcknowledgedAt.Equal(c.Now()) ||
			acked.Version != inc.Version+1 {
			t.Fatalf("acknowledged: %+v (version %d)", acked.Milestones, acked.Version)
		}
		tl := timeline(t, s, inc.ID)
		last := tl[len(tl)-1]
		if last.Kind != firebreak.EventMilestoneChanged || last.Actor != "lee" || last.Data["acknowledged_by"] != "lee" ||
			last.Data["milestone"] != "acknowledged_at" {
			t.Fatalf("timeline event %+v", last)
		}
		c.Advance(time.Minute)
		again := must(s.AcknowledgeIncident(alice, inc.ID, 0))
		if !again.Milestones.AcknowledgedAt.Equal(*acked.Milestones.AcknowledgedAt) || again.Version != acked.Version ||
			len(timeline(t, s, inc.ID)) != len(tl) {
			t.Fatalf("a second acknowledgement changed the incident: %+v", again.Milestones)
		}
		must(s.ChangeStatus(alice, inc.ID, firebreak.StatusResolved, "", 0))
		other := declare(t, s, "Resolved first", firebreak.SEV3)
		resolved := must(s.ChangeStatus(alice, other.ID, firebreak.StatusResolved, "", 0))
		c.Advance(time.Minute)
		_, err = s.AcknowledgeIncident(alice, other.ID, 0)
		wantCode(t, err, firebreak.EConflict)
		if got := must(s.GetIncident(ctx, other.ID)); got.Version != resolved.Version ||
			!sameTime(got.Milestones.AcknowledgedAt, resolved.Milestones.AcknowledgedAt) {
			t.Fatal("a refused acknowledgement changed the incident")
		}
	})
}

func sameTime(a, b *time.Time) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b))
}
