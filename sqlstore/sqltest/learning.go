package sqltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak/sqlstore"
)

// Generated data for the learning benchmarks (knowledge-base search, related incidents, the metrics dashboard):
// deterministic (fixed seed), written with Bulk. The text is incident-like: titles combine a component, a
// symptom and a cause from small vocabularies; bodies mix those words with a long tail of 4,000 filler words
// drawn with a Zipf distribution, so that common words match many documents and rare ones few.

var (
	benchComponents = strings.Fields(`checkout payments cart search catalog inventory orders shipping auth login
		sessions api gateway cdn dns db postgres redis cache kafka queue worker scheduler storage email
		notifications billing invoices ledger ingress loadbalancer certificate vpn sso metrics logging tracing
		elasticsearch replica primary backup cron recommendations pricing profile uploads media websocket mobile
		webhooks reporting`)
	benchSymptoms = strings.Fields(`latency errors 5xx timeouts outage degraded unavailable slow failing exhausted
		saturated leak crashloop oom lag stale dropped duplicate corrupt expired throttled partial spike flapping
		backlog deadlock failover restarts`)
	benchCauses = strings.Fields(`deploy config change migration certificate expiry quota capacity disk memory cpu
		network partition dependency vendor flag rollout schema index vacuum retries storm herd ttl eviction
		connection pool limit regression race clock skew leader election upgrade kernel patch`)
	benchTeams      = strings.Fields(`payments discovery platform identity data growth mobile infra edge billing`)
	benchCategories = strings.Fields(`change_release code_design capacity_scale infrastructure dependencies
		observability process knowledge_tooling unknown`)
)

// textGen draws incident-like words.
type textGen struct {
	r      *rand.Rand
	filler []string
	zipf   *rand.Zipf
}

func newTextGen(seed uint64) *textGen {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	syl := strings.Fields("ka lo mi ner tus pra vel den sor qui bal fen gor hul jin kor lum mas nop rut sil tav")
	g := &textGen{r: r}
	seen := map[string]bool{}
	for len(g.filler) < 4000 {
		n := 2 + r.IntN(3)
		var w string
		for range n {
			w += syl[r.IntN(len(syl))]
		}
		if !seen[w] {
			seen[w] = true
			g.filler = append(g.filler, w)
		}
	}
	g.zipf = rand.NewZipf(r, 1.1, 2, uint64(len(g.filler)-1))
	return g
}

