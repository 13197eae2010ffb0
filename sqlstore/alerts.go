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
	"hash/maphash"
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
	// The hidden integrations of health probes (kind probe) are not listed.
	query := `SELECT ` + integrationCols + ` FROM integrations g JOIN services sv ON sv.id = g.service_id
		WHERE g.kind <> '` + string(firebreak.IntegrationProbe) + `'`
	var args []any
	if service = strings.TrimSpace(service); service != "" {
		var n int64
		if err := x.row(`SELECT COUNT(*) FROM services WHERE slug = ?`, service).Scan(&n); err != nil {
			return nil, wrap(err, "list integrations")
		}
		if n == 0 {
			return nil, notFound("service %s not found", service)
		}
		query += ` AND sv.slug = ?`
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
		FROM integrations g JOIN services sv ON sv.id = g.service_id WHERE g.secret_hash = ? AND g.kind <> '`+
		string(firebreak.IntegrationProbe)+`'`, hash))
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
	// keys are the dedup keys each integration has alerts for (SQLite).
	keys knownKeys
}

// knownKeys remembers, on SQLite (where this process is the only writer), the dedup keys each integration has
// alerts for, as 64-bit hashes, so that a delivery of keys never seen skips the read that looks them up before
// the write (unchangedDelivery). It only saves that read: a key it wrongly takes for new goes to the writer as
// new, whose INSERT … ON CONFLICT finds the row and applies the events to it instead (insertAlerts' lost keys);
// a key it wrongly takes for known (a hash collision) is read as before. An integration's keys are loaded by its
// first delivery; every ingest adds the keys it stored, after its commit.
type knownKeys struct {
	mu     sync.Mutex
	seed   maphash.Seed
	hashes map[uint64]struct{}
	loaded map[string]bool // integration ID → its keys are in hashes (false: being loaded)
	off    bool            // too many keys to remember: always read
}

// maxKnownKeys bounds knownKeys (about 10 bytes per key).
const maxKnownKeys = 2_000_000

func (k *knownKeys) hash(integrationID, key string) uint64 {
	var h maphash.Hash
	h.SetSeed(k.seed)
	h.WriteString(integrationID)
	h.WriteByte(0)
	h.WriteString(key)
	return h.Sum64()
}

// init prepares k; the caller holds k.mu.
func (k *knownKeys) init() {
	if k.hashes == nil {
		k.seed, k.hashes, k.loaded = maphash.MakeSeed(), map[uint64]struct{}{}, map[string]bool{}
	}
}

// allNew reports whether none of keys is known to be an alert of the integration (false when unsure).
func (k *knownKeys) allNew(integrationID string, keys []string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.off || !k.loaded[integrationID] {
		return false
	}
	for _, key := range keys {
		if _, ok := k.hashes[k.hash(integrationID, key)]; ok {
			return false
		}
	}
	return true
}

// add remembers keys of the integration.
func (k *knownKeys) add(integrationID string, keys []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.off {
		return
	}
	k.init()
	for _, key := range keys {
		k.hashes[k.hash(integrationID, key)] = struct{}{}
	}
	if len(k.hashes) > maxKnownKeys {
		k.off, k.hashes, k.loaded = true, nil, nil
	}
}

// load reads the integration's keys from the read pool, once (concurrent first deliveries do not wait for it; a
// failed load is tried again by the next delivery).
func (k *knownKeys) load(ctx context.Context, s *Store, integrationID string) {
	k.mu.Lock()
	if _, started := k.loaded[integrationID]; started || k.off {
		k.mu.Unlock()
		return
	}
	k.init()
	k.loaded[integrationID] = false
	k.mu.Unlock()
	done := false
	defer func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.loaded != nil {
			if done {
				k.loaded[integrationID] = true
			} else {
				delete(k.loaded, integrationID) // the next delivery tries again
			}
		}
	}()
	rows, err := s.read(ctx).query(`SELECT dedup_key FROM alerts WHERE integration_id = ?`, integrationID)
	if err != nil {
		return
	}
	defer rows.Close()
	batch := make([]string, 0, 1024)
	for rows.Next() {
		var key string
		if rows.Scan(&key) != nil {
			return
		}
		if batch = append(batch, key); len(batch) == cap(batch) {
			k.add(integrationID, batch)
			batch = batch[:0]
		}
	}
	if rows.Err() != nil {
		return
	}
	k.add(integrationID, batch)
	done = true
}

type cachedIntegration struct {
	g         firebreak.Integration
	serviceID string // for entries by ID
	until     time.Time
}

func (c *integrationCache) get(hash string, now time.Time) (firebreak.Integration, bool) {
	e, ok := c.entry(hash, now)
	return e.g, ok
}

func (c *integrationCache) entry(hash string, now time.Time) (cachedIntegration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || !now.Before(e.until) {
		return cachedIntegration{}, false
	}
	return e, true
}

func (c *integrationCache) put(hash string, g firebreak.Integration, now time.Time) {
	c.putEntry(hash, cachedIntegration{g: g}, now)
}

