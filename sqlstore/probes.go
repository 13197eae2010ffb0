package sqlstore

// Health probes (firebreak.ProbeService): configuration, schedule, results and the alerts thresholds raise.
//
// Schedule. next_run_at is when a probe is next due. ClaimDueProbes takes the due probes (PostgreSQL: FOR NO KEY
// UPDATE SKIP LOCKED, so replicas never claim the same probe) and moves each one whole intervals on, to the first
// time after now that keeps its phase: no drift, and a runner that fell behind runs a probe once, not once per
// missed interval. Creating a probe, or changing its configuration, makes it due at once.
//
// Results. RecordProbeResults is called about once a second with up to ~1,000 results and writes them in ONE
// transaction with a constant number of statements per ~128 results: the probes are read (and locked) in
// batches, every result is applied in Go, and the writes are multi-row upserts and one UPDATE … FROM (VALUES …)
// per chunk.
//   - Recent results are a ring buffer: result number seq goes to row (probe, seq % ProbeRecentResults), so the
//     table stays bounded without pruning.
//   - Window statistics come from hourly rollups (checks, successes, a latency histogram with buckets ~10% wide);
//     GetProbe sums the last 24 and 168 clock hours. Prune deletes rollups older than ProbeRollupRetention.
//   - Crossing a threshold raises or resolves the probe's alert (dedup key "probe:<id>") through the same step as
//     intake (ingestAlerts), on the service's hidden integration of kind "probe", created on demand.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	firebreak "github.com/firebreak/firebreak"
)

var _ firebreak.ProbeService = (*Store)(nil)

// ProbeRollupRetention is how long hourly probe statistics are kept (the longest window is 7 days).
const ProbeRollupRetention = 8 * 24 * time.Hour

// MaxProbeClaim is the most probes one ClaimDueProbes call returns.
const MaxProbeClaim = 10000

const (
	probeLookupChunk = 500
	// probeAlertPrefix + probe ID is the dedup key of a probe's alert.
	probeAlertPrefix = "probe:"
	// latencyBucketBase is the ratio of consecutive latency histogram bounds; maxLatencyBucket clamps the top
	// (1.1^200 ms ≈ 52 h, far beyond any timeout).
	latencyBucketBase = 1.1
	maxLatencyBucket  = 200
)

// probeLookupSizes are the IN-list lengths probe lookups are padded to (few statement shapes for SQLite's cache);
// probeWriteSizes the row counts of the multi-row writes (a batch is split greedily into them).
var (
	probeLookupSizes = []int{1, 8, 64, probeLookupChunk}
	probeWriteSizes  = []int{128, 32, 8, 1}
)

const probeCols = `p.id, sv.slug, p.name, p.url, p.kind, p.method, p.headers, p.body, p.interval_ms, p.timeout_ms,
	p.conditions, p.failure_threshold, p.success_threshold, p.severity, p.insecure_skip_verify, p.enabled, p.state,
	p.consecutive_failures, p.consecutive_successes, p.last_result, p.result_seq, p.next_run_at, p.created_at,
	p.updated_at, p.service_id`

const probeFrom = ` FROM probes p JOIN services sv ON sv.id = p.service_id`

// probeRow is a probe as stored, with what the API does not show.
type probeRow struct {
	firebreak.Probe
	serviceID string
	seq       int64 // results recorded so far
	nextRun   time.Time
}

func scanProbe(r rowScanner) (*probeRow, error) {
	p := &probeRow{}
	var kind, headers, conditions, severity, state string
	var lastResult sql.NullString
	var interval, timeout int64
	err := r.Scan(&p.ID, &p.Service, &p.Name, &p.URL, &kind, &p.Method, &headers, &p.Body, &interval, &timeout,
		&conditions, &p.FailureThreshold, &p.SuccessThreshold, &severity, &p.InsecureSkipVerify, &p.Enabled, &state,
		&p.ConsecutiveFailures, &p.ConsecutiveSuccesses, &lastResult, &p.seq, tsCol(&p.nextRun),
		tsCol(&p.CreatedAt), tsCol(&p.UpdatedAt), &p.serviceID)
	if err != nil {
		return nil, err
	}
	p.Kind, p.Severity, p.State = firebreak.ProbeKind(kind), firebreak.AlertSeverity(severity),
		firebreak.ProbeState(state)
	p.Interval, p.Timeout = firebreak.Duration(time.Duration(interval)*time.Millisecond),
		firebreak.Duration(time.Duration(timeout)*time.Millisecond)
	p.Headers, p.Conditions = map[string]string{}, []string{}
	if err := json.Unmarshal([]byte(headers), &p.Headers); err != nil {
		return nil, fmt.Errorf("probe %s headers: %w", p.ID, err)
	}
	if err := json.Unmarshal([]byte(conditions), &p.Conditions); err != nil {
		return nil, fmt.Errorf("probe %s conditions: %w", p.ID, err)
	}
	if lastResult.Valid {
		var lr firebreak.ProbeResult
		if err := json.Unmarshal([]byte(lastResult.String), &lr); err != nil {
			return nil, fmt.Errorf("probe %s last result: %w", p.ID, err)
		}
		p.LastResult = &lr
	}
	return p, nil
}

