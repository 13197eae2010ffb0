package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	firebreak "github.com/firebreak/firebreak"
)

// Knowledge-base search (migration 00008_search.sql). search_docs holds one row per searchable piece of a
// document, maintained by triggers in the writing transaction; SQLite indexes it with FTS5 (search_fts, at commit:
// flushSearchIndex), PostgreSQL with a GIN index on its stored search vector (pgSearchVector). A search ranks the
// matching rows, keeps the best row per document, pages the documents by rank, and only then computes the
// snippets of the page's rows (snippets are the expensive part on both databases).

var _ firebreak.SearchService = (*Store)(nil)

// pgSearchVector is a search_docs row's search vector on PostgreSQL (alias d): a stored generated column with the
// GIN index search_docs_tsv (migration 00022; weights title A, body B, context D).
const pgSearchVector = `d.tsv`

// pgHeadlineOptions: the markers are the domain's highlight markers.
const pgHeadlineOptions = "StartSel=" + firebreak.HighlightStart + ", StopSel=" + firebreak.HighlightEnd +
	", MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""

// pgLT stands in for '<' in the text given to ts_headline (a private-use character).
const pgLT = "\uE000"

// searchStopWords are the words PostgreSQL's english text-search configuration leaves out of documents and
// queries (its english.stop list). SQLite's FTS5 tokenizer indexes every word, so without this list a query with
// "the" or "of" in it would require them there, and find less than on PostgreSQL, and each such word would cost
// a walk over a posting list as long as the index.
var searchStopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`i me my myself we our ours ourselves you your yours yourself yourselves he
		him his himself she her hers herself it its itself they them their theirs themselves what which who whom
		this that these those am is are was were be been being have has had having do does did doing a an the and
		but if or because as until while of at by for with about against between into through during before after
		above below to from up down in out on off over under again further then once here there when where why
		how all any both each few more most other some such no nor not only own same so than too very s t can
		will just don should now`) {
		searchStopWords[w] = true
	}
}

// withoutStopWords leaves out the terms made only of stop words (searchStopWords), as PostgreSQL does: they
// neither require nor exclude anything, and a query of nothing else finds nothing on either database. A phrase
// keeps its stop words between others ("out of memory" is still that phrase on SQLite).
func withoutStopWords(terms []firebreak.SearchTerm) []firebreak.SearchTerm {
	out := terms[:0:0]
	for _, t := range terms {
		if slices.ContainsFunc(t.Words, func(w string) bool { return !searchStopWords[w] }) {
			out = append(out, t)
		}
	}
	return out
}

// ftsMatch renders terms as FTS5 queries: pos matches a piece with every positive term, neg (empty when there
// is none) a piece with any excluded term; exclusion applies to whole documents (Search). Words hold only
// letters, digits and marks (ParseSearchQuery), and each is quoted, so no user input reaches FTS5's operators.
// ok is false when nothing can match (no positive term).
func ftsMatch(terms []firebreak.SearchTerm) (pos, neg string, ok bool) {
	var ps, ns []string
	for _, t := range terms {
		s := `"` + strings.ReplaceAll(strings.Join(t.Words, " "), `"`, `""`) + `"`
		if t.Prefix {
			s += "*"
			if len(t.Words) == 1 {
				if forms := prefixForms(t.Words[0]); len(forms) > 1 {
					s = "(" + s + ` OR "` + forms[1] + `"*)`
				}
			}
		}
		if t.Negate {
			ns = append(ns, s)
		} else {
			ps = append(ps, s)
		}
	}
	if len(ps) == 0 {
		return "", "", false
	}
	return strings.Join(ps, " AND "), strings.Join(ns, " OR "), true
}