func (c *integrationCache) putEntry(hash string, e cachedIntegration, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= tokenCacheMax {
		c.m = make(map[string]cachedIntegration)
	}
	e.until = now.Add(TokenCacheTTL)
	c.m[hash] = e
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
	flap        firebreak.FlapState
	flappedAt   *time.Time                 // last marked flapping (kept when it stops)
	suppressed  firebreak.AlertSuppression // why its last firing paged nobody
	windowID    string                     // the maintenance window, for SuppressedMaintenance
	maintSupp   int64                      // firings suppressed by maintenance
	inDB        bool                       // the row exists (else it must be inserted)
	dirty       bool                       // the row must be written
	// Set by the ingest (not stored): the alert's integration and dedup key; its labels as a map when the payload
	// comes from an event (else nil: decoded from p.labels when needed); its routing decision once made; whether
	// it was inserted attached to the open incident of its group (routing then only records that it joined).
	g           *firebreak.Integration
	key         string
	labels      map[string]string
	route       *firebreak.RoutingDecision
	preAttached bool
	// Set by this delivery only (not stored):
	marked  bool // marked flapping
	acked   bool // an acknowledge event moved it from firing to acknowledged
	reroute bool // still firing, its last firing was suppressed and no longer is: route it now
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

// applyEvent returns the state of an alert (nil: not known) after one event. It never changes st. flapping returns
// the flap policy of the alert's service; it is called only for alerts that change state or are flapping.
func applyEvent(st *alertState, ev *firebreak.AlertEvent, p alertPayload, now time.Time,
	flapping func() firebreak.FlappingPolicy) *alertState {
	if st == nil {
		at := eventTime(ev.StartsAt, now)
		n := &alertState{id: newID(), status: firebreak.AlertFiring, p: p, labels: ev.Labels, firstSeen: at,
			lastSeen: at, occurrences: 1, dirty: true}
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
	// A flapping alert stops flapping after a full window without state changes.
	settled := st.flap.Since != nil && flapping().Settle(&n.flap, now)
	wasResolved := st.status == firebreak.AlertResolved
	switch ev.Action {
	case "trigger":
		switch {
		case wasResolved: // fires again
			n.status, n.p, n.labels, n.lastSeen, n.resolvedAt = firebreak.AlertFiring, p, ev.Labels, now, nil
			n.occurrences++
		case st.p != p: // still firing (or acknowledged: a trigger does not undo an acknowledgement)
			n.p, n.labels, n.lastSeen = p, ev.Labels, now
		case !settled: // a redelivery: nothing to write
			return st
		}
	case "acknowledge":
		if st.status != firebreak.AlertFiring { // acknowledged already, or resolved (PagerDuty ignores those)
			if !settled {
				return st
			}
			break
		}
		n.status, n.lastSeen, n.acked = firebreak.AlertAcknowledged, now, true
	case "resolve":
		if wasResolved {
			if !settled {
				return st
			}
			break
		}
		r := eventTime(ev.EndsAt, now)
		n.status, n.lastSeen, n.resolvedAt = firebreak.AlertResolved, now, &r
	}
	if (n.status == firebreak.AlertResolved) != wasResolved && flapping().Record(&n.flap, now) {
		at := now
		n.marked, n.flappedAt = true, &at
	}
	n.dirty = true
	return &n
}

func (st *alertState) alert(g *firebreak.Integration, key string) firebreak.Alert {
	a := firebreak.Alert{ID: st.id, IntegrationID: g.ID, Service: g.Service, Source: g.Kind, DedupKey: key,
		Status: st.status, Summary: st.p.summary, Severity: firebreak.AlertSeverity(st.p.severity),
		Details: st.p.details, FirstSeenAt: st.firstSeen, LastSeenAt: st.lastSeen, Occurrences: st.occurrences,
		IncidentID: st.incidentID, Flapping: st.flap.Since != nil, Suppressed: st.suppressed,
		MaintenanceWindowID: st.windowID}
	if st.resolvedAt != nil {
		r := *st.resolvedAt
		a.ResolvedAt = &r
	}
	if st.flap.Since != nil {
		f := *st.flap.Since
		a.FlappingSince = &f
	}
	decodeAlertJSON(&a, st.p.labels, st.p.annotations, st.p.links)
	return a
}

// routingAlert is alert without its annotations and links (left empty): what routing reads, decoded cheaply.
func (st *alertState) routingAlert(g *firebreak.Integration, key string) firebreak.Alert {
	a := firebreak.Alert{ID: st.id, IntegrationID: g.ID, Service: g.Service, Source: g.Kind, DedupKey: key,
		Status: st.status, Summary: st.p.summary, Severity: firebreak.AlertSeverity(st.p.severity),
		FirstSeenAt: st.firstSeen, LastSeenAt: st.lastSeen, Occurrences: st.occurrences, IncidentID: st.incidentID,
		Labels: st.labels}
	if a.Labels == nil { // not from an event of this ingest
		a.Labels = map[string]string{}
		_ = json.Unmarshal([]byte(st.p.labels), &a.Labels)
	}
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
	res, err := s.ingest(ctx, integrationID, events)
	if err != nil {
		return nil, err
	}
	return res.alerts(), nil // built outside the writer
}

// RecordAlerts records a delivery like IngestAlerts, without building the answer.
func (s *Store) RecordAlerts(ctx context.Context, integrationID string, events []firebreak.AlertEvent) error {
	_, err := s.ingest(ctx, integrationID, events)
	return err
}

func (s *Store) ingest(ctx context.Context, integrationID string, events []firebreak.AlertEvent) (
	*ingestResult, error) {
	payloads, err := validateEvents(events)
	if err != nil {
		return nil, err
	}
	g, serviceID, err := s.integrationService(ctx, integrationID)
	if err != nil {
		return nil, err
	}
	// A redelivery that changes nothing is answered from the read pool, never queuing behind the writer: what a
	// reader sees is committed, and on SQLite (synchronous=FULL) already fsynced.
	res, known, err := s.unchangedDelivery(ctx, g, events, payloads)
	if err != nil {
		return nil, err
	}
	if res != nil {
		return res, nil
	}
	// Keys the read pool did not know are new unless a write since inserted them, which the insert's conflict
	// check catches: the writer does not look them up again.
	req := &ingestReq{g: g, serviceID: serviceID, events: events, payloads: payloads, known: known}
	err = s.writeMerged(ctx, ingestMergeKey, req, func(t *txn) error {
		p := &ingestPart{g: g, events: events, payloads: payloads, fresh: newKeys(events, known)}
		if err := t.ingestParts(&ingestCtx{t: t, serviceID: serviceID, now: s.clock()}, []*ingestPart{p}); err != nil {
			return err
		}
		req.res = p.res
		return nil
	}, s.mergeIngests)
	if err != nil {
		return nil, err
	}
	return req.res, nil
}

// ingestMergeKey is the merge key of alert deliveries (writeMerged).
const ingestMergeKey = "ingest-alerts"

// ingestReq is one delivery waiting in the SQLite writer, which may merge it with others (mergeIngests).
type ingestReq struct {
	g         *firebreak.Integration
	serviceID string
	events    []firebreak.AlertEvent
	payloads  []alertPayload
	known     map[string]*alertState // what the read pool found before the write
	res       *ingestResult
}

// newKeys are the dedup keys of events that known (a read before the write) does not hold.
func newKeys(events []firebreak.AlertEvent, known map[string]*alertState) map[string]bool {
	out := map[string]bool{}
	for i := range events {
		if k := events[i].DedupKey; known[k] == nil {
			out[k] = true
		}
	}
	return out
}

// mergeIngests runs deliveries that are queued together as one ingest per service, in queue order: the events
// of a key keep their order, so the outcome is the one of running the deliveries one after another, with every
// statement (lookups, multi-row inserts, routing) shared. Each delivery gets its own events' results.
func (s *Store) mergeIngests(t *txn, data []any) error {
	now := s.clock()
	type service struct {
		parts []*ingestPart
		byID  map[string]*ingestPart
		reqs  map[*ingestPart][]*ingestReq
	}
	services := map[string]*service{}
	var order []string
	for _, d := range data {
		r := d.(*ingestReq)
		sv := services[r.serviceID]
		if sv == nil {
			sv = &service{byID: map[string]*ingestPart{}, reqs: map[*ingestPart][]*ingestReq{}}
			services[r.serviceID] = sv
			order = append(order, r.serviceID)
		}
		p := sv.byID[r.g.ID]
		if p == nil {
			p = &ingestPart{g: r.g}
			sv.byID[r.g.ID] = p
			sv.parts = append(sv.parts, p)
		}
		p.events = append(p.events, r.events...)
		p.payloads = append(p.payloads, r.payloads...)
		sv.reqs[p] = append(sv.reqs[p], r)
	}
	for _, id := range order {
		sv := services[id]
		for _, p := range sv.parts {
			seen := map[string]bool{} // known to some delivery's read: must be looked up
			for _, r := range sv.reqs[p] {
				for k := range r.known {
					seen[k] = true
				}
			}
			p.fresh = map[string]bool{}
			for i := range p.events {
				if k := p.events[i].DedupKey; !seen[k] {
					p.fresh[k] = true
				}
			}
		}
		if err := t.ingestParts(&ingestCtx{t: t, serviceID: id, now: now}, sv.parts); err != nil {
			return err
		}
		for _, p := range sv.parts {
			at := 0
			for _, r := range sv.reqs[p] {
				n := len(r.events)
				r.res = &ingestResult{g: r.g, keys: p.res.keys[at : at+n], states: p.res.states[at : at+n]}
				at += n
			}
		}
	}
	return nil
}

// integrationByID returns an integration by ID from the read pool (see integrationService).
func (s *Store) integrationByID(ctx context.Context, id string) (*firebreak.Integration, error) {
	g, _, err := s.integrationService(ctx, id)
	return g, err
}

// integrationService returns an integration and the ID of its service by the integration's ID from the read pool,
// remembered for TokenCacheTTL (integrations are never deleted and never change service; a renamed service shows
// its new slug once the entry expires).
func (s *Store) integrationService(ctx context.Context, id string) (*firebreak.Integration, string, error) {
	now := s.clock()
	if e, ok := s.integrations.entry("id:"+id, now); ok {
		return &e.g, e.serviceID, nil
	}
	var serviceID string
	g, err := scanIntegration(rowScanFunc(func(dest ...any) error {
		return s.read(ctx).row(`SELECT `+integrationCols+`, g.service_id
			FROM integrations g JOIN services sv ON sv.id = g.service_id WHERE g.id = ?`, id).
			Scan(append(dest, &serviceID)...)
	}))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", notFound("integration %s not found", id)
	}
	if err != nil {
		return nil, "", wrap(err, "load integration")
	}
	s.integrations.putEntry("id:"+id, cachedIntegration{g: g, serviceID: serviceID}, now)
	return &g, serviceID, nil
}

// rowScanFunc is a rowScanner made of a function.
type rowScanFunc func(dest ...any) error

func (f rowScanFunc) Scan(dest ...any) error { return f(dest...) }

// unchangedDelivery answers a delivery from the read pool when every event is about a known alert and changes
// nothing (nil, nil otherwise). It is conservative: an alert that is flapping or suppressed goes through the writer,
// where settling and re-routing are decided.
func (s *Store) unchangedDelivery(ctx context.Context, g *firebreak.Integration, events []firebreak.AlertEvent,
	payloads []alertPayload) (*ingestResult, map[string]*alertState, error) {
	keys := make([]string, 0, len(events))
	seen := make(map[string]bool, len(events))
	for i := range events {
		if k := events[i].DedupKey; !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if s.writer != nil { // SQLite: keys never seen need no read
		kk := &s.integrations.keys
		if kk.allNew(g.ID, keys) {
			return nil, nil, nil
		}
		kk.load(ctx, s, g.ID) // a failure leaves the filter off for it: the read below reports the database's state
	}
	known, err := (&txn{q: s.read(ctx)}).lookupAlerts(g.ID, keys, false)
	if err != nil {
		return nil, nil, err
	}
	if len(known) != len(keys) {
		return nil, known, nil
	}
	now := s.clock()
	res := &ingestResult{g: g, keys: make([]string, len(events)), states: make([]alertState, len(events))}
	for i := range events {
		st := known[events[i].DedupKey]
		if st.flap.Since != nil || st.suppressed != "" {
			return nil, known, nil
		}
		noFlapPolicy := func() firebreak.FlappingPolicy { return firebreak.DefaultFlappingPolicy() }
		if applyEvent(st, &events[i], payloads[i], now, noFlapPolicy) != st {
			return nil, known, nil
		}
		res.keys[i], res.states[i] = events[i].DedupKey, *st
	}
	return res, known, nil
}

// ingestResult is each event's alert as it stood after the event, turned into firebreak.Alert values (which decodes
// their JSON) only when asked, outside the writer.
type ingestResult struct {
	g      *firebreak.Integration
	keys   []string
	states []alertState
}

func (r *ingestResult) alerts() []firebreak.Alert {
	out := make([]firebreak.Alert, len(r.states))
	for i := range r.states {
		out[i] = r.states[i].alert(r.g, r.keys[i])
	}
	return out
}

// ingestAlerts applies one delivery of validated events (payloads from validateEvents) to the integration's
// alerts and routes them, inside the caller's transaction. Every source of alerts (intake, probes) goes through it
// (or through ingestParts, for several deliveries at once).
//
// fresh, when not nil, holds keys a read just before the transaction did not find: they are not looked up again
// (if a write since inserted one, the insert conflicts and the events are applied to that row instead).
func (t *txn) ingestAlerts(g *firebreak.Integration, events []firebreak.AlertEvent, payloads []alertPayload,
	now time.Time, fresh map[string]bool) (*ingestResult, error) {
	p := &ingestPart{g: g, events: events, payloads: payloads, fresh: fresh}
	if err := t.ingestParts(&ingestCtx{t: t, integrationID: g.ID, now: now}, []*ingestPart{p}); err != nil {
		return nil, err
	}
	return p.res, nil
}

// ingestPart is the events of one integration within an ingest, in order; res is filled by ingestParts.
type ingestPart struct {
	g        *firebreak.Integration
	events   []firebreak.AlertEvent
	payloads []alertPayload
	fresh    map[string]bool // keys not to look up (see ingestAlerts)
	res      *ingestResult

	byKey            map[string][]int       // dedup key → indexes of its events
	keys             []string               // dedup keys in first-seen order
	states           map[string]*alertState // each key's state after the events
	prev             map[string]*alertState // each key's state before them (nil: new)
	inserts, updates []string               // keys to write
}

// ingestParts applies the events of several integrations of ONE service (ic's) in one go, as if each part were
// ingested alone, in order: the parts share the service's lookups (routing policy, maintenance window), the
// multi-row INSERT of new alerts and routing (the incident of a group is found once, the alerts joining it are
// attached with one UPDATE and their timeline events inserted together).
//
// Noise control happens here too: state changes are counted for flap detection (the service's
// RoutingPolicy.Flapping); an alert that fires while a maintenance window of its service is active, or while it
// is flapping, is recorded as suppressed and not routed; one whose last firing was suppressed is routed when a
// trigger arrives once nothing suppresses it any more. An acknowledge event for an alert attached to an incident
// acknowledges the incident (milestone acknowledged_at) if nobody has yet.
func (t *txn) ingestParts(ic *ingestCtx, parts []*ingestPart) error {
	lock := t.s.d.lockOf("") != ""
	for _, p := range parts {
		// Group the events by dedup key, keeping their order (keys in first-seen order, events in input order).
		p.byKey = make(map[string][]int, len(p.events))
		for i := range p.events {
			k := p.events[i].DedupKey
			if _, ok := p.byKey[k]; !ok {
				p.keys = append(p.keys, k)
			}
			p.byKey[k] = append(p.byKey[k], i)
		}
		p.res = &ingestResult{g: p.g, keys: make([]string, len(p.events)), states: make([]alertState, len(p.events))}
		p.states = make(map[string]*alertState, len(p.keys))
		p.prev = make(map[string]*alertState, len(p.keys))
		// First without locks, so that a redelivery that changes nothing writes nothing (on PostgreSQL a row
		// lock is a write); then the rows to change are locked and their events applied again to what is current.
		lookup := p.keys
		if len(p.fresh) > 0 {
			lookup = make([]string, 0, len(p.keys))
			for _, k := range p.keys {
				if !p.fresh[k] {
					lookup = append(lookup, k)
				}
			}
		}
		var known map[string]*alertState
		if len(lookup) > 0 {
			var err error
			if known, err = t.lookupAlerts(p.g.ID, lookup, false); err != nil {
				return err
			}
		}
		if err := ic.compute(p, p.keys, known); err != nil {
			return err
		}
		if lock && len(p.updates) > 0 {
			known, err := t.lookupAlerts(p.g.ID, p.updates, true)
			if err != nil {
				return err
			}
			inserts := p.inserts
			if err := ic.compute(p, p.updates, known); err != nil {
				return err
			}
			p.inserts = inserts
		}
	}
	if err := ic.preRoute(parts); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		for _, p := range parts {
			if err := t.updateAlerts(p.updates, p.states); err != nil {
				return err
			}
		}
		lost, err := t.insertAlerts(ic, parts)
		if err != nil {
			return err
		}
		if len(lost) == 0 {
			break
		}
		if attempt > 0 {
			return errors.New("sqlstore: alert insert conflicts twice")
		}
		// Another delivery inserted these keys first (PostgreSQL, or SQLite when a key a read before the write
		// did not find was inserted since): apply the events to its rows.
		for _, p := range parts {
			p.inserts, p.updates = nil, nil
			keys := lost[p]
			if len(keys) == 0 {
				continue
			}
			known, err := t.lookupAlerts(p.g.ID, keys, lock)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if known[k] == nil {
					return fmt.Errorf("sqlstore: alert %q conflicts but cannot be found", k)
				}
			}
			if err := ic.compute(p, keys, known); err != nil {
				return err
			}
		}
	}
	if t.s.writer != nil { // every key of the parts is an alert now
		for _, p := range parts {
			id, keys := p.g.ID, p.keys
			t.afterCommit(func() { t.s.integrations.keys.add(id, keys) })
		}
	}
	// Route what fired (new alerts, resolved ones firing again, suppressed ones no longer suppressed) and check
	// the incidents of what resolved.
	var fired, resolved, changed []*alertState
	for _, p := range parts {
		for _, k := range p.keys {
			st, before := p.states[k], p.prev[k]
			if !st.dirty {
				continue
			}
			changed = append(changed, st)
			wasResolved := before == nil || before.status == firebreak.AlertResolved
			switch {
			case st.status != firebreak.AlertResolved && (wasResolved || st.reroute):
				fired = append(fired, st)
			case st.status == firebreak.AlertResolved && !wasResolved:
				resolved = append(resolved, st)
			}
		}
	}
	if err := t.routeAlerts(ic, fired, resolved, changed); err != nil {
		return err
	}
	for _, p := range parts {
		for _, k := range p.keys {
			st := p.states[k]
			idx := p.byKey[k]
			if st.dirty { // the last event of a key answers the alert as stored
				p.res.states[idx[len(idx)-1]] = *st
			}
			if st.incidentID != p.prev[k].incident() { // attached by routing
				for _, i := range idx {
					p.res.states[i].incidentID = st.incidentID
				}
			}
		}
	}
	return nil
}

