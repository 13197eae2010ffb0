package sqlstore

// Alert intake (firebreak.AlertService): integrations and the deduplicated alerts they deliver.
//
// A delivery (one webhook request, possibly thousands of alerts) is ONE write transaction: the known alerts are
// read in batches (one SELECT per ≤ 500 dedup keys), every event is applied in Go, and only alerts whose state
// actually changed are written (new ones with multi-row INSERTs). A redelivery that changes nothing issues no
// INSERT or UPDATE at all.
//
// Concurrent deliveries of the same new dedup key: SQLite's single writer serializes them, so the second finds
// the first's row. On PostgreSQL both may miss it; the INSERT is ON CONFLICT DO NOTHING, so the loser inserts
// nothing (it waits for the winner's COMMIT), reads the winner's row (locked) and applies its events to it.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

var _ firebreak.AlertService = (*Store)(nil)

// newIntegrationKey returns 128 random bits as 32 lowercase hex characters: the shape of a PagerDuty routing key,
// which PagerDuty-compatible senders check (and intake.ParsePagerDutyV2 requires), used for every kind alike.
func newIntegrationKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// maxDedupKeyLen bounds dedup keys (PagerDuty's limit).
const maxDedupKeyLen = 255

// alertLookupChunk is the most dedup keys one lookup SELECT carries.
const alertLookupChunk = 500