// probeConfig is the configuration part of a probe made from validated input.
func probeConfig(in *firebreak.ProbeInput, kind firebreak.ProbeKind) firebreak.Probe {
	p := firebreak.Probe{Name: in.Name, Service: in.Service, Kind: kind, URL: in.URL, Method: in.Method,
		Headers: maps.Clone(in.Headers), Body: in.Body, Interval: in.Interval, Timeout: in.Timeout,
		Conditions: slices.Clone(in.Conditions), FailureThreshold: in.FailureThreshold,
		SuccessThreshold: in.SuccessThreshold, Severity: in.Severity, InsecureSkipVerify: in.InsecureSkipVerify,
		Enabled: *in.Enabled}
	if p.Headers == nil {
		p.Headers = map[string]string{}
	}
	if p.Conditions == nil {
		p.Conditions = []string{}
	}
	return p
}

// sameConfig reports whether two probes are configured alike (state and schedule aside).
func sameConfig(a, b *firebreak.Probe) bool {
	return a.Name == b.Name && a.Service == b.Service && a.Kind == b.Kind && a.URL == b.URL && a.Method == b.Method &&
		maps.Equal(a.Headers, b.Headers) && a.Body == b.Body && a.Interval == b.Interval && a.Timeout == b.Timeout &&
		slices.Equal(a.Conditions, b.Conditions) && a.FailureThreshold == b.FailureThreshold &&
		a.SuccessThreshold == b.SuccessThreshold && a.Severity == b.Severity &&
		a.InsecureSkipVerify == b.InsecureSkipVerify && a.Enabled == b.Enabled
}

// configArgs are the values of the configuration columns url … enabled, in probeConfigCols order.
const probeConfigCols = `url, kind, method, headers, body, interval_ms, timeout_ms, conditions, failure_threshold,
	success_threshold, severity, insecure_skip_verify, enabled`

func configArgs(p *firebreak.Probe) ([]any, error) {
	h, err := json.Marshal(p.Headers)
	if err != nil {
		return nil, err
	}
	c, err := json.Marshal(p.Conditions)
	if err != nil {
		return nil, err
	}
	return []any{p.URL, string(p.Kind), p.Method, string(h), p.Body, time.Duration(p.Interval).Milliseconds(),
		time.Duration(p.Timeout).Milliseconds(), string(c), p.FailureThreshold, p.SuccessThreshold,
		string(p.Severity), p.InsecureSkipVerify, p.Enabled}, nil
}

// validateProbe validates and normalizes an input, prefixing the field names of its errors with prefix.
func validateProbe(in *firebreak.ProbeInput, prefix string, v *firebreak.Validation) firebreak.ProbeKind {
	in.Headers, in.Conditions = maps.Clone(in.Headers), slices.Clone(in.Conditions) // Validate trims in place
	kind, err := in.Validate()
	var fe *firebreak.Error
	if errors.As(err, &fe) {
		for _, f := range fe.Fields {
			v.Add(prefix+f.Field, "%s", f.Message)
		}
	} else if err != nil {
		v.Add(prefix+"probe", "%s", err.Error())
	}
	return kind
}

// --- configuration ---------------------------------------------------------------------------------------------