// preRoute attaches the new alerts that page to the open incident of their group, if it has one, before they are
// inserted (SQLite only): they are inserted with their incident_id, and routing then only records that they
// joined, instead of inserting them unattached and updating them again. (An alert whose insert conflicts is
// computed again from the row that won, and routed from that.) On PostgreSQL routing takes the group's lock, which
// must come after the alert rows', so every alert is routed after the writes.
func (c *ingestCtx) preRoute(parts []*ingestPart) error {
	if c.t.s.d.name == dialectPostgres {
		return nil
	}
	for _, p := range parts {
		for _, k := range p.inserts {
			st := p.states[k]
			if st.status == firebreak.AlertResolved || st.suppressed != "" {
				continue
			}
			d, err := c.decide(st)
			if err != nil {
				return err
			}
			if d.Action != firebreak.RouteIncident {
				continue
			}
			ri, err := c.groupIncident(d.GroupKey)
			if err != nil {
				return err
			}
			if ri != nil {
				st.incidentID, st.preAttached = ri.id, true
			}
		}
	}
	return nil
}

// decide returns the routing decision for an alert under the service's policy, made once per alert.
func (c *ingestCtx) decide(st *alertState) (firebreak.RoutingDecision, error) {
	if st.route == nil {
		policy, err := c.routing()
		if err != nil {
			return firebreak.RoutingDecision{}, err
		}
		d := firebreak.Route(policy, st.routingAlert(st.g, st.key))
		st.route = &d
	}
	return *st.route, nil
}