// CreateIntegration creates an integration for a service; the answer carries its key, which is not shown again.
func (s *Store) CreateIntegration(ctx context.Context, in firebreak.IntegrationInput) (*firebreak.Integration,
	error) {
	in.Service = strings.TrimSpace(in.Service)
	if err := in.Validate(); err != nil {
		return nil, err
	}
	key := newIntegrationKey()
	var out firebreak.Integration
	err := s.write(ctx, func(t *txn) error {
		var serviceID string
		err := t.row(`SELECT id FROM services WHERE slug = ?`, in.Service).Scan(&serviceID)
		if errors.Is(err, sql.ErrNoRows) {
			return invalid("service", "no service %q", in.Service)
		}
		if err != nil {
			return wrap(err, "create integration")
		}
		now := s.clock()
		out = firebreak.Integration{ID: newID(), Service: in.Service, Kind: in.Kind, Name: in.Name, CreatedAt: now,
			Key: key, Signed: in.SignatureSecret != ""}
		// The signature secret is an HMAC key that verification needs in the clear, not a password: it is stored
		// as given. Only the integration key is hashed.
		_, err = t.exec(`INSERT INTO integrations (id, service_id, kind, name, secret_hash, signature_secret,
			created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`, out.ID, serviceID, string(out.Kind), out.Name,
			secretHash(key), in.SignatureSecret, s.d.ts(now))
		return wrap(err, "create integration")
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

const integrationCols = `g.id, sv.slug, g.kind, g.name, g.created_at, g.signature_secret`

func scanIntegration(r rowScanner) (firebreak.Integration, error) {
	var g firebreak.Integration
	var kind string
	err := r.Scan(&g.ID, &g.Service, &kind, &g.Name, tsCol(&g.CreatedAt), &g.SignatureSecret)
	g.Kind = firebreak.IntegrationKind(kind)
	g.Signed = g.SignatureSecret != ""
	return g, err
}

// ListIntegrations lists a service's integrations (every service's for ""), oldest first, without keys or
// signature secrets.
func (s *Store) ListIntegrations(ctx context.Context, service string) ([]firebreak.Integration, error) {
	x := s.read(ctx)
	query := `SELECT ` + integrationCols + ` FROM integrations g JOIN services sv ON sv.id = g.service_id`
	var args []any
	if service = strings.TrimSpace(service); service != "" {
		var n int64
		if err := x.row(`SELECT COUNT(*) FROM services WHERE slug = ?`, service).Scan(&n); err != nil {
			return nil, wrap(err, "list integrations")
		}
		if n == 0 {
			return nil, notFound("service %s not found", service)
		}
		query += ` WHERE sv.slug = ?`
		args = append(args, service)
	}
	rows, err := x.query(query+` ORDER BY g.created_at, g.id`, args...)
	if err != nil {
		return nil, wrap(err, "list integrations")
	}
	defer rows.Close()
	out := []firebreak.Integration{}
	for rows.Next() {
		g, err := scanIntegration(rows)
		if err != nil {
			return nil, wrap(err, "list integrations")
		}
		g.SignatureSecret = ""
		out = append(out, g)
	}
	return out, wrap(rows.Err(), "list integrations")
}

// AuthenticateIntegration returns the integration a key belongs to, with its signature secret. Answers are
// remembered for TokenCacheTTL (integrations are never deleted, so there is nothing to forget).
func (s *Store) AuthenticateIntegration(ctx context.Context, key string) (*firebreak.Integration, error) {
	if key == "" {
		return nil, unauthorized("unknown integration key")
	}
	hash := secretHash(key)
	now := s.clock()
	if g, ok := s.integrations.get(hash, now); ok {
		return &g, nil
	}
	g, err := scanIntegration(s.read(ctx).row(`SELECT `+integrationCols+`
		FROM integrations g JOIN services sv ON sv.id = g.service_id WHERE g.secret_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, unauthorized("unknown integration key")
	}
	if err != nil {
		return nil, wrap(err, "authenticate integration")
	}
	s.integrations.put(hash, g, now)
	return &g, nil
}

type integrationCache struct {
	mu sync.Mutex
	m  map[string]cachedIntegration
}

type cachedIntegration struct {
	g     firebreak.Integration
	until time.Time
}

func (c *integrationCache) get(hash string, now time.Time) (firebreak.Integration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || !now.Before(e.until) {
		return firebreak.Integration{}, false
	}
	return e.g, true
}

func (c *integrationCache) put(hash string, g firebreak.Integration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= tokenCacheMax {
		c.m = make(map[string]cachedIntegration)
	}
	c.m[hash] = cachedIntegration{g: g, until: now.Add(TokenCacheTTL)}
}

// --- ingest ----------------------------------------------------------------------------------------------------

// alertPayload is what an event says about an alert besides its status; comparable, so "did anything change" is
// one ==. The maps and links are held as their JSON (encoding/json sorts map keys, so equal maps encode equally).
type alertPayload struct {
	summary, severity, source, labels, annotations, details, links string
}

// alertState is one alert's row as the ingest sees it.
type alertState struct {
	id          string
	status      firebreak.AlertStatus
	p           alertPayload
	firstSeen   time.Time
	lastSeen    time.Time
	resolvedAt  *time.Time
	occurrences int64
	incidentID  string
	inDB        bool // the row exists (else it must be inserted)
	dirty       bool // the row must be written
}

func validateEvents(events []firebreak.AlertEvent) ([]alertPayload, error) {
	var v firebreak.Validation
	ps := make([]alertPayload, len(events))
	for i := range events {
		ev := &events[i]
		f := func(name string) string { return fmt.Sprintf("events[%d].%s", i, name) }
		switch ev.Action {
		case "trigger", "acknowledge", "resolve":
		default:
			v.Add(f("action"), "must be trigger, acknowledge or resolve")
		}
		switch {
		case ev.DedupKey == "":
			v.Add(f("dedup_key"), "is required")
		case len(ev.DedupKey) > maxDedupKeyLen:
			v.Add(f("dedup_key"), "must be at most %d bytes", maxDedupKeyLen)
		}
		switch ev.Severity {
		case firebreak.AlertCritical, firebreak.AlertError, firebreak.AlertWarning, firebreak.AlertInfo:
		default:
			v.Add(f("severity"), "must be critical, error, warning or info")
		}
		if ev.Details != "" && !json.Valid([]byte(ev.Details)) {
			v.Add(f("details"), "must be JSON")
		}
		labels, err1 := jsonObject(ev.Labels)
		annotations, err2 := jsonObject(ev.Annotations)
		links := "[]"
		if len(ev.Links) > 0 {
			b, err := json.Marshal(ev.Links)
			if err != nil {
				v.Add(f("links"), "cannot be stored")
			}
			links = string(b)
		}
		if err1 != nil {
			v.Add(f("labels"), "cannot be stored")
		}
		if err2 != nil {
			v.Add(f("annotations"), "cannot be stored")
		}
		ps[i] = alertPayload{summary: ev.Summary, severity: string(ev.Severity), source: ev.Source,
			labels: labels, annotations: annotations, details: ev.Details, links: links}
	}
	return ps, v.Err()
}

func jsonObject(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func eventTime(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC().Truncate(time.Microsecond)
}

// applyEvent returns the state of an alert (nil: not known) after one event. It never changes st.
func applyEvent(st *alertState, ev *firebreak.AlertEvent, p alertPayload, now time.Time) *alertState {
	if st == nil {
		at := eventTime(ev.StartsAt, now)
		n := &alertState{id: newID(), status: firebreak.AlertFiring, p: p, firstSeen: at, lastSeen: at,
			occurrences: 1, dirty: true}
		switch ev.Action {
		case "acknowledge":
			n.status = firebreak.AlertAcknowledged
		case "resolve":
			n.status = firebreak.AlertResolved
			r := eventTime(ev.EndsAt, now)
			n.resolvedAt = &r
		}
		return n
	}
	n := *st
	switch ev.Action {
	case "trigger":
		switch {
		case st.status == firebreak.AlertResolved: // fires again
			n.status, n.p, n.lastSeen, n.resolvedAt = firebreak.AlertFiring, p, now, nil
			n.occurrences++
		case st.p != p: // still firing (or acknowledged: a trigger does not undo an acknowledgement)
			n.p, n.lastSeen = p, now
		default: // a redelivery: nothing to write
			return st
		}
	case "acknowledge":
		if st.status != firebreak.AlertFiring { // acknowledged already, or resolved (PagerDuty ignores those)
			return st
		}
		n.status, n.lastSeen = firebreak.AlertAcknowledged, now
	case "resolve":
		if st.status == firebreak.AlertResolved {
			return st
		}
		r := eventTime(ev.EndsAt, now)
		n.status, n.lastSeen, n.resolvedAt = firebreak.AlertResolved, now, &r
	}
	n.dirty = true
	return &n
}

func (st *alertState) alert(g *firebreak.Integration, key string) firebreak.Alert {
	a := firebreak.Alert{ID: st.id, IntegrationID: g.ID, Service: g.Service, Source: g.Kind, DedupKey: key,
		Status: st.status, Summary: st.p.summary, Severity: firebreak.AlertSeverity(st.p.severity),
		Details: st.p.details, FirstSeenAt: st.firstSeen, LastSeenAt: st.lastSeen, Occurrences: st.occurrences,
		IncidentID: st.incidentID}
	if st.resolvedAt != nil {
		r := *st.resolvedAt
		a.ResolvedAt = &r
	}
	decodeAlertJSON(&a, st.p.labels, st.p.annotations, st.p.links)
	return a
}

// decodeAlertJSON fills the maps and links from their stored JSON (never nil, so JSON answers show {} and []).
func decodeAlertJSON(a *firebreak.Alert, labels, annotations, links string) {
	a.Labels, a.Annotations, a.Links = map[string]string{}, map[string]string{}, []firebreak.AlertLink{}
	_ = json.Unmarshal([]byte(labels), &a.Labels)
	_ = json.Unmarshal([]byte(annotations), &a.Annotations)
	_ = json.Unmarshal([]byte(links), &a.Links)
}

// IngestAlerts records one delivery in one transaction and returns each event's alert (as it stands after that
// event), in input order.
func (s *Store) IngestAlerts(ctx context.Context, integrationID string, events []firebreak.AlertEvent) (
	[]firebreak.Alert, error) {
	payloads, err := validateEvents(events)
	if err != nil {
		return nil, err
	}
	var out []firebreak.Alert
	err = s.write(ctx, func(t *txn) error {
		g, err := t.integrationByID(integrationID)
		if err != nil {
			return err
		}
		out, err = t.ingestAlerts(g, events, payloads, s.clock())
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ingestAlerts applies one delivery of validated events (payloads from validateEvents) to the integration's
// alerts and routes them, inside the caller's transaction. Every source of alerts (intake, probes) goes through it.
func (t *txn) ingestAlerts(g *firebreak.Integration, events []firebreak.AlertEvent, payloads []alertPayload,
	now time.Time) ([]firebreak.Alert, error) {
	// Group the events by dedup key, keeping their order (keys in first-seen order, events in input order).
	byKey := map[string][]int{}
	var keys []string
	for i := range events {
		k := events[i].DedupKey
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	out := make([]firebreak.Alert, len(events))
	// compute runs every event of keys on the known states and sorts the keys by what must be written.
	states := make(map[string]*alertState, len(keys))
	prev := make(map[string]*alertState, len(keys)) // each key's state before the delivery
	compute := func(keys []string, known map[string]*alertState) (inserts, updates []string) {
		for _, k := range keys {
			st := known[k]
			prev[k] = st
			for _, i := range byKey[k] {
				st = applyEvent(st, &events[i], payloads[i], now)
				out[i] = st.alert(g, k)
			}
			states[k] = st
			switch {
			case !st.dirty:
			case st.inDB:
				updates = append(updates, k)
			default:
				inserts = append(inserts, k)
			}
		}
		return inserts, updates
	}
	lock := t.s.d.lockOf("") != ""
	// First without locks, so that a redelivery that changes nothing writes nothing (on PostgreSQL a row
	// lock is a write); then the rows to change are locked and their events applied again to what is current.
	known, err := t.lookupAlerts(g.ID, keys, false)
	if err != nil {
		return nil, err
	}
	inserts, updates := compute(keys, known)
	if lock && len(updates) > 0 {
		if known, err = t.lookupAlerts(g.ID, updates, true); err != nil {
			return nil, err
		}
		_, updates = compute(updates, known)
	}
	for attempt := 0; ; attempt++ {
		for _, k := range updates {
			if err := t.updateAlert(states[k]); err != nil {
				return nil, err
			}
		}
		lost, err := t.insertAlerts(g.ID, inserts, states)
		if err != nil {
			return nil, err
		}
		if len(lost) == 0 {
			break
		}
		if attempt > 0 {
			return nil, errors.New("sqlstore: alert insert conflicts twice")
		}
		// Another delivery inserted these keys first (PostgreSQL): apply the events to its rows.
		if known, err = t.lookupAlerts(g.ID, lost, lock); err != nil {
			return nil, err
		}
		for _, k := range lost {
			if known[k] == nil {
				return nil, fmt.Errorf("sqlstore: alert %q conflicts but cannot be found", k)
			}
		}
		inserts, updates = compute(lost, known)
	}
	// Route what fired (new alerts, resolved ones firing again) and check the incidents of what resolved.
	var fired, resolved []string
	for _, k := range keys {
		st, before := states[k], prev[k]
		if !st.dirty {
			continue
		}
		wasResolved := before == nil || before.status == firebreak.AlertResolved
		switch {
		case st.status != firebreak.AlertResolved && wasResolved:
			fired = append(fired, k)
		case st.status == firebreak.AlertResolved && !wasResolved:
			resolved = append(resolved, k)
		}
	}
	if err := t.routeAlerts(g, fired, resolved, states, now); err != nil {
		return nil, err
	}
	for _, k := range fired {
		for _, i := range byKey[k] {
			out[i].IncidentID = states[k].incidentID
		}
	}
	return out, nil
}

func (t *txn) integrationByID(id string) (*firebreak.Integration, error) {
	g, err := scanIntegration(t.row(`SELECT `+integrationCols+`
		FROM integrations g JOIN services sv ON sv.id = g.service_id WHERE g.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("integration %s not found", id)
	}
	if err != nil {
		return nil, wrap(err, "load integration")
	}
	return &g, nil
}

const alertStateCols = `a.id, a.dedup_key, a.status, a.summary, a.severity, a.source, a.labels, a.annotations,
	a.details, a.links, a.first_seen_at, a.last_seen_at, a.resolved_at, a.occurrences, a.incident_id`

func scanAlertState(r rowScanner) (string, *alertState, error) {
	st := &alertState{inDB: true}
	var key, status string
	var incident sql.NullString
	err := r.Scan(&st.id, &key, &status, &st.p.summary, &st.p.severity, &st.p.source, &st.p.labels,
		&st.p.annotations, &st.p.details, &st.p.links, tsCol(&st.firstSeen), tsCol(&st.lastSeen),
		ntsCol(&st.resolvedAt), &st.occurrences, &incident)
	st.status, st.incidentID = firebreak.AlertStatus(status), incident.String
	return key, st, err
}

// lookupSizes are the IN-list lengths lookups use (padded up to one of them), so that SQLite's statement cache
// holds a handful of shapes rather than one per length.
var lookupSizes = []int{1, 8, 64, alertLookupChunk}

// lookupAlerts reads (and with lock, on PostgreSQL, locks) the alerts of an integration with the given dedup keys.
func (t *txn) lookupAlerts(integrationID string, keys []string, lock bool) (map[string]*alertState, error) {
	lockSQL := ""
	if lock {
		lockSQL = t.s.d.lockOf("")
	}
	known := make(map[string]*alertState, len(keys))
	sorted := slices.Clone(keys)
	slices.Sort(sorted) // lock rows in one order across deliveries
	for len(sorted) > 0 {
		chunk := sorted[:min(len(sorted), alertLookupChunk)]
		sorted = sorted[len(chunk):]
		n := lookupSizes[len(lookupSizes)-1]
		for _, sz := range lookupSizes {
			if sz >= len(chunk) {
				n = sz
				break
			}
		}
		args := make([]any, 0, n+1)
		args = append(args, integrationID)
		for i := range n {
			args = append(args, chunk[min(i, len(chunk)-1)])
		}
		rows, err := t.query(`SELECT `+alertStateCols+` FROM alerts a WHERE a.integration_id = ? AND a.dedup_key IN (`+
			placeholders(n)+`) ORDER BY a.dedup_key`+lockSQL, args...)
		if err != nil {
			return nil, wrap(err, "look up alerts")
		}
		for rows.Next() {
			k, st, err := scanAlertState(rows)
			if err != nil {
				rows.Close()
				return nil, wrap(err, "look up alerts")
			}
			known[k] = st
		}
		if err := rows.Close(); err != nil {
			return nil, wrap(err, "look up alerts")
		}
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "look up alerts")
		}
	}
	return known, nil
}

func (t *txn) updateAlert(st *alertState) error {
	_, err := t.exec(`UPDATE alerts SET status = ?, summary = ?, severity = ?, source = ?, labels = ?,
		annotations = ?, details = ?, links = ?, last_seen_at = ?, resolved_at = ?, occurrences = ? WHERE id = ?`,
		string(st.status), st.p.summary, st.p.severity, st.p.source, st.p.labels, st.p.annotations, st.p.details,
		st.p.links, t.s.d.ts(st.lastSeen), t.s.d.nts(st.resolvedAt), st.occurrences, st.id)
	return wrap(err, "update alert")
}

// insertSizes are the row counts of the multi-row INSERTs (a delivery is split greedily into them).
var insertSizes = []int{64, 16, 4, 1}

const alertInsertCols = 15

// insertAlerts inserts new alerts and returns the keys that another transaction inserted first (nothing was
// written for those).
func (t *txn) insertAlerts(integrationID string, keys []string, states map[string]*alertState) ([]string, error) {
	keys = slices.Clone(keys)
	slices.Sort(keys) // one insertion order across deliveries: no deadlocks between them (PostgreSQL)
	var lost []string
	for len(keys) > 0 {
		n := 1
		for _, sz := range insertSizes {
			if sz <= len(keys) {
				n = sz
				break
			}
		}
		chunk := keys[:n]
		keys = keys[n:]
		var b strings.Builder
		b.WriteString(`INSERT INTO alerts (id, integration_id, dedup_key, status, summary, severity, source, labels,
			annotations, details, links, first_seen_at, last_seen_at, resolved_at, occurrences) VALUES `)
		row := "(" + placeholders(alertInsertCols) + ")"
		args := make([]any, 0, n*alertInsertCols)
		for i, k := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(row)
			st := states[k]
			args = append(args, st.id, integrationID, k, string(st.status), st.p.summary, st.p.severity, st.p.source,
				st.p.labels, st.p.annotations, st.p.details, st.p.links, t.s.d.ts(st.firstSeen),
				t.s.d.ts(st.lastSeen), t.s.d.nts(st.resolvedAt), st.occurrences)
		}
		b.WriteString(` ON CONFLICT (integration_id, dedup_key) DO NOTHING RETURNING dedup_key`)
		rows, err := t.query(b.String(), args...)
		if err != nil {
			return nil, wrap(err, "insert alerts")
		}
		inserted := make(map[string]bool, n)
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, wrap(err, "insert alerts")
			}
			inserted[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, wrap(err, "insert alerts")
		}
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "insert alerts")
		}
		for _, k := range chunk {
			if !inserted[k] {
				lost = append(lost, k)
			}
		}
	}
	return lost, nil
}

