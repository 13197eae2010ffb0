package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	firebreak "github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/analysis"
	"github.com/firebreak/firebreak/notify"
)

// Related and recurring incidents (migration 00017_related.sql; scoring in analysis/related.go).
//
// Candidates come from three indexed lookups: the full-text index (search_docs: the incident's words against other
// incidents' titles, summaries and post-mortems, in two bounded queries, see relatedTextScores), the alerts ever
// attached to the incident (the alert_attached timeline events, indexed by alert id), and the most recent
// incidents of its services. Each candidate's signals are then measured in a few batched queries and combined by
// analysis.Relate.
//
// Recurrence detection is durable background work, not part of the transaction that opens the incident: alert
// intake opens incidents inside SQLite's single-writer group commit, where a full-text query would hold up every
// other write, and on PostgreSQL it would lengthen the intake transaction while it holds the group's advisory
// lock. The opening transaction only inserts a recurrence_checks row (one small INSERT); the engine claims due
// rows in batches (ClaimRecurrenceChecks: checks that cannot match are finished there, the others leased),
// computes the related incidents on the read pool, and records the outcome in a short write transaction that
// deletes the row, so a crash or a failing check is retried and a warning is written at most once.

var _ firebreak.RelatedService = (*Store)(nil)

const (
	relatedTextCandidates = 60   // best full-text matches considered
	relatedRecentPerSvc   = 20   // most recent incidents per shared service
	relatedMaxServices    = 8    // services of the incident looked at
	relatedMaxAlerts      = 200  // alerts of the incident looked at
	relatedMaxAlertRows   = 2000 // (incident, alert) pairs read for them
	relatedMaxSections    = 40   // post-mortem rows read for the incident's keywords
)

// alertIDExpr is the indexed expression of timeline_events_alert (migration 00017), per dialect.
func (d *dialect) alertIDExpr() string {
	if d.name == dialectPostgres {
		return `((data::jsonb) ->> 'alert_id')`
	}
	return `json_extract(data, '$.alert_id')`
}

// inBuckets are the lengths IN lists are padded to, so that lists of varying length share a few statements.
var inBuckets = []int{1, 4, 16, 64, 256, 1024}

// paddedIn returns the placeholders and arguments of an IN list of vals (non-empty, at most 1024), padded by
// repeating the last value.
func paddedIn(vals []string) (string, []any) {
	n := inBuckets[len(inBuckets)-1]
	for _, b := range inBuckets {
		if b >= len(vals) {
			n = b
			break
		}
	}
	args := make([]any, n)
	for i := range args {
		args[i] = vals[min(i, len(vals)-1)]
	}
	return placeholders(n), args
}

// relatedSubject is what the incident whose related incidents are wanted brings to the comparison.
type relatedSubject struct {
	id, title, summary string
	number             int64
	declared           time.Time
	services           []string
	categories         []string
	keywords           []string
	alerts             map[string]string // alert id → dedup key
}

// relatedCandidate is another incident and the signals measured against the subject.
type relatedCandidate struct {
	firebreak.RelatedIncident
	number     int64
	summary    string
	declared   time.Time
	text       float64
	alerts     []string // shared alert ids
	categories []string
	unverified int
}