// groupIncident returns the open incident of a group (within the policy's group window), nil if there is none,
// looked up once per ingest (routing opens one for a group found without, and records it with setGroupIncident).
func (c *ingestCtx) groupIncident(groupKey string) (*routedIncident, error) {
	if ri, ok := c.groups[groupKey]; ok {
		return ri, nil
	}
	svc, err := c.service()
	if err != nil {
		return nil, err
	}
	policy, err := c.routing()
	if err != nil {
		return nil, err
	}
	ri, err := c.t.findGroupIncident(svc, groupKey, c.now.Add(-policy.GroupWindow))
	if err != nil {
		return nil, err
	}
	c.setGroupIncident(groupKey, ri)
	return ri, nil
}

func (c *ingestCtx) setGroupIncident(groupKey string, ri *routedIncident) {
	if c.groups == nil {
		c.groups = map[string]*routedIncident{}
	}
	c.groups[groupKey] = ri
}

// incident is the incident of an alert, "" for none (or no alert).
func (st *alertState) incident() string {
	if st == nil {
		return ""
	}
	return st.incidentID
}

// compute runs the events of keys of p on the known states (nil: a new alert) and sorts the keys by what must be
// written (p.inserts, p.updates).
func (c *ingestCtx) compute(p *ingestPart, keys []string, known map[string]*alertState) error {
	p.inserts, p.updates = nil, nil
	for _, k := range keys {
		st := known[k]
		p.prev[k] = st
		triggered := false
		for _, i := range p.byKey[k] {
			st = applyEvent(st, &p.events[i], p.payloads[i], c.now, c.flapping)
			p.res.keys[i], p.res.states[i] = k, *st
			triggered = triggered || p.events[i].Action == "trigger"
		}
		if c.err != nil {
			return c.err
		}
		st, err := c.suppress(st, p.prev[k], triggered)
		if err != nil {
			return err
		}
		st.g, st.key = p.g, k
		p.states[k] = st
		switch {
		case !st.dirty:
		case st.inDB:
			p.updates = append(p.updates, k)
		default:
			p.inserts = append(p.inserts, k)
		}
	}
	return nil
}