func (g *textGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

// words returns n words: one in four from the incident vocabularies, the rest filler.
func (g *textGen) words(n int) string {
	out := make([]string, n)
	for i := range out {
		switch g.r.IntN(12) {
		case 0:
			out[i] = g.pick(benchComponents)
		case 1:
			out[i] = g.pick(benchSymptoms)
		case 2:
			out[i] = g.pick(benchCauses)
		default:
			out[i] = g.filler[g.zipf.Uint64()]
		}
	}
	return strings.Join(out, " ")
}

func (g *textGen) title(component string) string {
	t := strings.ToUpper(component[:1]) + component[1:] + " " + g.pick(benchSymptoms)
	switch g.r.IntN(3) {
	case 0:
		t += " after " + g.pick(benchCauses) + " " + g.pick(benchCauses)
	case 1:
		t += " during " + g.pick(benchCauses)
	}
	if g.r.IntN(4) == 0 {
		t += " (" + g.filler[g.zipf.Uint64()] + ")"
	}
	return t
}

// lognormal returns a duration with median med and spread sigma (in log space).
func (g *textGen) lognormal(med time.Duration, sigma float64) time.Duration {
	return time.Duration(float64(med) * math.Exp(sigma*g.r.NormFloat64()))
}

// bulkServices inserts one service per component, owned by the teams in turn (unless a service of that slug
// exists), and returns their slugs.
func bulkServices(b *Bulk, now time.Time) []string {
	var rows [][]any
	for i, c := range benchComponents {
		rows = append(rows, []any{ID(0x5e, i+1), c, c, benchTeams[i%len(benchTeams)], 1 + i%3, b.TS(now),
			b.TS(now), 1})
	}
	b.InsertNew("services", []string{"id", "slug", "name", "owner_team", "tier", "created_at", "updated_at",
		"version"}, rows)
	return benchComponents
}

// LearningCorpus describes what GenerateLearning wrote.
type LearningCorpus struct {
	Incidents int
	// Queries are knowledge-base queries that match (words of the vocabularies, phrases, prefixes).
	Queries []string
}

// GenerateLearning writes n incidents declared over the year before now, each with a post-mortem (a document
// row and five section rows in search_docs, one or two cause categories), two timeline notes, affected services,
// and, for three in ten, one to three alerts from a pool of recurring alerts (alert_attached events); half have
// two action items in mixed statuses. The store must have been opened (migrated) with o and be idle.
func GenerateLearning(t testing.TB, o sqlstore.Options, n int, now time.Time) LearningCorpus {
	t.Helper()
	b := OpenBulk(t, o)
	g := newTextGen(42)
	services := bulkServices(b, now)
	// One Alertmanager integration per service and a pool of 3,000 alerts, 60 per service or so.
	var integ, alerts [][]any
	alertsOf := map[string][]string{}
	alertKey := map[string]string{}
	for i, svc := range services {
		integ = append(integ, []any{ID(0x1a, i+1), ID(0x5e, i+1), "alertmanager", svc + " alerts",
			fmt.Sprintf("%064x", i+1), b.TS(now)})
	}
	b.Insert("integrations", []string{"id", "service_id", "kind", "name", "secret_hash", "created_at"}, integ)
	for i := range 3000 {
		si := i % len(services)
		id := ID(0xa1, i+1)
		key := fmt.Sprintf("%s-%s-%d", services[si], g.pick(benchSymptoms), i)
		alertsOf[services[si]] = append(alertsOf[services[si]], id)
		alertKey[id] = key
	}
	lastIncident := map[string]string{}
	span := 365 * 24 * time.Hour
	var incs, isvc, pms, docs, notes, attached, items [][]any
	flush := func(force bool) {
		if !force && len(incs) < 2000 {
			return
		}
		b.Insert("incidents", []string{"id", "number", "title", "summary", "severity", "status", "commander",
			"detected_at", "declared_at", "acknowledged_at", "mitigated_at", "resolved_at", "created_by",
			"created_at", "updated_at", "version"}, incs)
		b.Insert("incident_services", []string{"incident_id", "position", "service_slug"}, isvc)
		b.Insert("postmortems", []string{"id", "incident_id", "status", "title", "document", "created_by",
			"created_at", "updated_at", "version", "categories"}, pms)
		b.Insert("search_docs", []string{"kind", "doc_id", "incident_id", "part", "part_id", "title", "body",
			"context"}, docs)
		b.Insert("timeline_events", []string{"incident_id", "occurred_at", "recorded_at", "kind", "message",
			"actor", "starred", "data"}, append(notes, attached...))
		b.Insert("action_items", []string{"id", "incident_id", "title", "owner", "due_date", "priority", "kind",
			"status", "created_at", "updated_at", "version"}, items)
		incs, isvc, pms, docs, notes, attached, items = nil, nil, nil, nil, nil, nil, nil
	}
	statuses := []string{"open", "in_progress", "done", "verified", "verified", "not_doing"}
	for i := 1; i <= n; i++ {
		id := ID(0x1c, i)
		declared := now.Add(-span + time.Duration(float64(span)*float64(i)/float64(n+1)))
		svc := services[g.r.IntN(len(services))]
		title := g.title(svc)
		sev := []string{"SEV1", "SEV2", "SEV2", "SEV3", "SEV3", "SEV3", "SEV3", "SEV3", "SEV3", "SEV3"}[g.r.IntN(10)]
		detected := declared.Add(-g.lognormal(3*time.Minute, 1))
		acked := declared.Add(g.lognormal(4*time.Minute, 1))
		mitigated := acked.Add(g.lognormal(40*time.Minute, 1.2))
		resolved := mitigated.Add(g.lognormal(30*time.Minute, 1))
		incs = append(incs, []any{id, i, title, g.words(12 + g.r.IntN(20)), sev, "resolved", "alice",
			b.TS(detected), b.TS(declared), b.TS(acked), b.TS(mitigated), b.TS(resolved), "bench",
			b.TS(declared), b.TS(resolved), 1})
		isvc = append(isvc, []any{id, 0, svc})
		if g.r.IntN(4) == 0 {
			if other := services[g.r.IntN(len(services))]; other != svc {
				isvc = append(isvc, []any{id, 1, other})
			}
		}
		pmID := ID(0x9a, i)
		cats := g.pick(benchCategories)
		if g.r.IntN(2) == 0 {
			if c2 := g.pick(benchCategories); c2 != cats {
				cats += " " + c2
			}
		}
		pms = append(pms, []any{pmID, id, "published", title, "{}", "bench", b.TS(resolved), b.TS(resolved), 1, cats})
		docs = append(docs, []any{"postmortem", pmID, id, "postmortem", pmID, title, g.words(40), title})
		for _, part := range []string{"trigger", "lead_up", "contributing_factors[0].description",
			"contributing_factors[1].description", "lessons_learned[0]"} {
			docs = append(docs, []any{"postmortem", pmID, id, "section", part, "", g.words(15 + g.r.IntN(30)), title})
		}
		for k := range 2 {
			at := declared.Add(time.Duration(k+1) * 5 * time.Minute)
			notes = append(notes, []any{id, b.TS(at), b.TS(at), "note", g.words(8 + g.r.IntN(8)), "alice", false, nil})
		}
		if g.r.IntN(10) < 3 {
			pool := alertsOf[svc]
			for range 1 + g.r.IntN(3) {
				aid := pool[g.r.IntN(len(pool))]
				data := fmt.Sprintf(`{"alert_id":%q,"dedup_key":%q,"source":"alertmanager"}`, aid, alertKey[aid])
				attached = append(attached, []any{id, b.TS(declared), b.TS(declared), "alert_attached",
					"Alert joined: " + alertKey[aid], "alertmanager", false, data})
				lastIncident[aid] = id
			}
		}
		if g.r.IntN(2) == 0 {
			for k := range 2 {
				items = append(items, []any{ID(0xac, i*2+k), id, "Fix " + g.words(4), "bob", "", "medium",
					"prevent", statuses[g.r.IntN(len(statuses))], b.TS(resolved), b.TS(resolved), 1})
			}
		}
		flush(false)
	}
	flush(true)
	for i := range 3000 {
		id := ID(0xa1, i+1)
		si := i % len(services)
		var inc any
		if x, ok := lastIncident[id]; ok {
			inc = x
		}
		alerts = append(alerts, []any{id, ID(0x1a, si+1), alertKey[id], "resolved", "Alert " + alertKey[id],
			"critical", b.TS(now.Add(-span)), b.TS(now), 1, inc})
	}
	b.Insert("alerts", []string{"id", "integration_id", "dedup_key", "status", "summary", "severity",
		"first_seen_at", "last_seen_at", "occurrences", "incident_id"}, alerts)
	b.Exec(`UPDATE counters SET value = ? WHERE name = 'incident_number'`, n)
	b.Commit()
	return LearningCorpus{Incidents: n, Queries: []string{
		"connection pool exhausted", "checkout 5xx", "certificate expiry", "dns", "kafka lag", "payment*",
		`"disk full"`, "redis eviction storm", "deploy regression -staging", "failover replica primary",
		"oom crashloop worker", "quota throttled api", g.filler[3] + " " + g.filler[40], g.filler[900]}}
}

// GenerateMetrics writes n incidents declared over span before now (with their services, whose owner teams give
// the team groups), as the metrics read them: milestones with log-normal durations, a few cancelled, the last
// ones still open. The search trigger on incidents and the title index are dropped first in this throwaway database
// (the dashboard does not search, and indexing a million titles only makes the setup slow).
func GenerateMetrics(t testing.TB, o sqlstore.Options, n int, now time.Time, span time.Duration) {
	t.Helper()
	b := OpenBulk(t, o)
	if b.Postgres() {
		b.Exec(`ALTER TABLE incidents DISABLE TRIGGER search_incidents`)
		b.Exec(`DROP INDEX incidents_title_tsv`)
		// The kept months' triggers (migration 00018) have no month to clear in a new database; on PostgreSQL
		// they would triple the load's time (a function call per row). Enabled again below.
		b.Exec(`ALTER TABLE incidents DISABLE TRIGGER metrics_months_insert_delete`)
		b.Exec(`ALTER TABLE incident_services DISABLE TRIGGER metrics_months_services`)
	} else {
		b.Exec(`DROP TRIGGER search_incidents_ai`)
		b.Exec(`DROP TRIGGER incident_titles_ai`)
	}
	g := newTextGen(7)
	services := bulkServices(b, now)
	var incs, isvc [][]any
	for i := 1; i <= n; i++ {
		id := ID(0x1c, i)
		declared := now.Add(-span + time.Duration(float64(span)*float64(i)/float64(n+1)))
		svc := services[g.r.IntN(len(services))]
		sev := []string{"SEV1", "SEV2", "SEV2", "SEV3", "SEV3", "SEV3", "SEV3", "SEV3", "SEV3", "SEV3"}[g.r.IntN(10)]
		var impact *time.Time
		if g.r.IntN(10) < 7 {
			x := declared.Add(-g.lognormal(12*time.Minute, 1))
			impact = &x
		}
		detected := declared.Add(-g.lognormal(3*time.Minute, 1))
		acked := declared.Add(g.lognormal(4*time.Minute, 1))
		mitigated := acked.Add(g.lognormal(40*time.Minute, 1.2))
		resolved := mitigated.Add(g.lognormal(30*time.Minute, 1))
		status := "resolved"
		var closed *time.Time
		if g.r.IntN(3) == 0 {
			x := resolved.Add(48 * time.Hour)
			status, closed = "closed", &x
		}
		ack, mit, res := &acked, &mitigated, &resolved
		switch {
		case g.r.IntN(50) == 0:
			status, ack, mit, res, closed = "cancelled", nil, nil, nil, nil
		case resolved.After(now):
			status, mit, res, closed = "investigating", nil, nil, nil
			if mitigated.Before(now) {
				status, mit = "mitigating", &mitigated
			}
		}
		if closed != nil && closed.After(now) {
			status, closed = "resolved", nil
		}
		updated := declared
		for _, x := range []*time.Time{ack, mit, res, closed} {
			if x != nil && x.After(updated) {
				updated = *x
			}
		}
		incs = append(incs, []any{id, i, g.title(svc), "", sev, status, "alice", b.NTS(impact), b.TS(detected),
			b.TS(declared), b.NTS(ack), b.NTS(mit), b.NTS(res), b.NTS(closed), "bench", b.TS(declared),
			b.TS(updated), 1})
		isvc = append(isvc, []any{id, 0, svc})
		if g.r.IntN(5) == 0 {
			if other := services[g.r.IntN(len(services))]; other != svc {
				isvc = append(isvc, []any{id, 1, other})
			}
		}
		if len(incs) >= 5000 || i == n {
			b.Insert("incidents", []string{"id", "number", "title", "summary", "severity", "status", "commander",
				"impact_started_at", "detected_at", "declared_at", "acknowledged_at", "mitigated_at", "resolved_at",
				"closed_at", "created_by", "created_at", "updated_at", "version"}, incs)
			b.Insert("incident_services", []string{"incident_id", "position", "service_slug"}, isvc)
			incs, isvc = nil, nil
		}
	}
	b.Exec(`UPDATE counters SET value = ? WHERE name = 'incident_number'`, n)
	if b.Postgres() {
		b.Exec(`ALTER TABLE incidents ENABLE TRIGGER metrics_months_insert_delete`)
		b.Exec(`ALTER TABLE incident_services ENABLE TRIGGER metrics_months_services`)
	}
	b.Commit()
}