func splitCategories(s string) []string {
	out := []string{}
	for _, c := range strings.Fields(s) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// relatedSubjectOf loads the incident with ID id and its keywords, services, categories and alerts.
func (x q) relatedSubjectOf(id string) (*relatedSubject, error) {
	const what = "related incidents"
	sub := &relatedSubject{id: id, alerts: map[string]string{}}
	var declared *time.Time
	var created time.Time
	if err := x.row(`SELECT number, title, summary, declared_at, created_at FROM incidents WHERE id = ?`, id).
		Scan(&sub.number, &sub.title, &sub.summary, ntsCol(&declared), tsCol(&created)); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("incident %s not found", id)
		}
		return nil, wrap(err, what)
	}
	sub.declared = created
	if declared != nil {
		sub.declared = *declared
	}
	var err error
	if sub.services, err = x.column("related incidents", `SELECT service_slug FROM incident_services WHERE incident_id = ?
		ORDER BY position`, id); err != nil {
		return nil, err
	}
	cats, err := x.column("related incidents", `SELECT categories FROM postmortems WHERE incident_id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(cats) > 0 {
		sub.categories = splitCategories(cats[0])
	}
	// The keywords: the title and summary first, then the post-mortem's title, summary, trigger and factors.
	texts := []string{sub.title, sub.summary}
	rows, err := x.query(`SELECT title, body FROM search_docs WHERE incident_id = ? AND kind = 'postmortem'
		AND (part = 'postmortem' OR part_id = 'trigger' OR part_id LIKE 'contributing_factors%') ORDER BY id LIMIT ?`,
		id, relatedMaxSections)
	if err != nil {
		return nil, wrap(err, what)
	}
	for rows.Next() {
		var t, b string
		if err := rows.Scan(&t, &b); err != nil {
			rows.Close()
			return nil, wrap(err, what)
		}
		texts = append(texts, t, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap(err, what)
	}
	sub.keywords = analysis.Keywords(analysis.MaxKeywords, texts...)
	// Its alerts: those attached now, and those attached once (they may have moved on to a later incident).
	if err := x.alertKeys(sub.alerts, `SELECT id, dedup_key FROM alerts WHERE incident_id = ?
		ORDER BY first_seen_at, id LIMIT ?`, id, relatedMaxAlerts); err != nil {
		return nil, err
	}
	if len(sub.alerts) < relatedMaxAlerts {
		once, err := x.column("related incidents", `SELECT DISTINCT `+x.s.d.alertIDExpr()+` FROM timeline_events
			WHERE incident_id = ? AND kind = 'alert_attached' LIMIT ?`, id, relatedMaxAlerts)
		if err != nil {
			return nil, err
		}
		var missing []string
		for _, aid := range once {
			if _, ok := sub.alerts[aid]; !ok && len(sub.alerts)+len(missing) < relatedMaxAlerts {
				missing = append(missing, aid)
			}
		}
		if len(missing) > 0 {
			in, args := paddedIn(missing)
			if err := x.alertKeys(sub.alerts, `SELECT id, dedup_key FROM alerts WHERE id IN (`+in+`)`,
				args...); err != nil {
				return nil, err
			}
		}
	}
	return sub, nil
}

// alertKeys adds the (alert id, dedup key) rows of query to into.
func (x q) alertKeys(into map[string]string, query string, args ...any) error {
	rows, err := x.query(query, args...)
	if err != nil {
		return wrap(err, "related incidents")
	}
	defer rows.Close()
	for rows.Next() {
		var aid, key string
		if err := rows.Scan(&aid, &key); err != nil {
			return wrap(err, "related incidents")
		}
		into[aid] = key
	}
	return wrap(rows.Err(), "related incidents")
}

// The text signal comes from two full-text queries whose cost is bounded whatever the size of the knowledge base
// (an OR query over an incident's words would rank every document sharing any common word):
//
//   - the title query: incidents whose title has all of the subject's title words, the relatedTitleRows most
//     recent of them, over an index of incident titles alone (migration 00019: over the search index the words'
//     occurrences in every body and context made it cost tens of milliseconds);
//   - the rare-words query: documents with any of the subject's keywords that occur in at most relatedRareDocs
//     documents (checked per word with a query that stops counting there), so few rows match by construction.
//
// Each query's scores are divided by the subject's own score for it (it matches all of its own words), and an
// incident's text signal is the better of the two, capped at 1.
const (
	relatedTitleRows  = 500 // documents the title query ranks
	relatedTitleWords = 6   // title words it requires
	relatedRareDocs   = 100 // a keyword in more documents than this is too common for the rare-words query
)

// ftsWords quotes words for an FTS5 query (they contain only letters and digits: analysis.Keywords).
func ftsWords(words []string, op string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = `"` + w + `"`
	}
	return strings.Join(quoted, " "+op+" ")
}

// rareKeywords returns the keywords that occur in at most relatedRareDocs documents, counted for each word with a
// query that stops at the limit. Counting reads the word's posting list, which for a common word is long on
// PostgreSQL (the GIN index decodes all of it), so there the planner's statistics rule out the common words first:
// a word whose lexeme is among the most common elements of the search vectors (pg_stats of search_docs.tsv, kept
// by ANALYZE) is not rare.
func (x q) rareKeywords(words []string) ([]string, error) {
	if len(words) == 0 {
		return nil, nil
	}
	query := `SELECT COUNT(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT ?)`
	if x.s.d.name == dialectPostgres {
		var err error
		if words, err = x.column("related incidents", `SELECT kw FROM unnest(?::text[]) WITH ORDINALITY AS k(kw, n)
			WHERE NOT EXISTS (SELECT 1 FROM pg_stats s,
				unnest(s.most_common_elems::text::text[]) AS e(elem),
				unnest(tsvector_to_array(to_tsvector('english'::regconfig, k.kw))) AS l(lexeme)
				WHERE s.schemaname = current_schema() AND s.tablename = 'search_docs' AND s.attname = 'tsv' AND
					e.elem = l.lexeme)
			ORDER BY n`, words); err != nil {
			return nil, err
		}
		// MATERIALIZED plans the match on its own (the GIN index) and stops reading rows at the LIMIT; without
		// it, the LIMIT makes the planner scan the table, testing every row's vector until it finds enough.
		query = `WITH m AS MATERIALIZED (SELECT 1 FROM search_docs d
			WHERE ` + pgSearchVector + ` @@ to_tsquery('english'::regconfig, ?))
			SELECT COUNT(*) FROM (SELECT 1 FROM m LIMIT ?) x`
	}
	var out []string
	for _, w := range words {
		arg := w
		if x.s.d.name != dialectPostgres {
			arg = `{title body} : "` + w + `"`
		}
		var n int
		if err := x.row(query, arg, relatedRareDocs+1).Scan(&n); err != nil {
			return nil, wrap(err, "related incidents: text")
		}
		if n <= relatedRareDocs {
			out = append(out, w)
		}
	}
	return out, nil
}

// pgTitleVector must stay identical to the expression of the incidents_title_tsv index.
const pgTitleVector = `to_tsvector('english'::regconfig, i.title)`

// titleQuery runs the title query: the incidents whose title has every word, the most recent first, scored by
// their titles alone; the subject included (scored alone if the query's limit left it out).
func (x q) titleQuery(sub *relatedSubject, words []string) (map[string]float64, error) {
	var query, self string
	arg := ftsWords(words, "AND")
	if x.s.d.name == dialectPostgres {
		arg = strings.Join(words, " & ")
		query = `SELECT i.id, ts_rank(` + pgTitleVector + `, q.q) AS score
			FROM (SELECT to_tsquery('english'::regconfig, ?) AS q) q, incidents i
			WHERE ` + pgTitleVector + ` @@ q.q ORDER BY i.number DESC LIMIT ?`
		self = `SELECT ts_rank(` + pgTitleVector + `, q.q) FROM (SELECT to_tsquery('english'::regconfig, ?) AS q) q,
			incidents i WHERE i.number = ? AND ` + pgTitleVector + ` @@ q.q`
	} else {
		// bm25 is lower for better matches.
		query = `SELECT i.id, m.score FROM (SELECT rowid AS n, -bm25(incident_titles_fts) AS score
				FROM incident_titles_fts WHERE incident_titles_fts MATCH ? ORDER BY rowid DESC LIMIT ?) m
			JOIN incidents i ON i.number = m.n`
		self = `SELECT -bm25(incident_titles_fts) FROM incident_titles_fts
			WHERE incident_titles_fts MATCH ? AND rowid = ?`
	}
	return x.scores("related incidents: title", sub.id, query, []any{arg, relatedTitleRows}, self,
		[]any{arg, sub.number})
}

// scores runs a text query returning (incident id, score) rows and, when they leave out the subject, self (one
// score, or no row) for it.
func (x q) scores(what, subjectID, query string, args []any, self string, selfArgs []any) (map[string]float64,
	error) {
	rows, err := x.query(query, args...)
	if err != nil {
		return nil, wrap(err, what)
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var id string
		var score float64
		if err := rows.Scan(&id, &score); err != nil {
			return nil, wrap(err, what)
		}
		out[id] = score
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, what)
	}
	if _, ok := out[subjectID]; !ok {
		var v sql.NullFloat64
		if err := x.row(self, selfArgs...).Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, wrap(err, what)
		}
		if v.Valid {
			out[subjectID] = v.Float64
		}
	}
	return out, nil
}

// textQuery runs the rare-words query (the OR of words over titles and bodies) and returns the best score per
// incident, the subject's included (scored alone if the query's limit left it out).
func (x q) textQuery(sub *relatedSubject, words []string) (map[string]float64, error) {
	const parts = `d.part IN ('incident', 'postmortem', 'section')`
	var query, self string
	var arg any
	limit := relatedTextCandidates
	if x.s.d.name == dialectPostgres {
		op, inner := " | ", ``
		arg = strings.Join(words, op)
		// The matching rows first (GIN index), then ts_rank on them only.
		query = `SELECT m.incident_id, MAX(ts_rank(` + pgSearchVector + `, q.q)) AS best
			FROM (SELECT to_tsquery('english'::regconfig, ?) AS q) q,
			(SELECT d.id, d.incident_id FROM (SELECT to_tsquery('english'::regconfig, ?) AS q) q, search_docs d
				WHERE ` + pgSearchVector + ` @@ q.q AND ` + parts + inner + `) m
			JOIN search_docs d ON d.id = m.id
			GROUP BY m.incident_id ORDER BY best DESC, m.incident_id LIMIT ?`
		self = `SELECT MAX(ts_rank(` + pgSearchVector + `, q.q)) FROM (SELECT to_tsquery('english'::regconfig, ?) AS q) q,
			search_docs d WHERE d.incident_id = ? AND ` + parts + ` AND ` + pgSearchVector + ` @@ q.q`
	} else {
		// bm25 is lower for better matches; the title column weighs most, context (the incident's title repeated
		// on every row) not at all. The LIMIT keeps SQLite from flattening the subquery into the aggregate, where
		// an FTS5 auxiliary function cannot run.
		inner := ` LIMIT -1`
		arg = `{title body} : (` + ftsWords(words, "OR") + `)`
		query = `SELECT d.incident_id, MAX(m.score) AS best FROM (
			SELECT rowid AS id, -bm25(search_fts, 10.0, 2.0, 0.0) AS score FROM search_fts
			WHERE search_fts MATCH ?` + inner + `) m JOIN search_docs d ON d.id = m.id WHERE ` + parts + `
			GROUP BY d.incident_id ORDER BY best DESC, d.incident_id LIMIT ?`
		self = `SELECT MAX(score) FROM (SELECT -bm25(search_fts, 10.0, 2.0, 0.0) AS score
			FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid
			WHERE search_fts MATCH ? AND d.incident_id = ? AND ` + parts + ` LIMIT -1) m`
	}
	args := []any{arg, limit}
	if x.s.d.name == dialectPostgres {
		args = []any{arg, arg, limit}
	}
	return x.scores("related incidents: text", sub.id, query, args, self, []any{arg, sub.id})
}

// relatedTextScores returns the text signal in [0, 1] of the incidents whose text is most like the subject's
// (the subject excluded).
func (x q) relatedTextScores(sub *relatedSubject) (map[string]float64, error) {
	out := map[string]float64{}
	merge := func(scores map[string]float64) {
		self := scores[sub.id]
		if self <= 0 {
			return
		}
		for id, v := range scores {
			if id != sub.id {
				out[id] = max(out[id], min(1, v/self))
			}
		}
	}
	if words := analysis.Keywords(relatedTitleWords, sub.title); len(words) > 0 {
		scores, err := x.titleQuery(sub, words)
		if err != nil {
			return nil, err
		}
		merge(scores)
	}
	rare, err := x.rareKeywords(sub.keywords)
	if err != nil {
		return nil, err
	}
	if len(rare) > 0 {
		scores, err := x.textQuery(sub, rare)
		if err != nil {
			return nil, err
		}
		merge(scores)
	}
	return out, nil
}

// relatedCandidates measures every candidate against the subject and returns them scored, best first.
func (x q) relatedCandidates(sub *relatedSubject) ([]relatedCandidate, error) {
	const what = "related incidents"
	text, err := x.relatedTextScores(sub)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for id := range text {
		ids[id] = true
	}
	// Incidents the subject's alerts were ever attached to.
	shared := map[string][]string{} // candidate → shared alert ids
	if len(sub.alerts) > 0 {
		aids := make([]string, 0, len(sub.alerts))
		for aid := range sub.alerts {
			aids = append(aids, aid)
		}
		slices.Sort(aids)
		in, args := paddedIn(aids)
		expr := x.s.d.alertIDExpr()
		rows, err := x.query(`SELECT DISTINCT incident_id, `+expr+` FROM timeline_events
			WHERE kind = 'alert_attached' AND `+expr+` IN (`+in+`) AND incident_id <> ? LIMIT ?`,
			append(args, sub.id, relatedMaxAlertRows)...)
		if err != nil {
			return nil, wrap(err, what)
		}
		for rows.Next() {
			var id, aid string
			if err := rows.Scan(&id, &aid); err != nil {
				rows.Close()
				return nil, wrap(err, what)
			}
			ids[id] = true
			if !slices.Contains(shared[id], aid) {
				shared[id] = append(shared[id], aid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, what)
		}
	}
	// The most recent incidents of its services (IDs are UUIDv7: their order is creation order).
	for _, svc := range sub.services[:min(len(sub.services), relatedMaxServices)] {
		recent, err := x.column("related incidents", `SELECT incident_id FROM incident_services WHERE service_slug = ?
			AND incident_id <> ? ORDER BY incident_id DESC LIMIT ?`, svc, sub.id, relatedRecentPerSvc)
		if err != nil {
			return nil, err
		}
		for _, id := range recent {
			ids[id] = true
		}
	}
	delete(ids, sub.id)
	if len(ids) == 0 {
		return nil, nil
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	slices.Sort(list)
	cands, err := x.loadCandidates(list)
	if err != nil {
		return nil, err
	}
	out := cands[:0]
	for _, c := range cands {
		c.text = text[c.IncidentID]
		var keys []string
		for _, aid := range shared[c.IncidentID] {
			if k := sub.alerts[aid]; k != "" && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		words := analysis.Keywords(200, c.Title, c.summary)
		var common []string
		for _, w := range sub.keywords {
			if slices.Contains(words, w) {
				common = append(common, w)
			}
		}
		if c.text == 0 {
			common = nil
		}
		days := c.declared.Sub(sub.declared).Hours() / 24
		c.Similarity, c.Score, c.Reasons = analysis.Relate(analysis.RelatedSignals{Text: c.text, Words: common,
			ServicesA: sub.services, ServicesB: c.Services, Alerts: keys, CategoriesA: sub.categories,
			CategoriesB: c.categories, DaysApart: days})
		if c.Similarity > 0 {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b relatedCandidate) int {
		if a.Score != b.Score {
			return cmpDesc(a.Score, b.Score)
		}
		if a.Similarity != b.Similarity {
			return cmpDesc(a.Similarity, b.Similarity)
		}
		return int(b.number - a.number)
	})
	return out, nil
}

func cmpDesc(a, b float64) int {
	if a > b {
		return -1
	}
	return 1
}

// loadCandidates reads the incidents with the given IDs, with their services, post-mortem categories and open
// action items, in batches.
func (x q) loadCandidates(ids []string) ([]relatedCandidate, error) {
	const what = "related incidents"
	byID := map[string]*relatedCandidate{}
	var out []*relatedCandidate
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 256)]
		ids = ids[len(chunk):]
		in, args := paddedIn(chunk)
		rows, err := x.query(`SELECT id, number, title, summary, severity, status, declared_at, created_at
			FROM incidents WHERE id IN (`+in+`)`, args...)
		if err != nil {
			return nil, wrap(err, what)
		}
		for rows.Next() {
			c := &relatedCandidate{}
			var created time.Time
			if err := rows.Scan(&c.IncidentID, &c.number, &c.Title, &c.summary, &c.Severity, &c.Status,
				ntsCol(&c.DeclaredAt), tsCol(&created)); err != nil {
				rows.Close()
				return nil, wrap(err, what)
			}
			if byID[c.IncidentID] != nil {
				continue
			}
			c.Ref = firebreak.IncidentRef(c.number)
			c.declared = created
			if c.DeclaredAt != nil {
				c.declared = *c.DeclaredAt
			}
			c.Services, c.categories = []string{}, []string{}
			byID[c.IncidentID] = c
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, what)
		}
		rows, err = x.query(`SELECT incident_id, service_slug FROM incident_services WHERE incident_id IN (`+in+`)
			ORDER BY incident_id, position`, args...)
		if err != nil {
			return nil, wrap(err, what)
		}
		for rows.Next() {
			var id, slug string
			if err := rows.Scan(&id, &slug); err != nil {
				rows.Close()
				return nil, wrap(err, what)
			}
			if c := byID[id]; c != nil && !slices.Contains(c.Services, slug) {
				c.Services = append(c.Services, slug)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, what)
		}
		rows, err = x.query(`SELECT incident_id, categories FROM postmortems WHERE incident_id IN (`+in+`)`, args...)
		if err != nil {
			return nil, wrap(err, what)
		}
		for rows.Next() {
			var id, cats string
			if err := rows.Scan(&id, &cats); err != nil {
				rows.Close()
				return nil, wrap(err, what)
			}
			if c := byID[id]; c != nil {
				c.categories = splitCategories(cats)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, what)
		}
		rows, err = x.query(`SELECT incident_id, status, COUNT(*) FROM action_items WHERE incident_id IN (`+in+`)
			AND status IN (?, ?, ?) GROUP BY incident_id, status`, append(args, firebreak.ActionOpen,
			firebreak.ActionInProgress, firebreak.ActionDone)...)
		if err != nil {
			return nil, wrap(err, what)
		}
		for rows.Next() {
			var id string
			var st firebreak.ActionItemStatus
			var n int
			if err := rows.Scan(&id, &st, &n); err != nil {
				rows.Close()
				return nil, wrap(err, what)
			}
			if c := byID[id]; c != nil {
				c.OpenActionItems += n
				if st == firebreak.ActionDone {
					c.unverified += n
				}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, what)
		}
	}
	res := make([]relatedCandidate, len(out))
	for i, c := range out {
		res[i] = *c
	}
	return res, nil
}

// RelatedIncidents implements firebreak.RelatedService.
func (s *Store) RelatedIncidents(ctx context.Context, ref string, limit int) (*firebreak.Related, error) {
	switch {
	case limit == 0:
		limit = firebreak.DefaultRelatedLimit
	case limit < 0 || limit > firebreak.MaxRelatedLimit:
		return nil, invalid("limit", "must be between 1 and %d", firebreak.MaxRelatedLimit)
	}
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	sub, err := r.relatedSubjectOf(h.id)
	if err != nil {
		return nil, err
	}
	cands, err := r.relatedCandidates(sub)
	if err != nil {
		return nil, err
	}
	out := &firebreak.Related{IncidentID: h.id, Ref: h.ref(), Items: []firebreak.RelatedIncident{}}
	for _, c := range cands[:min(len(cands), limit)] {
		out.Items = append(out.Items, c.RelatedIncident)
	}
	if out.Recurrence, err = r.recurrenceWarning(h.id); err != nil {
		return nil, err
	}
	return out, nil
}

// RecurrenceWarning implements firebreak.RelatedService.
func (s *Store) RecurrenceWarning(ctx context.Context, ref string) (*firebreak.RecurrenceWarning, error) {
	r := s.read(ctx)
	h, err := r.loadHead(ref, false)
	if err != nil {
		return nil, err
	}
	return r.recurrenceWarning(h.id)
}

// recurrenceWarning reads the incident's recurrence warning with the earlier incident's action items as they
// are now (nil when none was raised).
func (x q) recurrenceWarning(id string) (*firebreak.RecurrenceWarning, error) {
	var w firebreak.RecurrenceWarning
	var number int64
	err := x.row(`SELECT r.of_incident_id, i.number, i.title, r.similarity, r.open_items, r.detected_at
		FROM incident_recurrences r JOIN incidents i ON i.id = r.of_incident_id WHERE r.incident_id = ?`, id).
		Scan(&w.OfIncidentID, &number, &w.OfTitle, &w.Similarity, &w.OpenAtDetection, tsCol(&w.DetectedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "recurrence warning")
	}
	w.OfRef = firebreak.IncidentRef(number)
	items, err := x.actionItems(w.OfIncidentID)
	if err != nil {
		return nil, err
	}
	w.ActionItems = []firebreak.ActionItem{}
	for _, a := range items {
		if firebreak.StillOpen(a.Status) {
			w.ActionItems = append(w.ActionItems, a)
			if a.Status == firebreak.ActionDone {
				w.Unverified++
			}
		}
	}
	w.OpenActionItems = len(w.ActionItems)
	w.Message = firebreak.RecurrenceMessage(w.OfRef, w.OpenActionItems, w.Unverified)
	return &w, nil
}

// --- detection ---------------------------------------------------------------------------------------------

// RecurrenceCheckDelay is how long after an incident opens its recurrence check is due: long enough for the
// alerts of the delivery or storm that opened it to be attached (more to compare) and for checks to be claimed in
// batches rather than one per incident (alert intake can open hundreds a second), short enough to warn while the
// response is starting.
const RecurrenceCheckDelay = 5 * time.Second

// scheduleRecurrenceCheck queues the recurrence check of a new incident (called by insertIncident, in the
// transaction that opens it).
func (t *txn) scheduleRecurrenceCheck(incidentID string) error {
	if _, err := t.exec(`INSERT INTO recurrence_checks (incident_id, due_at) VALUES (?, ?)
		ON CONFLICT (incident_id) DO NOTHING`, incidentID,
		t.s.d.ts(t.s.clock().Add(RecurrenceCheckDelay))); err != nil {
		return wrap(err, "schedule recurrence check")
	}
	t.wakeJobs()
	return nil
}

// ClaimRecurrenceChecks leases up to limit due recurrence checks until now+lease and returns their incident IDs.
// Checks that cannot find anything are done here: when no earlier incident with open or unverified action items
// shares a service or an alert with the new one (recurrenceCandidates, read first on the read pool), there is no
// recurrence to warn of, and the check's row is deleted, many in one write. The others are leased with a
// conditional UPDATE (still due: no other engine took it), so on PostgreSQL two replicas never run one check.
// Nothing due means no write at all.
func (s *Store) ClaimRecurrenceChecks(ctx context.Context, now time.Time, lease time.Duration, limit int) (
	[]string, error) {
	now = now.UTC().Truncate(time.Microsecond)
	r := s.read(ctx)
	due, err := r.column("related incidents", `SELECT incident_id FROM recurrence_checks WHERE due_at <= ?
		ORDER BY due_at, incident_id LIMIT ?`, s.d.ts(now), limit)
	if err != nil || len(due) == 0 {
		return nil, err
	}
	hopeless := map[string]bool{}
	for _, id := range due {
		ok, err := r.recurrenceCandidates(id)
		if err != nil {
			return nil, err
		}
		hopeless[id] = !ok
	}
	var ids []string
	err = s.write(ctx, func(t *txn) error {
		ids = ids[:0]
		for _, id := range due {
			if hopeless[id] {
				if _, err := t.exec(`DELETE FROM recurrence_checks WHERE incident_id = ? AND due_at <= ?`, id,
					s.d.ts(now)); err != nil {
					return wrap(err, "claim recurrence checks")
				}
				continue
			}
			res, err := t.exec(`UPDATE recurrence_checks SET due_at = ? WHERE incident_id = ? AND due_at <= ?`,
				s.d.ts(now.Add(lease)), id, s.d.ts(now))
			if err != nil {
				return wrap(err, "claim recurrence checks")
			}
			if n, _ := res.RowsAffected(); n == 1 {
				ids = append(ids, id)
			}
		}
		return nil
	})
	return ids, err
}

// recurrenceCandidates reports whether an incident declared before the one with ID id, with open or unverified
// action items (the partial index action_items_unverified), shares a service or an alert with it: the structural
// condition of a recurrence (analysis.RecurrenceOf), checked without the full-text work.
func (x q) recurrenceCandidates(id string) (bool, error) {
	var number int64
	if err := x.row(`SELECT number FROM incidents WHERE id = ?`, id).Scan(&number); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return false, wrap(err, "recurrence candidates")
	}
	alerts, err := x.column("related incidents", `SELECT id FROM alerts WHERE incident_id = ? LIMIT ?`, id, relatedMaxAlerts)
	if err != nil {
		return false, err
	}
	if len(alerts) < relatedMaxAlerts {
		once, err := x.column("related incidents", `SELECT DISTINCT `+x.s.d.alertIDExpr()+` FROM timeline_events
			WHERE incident_id = ? AND kind = 'alert_attached' LIMIT ?`, id, relatedMaxAlerts)
		if err != nil {
			return false, err
		}
		for _, a := range once {
			if !slices.Contains(alerts, a) && len(alerts) < relatedMaxAlerts {
				alerts = append(alerts, a)
			}
		}
	}
	alertCond, args := `1 = 0`, []any{number, id}
	if len(alerts) > 0 {
		in, aargs := paddedIn(alerts)
		alertCond = `EXISTS (SELECT 1 FROM timeline_events t WHERE t.kind = 'alert_attached'
			AND ` + x.s.d.alertIDExpr() + ` IN (` + in + `) AND t.incident_id = a.incident_id)`
		args = append(args, aargs...)
	}
	var one int
	err = x.row(`SELECT 1 FROM action_items a JOIN incidents e ON e.id = a.incident_id
		WHERE a.status IN ('open', 'in_progress', 'done') AND e.number < ? AND (
			EXISTS (SELECT 1 FROM incident_services v JOIN incident_services w ON w.service_slug = v.service_slug
				WHERE v.incident_id = ? AND w.incident_id = a.incident_id)
			OR `+alertCond+`) LIMIT 1`, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, wrap(err, "recurrence candidates")
}

// NextRecurrenceDue is when the earliest recurrence check is due (zero: none).
func (s *Store) NextRecurrenceDue(ctx context.Context) (time.Time, error) {
	var t *time.Time
	if err := s.read(ctx).row(`SELECT MIN(due_at) FROM recurrence_checks`).Scan(ntsCol(&t)); err != nil {
		return time.Time{}, wrap(err, "next recurrence check due")
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}

// CheckRecurrence runs the recurrence check of a new incident: if it is a probable recurrence of an earlier
// incident with open or unverified action items (analysis.RecurrenceOf), it records the warning with a timeline
// event and warns the commander through their contact methods. The check row is deleted in the same
// transaction; a check whose row is gone (done by another replica) does nothing.
func (s *Store) CheckRecurrence(ctx context.Context, incidentID string, now time.Time) error {
	now = now.UTC().Truncate(time.Microsecond)
	r := s.read(ctx)
	sub, err := r.relatedSubjectOf(incidentID)
	if err != nil {
		if firebreak.ErrorCode(err) == firebreak.ENotFound {
			return s.write(ctx, func(t *txn) error {
				_, err := t.exec(`DELETE FROM recurrence_checks WHERE incident_id = ?`, incidentID)
				return wrap(err, "recurrence check")
			})
		}
		return err
	}
	cands, err := r.relatedCandidates(sub)
	if err != nil {
		return err
	}
	items := make([]firebreak.RelatedIncident, len(cands))
	numbers := map[string]int64{}
	for i, c := range cands {
		items[i] = c.RelatedIncident
		numbers[c.IncidentID] = c.number
	}
	best := analysis.RecurrenceOf(items, func(c firebreak.RelatedIncident) bool { return numbers[c.IncidentID] < sub.number })
	return s.write(ctx, func(t *txn) error {
		if err := t.lockIncident(incidentID); err != nil {
			return err
		}
		res, err := t.exec(`DELETE FROM recurrence_checks WHERE incident_id = ?`, incidentID)
		if err != nil {
			return wrap(err, "recurrence check")
		}
		if n, _ := res.RowsAffected(); n == 0 || best == nil {
			return nil
		}
		// The earlier incident's items as they are now (they may have been verified since the read).
		var open, unverified int
		if err := t.row(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0) FROM action_items
			WHERE incident_id = ? AND status IN (?, ?, ?)`, firebreak.ActionDone, best.IncidentID, firebreak.ActionOpen,
			firebreak.ActionInProgress, firebreak.ActionDone).Scan(&open, &unverified); err != nil {
			return wrap(err, "recurrence check")
		}
		if open == 0 {
			return nil
		}
		msg := firebreak.RecurrenceMessage(best.Ref, open, unverified)
		res, err = t.exec(`INSERT INTO incident_recurrences (incident_id, of_incident_id, similarity, open_items,
			message, detected_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (incident_id) DO NOTHING`, incidentID,
			best.IncidentID, best.Similarity, open, msg, s.d.ts(now))
		if err != nil {
			return wrap(err, "record recurrence")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		var why []string
		for _, rs := range best.Reasons {
			if rs.Kind != firebreak.ReasonRecency {
				why = append(why, rs.Detail)
			}
		}
		text := msg + " (similarity " + strconv.FormatFloat(best.Similarity, 'f', 2, 64) + ": " +
			strings.Join(why, "; ") + ")"
		if err := t.insertEvents(incidentID, []firebreak.TimelineEvent{{Kind: firebreak.EventRecurrenceWarning,
			Message: text, OccurredAt: now, RecordedAt: now, Data: map[string]string{
				"of_incident_id": best.IncidentID, "of_ref": best.Ref, "open_action_items": strconv.Itoa(open),
				"similarity": strconv.FormatFloat(best.Similarity, 'f', 3, 64)}}}); err != nil {
			return err
		}
		return t.warnCommander(incidentID, now)
	})
}

