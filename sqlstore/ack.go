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
		return t.acknowledge(inc, actor, "acknowledged by "+actor, s.clock())
	})
}

// acknowledge sets the incident's acknowledged_at to now as actor, with the reason on its timeline event; every
// way of acknowledging (the API, the console, a PagerDuty acknowledge, a notification link) comes through here.
func (t *txn) acknowledge(inc *firebreak.Incident, actor, reason string, now time.Time) ([]firebreak.TimelineEvent,
	error) {
	evs, err := inc.Apply(firebreak.IncidentPatch{Milestones: map[string]*time.Time{"acknowledged_at": &now},
		Reason: reason}, actor, now)
	for i := range evs {
		if evs[i].Data == nil {
			evs[i].Data = map[string]string{}
		}
		evs[i].Data["acknowledged_by"] = actor
	}
	return evs, err
}
