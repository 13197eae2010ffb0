package sqlstore

// Alert routing (see firebreak.Route): inside IngestAlerts' transaction, alerts that fire are routed to incidents
// (joined to the open incident auto-opened for their group within the group window, else a new incident), and
// when every alert of an open incident has resolved the timeline says so (and, per AutoResolve, the incident is
// resolved). The decision is cached per group within a delivery: a storm of 500 alerts of one group costs one
// incident lookup, one incident insert, a batched attach UPDATE and its timeline events.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	firebreak "github.com/firebreak/firebreak"
)

// GetRoutingPolicy returns a service's routing policy (the default if none was set).
func (s *Store) GetRoutingPolicy(ctx context.Context, serviceSlug string) (*firebreak.RoutingPolicy, error) {
	x := s.read(ctx)
	var id string
	err := x.row(`SELECT id FROM services WHERE slug = ?`, strings.TrimSpace(serviceSlug)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("service %s not found", strings.TrimSpace(serviceSlug))
	}
	if err != nil {
		return nil, wrap(err, "get routing policy")
	}
	p, err := x.routingPolicy(id)
	if err != nil {
		return nil, err
	}
	p = p.Clone() // the cached policy is shared
	return &p, nil
}

// SetRoutingPolicy validates and stores a service's routing policy.
func (s *Store) SetRoutingPolicy(ctx context.Context, serviceSlug string, p firebreak.RoutingPolicy) (
	*firebreak.RoutingPolicy, error) {
	p = p.Clone()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, wrap(err, "set routing policy")
	}
	err = s.write(ctx, func(t *txn) error {
		var id string
		err := t.row(`SELECT id FROM services WHERE slug = ?`, strings.TrimSpace(serviceSlug)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("service %s not found", strings.TrimSpace(serviceSlug))
		}
		if err != nil {
			return wrap(err, "set routing policy")
		}
		_, err = t.exec(`INSERT INTO routing_policies (service_id, policy, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (service_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
			id, string(b), s.d.ts(s.clock()))
		t.afterCommit(func() { s.policies.forget(id) })
		return wrap(err, "set routing policy")
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// policyCache remembers routing policies by service ID on SQLite, where this process is the only writer:
// SetRoutingPolicy forgets an entry after its commit. (On PostgreSQL another replica may change a policy, so
// nothing is cached.) Cached policies are shared: callers must not modify them.
type policyCache struct {
	mu sync.Mutex
	m  map[string]firebreak.RoutingPolicy
}

func (c *policyCache) get(serviceID string) (firebreak.RoutingPolicy, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[serviceID]
	return p, ok
}

func (c *policyCache) put(serviceID string, p firebreak.RoutingPolicy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= 10_000 {
		c.m = map[string]firebreak.RoutingPolicy{}
	}
	c.m[serviceID] = p
}

func (c *policyCache) forget(serviceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, serviceID)
}

// routingPolicy reads a service's policy by service ID (the default if none was set).
func (x q) routingPolicy(serviceID string) (firebreak.RoutingPolicy, error) {
	cache := x.s.d.name != dialectPostgres
	if cache {
		if p, ok := x.s.policies.get(serviceID); ok {
			return p, nil
		}
	}
	p, err := x.loadRoutingPolicy(serviceID)
	if err == nil && cache {
		x.s.policies.put(serviceID, p)
	}
	return p, err
}

func (x q) loadRoutingPolicy(serviceID string) (firebreak.RoutingPolicy, error) {
	var raw string
	err := x.row(`SELECT policy FROM routing_policies WHERE service_id = ?`, serviceID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return firebreak.DefaultRoutingPolicy(), nil
	}
	if err != nil {
		return firebreak.RoutingPolicy{}, wrap(err, "load routing policy")
	}
	var p firebreak.RoutingPolicy
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return firebreak.RoutingPolicy{}, fmt.Errorf("sqlstore: routing policy of service %s: %w", serviceID, err)
	}
	if p.AutoResolve == nil {
		p.AutoResolve = firebreak.DefaultAutoResolve()
	}
	p.Flapping = p.Flapping.WithDefaults() // policies stored before flap detection have none
	return p, nil
}

// routedIncident is an incident routing attaches alerts to within one delivery.
type routedIncident struct {
	id       string
	number   int64
	alertIDs []string // to attach
	events   []firebreak.TimelineEvent
	routed   bool // in routeAlerts' list
}

// routeAlerts routes the fired alerts (created, firing again, or no longer suppressed) that nothing suppresses,
// records on their incidents the changed alerts that this ingest marked flapping, acknowledges the incidents of
// acknowledged alerts, and checks the incidents of resolved ones. The alerts are as written (all of ic's
// service); the incidentID of the attached ones is updated.
func (t *txn) routeAlerts(ic *ingestCtx, fired, resolved, changed []*alertState) error {
	var marked, acked []*alertState
	for _, st := range changed {
		if st.marked {
			marked = append(marked, st)
		}
		if st.acked {
			acked = append(acked, st)
		}
	}
	if len(fired) == 0 && len(resolved) == 0 && len(marked) == 0 && len(acked) == 0 {
		return nil
	}
	now := ic.now
	serviceID, err := ic.service()
	if err != nil {
		return err
	}
	policy, err := ic.routing()
	if err != nil {
		return err
	}
	var order []*routedIncident // the incidents alerts join, each once
	for _, st := range fired {
		if st.suppressed != "" { // maintenance or flapping: recorded, pages nobody
			continue
		}
		d, err := ic.decide(st)
		if err != nil {
			return err
		}
		if d.Action != firebreak.RouteIncident {
			continue
		}
		g, k := st.g, st.key
		a := st.routingAlert(g, k)
		ri, err := ic.groupIncident(d.GroupKey)
		if err != nil {
			return err
		}
		if ri == nil {
			if ri, err = t.openAlertIncident(g, serviceID, d, &a, now); err != nil {
				return err
			}
			ic.setGroupIncident(d.GroupKey, ri)
		}
		if !ri.routed {
			ri.routed = true
			order = append(order, ri)
		}
		if st.preAttached { // inserted attached (preRoute): only the timeline says it yet
			st.preAttached = false
		} else if st.incidentID == ri.id {
			continue
		} else {
			st.incidentID = ri.id
			ri.alertIDs = append(ri.alertIDs, st.id)
		}
		ri.events = append(ri.events, firebreak.TimelineEvent{Kind: firebreak.EventAlertAttached, Actor: string(g.Kind),
			OccurredAt: now, RecordedAt: now, Message: "Alert joined: " + alertTitle(&a),
			Data: map[string]string{"alert_id": a.ID, "dedup_key": k, "source": string(a.Source)}})
	}
	for _, ri := range order {
		for ids := ri.alertIDs; len(ids) > 0; {
			chunk := ids[:min(len(ids), alertLookupChunk)]
			ids = ids[len(chunk):]
			args := append([]any{ri.id}, anys(chunk)...)
			if _, err := t.exec(`UPDATE alerts SET incident_id = ? WHERE id IN (`+placeholders(len(chunk))+`)`,
				args...); err != nil {
				return wrap(err, "attach alerts")
			}
		}
		if err := t.insertEvents(ri.id, ri.events); err != nil {
			return err
		}
	}
	// Alerts marked flapping: their incident says so, once.
	for _, st := range marked {
		if st.incidentID == "" {
			continue
		}
		k, actor := st.key, string(st.g.Kind)
		a := st.alert(st.g, k)
		if err := t.lockIncident(st.incidentID); err != nil {
			return err
		}
		ev := firebreak.TimelineEvent{Kind: firebreak.EventAlertFlapping, Actor: actor, OccurredAt: now,
			RecordedAt: now, Message: firebreak.FlappingMessage(alertTitle(&a), len(st.flap.Transitions),
				policy.Flapping.Window),
			Data: map[string]string{"alert_id": a.ID, "dedup_key": k, "source": string(a.Source),
				"changes": fmt.Sprint(len(st.flap.Transitions)), "window": policy.Flapping.Window.String()}}
		if err := t.insertEvents(st.incidentID, []firebreak.TimelineEvent{ev}); err != nil {
			return err
		}
	}
	// Acknowledged alerts acknowledge their incident, if nobody has yet.
	seen := map[string]bool{}
	for _, st := range acked {
		if st.incidentID == "" || seen[st.incidentID] {
			continue
		}
		seen[st.incidentID] = true
		a := st.alert(st.g, st.key)
		if err := t.acknowledgeIncident(st.incidentID, &a, string(st.g.Kind), now); err != nil {
			return err
		}
	}
	// Incidents whose alerts may all have resolved now (a flapping alert's resolutions say nothing).
	seen = map[string]bool{}
	for _, st := range resolved {
		id := st.incidentID
		if id == "" || seen[id] || st.flap.Since != nil {
			continue
		}
		seen[id] = true
		if err := t.checkAllResolved(id, policy, string(st.g.Kind), now); err != nil {
			return err
		}
	}
	return nil
}

// acknowledgeIncident sets the acknowledged_at milestone of an incident whose alert was acknowledged in the tool
// that sent it (PagerDuty's acknowledge event), with a timeline event, unless it is set already.
func (t *txn) acknowledgeIncident(incidentID string, a *firebreak.Alert, actor string, now time.Time) error {
	inc, err := t.loadIncident(incidentID, true)
	if err != nil {
		return err
	}
	if inc.Milestones.AcknowledgedAt != nil || !inc.Status.Open() {
		return nil
	}
	evs, err := t.acknowledge(inc, actor, "alert acknowledged in "+actor+": "+alertTitle(a), now)
	if err != nil || len(evs) == 0 {
		return err
	}
	for i := range evs {
		evs[i].Data["alert_id"] = a.ID
	}
	if err := t.updateIncident(inc); err != nil {
		return err
	}
	return t.insertEvents(inc.ID, evs)
}

// findGroupIncident finds the open incident auto-opened for the group since since, locking it (PostgreSQL).
// On PostgreSQL it first takes a transaction-scoped advisory lock on the group, so two deliveries that both find
// no incident for a new group cannot both open one: the second waits, then (READ COMMITTED: a new snapshot per
// statement) sees the first one's incident and joins it. SQLite's single writer serializes them anyway.
func (t *txn) findGroupIncident(serviceID, groupKey string, since time.Time) (*routedIncident, error) {
	if t.s.d.name == dialectPostgres {
		if _, err := t.exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`,
			"firebreak-alert-group|"+serviceID+"|"+groupKey); err != nil {
			return nil, wrap(err, "lock alert group")
		}
	}
	var open []any
	for _, st := range firebreak.Statuses {
		if st.Open() {
			open = append(open, string(st))
		}
	}
	args := append([]any{serviceID, groupKey, t.s.d.ts(since)}, open...)
	var ri routedIncident
	err := t.row(`SELECT i.id, i.number FROM incident_alert_groups ag JOIN incidents i ON i.id = ag.incident_id
		WHERE ag.service_id = ? AND ag.group_key = ? AND ag.opened_at >= ? AND i.status IN (`+
		placeholders(len(open))+`) ORDER BY ag.opened_at DESC, i.number DESC LIMIT 1`+t.s.d.lockOf("i"),
		args...).Scan(&ri.id, &ri.number)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "find alert incident")
	}
	return &ri, nil
}