// ingestCtx is what one ingest loads at most once, when it needs it: the service, its routing policy and its
// active maintenance window.
type ingestCtx struct {
	t             *txn
	integrationID string // of the service, when serviceID is not known yet
	now           time.Time
	serviceID     string
	policy        *firebreak.RoutingPolicy
	window        *string                    // the active maintenance window ("" none), once looked up
	groups        map[string]*routedIncident // group key → its open incident, once found
	err           error                      // of a lazy load inside applyEvent
}

func (c *ingestCtx) service() (string, error) {
	if c.serviceID == "" {
		if err := c.t.row(`SELECT service_id FROM integrations WHERE id = ?`, c.integrationID).Scan(&c.serviceID); err != nil {
			return "", wrap(err, "route alerts")
		}
	}
	return c.serviceID, nil
}

func (c *ingestCtx) routing() (firebreak.RoutingPolicy, error) {
	if c.policy == nil {
		svc, err := c.service()
		if err != nil {
			return firebreak.RoutingPolicy{}, err
		}
		p, err := c.t.routingPolicy(svc)
		if err != nil {
			return firebreak.RoutingPolicy{}, err
		}
		c.policy = &p
	}
	return *c.policy, nil
}

// flapping is the service's flap policy for applyEvent (which cannot fail: an error is kept in c.err).
func (c *ingestCtx) flapping() firebreak.FlappingPolicy {
	p, err := c.routing()
	if err != nil {
		c.err = err
		return firebreak.DefaultFlappingPolicy()
	}
	return p.Flapping
}

// maintenance returns the ID of a maintenance window of the service active now, or "".
func (c *ingestCtx) maintenance() (string, error) {
	if c.window == nil {
		svc, err := c.service()
		if err != nil {
			return "", err
		}
		var id string
		err = c.t.row(`SELECT mw.id FROM maintenance_windows mw
			JOIN maintenance_window_services ms ON ms.window_id = mw.id
			WHERE ms.service_id = ? AND mw.starts_at <= ? AND mw.ends_at > ? AND mw.cancelled_at IS NULL
			ORDER BY mw.starts_at, mw.id LIMIT 1`, svc, c.t.s.d.ts(c.now), c.t.s.d.ts(c.now)).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", wrap(err, "look up maintenance")
		}
		c.window = &id
	}
	return *c.window, nil
}