// CreateProbe creates a probe, due at once.
func (s *Store) CreateProbe(ctx context.Context, in firebreak.ProbeInput) (*firebreak.Probe, error) {
	var v firebreak.Validation
	kind := validateProbe(&in, "", &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *probeRow
	err := s.write(ctx, func(t *txn) error {
		serviceID, err := t.probeServiceID(in.Service, "service")
		if err != nil {
			return err
		}
		out, err = t.insertProbe(serviceID, probeConfig(&in, kind), s.clock(), false)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out.Probe, nil
}

// UpdateProbe replaces a probe's configuration and makes it due at once. Its state and results stay, except
// that moving it to another service or disabling it resolves its alert (if firing) and forgets its state.
func (s *Store) UpdateProbe(ctx context.Context, id string, in firebreak.ProbeInput) (*firebreak.Probe, error) {
	var v firebreak.Validation
	kind := validateProbe(&in, "", &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *probeRow
	err := s.write(ctx, func(t *txn) error {
		p, err := t.probeByID(id, true)
		if err != nil {
			return err
		}
		serviceID, err := t.probeServiceID(in.Service, "service")
		if err != nil {
			return err
		}
		out, err = t.updateProbeConfig(p, serviceID, probeConfig(&in, kind), s.clock())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out.Probe, nil
}

// DeleteProbe deletes a probe with its results and statistics; a firing alert of the probe is resolved.
func (s *Store) DeleteProbe(ctx context.Context, id string) error {
	return s.write(ctx, func(t *txn) error {
		p, err := t.probeByID(id, true)
		if err != nil {
			return err
		}
		if p.State == firebreak.ProbeDown {
			if err := t.resolveProbeAlert(p, s.clock()); err != nil {
				return err
			}
		}
		for _, q := range []string{`DELETE FROM probe_results WHERE probe_id = ?`,
			`DELETE FROM probe_rollups WHERE probe_id = ?`, `DELETE FROM probes WHERE id = ?`} {
			if _, err := t.exec(q, p.ID); err != nil {
				return wrap(err, "delete probe")
			}
		}
		return nil
	})
}

// ApplyProbes creates or replaces the probes of a configuration file, matched by service and name, in one
// transaction. A probe whose configuration is unchanged is not written (nor rescheduled), so applying the same
// file at every start costs nothing. Field names of errors are prefixed with probes[i].
func (s *Store) ApplyProbes(ctx context.Context, ins []firebreak.ProbeInput) ([]firebreak.Probe, error) {
	var v firebreak.Validation
	kinds := make([]firebreak.ProbeKind, len(ins))
	ins = slices.Clone(ins)
	seen := map[[2]string]bool{}
	for i := range ins {
		prefix := fmt.Sprintf("probes[%d].", i)
		kinds[i] = validateProbe(&ins[i], prefix, &v)
		k := [2]string{ins[i].Service, ins[i].Name}
		if ins[i].Name != "" && seen[k] {
			v.Add(prefix+"name", "probe %q of service %q appears twice", ins[i].Name, ins[i].Service)
		}
		seen[k] = true
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out []firebreak.Probe
	err := s.write(ctx, func(t *txn) error {
		out = make([]firebreak.Probe, 0, len(ins))
		now := s.clock()
		services := map[string]string{}
		for i := range ins {
			in := &ins[i]
			serviceID, ok := services[in.Service]
			if !ok {
				var err error
				if serviceID, err = t.probeServiceID(in.Service, fmt.Sprintf("probes[%d].service", i)); err != nil {
					return err
				}
				services[in.Service] = serviceID
			}
			cfg := probeConfig(in, kinds[i])
			p, err := scanProbe(t.row(`SELECT `+probeCols+probeFrom+` WHERE p.service_id = ? AND p.name = ?`+
				t.s.d.lockOf("p"), serviceID, in.Name))
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if p, err = t.insertProbe(serviceID, cfg, now, len(ins) > 1); err != nil {
					return err
				}
			case err != nil:
				return wrap(err, "apply probes")
			case !sameConfig(&p.Probe, &cfg):
				if p, err = t.updateProbeConfig(p, serviceID, cfg, now); err != nil {
					return err
				}
			}
			out = append(out, p.Probe)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// probeServiceID returns the ID of the service with the slug; an unknown service is EInvalid on field.
func (x q) probeServiceID(slug, field string) (string, error) {
	var id string
	err := x.row(`SELECT id FROM services WHERE slug = ?`, slug).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", invalid(field, "no service %q", slug)
	}
	return id, wrap(err, "probe service")
}

func (x q) probeByID(id string, lock bool) (*probeRow, error) {
	l := ""
	if lock {
		l = x.s.d.lockOf("p")
	}
	p, err := scanProbe(x.row(`SELECT `+probeCols+probeFrom+` WHERE p.id = ?`+l, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("probe %s not found", id)
	}
	return p, wrap(err, "load probe")
}

func probeNameTaken(name, service string) error {
	return firebreak.Errorf(firebreak.EConflict, "service %s already has a probe named %q", service, name)
}

// nameFree checks that no other probe of the service has the name.
func (t *txn) probeNameFree(serviceID, name, service, exceptID string) error {
	var n int64
	if err := t.row(`SELECT COUNT(*) FROM probes WHERE service_id = ? AND name = ? AND id <> ?`, serviceID, name,
		exceptID).Scan(&n); err != nil {
		return wrap(err, "check probe name")
	}
	if n > 0 {
		return probeNameTaken(name, service)
	}
	return nil
}

// insertProbe creates a probe, due now; or, with spread (probes created in bulk from a configuration file), at a
// point of its first interval that depends on its ID, so that thousands of probes do not all run in the same
// instant every interval.
func (t *txn) insertProbe(serviceID string, cfg firebreak.Probe, now time.Time, spread bool) (*probeRow, error) {
	if err := t.probeNameFree(serviceID, cfg.Name, cfg.Service, ""); err != nil {
		return nil, err
	}
	p := &probeRow{Probe: cfg, serviceID: serviceID, nextRun: now}
	p.ID, p.State, p.CreatedAt, p.UpdatedAt = newID(), firebreak.ProbeUnknown, now, now
	if iv := time.Duration(cfg.Interval); spread && iv > 0 {
		h := fnv.New64a()
		_, _ = h.Write([]byte(p.ID))
		p.nextRun = now.Add(time.Duration(h.Sum64() % uint64(iv)))
	}
	args, err := configArgs(&p.Probe)
	if err != nil {
		return nil, wrap(err, "create probe")
	}
	args = append([]any{p.ID, serviceID, p.Name}, args...)
	args = append(args, string(p.State), t.s.d.ts(p.nextRun), t.s.d.ts(now), t.s.d.ts(now))
	_, err = t.exec(`INSERT INTO probes (id, service_id, name, `+probeConfigCols+`, state, next_run_at, created_at,
		updated_at) VALUES (`+placeholders(len(args))+`)`, args...)
	if isUniqueViolation(err) {
		return nil, probeNameTaken(cfg.Name, cfg.Service)
	}
	return p, wrap(err, "create probe")
}

// updateProbeConfig writes a probe's new configuration (in service serviceID) and makes it due now.
func (t *txn) updateProbeConfig(p *probeRow, serviceID string, cfg firebreak.Probe, now time.Time) (*probeRow,
	error) {
	if serviceID != p.serviceID || cfg.Name != p.Name {
		if err := t.probeNameFree(serviceID, cfg.Name, cfg.Service, p.ID); err != nil {
			return nil, err
		}
	}
	n := &probeRow{Probe: cfg, serviceID: serviceID, seq: p.seq, nextRun: now}
	n.ID, n.CreatedAt, n.UpdatedAt, n.LastResult = p.ID, p.CreatedAt, now, p.LastResult
	n.State, n.ConsecutiveFailures, n.ConsecutiveSuccesses = p.State, p.ConsecutiveFailures, p.ConsecutiveSuccesses
	if serviceID != p.serviceID || !cfg.Enabled {
		// Its alert belongs to the old service (or to checks that stop): resolve it, and start afresh.
		if p.State == firebreak.ProbeDown {
			if err := t.resolveProbeAlert(p, now); err != nil {
				return nil, err
			}
		}
		n.State, n.ConsecutiveFailures, n.ConsecutiveSuccesses = firebreak.ProbeUnknown, 0, 0
	}
	args, err := configArgs(&n.Probe)
	if err != nil {
		return nil, wrap(err, "update probe")
	}
	args = append([]any{serviceID, n.Name}, args...)
	args = append(args, string(n.State), n.ConsecutiveFailures, n.ConsecutiveSuccesses, t.s.d.ts(now),
		t.s.d.ts(now), n.ID)
	set := strings.ReplaceAll(strings.Join(strings.Fields(probeConfigCols), " "), ",", " = ?,") + " = ?"
	_, err = t.exec(`UPDATE probes SET service_id = ?, name = ?, `+set+`, state = ?, consecutive_failures = ?,
		consecutive_successes = ?, next_run_at = ?, updated_at = ? WHERE id = ?`, args...)
	if isUniqueViolation(err) {
		return nil, probeNameTaken(cfg.Name, cfg.Service)
	}
	return n, wrap(err, "update probe")
}

// --- reads -----------------------------------------------------------------------------------------------------

// ListProbes lists probes in service then name order.
func (s *Store) ListProbes(ctx context.Context, f firebreak.ProbeFilter) ([]firebreak.Probe, error) {
	x := s.read(ctx)
	where, args := "", []any{}
	if svc := strings.TrimSpace(f.Service); svc != "" {
		if _, err := x.probeServiceID(svc, "service"); err != nil {
			if firebreak.ErrorCode(err) == firebreak.EInvalid {
				return nil, notFound("service %s not found", svc)
			}
			return nil, err
		}
		where, args = ` WHERE sv.slug = ?`, append(args, svc)
	}
	rows, err := x.query(`SELECT `+probeCols+probeFrom+where+` ORDER BY sv.slug, p.name`, args...)
	if err != nil {
		return nil, wrap(err, "list probes")
	}
	defer rows.Close()
	out := []firebreak.Probe{}
	for rows.Next() {
		p, err := scanProbe(rows)
		if err != nil {
			return nil, wrap(err, "list probes")
		}
		out = append(out, p.Probe)
	}
	return out, wrap(rows.Err(), "list probes")
}

// GetProbe returns a probe with its recent results (newest first) and its 24-hour and 7-day statistics. A window
// is made of whole clock hours: "24h" is the current hour and the 23 before it, "7d" the current hour and the
// 167 before it.
func (s *Store) GetProbe(ctx context.Context, id string) (*firebreak.ProbeStatus, error) {
	x := s.read(ctx)
	p, err := x.probeByID(id, false)
	if err != nil {
		return nil, err
	}
	st := &firebreak.ProbeStatus{Probe: p.Probe, Recent: []firebreak.ProbeResult{}}
	rows, err := x.query(`SELECT at, success, latency_ms, status_code, error, failed_conditions, cert_expires_at
		FROM probe_results WHERE probe_id = ? ORDER BY seq DESC`, id)
	if err != nil {
		return nil, wrap(err, "probe results")
	}
	defer rows.Close()
	for rows.Next() {
		var r firebreak.ProbeResult
		var failed string
		if err := rows.Scan(tsCol(&r.At), &r.Success, &r.LatencyMS, &r.StatusCode, &r.Error, &failed,
			ntsCol(&r.CertExpiresAt)); err != nil {
			return nil, wrap(err, "probe results")
		}
		if err := json.Unmarshal([]byte(failed), &r.FailedConditions); err != nil {
			return nil, wrap(err, "probe results")
		}
		if len(r.FailedConditions) == 0 {
			r.FailedConditions = nil // as the runner reports a result without failures
		}
		st.Recent = append(st.Recent, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "probe results")
	}
	rows.Close()

	hour := s.clock().Truncate(time.Hour)
	windows := []struct {
		name  string
		since time.Time
		agg   rollup
	}{{name: "24h", since: hour.Add(-23 * time.Hour)}, {name: "7d", since: hour.Add(-167 * time.Hour)}}
	rows, err = x.query(`SELECT hour, checks, successes, histogram FROM probe_rollups WHERE probe_id = ? AND hour >= ?`,
		id, s.d.ts(windows[1].since))
	if err != nil {
		return nil, wrap(err, "probe statistics")
	}
	defer rows.Close()
	for rows.Next() {
		var h time.Time
		var r rollup
		var hist string
		if err := rows.Scan(tsCol(&h), &r.checks, &r.successes, &hist); err != nil {
			return nil, wrap(err, "probe statistics")
		}
		if err := r.decodeHist(hist); err != nil {
			return nil, wrap(err, "probe statistics")
		}
		for i := range windows {
			if !h.Before(windows[i].since) {
				windows[i].agg.merge(&r)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "probe statistics")
	}
	for _, w := range windows {
		st.Windows = append(st.Windows, w.agg.stats(w.name))
	}
	return st, nil
}

// --- statistics ------------------------------------------------------------------------------------------------

// rollup is one probe's checks in one clock hour.
type rollup struct {
	checks, successes int64
	hist              map[int]int64 // latency bucket → checks
	inDB              bool
}

// latencyBucket is the histogram bucket of a latency: bucket i ≥ 1 holds (1.1^(i-1), 1.1^i] ms, bucket 0 up to 1 ms.
func latencyBucket(ms float64) int {
	if !(ms > 1) { // also NaN
		return 0
	}
	return min(int(math.Ceil(math.Log(ms)/math.Log(latencyBucketBase))), maxLatencyBucket)
}

// bucketLatency is the latency a bucket stands for: its geometric middle, within 5% of every latency in it.
func bucketLatency(b int) float64 { return math.Pow(latencyBucketBase, float64(b)-0.5) }

func (r *rollup) add(res *firebreak.ProbeResult) {
	r.checks++
	if res.Success {
		r.successes++
	}
	if r.hist == nil {
		r.hist = map[int]int64{}
	}
	r.hist[latencyBucket(res.LatencyMS)]++
}

func (r *rollup) merge(o *rollup) {
	r.checks += o.checks
	r.successes += o.successes
	if r.hist == nil {
		r.hist = map[int]int64{}
	}
	for b, n := range o.hist {
		r.hist[b] += n
	}
}

// decodeHist reads a stored histogram: a JSON object of bucket → count, as encodeHist writes it (parsed by hand:
// it is read for every probe of every batch), else by encoding/json.
func (r *rollup) decodeHist(s string) error {
	if h, ok := parseHist(s); ok {
		r.hist = h
		return nil
	}
	var m map[string]int64
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return err
	}
	r.hist = make(map[int]int64, len(m))
	for k, n := range m {
		b, err := strconv.Atoi(k)
		if err != nil {
			return fmt.Errorf("bad histogram bucket %q", k)
		}
		r.hist[b] += n
	}
	return nil
}

// parseHist parses the exact form encodeHist writes ({"12":3,"13":1}); ok is false for anything else.
func parseHist(s string) (map[int]int64, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	m := map[int]int64{}
	for rest := s[1 : len(s)-1]; rest != ""; {
		var kv string
		kv, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(kv, ":")
		if !ok || len(k) < 3 || k[0] != '"' || k[len(k)-1] != '"' {
			return nil, false
		}
		b, err1 := strconv.Atoi(k[1 : len(k)-1])
		n, err2 := strconv.ParseInt(v, 10, 64)
		if err1 != nil || err2 != nil {
			return nil, false
		}
		m[b] += n
	}
	return m, true
}

// encodeHist writes the histogram as a JSON object with the buckets in order.
func (r *rollup) encodeHist() string {
	keys := slices.Sorted(maps.Keys(r.hist))
	b := make([]byte, 0, 2+12*len(keys))
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, r.hist[k], 10)
	}
	return string(append(b, '}'))
}

func (r *rollup) stats(window string) firebreak.ProbeWindowStats {
	st := firebreak.ProbeWindowStats{Window: window, Checks: r.checks, Successes: r.successes}
	if r.checks == 0 {
		return st
	}
	up := float64(r.successes) * 100 / float64(r.checks)
	st.UptimePercent = &up
	buckets := slices.Sorted(maps.Keys(r.hist))
	var total int64
	for _, b := range buckets {
		total += r.hist[b]
	}
	pct := func(q float64) *float64 {
		if total == 0 {
			return nil
		}
		rank := max(1, int64(math.Ceil(q*float64(total))))
		var cum int64
		for _, b := range buckets {
			if cum += r.hist[b]; cum >= rank {
				v := math.Round(bucketLatency(b)*100) / 100
				return &v
			}
		}
		return nil
	}
	st.P50MS, st.P90MS, st.P99MS = pct(0.50), pct(0.90), pct(0.99)
	return st
}

// --- schedule --------------------------------------------------------------------------------------------------

// ClaimDueProbes returns up to limit enabled probes due at now (earliest first) and moves each one's next check
// on by whole intervals to the first time after now.
func (s *Store) ClaimDueProbes(ctx context.Context, now time.Time, limit int) ([]firebreak.Probe, error) {
	if limit < 1 || limit > MaxProbeClaim {
		return nil, invalid("limit", "must be between 1 and %d", MaxProbeClaim)
	}
	now = now.UTC().Truncate(time.Microsecond)
	var out []firebreak.Probe
	err := s.write(ctx, func(t *txn) error {
		lock := ""
		if t.s.d.name == dialectPostgres {
			lock = " FOR NO KEY UPDATE OF p SKIP LOCKED"
		}
		rows, err := t.query(`SELECT `+probeCols+probeFrom+` WHERE p.enabled = ? AND p.next_run_at <= ?
			ORDER BY p.next_run_at, p.id LIMIT ?`+lock, true, s.d.ts(now), limit)
		if err != nil {
			return wrap(err, "claim probes")
		}
		var claimed []*probeRow
		for rows.Next() {
			p, err := scanProbe(rows)
			if err != nil {
				rows.Close()
				return wrap(err, "claim probes")
			}
			claimed = append(claimed, p)
		}
		if err := rows.Close(); err != nil {
			return wrap(err, "claim probes")
		}
		if err := rows.Err(); err != nil {
			return wrap(err, "claim probes")
		}
		out = make([]firebreak.Probe, len(claimed))
		vals := make([][]any, len(claimed))
		for i, p := range claimed {
			iv := time.Duration(p.Interval)
			next := p.nextRun.Add(iv)
			if !next.After(now) { // fell behind: skip the missed runs, keeping the phase
				next = next.Add(iv * (now.Sub(next)/iv + 1))
			}
			vals[i] = []any{p.ID, s.d.ts(next)}
			out[i] = p.Probe
		}
		return t.updateFromValues(`next_run_at = v.column2`, []string{"?", s.tsParam()}, vals, "claim probes")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NextProbeDue is when the earliest enabled probe is next due (zero when there is none).
func (s *Store) NextProbeDue(ctx context.Context) (time.Time, error) {
	var at *time.Time
	if err := s.read(ctx).row(`SELECT MIN(next_run_at) FROM probes WHERE enabled = ?`, true).Scan(ntsCol(&at)); err != nil {
		return time.Time{}, wrap(err, "next probe due")
	}
	if at == nil {
		return time.Time{}, nil
	}
	return *at, nil
}

// tsParam is a placeholder for a timestamp where PostgreSQL cannot infer the type (a VALUES list in FROM).
func (s *Store) tsParam() string {
	if s.d.name == dialectPostgres {
		return "CAST(? AS TIMESTAMPTZ)"
	}
	return "?"
}

// updateFromValues runs UPDATE probes SET <set> FROM (VALUES …) AS v WHERE probes.id = v.column1 over rows in
// chunks; cols are the placeholder expressions of one row (the first the probe ID). set refers to v.column2 ….
func (t *txn) updateFromValues(set string, cols []string, rows [][]any, what string) error {
	row := "(" + strings.Join(cols, ", ") + ")"
	for len(rows) > 0 {
		n := chunkSize(len(rows))
		chunk := rows[:n]
		rows = rows[n:]
		args := make([]any, 0, n*len(cols))
		for _, r := range chunk {
			args = append(args, r...)
		}
		_, err := t.exec(`UPDATE probes SET `+set+` FROM (VALUES `+strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")+
			`) AS v WHERE probes.id = v.column1`, args...)
		if err != nil {
			return wrap(err, what)
		}
	}
	return nil
}

// chunkSize is the size of the next multi-row statement for n remaining rows.
func chunkSize(n int) int {
	for _, sz := range probeWriteSizes {
		if sz <= n {
			return sz
		}
	}
	return 1
}

// --- results ---------------------------------------------------------------------------------------------------

type rollupKey struct {
	probeID string
	hour    time.Time
}

// RecordProbeResults stores a batch of results in one transaction (see the top of the file).
func (s *Store) RecordProbeResults(ctx context.Context, runs []firebreak.ProbeRun) error {
	if len(runs) == 0 {
		return nil
	}
	now := s.clock()
	byProbe := map[string][]firebreak.ProbeResult{}
	var ids []string
	for _, r := range runs {
		res := r.Result
		if res.At.IsZero() {
			res.At = now
		}
		res.At = res.At.UTC().Truncate(time.Microsecond)
		res.CertExpiresAt = truncTime(res.CertExpiresAt)
		if math.IsNaN(res.LatencyMS) || math.IsInf(res.LatencyMS, 0) || res.LatencyMS < 0 {
			res.LatencyMS = 0
		}
		// Errors and failed conditions quote what the target answered: make them storable text (PostgreSQL
		// refuses NUL and invalid UTF-8, which would fail the whole batch) of bounded size.
		res.Error = storableText(res.Error)
		if len(res.FailedConditions) > 0 {
			fc := make([]string, len(res.FailedConditions))
			for i, c := range res.FailedConditions {
				fc[i] = storableText(c)
			}
			res.FailedConditions = fc
		}
		if _, ok := byProbe[r.ProbeID]; !ok {
			ids = append(ids, r.ProbeID)
		}
		byProbe[r.ProbeID] = append(byProbe[r.ProbeID], res)
	}
	for _, rs := range byProbe {
		slices.SortStableFunc(rs, func(a, b firebreak.ProbeResult) int { return a.At.Compare(b.At) })
	}
	slices.Sort(ids) // lock probes in one order (PostgreSQL)
	return s.write(ctx, func(t *txn) error {
		return t.recordProbeResults(ids, byProbe, s.clock())
	})
}

func (t *txn) recordProbeResults(ids []string, byProbe map[string][]firebreak.ProbeResult, now time.Time) error {
	probes, err := t.lookupProbes(ids)
	if err != nil {
		return err
	}
	var resultRows, probeRows [][]any
	rollups := map[rollupKey]*rollup{}
	var rollupOrder []rollupKey
	alerts := map[string][]firebreak.AlertEvent{} // service ID → events
	var alertServices []string
	minHour, maxHour := time.Time{}, time.Time{}
	for _, id := range ids {
		p := probes[id]
		if p == nil {
			continue // deleted: its results are dropped
		}
		rs := byProbe[id]
		state, cf, cs := p.State, p.ConsecutiveFailures, p.ConsecutiveSuccesses
		for i := range rs {
			r := &rs[i]
			if r.Success {
				cs, cf = cs+1, 0
			} else {
				cf, cs = cf+1, 0
			}
			action := ""
			switch {
			case state != firebreak.ProbeDown && !r.Success && cf >= p.FailureThreshold:
				state, action = firebreak.ProbeDown, "trigger"
			case state != firebreak.ProbeUp && r.Success && cs >= p.SuccessThreshold:
				if state == firebreak.ProbeDown {
					action = "resolve"
				}
				state = firebreak.ProbeUp
			}
			if action != "" {
				if _, ok := alerts[p.serviceID]; !ok {
					alertServices = append(alertServices, p.serviceID)
				}
				alerts[p.serviceID] = append(alerts[p.serviceID], probeAlertEvent(p, action, r))
			}
			k := rollupKey{id, r.At.Truncate(time.Hour)}
			if minHour.IsZero() || k.hour.Before(minHour) {
				minHour = k.hour
			}
			if k.hour.After(maxHour) {
				maxHour = k.hour
			}
			ru := rollups[k]
			if ru == nil {
				ru = &rollup{}
				rollups[k] = ru
				rollupOrder = append(rollupOrder, k)
			}
			ru.add(r)
		}
		// The ring buffer: only the last ProbeRecentResults of the batch survive it.
		first := max(0, len(rs)-firebreak.ProbeRecentResults)
		for i := first; i < len(rs); i++ {
			r := &rs[i]
			seq := p.seq + int64(i) + 1
			failed, err := json.Marshal(nonNil(r.FailedConditions))
			if err != nil {
				return wrap(err, "record probe results")
			}
			resultRows = append(resultRows, []any{id, seq % firebreak.ProbeRecentResults, seq, t.s.d.ts(r.At),
				r.Success, r.LatencyMS, r.StatusCode, r.Error, string(failed), t.s.d.nts(r.CertExpiresAt)})
		}
		last, err := json.Marshal(rs[len(rs)-1])
		if err != nil {
			return wrap(err, "record probe results")
		}
		probeRows = append(probeRows, []any{id, string(state), cf, cs, string(last), p.seq + int64(len(rs))})
	}
	if len(probeRows) == 0 {
		return nil
	}
	if err := t.loadRollups(rollups, minHour, maxHour); err != nil {
		return err
	}
	const resultCols = `probe_id, slot, seq, at, success, latency_ms, status_code, error, failed_conditions,
		cert_expires_at`
	if err := t.upsertRows(`INSERT INTO probe_results (`+resultCols+`) VALUES `, 10, resultRows,
		` ON CONFLICT (probe_id, slot) DO UPDATE SET seq = excluded.seq, at = excluded.at, success = excluded.success,
		latency_ms = excluded.latency_ms, status_code = excluded.status_code, error = excluded.error,
		failed_conditions = excluded.failed_conditions, cert_expires_at = excluded.cert_expires_at`,
		"record probe results"); err != nil {
		return err
	}
	rollupRows := make([][]any, 0, len(rollupOrder))
	for _, k := range rollupOrder {
		r := rollups[k]
		rollupRows = append(rollupRows, []any{k.probeID, t.s.d.ts(k.hour), r.checks, r.successes, r.encodeHist()})
	}
	if err := t.upsertRows(`INSERT INTO probe_rollups (probe_id, hour, checks, successes, histogram) VALUES `, 5,
		rollupRows, ` ON CONFLICT (probe_id, hour) DO UPDATE SET checks = excluded.checks,
		successes = excluded.successes, histogram = excluded.histogram`, "record probe statistics"); err != nil {
		return err
	}
	if err := t.updateFromValues(`state = v.column2, consecutive_failures = v.column3,
		consecutive_successes = v.column4, last_result = v.column5, result_seq = v.column6`,
		[]string{"?", "?", "CAST(? AS BIGINT)", "CAST(? AS BIGINT)", "?", "CAST(? AS BIGINT)"}, probeRows,
		"record probe state"); err != nil {
		return err
	}
	for _, svc := range alertServices {
		if err := t.probeAlerts(svc, alerts[svc], now); err != nil {
			return err
		}
	}
	return nil
}

// maxProbeText bounds an error or failed condition of a result, in bytes.
const maxProbeText = 1024

// storableText is s as valid UTF-8 without NUL bytes, cut to maxProbeText bytes (on a rune boundary).
func storableText(s string) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= maxProbeText {
		return s
	}
	cut := maxProbeText - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// probeRecordCols are the columns recording results needs.
const probeRecordCols = `p.id, sv.slug, p.name, p.url, p.failure_threshold, p.success_threshold, p.severity, p.state,
	p.consecutive_failures, p.consecutive_successes, p.result_seq, p.service_id`

// lookupProbes reads (PostgreSQL: locks, in ID order) what recording results needs of the probes with the given
// sorted IDs; missing ones are absent from the map.
func (t *txn) lookupProbes(ids []string) (map[string]*probeRow, error) {
	out := make(map[string]*probeRow, len(ids))
	for rest := ids; len(rest) > 0; {
		chunk := rest[:min(len(rest), probeLookupChunk)]
		rest = rest[len(chunk):]
		n := paddedSize(len(chunk))
		args := make([]any, n)
		for i := range n {
			args[i] = chunk[min(i, len(chunk)-1)]
		}
		rows, err := t.query(`SELECT `+probeRecordCols+probeFrom+` WHERE p.id IN (`+placeholders(n)+`) ORDER BY p.id`+
			t.s.d.lockOf("p"), args...)
		if err != nil {
			return nil, wrap(err, "look up probes")
		}
		for rows.Next() {
			p := &probeRow{}
			var severity, state string
			err := rows.Scan(&p.ID, &p.Service, &p.Name, &p.URL, &p.FailureThreshold, &p.SuccessThreshold, &severity,
				&state, &p.ConsecutiveFailures, &p.ConsecutiveSuccesses, &p.seq, &p.serviceID)
			p.Severity, p.State = firebreak.AlertSeverity(severity), firebreak.ProbeState(state)
			if err != nil {
				rows.Close()
				return nil, wrap(err, "look up probes")
			}
			out[p.ID] = p
		}
		if err := rows.Close(); err != nil {
			return nil, wrap(err, "look up probes")
		}
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "look up probes")
		}
	}
	return out, nil
}

func paddedSize(n int) int {
	for _, sz := range probeLookupSizes {
		if sz >= n {
			return sz
		}
	}
	return n
}

// loadRollups adds the stored counts to the rollups about to be written (hours within [minHour, maxHour]).
func (t *txn) loadRollups(rollups map[rollupKey]*rollup, minHour, maxHour time.Time) error {
	seen := map[string]bool{}
	var ids []string
	for k := range rollups {
		if !seen[k.probeID] {
			seen[k.probeID] = true
			ids = append(ids, k.probeID)
		}
	}
	slices.Sort(ids)
	for rest := ids; len(rest) > 0; {
		chunk := rest[:min(len(rest), probeLookupChunk)]
		rest = rest[len(chunk):]
		n := paddedSize(len(chunk))
		args := make([]any, 0, n+2)
		args = append(args, t.s.d.ts(minHour), t.s.d.ts(maxHour))
		for i := range n {
			args = append(args, chunk[min(i, len(chunk)-1)])
		}
		rows, err := t.query(`SELECT probe_id, hour, checks, successes, histogram FROM probe_rollups
			WHERE hour >= ? AND hour <= ? AND probe_id IN (`+placeholders(n)+`)`, args...)
		if err != nil {
			return wrap(err, "load probe statistics")
		}
		for rows.Next() {
			var k rollupKey
			var stored rollup
			var hist string
			if err := rows.Scan(&k.probeID, tsCol(&k.hour), &stored.checks, &stored.successes, &hist); err != nil {
				rows.Close()
				return wrap(err, "load probe statistics")
			}
			r := rollups[k]
			if r == nil {
				continue
			}
			if err := stored.decodeHist(hist); err != nil {
				rows.Close()
				return wrap(err, "load probe statistics")
			}
			r.merge(&stored)
		}
		if err := rows.Close(); err != nil {
			return wrap(err, "load probe statistics")
		}
		if err := rows.Err(); err != nil {
			return wrap(err, "load probe statistics")
		}
	}
	return nil
}

// upsertRows runs head + VALUES rows + tail in chunks (rows of width values each).
func (t *txn) upsertRows(head string, width int, rows [][]any, tail, what string) error {
	row := "(" + placeholders(width) + ")"
	for len(rows) > 0 {
		n := chunkSize(len(rows))
		chunk := rows[:n]
		rows = rows[n:]
		args := make([]any, 0, n*width)
		for _, r := range chunk {
			args = append(args, r...)
		}
		if _, err := t.exec(head+strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")+tail, args...); err != nil {
			return wrap(err, what)
		}
	}
	return nil
}

// --- alerts ----------------------------------------------------------------------------------------------------

// probeAlertEvent is the event a probe's threshold crossing sends (action trigger or resolve) for result r.
func probeAlertEvent(p *probeRow, action string, r *firebreak.ProbeResult) firebreak.AlertEvent {
	ev := firebreak.AlertEvent{Action: action, DedupKey: probeAlertPrefix + p.ID, Severity: p.Severity,
		Source: p.URL, Labels: map[string]string{"probe": p.Name, "service": p.Service, "alertname": p.Name},
		Links: []firebreak.AlertLink{{Href: p.URL}}}
	if d, err := json.Marshal(map[string]string{"probe_id": p.ID}); err == nil {
		ev.Details = string(d)
	}
	if action == "resolve" {
		ev.Summary, ev.EndsAt = p.Name+" is up", r.At
		return ev
	}
	reason := r.Error
	if reason == "" {
		reason = strings.Join(r.FailedConditions, ", ")
	}
	if reason == "" {
		reason = "check failed"
	}
	ev.Summary, ev.StartsAt = p.Name+" is down: "+reason, r.At
	return ev
}

// resolveProbeAlert resolves the firing alert of a probe that is down (deleted, disabled or moved).
func (t *txn) resolveProbeAlert(p *probeRow, now time.Time) error {
	return t.probeAlerts(p.serviceID, []firebreak.AlertEvent{probeAlertEvent(p, "resolve",
		&firebreak.ProbeResult{At: now})}, now)
}

// probeAlerts sends events through the service's probe integration, as intake does.
func (t *txn) probeAlerts(serviceID string, events []firebreak.AlertEvent, now time.Time) error {
	payloads, err := validateEvents(events)
	if err != nil {
		return fmt.Errorf("sqlstore: probe alert: %w", err)
	}
	g, err := t.probeIntegration(serviceID, now)
	if err != nil {
		return err
	}
	_, err = t.ingestAlerts(g, events, payloads, now, nil)
	return err
}

// probeIntegration returns the service's hidden probe integration, creating it if need be. Its secret hash is
// not a SHA-256 hex digest, so no key authenticates as it.
func (t *txn) probeIntegration(serviceID string, now time.Time) (*firebreak.Integration, error) {
	kind := string(firebreak.IntegrationProbe)
	var id string
	err := t.row(`SELECT id FROM integrations WHERE service_id = ? AND kind = ?`, serviceID, kind).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := t.exec(`INSERT INTO integrations (id, service_id, kind, name, secret_hash, signature_secret,
			created_at) VALUES (?, ?, ?, ?, ?, '', ?) ON CONFLICT (service_id) WHERE kind = 'probe' DO NOTHING`,
			newID(), serviceID, kind, "probes", "unusable-"+newIntegrationKey(), t.s.d.ts(now)); err != nil {
			return nil, wrap(err, "create probe integration")
		}
		err = t.row(`SELECT id FROM integrations WHERE service_id = ? AND kind = ?`, serviceID, kind).Scan(&id)
	}
	if err != nil {
		return nil, wrap(err, "probe integration")
	}
	return t.integrationByID(id)
}
