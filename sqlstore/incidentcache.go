package sqlstore

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/firebreak/firebreak"
)

// incidentCache keeps incidents read on SQLite, where this process is the only writer of the file: every change
// to an incident's row or services goes through updateIncident or setIncidentServices, whose after-commit hook
// forgets the incident before the writer is answered, so a read after a write never sees the old version.
// (Measured: the incident query is about a third of the server's CPU on GET /incidents/{id}.) On PostgreSQL,
// where other replicas write, it is off.
type incidentCache struct {
	mu    sync.Mutex
	on    bool
	gen   uint64 // bumped by forget: a read that overlapped a commit is not remembered
	byID  map[string]firebreak.Incident
	byNum map[int64]string
}

const incidentCacheMax = 2000

func (c *incidentCache) get(id string, number int64) (firebreak.Incident, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return firebreak.Incident{}, c.gen, false
	}
	if id == "" {
		id = c.byNum[number]
	}
	inc, ok := c.byID[id]
	if !ok {
		return firebreak.Incident{}, c.gen, false
	}
	return copyIncident(inc), c.gen, true
}

func (c *incidentCache) put(inc *firebreak.Incident, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || gen != c.gen {
		return
	}
	if c.byID == nil || len(c.byID) >= incidentCacheMax {
		c.byID, c.byNum = map[string]firebreak.Incident{}, map[int64]string{}
	}
	c.byID[inc.ID] = copyIncident(*inc)
	c.byNum[inc.Number] = inc.ID
}

// forget drops an incident (after a commit that changed it).
func (c *incidentCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.byID, id)
}

// copyIncident copies everything a caller could change, so cached values are never shared.
func copyIncident(inc firebreak.Incident) firebreak.Incident {
	inc.Services = slices.Clone(inc.Services)
	inc.Tags = slices.Clone(inc.Tags)
	inc.Roles = maps.Clone(inc.Roles)
	m := &inc.Milestones
	for _, p := range []**time.Time{&m.ImpactStartedAt, &m.DetectedAt, &m.DeclaredAt, &m.AcknowledgedAt,
		&m.MitigatedAt, &m.ResolvedAt, &m.ClosedAt} {
		if *p != nil {
			t := **p
			*p = &t
		}
	}
	return inc
}