// prefixForms returns the prefixes a one-word prefix term matches: the word, and the word without a final y when
// three letters remain. The porter stemmer also stems the prefix itself, and turns a final y into i ("deploy"
// becomes "deploi"), so "deploy*" alone would miss "deployment" (indexed as "deploy"); shorter, the second form
// would match too much ("pay*" misses "payments").
func prefixForms(word string) []string {
	if len(word) >= 4 && strings.HasSuffix(word, "y") {
		return []string{word, strings.TrimSuffix(word, "y")}
	}
	return []string{word}
}

// pgTSQuery renders terms as tsquery expressions with their arguments, like ftsMatch: phraseto_tsquery for words
// and phrases (it parses any text), to_tsquery with "word <-> word:*" for prefixes (words are letters, digits and
// marks only, so they contain no tsquery operator).
func pgTSQuery(terms []firebreak.SearchTerm) (pos string, posArgs []any, neg string, negArgs []any, ok bool) {
	var ps, ns []string
	for _, t := range terms {
		var e string
		var arg any
		if t.Prefix {
			e, arg = `to_tsquery('english'::regconfig, ?)`, strings.Join(t.Words, " <-> ")+":*"
		} else {
			e, arg = `phraseto_tsquery('english'::regconfig, ?)`, strings.Join(t.Words, " ")
		}
		if t.Negate {
			ns, negArgs = append(ns, e), append(negArgs, arg)
		} else {
			ps, posArgs = append(ps, e), append(posArgs, arg)
		}
	}
	if len(ps) == 0 {
		return "", nil, "", nil, false
	}
	return "(" + strings.Join(ps, " && ") + ")", posArgs, "(" + strings.Join(ns, " || ") + ")", negArgs, true
}

type searchRow struct {
	rowID      int64
	kind, doc  string
	incidentID string
	score      float64
}