// --- list ------------------------------------------------------------------------------------------------------

// ListAlerts lists alerts, most recently seen first.
func (s *Store) ListAlerts(ctx context.Context, f firebreak.AlertFilter) (*firebreak.Page[firebreak.Alert], error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var v firebreak.Validation
	var where []string
	var args []any
	if svc := strings.TrimSpace(f.Service); svc != "" {
		where = append(where, `sv.slug = ?`)
		args = append(args, svc)
	}
	if len(f.Status) > 0 {
		for _, st := range f.Status {
			switch st {
			case firebreak.AlertFiring, firebreak.AlertAcknowledged, firebreak.AlertResolved:
			default:
				v.Add("status", "unknown status %q", st)
			}
		}
		where = append(where, `a.status IN (`+placeholders(len(f.Status))+`)`)
		for _, st := range f.Status {
			args = append(args, string(st))
		}
	}
	if ref := strings.TrimSpace(f.Incident); ref != "" {
		cond, arg, _, err := incidentRef(ref)
		if err != nil {
			v.Add("incident", "is not an incident reference")
		} else {
			where = append(where, `a.incident_id IN (SELECT i.id FROM incidents i WHERE `+cond+`)`)
			args = append(args, arg)
		}
	}
	if f.Cursor != "" {
		c, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		rest, ok := strings.CutPrefix(c, "a|")
		ts, id, ok2 := strings.Cut(rest, "|")
		at, perr := time.Parse(tsLayout, ts)
		if !ok || !ok2 || perr != nil || id == "" {
			return nil, badCursor()
		}
		where = append(where, `(a.last_seen_at < ? OR (a.last_seen_at = ? AND a.id < ?))`)
		args = append(args, s.d.ts(at), s.d.ts(at), id)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit+1)
	rows, err := s.read(ctx).query(`SELECT `+alertStateCols+`, g.id, g.kind, sv.slug
		FROM alerts a JOIN integrations g ON g.id = a.integration_id JOIN services sv ON sv.id = g.service_id`+
		cond+` ORDER BY a.last_seen_at DESC, a.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, wrap(err, "list alerts")
	}
	defer rows.Close()
	items := []firebreak.Alert{}
	for rows.Next() {
		var g firebreak.Integration
		var kind string
		st := &alertState{}
		var key, status string
		var incident sql.NullString
		if err := rows.Scan(&st.id, &key, &status, &st.p.summary, &st.p.severity, &st.p.source, &st.p.labels,
			&st.p.annotations, &st.p.details, &st.p.links, tsCol(&st.firstSeen), tsCol(&st.lastSeen),
			ntsCol(&st.resolvedAt), &st.occurrences, &incident, &g.ID, &kind, &g.Service); err != nil {
			return nil, wrap(err, "list alerts")
		}
		st.status, st.incidentID, g.Kind = firebreak.AlertStatus(status), incident.String,
			firebreak.IntegrationKind(kind)
		items = append(items, st.alert(&g, key))
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "list alerts")
	}
	page := &firebreak.Page[firebreak.Alert]{Items: items}
	if len(items) > limit {
		last := items[limit-1]
		page.Items = items[:limit]
		page.NextCursor = encodeCursor("a|" + last.LastSeenAt.UTC().Format(tsLayout) + "|" + last.ID)
	}
	return page, nil
}