// suppress decides, for an alert after the delivery's events, whether its firing pages: an alert that fired in
// this delivery (or, still firing, was triggered again after a suppressed firing) is suppressed by an active
// maintenance window of its service, else by flapping. It returns st itself when nothing changes.
func (c *ingestCtx) suppress(st, before *alertState, triggered bool) (*alertState, error) {
	if st.status == firebreak.AlertResolved {
		return st, nil
	}
	fired := before == nil || before.status == firebreak.AlertResolved
	if !fired && !(triggered && st.suppressed != "") {
		return st, nil
	}
	var reason firebreak.AlertSuppression
	window, err := c.maintenance()
	if err != nil {
		return nil, err
	}
	switch {
	case window != "":
		reason = firebreak.SuppressedMaintenance
	case st.flap.Since != nil:
		reason = firebreak.SuppressedFlapping
	}
	if !fired && reason == st.suppressed && window == st.windowID {
		return st, nil // still suppressed, as it was
	}
	n := *st
	n.suppressed, n.windowID, n.dirty = reason, window, true
	if reason == firebreak.SuppressedMaintenance && (fired || st.suppressed != firebreak.SuppressedMaintenance) {
		n.maintSupp++
	}
	n.reroute = !fired && reason == ""
	return &n, nil
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
	a.details, a.links, a.first_seen_at, a.last_seen_at, a.resolved_at, a.occurrences, a.incident_id,
	a.transitions, a.flapping_since, a.flapped_at, a.suppressed, a.maintenance_window_id,
	a.maintenance_suppressions`

// alertStateDest is where a row of alertStateCols is scanned; done finishes the state.
type alertStateDest struct {
	key, status, transitions, suppressed string
	incident, window                     sql.NullString
}

func (d *alertStateDest) targets(st *alertState) []any {
	return []any{&st.id, &d.key, &d.status, &st.p.summary, &st.p.severity, &st.p.source, &st.p.labels,
		&st.p.annotations, &st.p.details, &st.p.links, tsCol(&st.firstSeen), tsCol(&st.lastSeen),
		ntsCol(&st.resolvedAt), &st.occurrences, &d.incident, &d.transitions, ntsCol(&st.flap.Since),
		ntsCol(&st.flappedAt), &d.suppressed, &d.window, &st.maintSupp}
}

func (d *alertStateDest) done(st *alertState) error {
	st.status, st.incidentID = firebreak.AlertStatus(d.status), d.incident.String
	st.suppressed, st.windowID = firebreak.AlertSuppression(d.suppressed), d.window.String
	var err error
	st.flap.Transitions, err = decodeTransitions(d.transitions)
	return err
}

func scanAlertState(r rowScanner) (string, *alertState, error) {
	st := &alertState{inDB: true}
	var d alertStateDest
	if err := r.Scan(d.targets(st)...); err != nil {
		return "", nil, err
	}
	return d.key, st, d.done(st)
}

// encodeTransitions stores flap transition times as a JSON array of fixed-width UTC timestamps.
func encodeTransitions(ts []time.Time) string {
	if len(ts) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(t.UTC().Format(tsLayout))
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

func decodeTransitions(s string) ([]time.Time, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var ts []time.Time
	if err := json.Unmarshal([]byte(s), &ts); err != nil {
		return nil, fmt.Errorf("sqlstore: alert transitions %q: %w", s, err)
	}
	for i := range ts {
		ts[i] = ts[i].UTC()
	}
	return ts, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
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
	if t.s.d.name == dialectPostgres && arrayAlertLookups {
		return known, t.lookupAlertsPG(integrationID, sorted, lockSQL, known)
	}
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

// batchAlertUpdates turns on the batched UPDATE of changed alerts on PostgreSQL (tests turn it off to compare).
var batchAlertUpdates = true

// updateSizes are the row counts of the batched UPDATEs on PostgreSQL (a delivery is split greedily into them).
var updateSizes = []int{256, 32, 4, 1}

// alertUpdateCols are the columns an update writes, after id, with their PostgreSQL types (for the VALUES list,
// whose parameters would otherwise be untyped).
var alertUpdateCols = []struct{ name, pgType string }{
	{"status", "text"}, {"summary", "text"}, {"severity", "text"}, {"source", "text"}, {"labels", "text"},
	{"annotations", "text"}, {"details", "text"}, {"links", "text"}, {"last_seen_at", "timestamptz"},
	{"resolved_at", "timestamptz"}, {"occurrences", "bigint"}, {"transitions", "text"},
	{"flapping_since", "timestamptz"}, {"flapped_at", "timestamptz"}, {"suppressed", "text"},
	{"maintenance_window_id", "text"}, {"maintenance_suppressions", "bigint"},
}

// updateArgs are an alert's values for alertUpdateCols.
func (t *txn) updateArgs(st *alertState, args []any) []any {
	d := t.s.d
	return append(args, string(st.status), st.p.summary, st.p.severity, st.p.source, st.p.labels,
		st.p.annotations, st.p.details, st.p.links, d.ts(st.lastSeen), d.nts(st.resolvedAt), st.occurrences,
		encodeTransitions(st.flap.Transitions), d.nts(st.flap.Since), d.nts(st.flappedAt), string(st.suppressed),
		nullString(st.windowID), st.maintSupp)
}

// updateAlerts writes the changed alerts of keys: on SQLite one prepared UPDATE per alert (in-process, cached);
// on PostgreSQL batched UPDATE … FROM (VALUES …), one round trip per up to 256 alerts.
func (t *txn) updateAlerts(keys []string, states map[string]*alertState) error {
	if t.s.d.name != dialectPostgres || !batchAlertUpdates {
		for _, k := range keys {
			if err := t.updateAlert(states[k]); err != nil {
				return err
			}
		}
		return nil
	}
	for len(keys) > 0 {
		n := 1
		for _, sz := range updateSizes {
			if sz <= len(keys) {
				n = sz
				break
			}
		}
		chunk := keys[:n]
		keys = keys[n:]
		args := make([]any, 0, n*(len(alertUpdateCols)+1))
		for _, k := range chunk {
			st := states[k]
			args = append(args, st.id)
			args = t.updateArgs(st, args)
		}
		if _, err := t.exec(alertBatchUpdateSQL(n), args...); err != nil {
			return wrap(err, "update alerts")
		}
	}
	return nil
}

var alertBatchUpdates sync.Map // row count → SQL

// alertBatchUpdateSQL is the UPDATE of n alerts from a VALUES list (PostgreSQL).
func alertBatchUpdateSQL(n int) string {
	if q, ok := alertBatchUpdates.Load(n); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(`UPDATE alerts AS a SET `)
	for i, c := range alertUpdateCols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.name + " = v." + c.name)
	}
	b.WriteString(` FROM (VALUES `)
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?::text")
		for _, c := range alertUpdateCols {
			b.WriteString(", ?::" + c.pgType)
		}
		b.WriteString(")")
	}
	b.WriteString(`) AS v (id`)
	for _, c := range alertUpdateCols {
		b.WriteString(", " + c.name)
	}
	b.WriteString(`) WHERE a.id = v.id`)
	q := b.String()
	alertBatchUpdates.Store(n, q)
	return q
}

// lookupAlertsPG is lookupAlerts on PostgreSQL: the keys travel as one text[], and each is looked up by a LATERAL
// subquery that OFFSET 0 keeps from being merged into the join, so that the plan probes the (integration_id,
// dedup_key) index once per key, in the keys' (sorted) order, whatever the table's statistics say. A plain join or
// an IN list, planned while the table was empty (a new database: plans are cached per connection until the table
// is analyzed), scans all of the integration's alerts for every lookup: 5,000 known alerts took seconds to look
// up, and PagerDuty intake on a new database spent most of PostgreSQL's CPU there.
func (t *txn) lookupAlertsPG(integrationID string, sorted []string, lockSQL string,
	known map[string]*alertState) error {
	for len(sorted) > 0 {
		chunk := sorted[:min(len(sorted), alertLookupChunkPG)]
		sorted = sorted[len(chunk):]
		rows, err := t.query(`SELECT `+alertStateCols+` FROM unnest(?::text[]) AS k (key)
			CROSS JOIN LATERAL (SELECT * FROM alerts x WHERE x.integration_id = ? AND x.dedup_key = k.key
			OFFSET 0`+lockSQL+`) a`, chunk, integrationID)
		if err != nil {
			return wrap(err, "look up alerts")
		}
		for rows.Next() {
			k, st, err := scanAlertState(rows)
			if err != nil {
				rows.Close()
				return wrap(err, "look up alerts")
			}
			known[k] = st
		}
		if err := rows.Close(); err != nil {
			return wrap(err, "look up alerts")
		}
		if err := rows.Err(); err != nil {
			return wrap(err, "look up alerts")
		}
	}
	return nil
}

// arrayAlertLookups turns on lookupAlertsPG (tests turn it off to compare).
var arrayAlertLookups = true

// alertLookupChunkPG is the most dedup keys one lookup carries on PostgreSQL (one array parameter).
const alertLookupChunkPG = 2000

func (t *txn) updateAlert(st *alertState) error {
	args := t.updateArgs(st, make([]any, 0, len(alertUpdateCols)+1))
	_, err := t.exec(`UPDATE alerts SET status = ?, summary = ?, severity = ?, source = ?, labels = ?,
		annotations = ?, details = ?, links = ?, last_seen_at = ?, resolved_at = ?, occurrences = ?, transitions = ?,
		flapping_since = ?, flapped_at = ?, suppressed = ?, maintenance_window_id = ?, maintenance_suppressions = ?
		WHERE id = ?`, append(args, st.id)...)
	return wrap(err, "update alert")
}

// insertSizes are the row counts of the multi-row INSERTs (an ingest is split greedily into them): powers of two,
// so that n rows take at most log2(n)+1 statements (one prepared statement per size).
var insertSizes = []int{64, 32, 16, 8, 4, 2, 1}

const alertInsertCols = 23

// insertAlerts inserts the new alerts of parts (their inserts) and returns, per part, the keys that another
// transaction inserted first (nothing was written for those).
func (t *txn) insertAlerts(ic *ingestCtx, parts []*ingestPart) (map[*ingestPart][]string, error) {
	serviceID, err := ic.service()
	if err != nil {
		return nil, err
	}
	type newAlert struct {
		p  *ingestPart
		st *alertState
	}
	var rows []newAlert
	for _, p := range parts {
		for _, k := range p.inserts {
			rows = append(rows, newAlert{p, p.states[k]})
		}
	}
	// One insertion order across deliveries: no deadlocks between them (PostgreSQL).
	slices.SortFunc(rows, func(a, b newAlert) int {
		if c := strings.Compare(a.p.g.ID, b.p.g.ID); c != 0 {
			return c
		}
		return strings.Compare(a.st.key, b.st.key)
	})
	var lost map[*ingestPart][]string
	d := t.s.d
	for len(rows) > 0 {
		n := 1
		for _, sz := range insertSizes {
			if sz <= len(rows) {
				n = sz
				break
			}
		}
		chunk := rows[:n]
		rows = rows[n:]
		args := make([]any, 0, n*alertInsertCols)
		for _, r := range chunk {
			st := r.st
			args = append(args, st.id, r.p.g.ID, serviceID, st.key, string(st.status), st.p.summary, st.p.severity,
				st.p.source, st.p.labels, st.p.annotations, st.p.details, st.p.links, d.ts(st.firstSeen), d.ts(st.lastSeen),
				d.nts(st.resolvedAt), st.occurrences, encodeTransitions(st.flap.Transitions), d.nts(st.flap.Since),
				d.nts(st.flappedAt), string(st.suppressed), nullString(st.windowID), st.maintSupp,
				nullString(st.incidentID))
		}
		q, err := t.query(alertInsertSQL(n), args...)
		if err != nil {
			return nil, wrap(err, "insert alerts")
		}
		inserted := make(map[string]bool, n) // id → inserted
		for q.Next() {
			var id string
			if err := q.Scan(&id); err != nil {
				q.Close()
				return nil, wrap(err, "insert alerts")
			}
			inserted[id] = true
		}
		if err := q.Close(); err != nil {
			return nil, wrap(err, "insert alerts")
		}
		if err := q.Err(); err != nil {
			return nil, wrap(err, "insert alerts")
		}
		if len(inserted) == n {
			continue
		}
		for _, r := range chunk {
			if !inserted[r.st.id] {
				if lost == nil {
					lost = map[*ingestPart][]string{}
				}
				lost[r.p] = append(lost[r.p], r.st.key)
			}
		}
	}
	return lost, nil
}

var alertInserts sync.Map // row count → SQL

// alertInsertSQL is the INSERT of n alerts that skips (and does not return) those whose key exists.
func alertInsertSQL(n int) string {
	if q, ok := alertInserts.Load(n); ok {
		return q.(string)
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO alerts (id, integration_id, service_id, dedup_key, status, summary, severity, source,
		labels, annotations, details, links, first_seen_at, last_seen_at, resolved_at, occurrences, transitions,
		flapping_since, flapped_at, suppressed, maintenance_window_id, maintenance_suppressions, incident_id) VALUES `)
	row := "(" + placeholders(alertInsertCols) + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	b.WriteString(` ON CONFLICT (integration_id, dedup_key) DO NOTHING RETURNING id`)
	q := b.String()
	alertInserts.Store(n, q)
	return q
}