// Search implements firebreak.SearchService.
func (s *Store) Search(ctx context.Context, sq firebreak.SearchQuery) (*firebreak.Page[firebreak.SearchHit], error) {
	limit, err := pageLimit(sq.Limit)
	if err != nil {
		return nil, err
	}
	var v firebreak.Validation
	for _, sv := range sq.Severities {
		if !sv.Valid() {
			v.Add("severity", "unknown severity %q", sv)
		}
	}
	for _, k := range sq.Kinds {
		if !slices.Contains(firebreak.SearchKinds, k) {
			v.Add("kind", "unknown kind %q: use incident, postmortem or runbook", k)
		}
	}
	for _, c := range sq.Categories {
		if !slices.Contains(firebreak.FishboneCategories, c) {
			v.Add("category", "unknown category %q", c)
		}
	}
	for _, tg := range sq.Tags {
		if !firebreak.ValidTag(tg) {
			v.Add("tag", "%q is not a tag", tg)
		}
	}
	if sq.Since != nil && sq.Until != nil && !sq.Until.After(*sq.Since) {
		v.Add("until", "must be after since")
	}
	offset := 0
	if sq.Cursor != "" {
		c, err := decodeCursor(sq.Cursor)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(strings.TrimPrefix(c, "o|"))
		if err != nil || !strings.HasPrefix(c, "o|") || n < 0 || n > 100000 {
			return nil, badCursor()
		}
		offset = n
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	empty := &firebreak.Page[firebreak.SearchHit]{Items: []firebreak.SearchHit{}}
	terms := withoutStopWords(firebreak.ParseSearchQuery(sq.Q))

	var match, from, score, exclude string
	var args, excludeArgs []any
	// The indexes in args of the number of recent pieces scored (searchWindow) and (SQLite) of the best of them
	// joined (searchTopK); noLimit is the dialect's "no limit" for them.
	windowArg, topKArg, piecesArg := -1, -1, -1
	var noLimit any = -1
	// SQLite, when the store scores the words (sqliteScored): the window of scored pieces, whether older matches
	// were left out of it, and those of it joined.
	var window, scored []scoredPiece
	var windowMore bool
	var ftsPos string
	var ftsPhrases []searchPhrase
	if s.d.name == dialectPostgres {
		pos, pargs, neg, nargs, ok := pgTSQuery(terms)
		if !ok {
			return empty, nil
		}
		// ts_rank's default weights: A 1.0 (title), B 0.4 (body), D 0.1 (context). ts_rank reads each row's stored
		// vector; only the most recent matching pieces are scored (searchWindow, as on SQLite): the matches are
		// found through the index and ordered by id first.
		noLimit = nil // LIMIT NULL
		from = `(SELECT ` + pos + ` AS q) q, (SELECT d.id FROM (SELECT ` + pos + ` AS q) q, search_docs d
				WHERE ` + pgSearchVector + ` @@ q.q ORDER BY d.id DESC LIMIT ?) w
			JOIN search_docs d ON d.id = w.id LEFT JOIN incidents i ON i.id = d.incident_id`
		match = `1 = 1`
		score = `ts_rank(` + pgSearchVector + `, q.q)`
		args = append(args, pargs...)
		args = append(args, pargs...)
		windowArg = len(args)
		args = append(args, searchWindow(offset, limit))
		if len(nargs) > 0 {
			exclude = `NOT EXISTS (SELECT 1 FROM search_docs d WHERE d.kind = b.kind AND d.doc_id = b.doc_id AND ` +
				pgSearchVector + ` @@ ` + neg + `)`
			excludeArgs = nargs
		}
	} else {
		pos, neg, ok := ftsMatch(terms)
		if !ok {
			return empty, nil
		}
		// Only the most recent matching pieces are scored (searchWindow), and only the best of them are joined
		// and grouped (searchTopK). Words and prefixes are scored by the store (sqliteScored: bm25's formula over
		// stored counts), and handed over as JSON; phrases by FTS5's bm25(), lower for better matches, with the
		// same weights: title 10, body 2, context 0.5.
		ftsPos = pos
		if phrases, simple := scoredPhrases(terms); simple {
			var scoredHere bool
			var err error
			window, windowMore, scoredHere, err = s.sqliteScored(ctx, pos, phrases, searchWindow(offset, limit))
			if err != nil {
				return nil, err
			}
			if scoredHere {
				if len(window) == 0 {
					return empty, nil
				}
				ftsPhrases = phrases
				from = `(SELECT value ->> 0 AS rid, value ->> 1 AS score FROM json_each(?)) f
					JOIN search_docs d ON d.id = f.rid LEFT JOIN incidents i ON i.id = d.incident_id`
				piecesArg = len(args)
				scored = bestPieces(window, searchTopK(offset, limit))
				args = append(args, piecesJSON(scored))
			}
		}
		if piecesArg < 0 {
			from = `(SELECT rid, score FROM (SELECT rowid AS rid, -bm25(search_fts, 10.0, 2.0, 0.5) AS score
					FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT ?)
				ORDER BY score DESC LIMIT ?) f
				JOIN search_docs d ON d.id = f.rid LEFT JOIN incidents i ON i.id = d.incident_id`
			args = append(args, pos)
			windowArg = len(args)
			args = append(args, searchWindow(offset, limit))
			topKArg = len(args)
			args = append(args, searchTopK(offset, limit))
		}
		match = `1 = 1`
		score = `f.score`
		if neg != "" {
			// An FTS5 query per candidate document costs about 100 µs just to start, so when the excluded words
			// are rare the documents that have them are found once; when they are common, per document.
			var n int
			if err := s.read(ctx).row(`SELECT COUNT(*) FROM (SELECT 1 FROM search_fts WHERE search_fts MATCH ?
				LIMIT ?)`, neg, searchExcludeOnce+1).Scan(&n); err != nil {
				return nil, wrap(err, "search")
			}
			// CROSS JOIN keeps SQLite on the document's own pieces (a rowid lookup in the index each) rather than
			// walking every piece with the word for each document.
			exclude = `NOT EXISTS (SELECT 1 FROM search_docs d CROSS JOIN search_fts xf ON xf.rowid = d.id
				WHERE d.kind = b.kind AND d.doc_id = b.doc_id AND xf.search_fts MATCH ?)`
			if n <= searchExcludeOnce {
				exclude = `(b.kind, b.doc_id) NOT IN (SELECT d.kind, d.doc_id FROM search_fts xf
					JOIN search_docs d ON d.id = xf.rowid WHERE xf.search_fts MATCH ?)`
			}
			excludeArgs = []any{neg}
		}
	}
	var where []string
	if len(sq.Kinds) > 0 {
		where = append(where, `d.kind IN (`+placeholders(len(sq.Kinds))+`)`)
		args = append(args, anys(sq.Kinds)...)
	}
	if len(sq.Severities) > 0 {
		where = append(where, `i.severity IN (`+placeholders(len(sq.Severities))+`)`)
		args = append(args, anys(sq.Severities)...)
	}
	if len(sq.Services) > 0 {
		// Runbooks (no incident: the LEFT JOIN leaves i NULL, so the incident filters exclude them) match their own
		// service.
		where = append(where, `(EXISTS (SELECT 1 FROM incident_services x WHERE x.incident_id = i.id AND
			x.service_slug IN (`+placeholders(len(sq.Services))+`)) OR (d.kind = 'runbook' AND EXISTS (SELECT 1
			FROM runbooks rb JOIN services sv ON sv.id = rb.service_id WHERE rb.id = d.doc_id AND
			sv.slug IN (`+placeholders(len(sq.Services))+`))))`)
		args = append(args, anys(sq.Services)...)
		args = append(args, anys(sq.Services)...)
	}
	// Categories and tags are space-separated words in their columns (validated: no LIKE wildcards).
	if len(sq.Categories) > 0 {
		var ors []string
		for _, c := range sq.Categories {
			ors = append(ors, `(' ' || p.categories || ' ') LIKE ?`)
			args = append(args, "% "+string(c)+" %")
		}
		where = append(where, `EXISTS (SELECT 1 FROM postmortems p WHERE p.incident_id = i.id AND (`+
			strings.Join(ors, " OR ")+`))`)
	}
	if len(sq.Tags) > 0 {
		var ors []string
		for _, tg := range sq.Tags {
			ors = append(ors, `(' ' || i.tags || ' ') LIKE ?`)
			args = append(args, "% "+tg+" %")
		}
		where = append(where, `(`+strings.Join(ors, " OR ")+`)`)
	}
	if sq.Since != nil {
		where = append(where, `i.declared_at >= ?`)
		args = append(args, s.d.ts(*truncTime(sq.Since)))
	}
	if sq.Until != nil {
		where = append(where, `i.declared_at < ?`)
		args = append(args, s.d.ts(*truncTime(sq.Until)))
	}
	cond := ""
	if len(where) > 0 {
		cond = " AND " + strings.Join(where, " AND ")
	}
	// Excluded words exclude whole documents: checked once per document, after the best piece is chosen.
	bcond := ""
	if exclude != "" {
		bcond = " AND " + exclude
		args = append(args, excludeArgs...)
	}
	args = append(args, limit+1, offset)
	var found []searchRow
	for {
		found = found[:0]
		rows, err := s.read(ctx).query(`SELECT id, kind, doc_id, incident_id, score FROM (
		SELECT id, kind, doc_id, incident_id, score,
			ROW_NUMBER() OVER (PARTITION BY kind, doc_id ORDER BY score DESC, id) AS rn
		FROM (SELECT d.id, d.kind, d.doc_id, d.incident_id, `+score+` AS score
			FROM `+from+` WHERE `+match+cond+`) m) b
		WHERE rn = 1`+bcond+` ORDER BY score DESC, kind, doc_id LIMIT ? OFFSET ?`, args...)
		if err != nil {
			return nil, wrap(err, "search")
		}
		for rows.Next() {
			var r searchRow
			if err := rows.Scan(&r.rowID, &r.kind, &r.doc, &r.incidentID, &r.score); err != nil {
				rows.Close()
				return nil, wrap(err, "search")
			}
			found = append(found, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap(err, "search")
		}
		// The best pieces gave more than a page: exact within the window (searchTopK). Otherwise join every piece of
		// the window, and when that is still not more than a page, score every match.
		if len(found) > limit {
			break
		}
		if piecesArg >= 0 {
			if len(scored) < len(window) {
				scored = window
			} else if windowMore {
				var err error
				if window, windowMore, _, err = s.sqliteScored(ctx, ftsPos, ftsPhrases, -1); err != nil {
					return nil, err
				}
				scored = window
			} else {
				break
			}
			args[piecesArg] = piecesJSON(scored)
		} else if topKArg >= 0 && args[topKArg] != -1 {
			args[topKArg] = -1 // SQLite: no limit
		} else if windowArg >= 0 && args[windowArg] != noLimit {
			args[windowArg] = noLimit
		} else {
			break
		}
	}
	page := &firebreak.Page[firebreak.SearchHit]{Items: []firebreak.SearchHit{}}
	if len(found) > limit {
		found = found[:limit]
		page.NextCursor = encodeCursor("o|" + strconv.Itoa(offset+limit))
	}
	if len(found) == 0 {
		return page, nil
	}
	snippets, err := s.searchSnippets(ctx, terms, found)
	if err != nil {
		return nil, err
	}
	incs, err := s.searchIncidents(ctx, found)
	if err != nil {
		return nil, err
	}
	runbooks, err := s.searchRunbooks(ctx, found)
	if err != nil {
		return nil, err
	}
	for _, r := range found {
		if r.kind == firebreak.SearchKindRunbook {
			if h, ok := runbooks[r.doc]; ok {
				h.Rank = r.score
				h.Snippet, h.Highlights = firebreak.SplitHighlights(snippets[r.rowID])
				if h.Highlights == nil {
					h.Highlights = []firebreak.Span{}
				}
				page.Items = append(page.Items, h)
			}
			continue
		}
		inc, ok := incs[r.incidentID]
		if !ok {
			continue
		}
		h := firebreak.SearchHit{Kind: r.kind, ID: r.doc, IncidentID: r.incidentID, Ref: inc.Reference,
			Title: inc.Title, Rank: r.score, Severity: inc.Severity, Status: inc.Status, Services: inc.Services,
			Tags: inc.Tags, DeclaredAt: inc.Milestones.DeclaredAt}
		h.Snippet, h.Highlights = firebreak.SplitHighlights(snippets[r.rowID])
		if h.Highlights == nil {
			h.Highlights = []firebreak.Span{}
		}
		if h.Services == nil {
			h.Services = []string{}
		}
		page.Items = append(page.Items, h)
	}
	return page, nil
}

// searchTopK is how many of the best-ranked matching pieces a SQLite search joins, groups per document and
// filters (a broad query matches tens of thousands of pieces, and the joins cost more than the ranking). The
// answer is exact when they yield more documents than offset+limit: a document with no piece among them has every
// piece ranked below them, so below each document found. When they do not, Search ranks every match again.
func searchTopK(offset, limit int) int { return max(searchTopKMin, (offset+limit+1)*10) }

var searchTopKMin = 200 // tests lower it

// searchWindow is how many of the most recent matching pieces a SQLite search scores (by rowid: pieces are
// numbered as they are written). A narrow query has fewer matches and is ranked exactly; a broad one (a word in
// tens of thousands of pieces) is ranked among its most recent matches, and a later page widens the window. When
// the window yields no more than a page (filters that exclude most of it), Search scores every match.
func searchWindow(offset, limit int) int { return searchWindowMin * (1 + (offset+limit)/100) }

var searchWindowMin = 3000 // tests lower it

// searchExcludeOnce is the most pieces with an excluded word for which a SQLite search finds the documents that
// have them once, rather than checking each candidate document (tests lower it).
var searchExcludeOnce = 2000

// searchSnippets computes the snippet of each found row, with the highlight markers.
func (s *Store) searchSnippets(ctx context.Context, terms []firebreak.SearchTerm, found []searchRow) (
	map[int64]string, error) {
	ids := make([]any, len(found))
	for i, r := range found {
		ids[i] = r.rowID
	}
	var rows *sql.Rows
	var err error
	if s.d.name == dialectPostgres {
		expr, qargs, _, _, _ := pgTSQuery(terms)
		// ts_headline drops what looks like an HTML tag: hide '<' from it, and restore it below.
		args := append(append([]any{pgLT, pgHeadlineOptions}, qargs...), ids...)
		rows, err = s.read(ctx).query(`SELECT d.id, ts_headline('english'::regconfig,
				replace(CASE WHEN d.body <> '' AND to_tsvector('english'::regconfig, d.body) @@ q.q THEN d.body
					WHEN d.title <> '' THEN d.title ELSE d.context END, '<', ?), q.q, ?)
			FROM (SELECT `+expr+` AS q) q, search_docs d WHERE d.id IN (`+placeholders(len(ids))+`)`, args...)
	} else {
		return s.sqliteSnippets(ctx, terms, ids)
	}
	if err != nil {
		return nil, wrap(err, "search snippets")
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var snip string
		if err := rows.Scan(&id, &snip); err != nil {
			return nil, wrap(err, "search snippets")
		}
		if s.d.name == dialectPostgres {
			snip = strings.ReplaceAll(snip, pgLT, "<")
		}
		out[id] = snip
	}
	return out, wrap(rows.Err(), "search snippets")
}

// sqliteSnippets computes the snippets of the search_docs rows ids. FTS5's snippet() needs the row in a MATCH
// query, and finding one row of the large index by rowid seeks every term's posting list anew (about 120 µs per
// term and row in pure-Go SQLite: a third of a broad query's time). So the rows' text is copied into a scratch
// FTS5 table of the same columns and tokenizer in an in-memory database, matched and snipped there, and rolled
// back. A snippet depends only on its row's text and the query, so it is the same as over the large index.
func (s *Store) sqliteSnippets(ctx context.Context, terms []firebreak.SearchTerm, ids []any) (map[int64]string, error) {
	pieces, err := s.pieceTexts(ctx, ids)
	if err != nil {
		return nil, wrap(err, "search snippets")
	}
	conn, err := s.snip.Conn(ctx)
	if err != nil {
		return nil, wrap(err, "search snippets")
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE VIRTUAL TABLE IF NOT EXISTS snip USING fts5(title, body, context,
		tokenize = 'porter unicode61 remove_diacritics 2')`); err != nil { // as search_fts (migration 00008)
		return nil, wrap(err, "search snippets")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap(err, "search snippets")
	}
	defer tx.Rollback() //nolint:errcheck // nothing is kept
	for id, p := range pieces {
		if _, err := tx.ExecContext(ctx, `INSERT INTO snip (rowid, title, body, context) VALUES (?, ?, ?, ?)`,
			id, p[0], p[1], p[2]); err != nil {
			return nil, wrap(err, "search snippets")
		}
	}
	m, _, _ := ftsMatch(terms)
	srows, err := tx.QueryContext(ctx, `SELECT rowid, snippet(snip, -1, ?, ?, '…', 24) FROM snip WHERE snip MATCH ?`,
		firebreak.HighlightStart, firebreak.HighlightEnd, m)
	if err != nil {
		return nil, wrap(err, "search snippets")
	}
	defer srows.Close()
	out := make(map[int64]string, len(pieces))
	for srows.Next() {
		var id int64
		var snip string
		if err := srows.Scan(&id, &snip); err != nil {
			return nil, wrap(err, "search snippets")
		}
		out[id] = snip
	}
	return out, wrap(srows.Err(), "search snippets")
}

// searchIncidents loads the incidents of the found rows (with their services).
func (s *Store) searchIncidents(ctx context.Context, found []searchRow) (map[string]firebreak.Incident, error) {
	seen := map[string]bool{}
	var ids []any
	for _, r := range found {
		if r.incidentID != "" && !seen[r.incidentID] {
			seen[r.incidentID] = true
			ids = append(ids, r.incidentID)
		}
	}
	if len(ids) == 0 {
		return map[string]firebreak.Incident{}, nil
	}
	rows, err := s.read(ctx).query(`SELECT `+incidentCols+`, s.service_slug FROM incidents i
		LEFT JOIN incident_services s ON s.incident_id = i.id
		WHERE i.id IN (`+placeholders(len(ids))+`) ORDER BY i.number, s.position`, ids...)
	if err != nil {
		return nil, wrap(err, "search")
	}
	items, err := scanIncidents(rows)
	if err != nil {
		return nil, wrap(err, "search")
	}
	out := make(map[string]firebreak.Incident, len(items))
	for _, inc := range items {
		out[inc.ID] = inc
	}
	return out, nil
}

// searchRunbooks loads the runbooks of the found rows as hits (without rank and snippet), by runbook ID.
func (s *Store) searchRunbooks(ctx context.Context, found []searchRow) (map[string]firebreak.SearchHit, error) {
	var ids []any
	for _, r := range found {
		if r.kind == firebreak.SearchKindRunbook {
			ids = append(ids, r.doc)
		}
	}
	out := map[string]firebreak.SearchHit{}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.read(ctx).query(`SELECT r.id, r.title, sv.slug FROM runbooks r JOIN services sv ON sv.id = r.service_id
		WHERE r.id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, wrap(err, "search runbooks")
	}
	defer rows.Close()
	for rows.Next() {
		var id, title, slug string
		if err := rows.Scan(&id, &title, &slug); err != nil {
			return nil, wrap(err, "search runbooks")
		}
		out[id] = firebreak.SearchHit{Kind: firebreak.SearchKindRunbook, ID: id, Title: title,
			Services: []string{slug}}
	}
	return out, wrap(rows.Err(), "search runbooks")
}

// The SQLite full-text index takes the pieces noted in search_fts_pending once per transaction, just before it
// commits (migration 00025: FTS5 writes a segment at every savepoint, so indexing piece by piece wrote one
// segment per piece).
const (
	searchPendingSQL = `SELECT EXISTS (SELECT 1 FROM search_fts_pending)`
	searchFlushSQL   = `INSERT INTO search_fts (rowid, title, body, context)
		SELECT d.id, d.title, d.body, d.context FROM search_fts_pending p JOIN search_docs d ON d.id = p.id`
	searchClearSQL = `DELETE FROM search_fts_pending`
)

// flushSearchIndex indexes the pending pieces in tx (SQLite). exec runs a statement in tx.
func flushSearchIndex(exec func(query string) (sql.Result, error), query func(query string) *sql.Row) error {
	var pending bool
	if err := query(searchPendingSQL).Scan(&pending); err != nil {
		return wrap(err, "index search pieces")
	}
	if !pending {
		return nil
	}
	if _, err := exec(searchFlushSQL); err != nil {
		return wrap(err, "index search pieces")
	}
	_, err := exec(searchClearSQL)
	return wrap(err, "index search pieces")
}

// FlushSearchIndex indexes the search pieces written in tx that are not yet in SQLite's full-text index. The
// store's writer does it before every commit; anything else that writes search_docs (sqltest's bulk loader) must
// call it before committing.
func FlushSearchIndex(ctx context.Context, tx *sql.Tx) error {
	return flushSearchIndex(func(q string) (sql.Result, error) { return tx.ExecContext(ctx, q) },
		func(q string) *sql.Row { return tx.QueryRowContext(ctx, q) })
}