// alertTitle is an alert's summary made fit for an incident title.
func alertTitle(a *firebreak.Alert) string {
	title := strings.TrimSpace(a.Summary)
	if i := strings.IndexAny(title, "\r\n"); i >= 0 {
		title = strings.TrimSpace(title[:i])
	}
	if title == "" {
		title = "Alert " + a.DedupKey
	}
	if utf8.RuneCountInString(title) > firebreak.MaxTitleLen {
		title = string([]rune(title)[:firebreak.MaxTitleLen-1]) + "…"
	}
	if !utf8.ValidString(title) {
		title = strings.ToValidUTF8(title, "?")
	}
	return title
}

// openAlertIncident declares an incident for an alert group.
func (t *txn) openAlertIncident(g *firebreak.Integration, serviceID string, d firebreak.RoutingDecision,
	a *firebreak.Alert, now time.Time) (*routedIncident, error) {
	detected := a.FirstSeenAt
	if detected.After(now) {
		detected = now
	}
	in := firebreak.DeclareInput{Title: alertTitle(a), Severity: d.Severity, Services: []string{g.Service},
		Status: firebreak.StatusDetected, DetectedAt: &detected}
	inc, events := firebreak.NewIncident(in, string(g.Kind), now)
	if err := t.row(`UPDATE counters SET value = value + 1 WHERE name = 'incident_number' RETURNING value`).
		Scan(&inc.Number); err != nil {
		return nil, wrap(err, "next incident number")
	}
	inc.ID = newID()
	if err := t.insertIncident(&inc); err != nil {
		return nil, err
	}
	if err := t.insertEvents(inc.ID, events); err != nil {
		return nil, err
	}
	if _, err := t.exec(`INSERT INTO incident_alert_groups (incident_id, service_id, group_key, opened_at)
		VALUES (?, ?, ?, ?)`, inc.ID, serviceID, d.GroupKey, t.s.d.ts(now)); err != nil {
		return nil, wrap(err, "record alert group")
	}
	return &routedIncident{id: inc.ID, number: inc.Number}, nil
}