// --- list ------------------------------------------------------------------------------------------------------

// ListAlerts lists alerts, most recently seen first.
// GetAlert returns one alert by ID.
func (s *Store) GetAlert(ctx context.Context, id string) (*firebreak.Alert, error) {
	id = strings.TrimSpace(id)
	var g firebreak.Integration
	var kind string
	st := &alertState{}
	var d alertStateDest
	err := s.read(ctx).row(`SELECT `+alertStateCols+`, g.id, g.kind, sv.slug
		FROM alerts a JOIN integrations g ON g.id = a.integration_id JOIN services sv ON sv.id = g.service_id
		WHERE a.id = ?`, id).Scan(append(d.targets(st), &g.ID, &kind, &g.Service)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("alert %s not found", id)
	}
	if err != nil {
		return nil, wrap(err, "get alert")
	}
	if err := d.done(st); err != nil {
		return nil, wrap(err, "get alert")
	}
	g.Kind = firebreak.IntegrationKind(kind)
	a := st.alert(&g, d.key)
	return &a, nil
}

func (s *Store) ListAlerts(ctx context.Context, f firebreak.AlertFilter) (*firebreak.Page[firebreak.Alert], error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, err
	}
	var v firebreak.Validation
	var where []string
	var args []any
	svc := strings.TrimSpace(f.Service)
	statuses := f.Status
	for _, st := range statuses {
		switch st {
		case firebreak.AlertFiring, firebreak.AlertAcknowledged, firebreak.AlertResolved:
		default:
			v.Add("status", "unknown status %q", st)
		}
	}
	incident := strings.TrimSpace(f.Incident)
	// Per-status branches (below) carry the status themselves.
	if len(statuses) > 0 && (svc != "" || incident != "") {
		where = append(where, `a.status IN (`+placeholders(len(statuses))+`)`)
		for _, st := range statuses {
			args = append(args, string(st))
		}
	}
	if f.Flapping {
		where = append(where, `a.flapping_since IS NOT NULL`)
	}
	switch f.Suppressed {
	case "":
	case firebreak.SuppressedMaintenance, firebreak.SuppressedFlapping:
		where = append(where, `a.suppressed = ?`)
		args = append(args, string(f.Suppressed))
	default:
		v.Add("suppressed", "must be maintenance or flapping")
	}
	if incident != "" {
		cond, arg, _, err := incidentRef(incident)
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
	// The page is merged from ranges that each come in order from an index and stop after a page: a service's
	// alerts are one range (alerts_service_seen), the unfiltered list one range per status (alerts_status; there
	// are three). An incident's alerts are read through alerts_incident and sorted (one branch).
	var branch string
	var keys []any
	if svc == "" && incident != "" {
		branch, keys = `1 = ?`, []any{1}
	} else if svc != "" {
		var id string
		err := s.read(ctx).row(`SELECT id FROM services WHERE slug = ?`, svc).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return &firebreak.Page[firebreak.Alert]{Items: []firebreak.Alert{}}, nil
		}
		if err != nil {
			return nil, wrap(err, "list alerts")
		}
		branch, keys = `a.service_id = ?`, []any{id}
	} else {
		if len(statuses) == 0 {
			statuses = []firebreak.AlertStatus{firebreak.AlertFiring, firebreak.AlertAcknowledged,
				firebreak.AlertResolved}
		}
		branch, keys = `a.status = ?`, anys(slices.Compact(slices.Sorted(slices.Values(statuses))))
	}
	cond := strings.Join(append([]string{branch}, where...), " AND ")
	parts := make([]string, len(keys))
	var qargs []any
	for i, k := range keys {
		parts[i] = `SELECT * FROM (SELECT a.* FROM alerts a WHERE ` + cond + `
			ORDER BY a.last_seen_at DESC, a.id DESC LIMIT ?) x`
		qargs = append(append(append(qargs, k), args...), limit+1)
	}
	qargs = append(qargs, limit+1)
	rows, err := s.read(ctx).query(`SELECT `+alertStateCols+`, g.id, g.kind, sv.slug
		FROM (`+strings.Join(parts, " UNION ALL ")+`) a JOIN integrations g ON g.id = a.integration_id
		JOIN services sv ON sv.id = g.service_id ORDER BY a.last_seen_at DESC, a.id DESC LIMIT ?`, qargs...)
	if err != nil {
		return nil, wrap(err, "list alerts")
	}
	defer rows.Close()
	items := []firebreak.Alert{}
	for rows.Next() {
		var g firebreak.Integration
		var kind string
		st := &alertState{}
		var d alertStateDest
		if err := rows.Scan(append(d.targets(st), &g.ID, &kind, &g.Service)...); err != nil {
			return nil, wrap(err, "list alerts")
		}
		if err := d.done(st); err != nil {
			return nil, wrap(err, "list alerts")
		}
		g.Kind = firebreak.IntegrationKind(kind)
		items = append(items, st.alert(&g, d.key))
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