// warnCommander sends the incident's recurrence warning to its commander's contact methods, unless this
// commander was warned already or the warning no longer holds (every item of the earlier incident verified).
func (t *txn) warnCommander(incidentID string, now time.Time) error {
	var ofID, notified string
	err := t.row(`SELECT of_incident_id, notified_commander FROM incident_recurrences WHERE incident_id = ?`,
		incidentID).Scan(&ofID, &notified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return wrap(err, "warn commander")
	}
	inc, err := t.loadIncident(incidentID, false)
	if err != nil {
		return err
	}
	commander := inc.Roles[firebreak.RoleCommander]
	if commander == "" || commander == notified {
		return nil
	}
	var userID string
	err = t.row(`SELECT id FROM users WHERE username = ?`, commander).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return wrap(err, "warn commander")
	}
	channels, err := t.userChannelIDs(userID)
	if err != nil || len(channels) == 0 {
		return err
	}
	w, err := t.recurrenceWarning(incidentID)
	if err != nil || w == nil || w.OpenActionItems == 0 {
		return err
	}
	publicURL, _ := t.s.outboxSettings().get()
	text := fmt.Sprintf("%s Earlier incident: %s %s (%s/incidents/%s)", w.Message, w.OfRef, w.OfTitle, publicURL,
		w.OfRef)
	m := notify.Message{Kind: notify.KindRecurrence, Text: text, OccurredAt: now,
		Incident: notifyIncident(inc, publicURL)}
	for _, ch := range channels {
		if _, err := t.insertNotification(ch, incidentID, m, now); err != nil {
			return err
		}
	}
	_, err = t.exec(`UPDATE incident_recurrences SET notified_commander = ? WHERE incident_id = ?`, commander,
		incidentID)
	return wrap(err, "warn commander")
}

// recurrenceOnCommander warns a newly assigned commander of the incident's recurrence warning (called from the
// announcements of timeline events: a role_assigned event for the commander role).
func (t *txn) recurrenceOnCommander(incidentID string, events []firebreak.TimelineEvent) error {
	for _, ev := range events {
		if ev.Kind == firebreak.EventRoleAssigned && ev.Data["role"] == string(firebreak.RoleCommander) {
			return t.warnCommander(incidentID, t.s.clock())
		}
	}
	return nil
}
