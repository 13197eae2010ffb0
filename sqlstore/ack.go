package sqlstore

import (
	"context"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

// AcknowledgeIncident sets acknowledged_at once, as the acting person, with its timeline event. Acknowledging an
// acknowledged incident changes nothing; a resolved, closed or cancelled one is a conflict.
func (s *Store) AcknowledgeIncident(ctx context.Context, ref string, ifVersion int64) (*firebreak.Incident, error) {
	actor := firebreak.ActorFrom(ctx).Username
	return s.mutateIncident(ctx, ref, ifVersion, func(t *txn, inc *firebreak.Incident) ([]firebreak.TimelineEvent,
		error) {
		if !inc.Status.Open() {
			return nil, firebreak.Errorf(firebreak.EConflict, "%s is %s: there is nothing left to acknowledge",
				inc.Ref(), inc.Status)
		}
		if inc.Milestones.AcknowledgedAt != nil {
			return nil, nil
		}
		now := s.clock()
		evs, err := inc.Apply(firebreak.IncidentPatch{Milestones: map[string]*time.Time{"acknowledged_at": &now},
			Reason: "acknowledged by " + actor}, actor, now)
		for i := range evs {
			if evs[i].Data == nil {
				evs[i].Data = map[string]string{}
			}
			evs[i].Data["acknowledged_by"] = actor
		}
		return evs, err
	})
}