// checkAllResolved records "All N alerts resolved" on an open incident whose attached alerts have all resolved,
// and resolves it if the policy says so for its severity.
func (t *txn) checkAllResolved(incidentID string, policy firebreak.RoutingPolicy, actor string,
	now time.Time) error {
	inc, err := t.loadIncident(incidentID, true)
	if err != nil {
		return err
	}
	if !inc.Status.Open() {
		return nil
	}
	var total, unresolved int64
	if err := t.row(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN status <> ? THEN 1 ELSE 0 END), 0) FROM alerts
		WHERE incident_id = ?`, string(firebreak.AlertResolved), incidentID).Scan(&total, &unresolved); err != nil {
		return wrap(err, "count incident alerts")
	}
	if total == 0 || unresolved > 0 {
		return nil
	}
	noun := "alerts"
	if total == 1 {
		noun = "alert"
	}
	events := []firebreak.TimelineEvent{{Kind: firebreak.EventAlertsResolved, Actor: actor, OccurredAt: now,
		RecordedAt: now, Message: fmt.Sprintf("All %d %s resolved", total, noun),
		Data: map[string]string{"alerts": fmt.Sprint(total)}}}
	if policy.AutoResolve[inc.Severity] {
		ev, err := inc.Transition(firebreak.StatusResolved, "all alerts resolved", actor, now)
		if err != nil {
			return err
		}
		if err := t.updateIncident(inc); err != nil {
			return err
		}
		// Resolved by policy, a SEV1/SEV2 gets its post-mortem draft as if a person had resolved it.
		if err := t.autoDraftPostmortem(inc, ev); err != nil {
			return err
		}
		events = append(events, ev)
	}
	return t.insertEvents(inc.ID, events)
}
