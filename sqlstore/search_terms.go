package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	firebreak "github.com/firebreak/firebreak"
)

// SQLite scores its knowledge-base matches itself (migration 00020_search_terms.sql). FTS5 finds the matching
// pieces; bm25() would then count, for every query, the documents of each query word by walking the word's whole
// posting list, which for a common word in a large index costs more than everything else in a search. Instead:
//   - search_terms keeps each piece's tokens (as FTS5's tokenizer makes them, read back from a scratch FTS5
//     table through fts5vocab) with their count per column, and its length;
//   - the words' document counts come from FTS5 itself (search_vocab: the common words' read in one pass by
//     RefreshSearchStats, a rarer word's when a query needs it), and the number of pieces and their average
//     length from FTS5's averages record, all kept in memory for a while (searchStats): they move slowly and
//     only weigh the words against each other;
//   - the score is FTS5's bm25 formula with the same weights (bm25Score), so the ranking is the one bm25() gives
//     (TestSearchTermsScoreIsBM25).
// A prefix counts as every token that starts with it, as in bm25(); its document count (the pieces with any such
// token) is FTS5's, kept like a word's. Queries with a phrase keep bm25(). The counts searches read are kept in
// memory (termsCache).

// searchStatsTTL is how long a word's document count and the index's size are kept (tests lower it).
var searchStatsTTL = 10 * time.Minute

// searchWeights are bm25's weights for search_fts's columns (title, body, context).
var searchWeights = [3]float64{10.0, 2.0, 0.5}

// termCounts is one piece's tokens: its length in tokens per column and each token's count per column.
type termCounts struct {
	lens   [3]int
	tokens map[string][3]int
}

// encodeTerms renders t as search_terms.data: the three lengths, then per token (sorted) its length, bytes and
// three counts, all unsigned varints.
func encodeTerms(t termCounts) []byte {
	keys := make([]string, 0, len(t.tokens))
	for k := range t.tokens {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := make([]byte, 0, 16+len(keys)*12)
	for _, n := range t.lens {
		b = binary.AppendUvarint(b, uint64(n))
	}
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		for _, n := range t.tokens[k] {
			b = binary.AppendUvarint(b, uint64(n))
		}
	}
	return b
}

// termsReader reads the counts of a few tokens out of search_terms.data without building a map.
type termsReader struct{ data []byte }

func uvarint(b []byte, i int) (uint64, int, bool) {
	v, n := binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, i, false
	}
	return v, i + n, true
}

// counts returns the piece's three column lengths and, for each of toks, its three counts (zero when absent;
// where prefix is set, the sums of the counts of the piece's tokens that start with it); ok is false for data
// that is not an encoding of encodeTerms.
func (r termsReader) counts(toks []string, prefix []bool, out [][3]int) (lens [3]int, ok bool) {
	for i := range out {
		out[i] = [3]int{}
	}
	b, i := r.data, 0
	for c := range lens {
		v, j, ok := uvarint(b, i)
		if !ok {
			return lens, false
		}
		lens[c], i = int(v), j
	}
	if len(toks) == 0 {
		return lens, true
	}
	last := "" // the tokens are sorted: none of toks comes after it
	for k, t := range toks {
		if prefix[k] {
			t += "\xff" // after every token that starts with t (tokens are UTF-8)
		}
		last = max(last, t)
	}
	for i < len(b) {
		n, j, ok := uvarint(b, i)
		if !ok || j+int(n) > len(b) {
			return lens, false
		}
		tok := b[j : j+int(n)]
		if string(tok) > last {
			break
		}
		i = j + int(n)
		var cs [3]int
		for c := range cs {
			v, j, ok := uvarint(b, i)
			if !ok {
				return lens, false
			}
			cs[c], i = int(v), j
		}
		for k, t := range toks { // a word may be in the query twice
			if string(tok) == t || prefix[k] && strings.HasPrefix(string(tok), t) {
				for c := range cs {
					out[k][c] += cs[c]
				}
			}
		}
	}
	return lens, true
}

// searchColumns are search_fts's columns, in order.
var searchColumns = [3]string{"title", "body", "context"}

// pieceTexts reads the title, body and context of the search_docs rows ids.
func (s *Store) pieceTexts(ctx context.Context, ids []any) (map[int64][3]string, error) {
	texts := make(map[int64][3]string, len(ids))
	rows, err := s.read(ctx).query(`SELECT id, title, body, context FROM search_docs WHERE id IN (`+
		placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var t [3]string
		if err := rows.Scan(&id, &t[0], &t[1], &t[2]); err != nil {
			return nil, err
		}
		texts[id] = t
	}
	return texts, rows.Err()
}

// tokenize runs texts (id → title, body, context) through FTS5's tokenizer in a scratch table of the same
// tokenizer as search_fts, and returns each one's counts.
func (s *Store) tokenize(ctx context.Context, texts map[int64][3]string) (map[int64]termCounts, error) {
	out := make(map[int64]termCounts, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	conn, err := s.snip.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `CREATE VIRTUAL TABLE IF NOT EXISTS tok USING fts5(title, body, context,
		content = '', tokenize = 'porter unicode61 remove_diacritics 2'); -- as search_fts (migration 00008)
		CREATE VIRTUAL TABLE IF NOT EXISTS tok_vocab USING fts5vocab(tok, 'instance')`); err != nil {
		return nil, err
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // nothing is kept
	ins, err := tx.PrepareContext(ctx, `INSERT INTO tok (rowid, title, body, context) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	defer ins.Close()
	for id, t := range texts {
		if _, err := ins.ExecContext(ctx, id, t[0], t[1], t[2]); err != nil {
			return nil, err
		}
		out[id] = termCounts{tokens: map[string][3]int{}}
	}
	rows, err := tx.QueryContext(ctx, `SELECT doc, col, term, COUNT(*) FROM tok_vocab GROUP BY doc, col, term`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var col, term string
		var n int
		if err := rows.Scan(&id, &col, &term, &n); err != nil {
			return nil, err
		}
		c := slices.Index(searchColumns[:], col)
		t, ok := out[id]
		if c < 0 || !ok {
			return nil, errors.New("tokenize: unexpected row")
		}
		cs := t.tokens[term]
		cs[c] += n
		t.tokens[term] = cs
		t.lens[c] += n
		out[id] = t
	}
	return out, rows.Err()
}

// IndexSearchTerms tokenizes up to max pending pieces of the knowledge base (SQLite; nothing to do on
// PostgreSQL) and returns how many it stored. The store's background indexer calls it in a loop; a search
// tokenizes the pending pieces it needs on the fly, so this only keeps that rare.
func (s *Store) IndexSearchTerms(ctx context.Context, max int) (int, error) {
	if s.d.name == dialectPostgres {
		return 0, nil
	}
	texts := map[int64][3]string{}
	rows, err := s.read(ctx).query(`SELECT d.id, d.title, d.body, d.context FROM search_terms t
		JOIN search_docs d ON d.id = t.id WHERE t.data IS NULL ORDER BY t.id LIMIT ?`, max)
	if err != nil {
		return 0, wrap(err, "index search terms")
	}
	for rows.Next() {
		var id int64
		var t [3]string
		if err := rows.Scan(&id, &t[0], &t[1], &t[2]); err != nil {
			rows.Close()
			return 0, wrap(err, "index search terms")
		}
		texts[id] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(texts) == 0 {
		return 0, wrap(err, "index search terms")
	}
	counts, err := s.tokenize(ctx, texts)
	if err != nil {
		return 0, wrap(err, "index search terms")
	}
	n := 0
	err = s.write(ctx, func(x *txn) error {
		for id, t := range texts {
			c := counts[id]
			// Only if the text is still the one tokenized: an edit since then cleared the row again.
			res, err := x.exec(`UPDATE search_terms SET data = ? WHERE id = ? AND data IS NULL AND
				EXISTS (SELECT 1 FROM search_docs WHERE id = ? AND title = ? AND body = ? AND context = ?)`,
				encodeTerms(c), id, id, t[0], t[1], t[2])
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil
	})
	return n, wrap(err, "index search terms")
}

// PendingSearchTerms is how many knowledge-base pieces wait for the indexer (IndexSearchTerms); always 0 on
// PostgreSQL.
func (s *Store) PendingSearchTerms(ctx context.Context) (int, error) {
	if s.d.name == dialectPostgres {
		return 0, nil
	}
	var n int
	err := s.read(ctx).row(`SELECT COUNT(*) FROM search_terms WHERE data IS NULL`).Scan(&n)
	return n, wrap(err, "pending search terms")
}

// searchStats caches what bm25 weighs words with: the documents of each token, the number of pieces and their
// average length in tokens (FTS5's own figures). The common tokens' counts are read all at once in the background
// (RefreshSearchStats), since counting one walks its whole posting list; a rarer token is counted when a query
// needs it, which costs little, and kept for searchStatsTTL. Tokens of query words are cached too (the tokenizer
// stems them).
type searchStats struct {
	mu       sync.Mutex
	at       time.Time // of rows and avgdl
	rows     int64
	avgdl    float64
	common   map[string]int64 // tokens in at least searchCommonDocs pieces when last refreshed
	commonAt time.Time        // when common was last known current
	readAt   time.Time        // when common was read
	docs     map[string]cachedCount
	tokens   map[string]string // query word → its one token ("" when it is not one token)
}

type cachedCount struct {
	n  int64
	at time.Time
}

// searchForwardFactor: a window is read forwards when the estimated matches times this are no more than it
// (sqliteScored; tests raise it to read every window forwards).
var searchForwardFactor = 4.0

// searchCommonDocs is the least number of pieces of a token whose count RefreshSearchStats keeps.
const searchCommonDocs = 256

// ftsTotals reads FTS5's averages record (search_fts_data id 1: the number of rows, then the tokens of each
// column, as SQLite varints; bm25() reads the same) and returns the rows and their average length.
func (s *Store) ftsTotals(ctx context.Context) (rows int64, avgdl float64, err error) {
	var rec []byte
	if err := s.read(ctx).row(`SELECT block FROM search_fts_data WHERE id = 1`).Scan(&rec); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return 0, 0, err
	}
	var vals []uint64
	for i := 0; i < len(rec); {
		v, n := sqliteVarint(rec[i:])
		if n == 0 {
			return 0, 0, errors.New("search_fts: unreadable averages record")
		}
		vals, i = append(vals, v), i+n
	}
	if len(vals) != 4 || vals[0] == 0 {
		return 1, 1, nil
	}
	return int64(vals[0]), float64(vals[1]+vals[2]+vals[3]) / float64(vals[0]), nil
}

// RefreshSearchStats reads the document counts of the knowledge base's common tokens at once (one pass over
// FTS5's vocabulary: about a second of CPU at 900,000 pieces), for SQLite's search scoring; nothing to do on
// PostgreSQL or when the index has not changed since the last pass. The store's background indexer runs it every
// few minutes, so that no search pays for counting a common word.
func (s *Store) RefreshSearchStats(ctx context.Context) error {
	if s.d.name == dialectPostgres {
		return nil
	}
	rows, avgdl, err := s.ftsTotals(ctx)
	if err != nil {
		return wrap(err, "search stats")
	}
	st := &s.searchStats
	st.mu.Lock()
	// Unchanged totals: no piece was added or removed and none changed length (an edit that keeps a piece's
	// length can still move a count by one; the hourly pass takes it in).
	same := st.common != nil && st.rows == rows && st.avgdl == avgdl && time.Since(st.readAt) < time.Hour
	if same {
		st.commonAt, st.at = time.Now(), time.Now()
	}
	st.mu.Unlock()
	if same {
		return nil
	}
	now := time.Now()
	common := map[string]int64{}
	qr, err := s.read(ctx).query(`SELECT term, doc FROM search_vocab WHERE doc >= ?`, searchCommonDocs)
	if err != nil {
		return wrap(err, "search stats")
	}
	defer qr.Close()
	for qr.Next() {
		var term string
		var n int64
		if err := qr.Scan(&term, &n); err != nil {
			return wrap(err, "search stats")
		}
		common[term] = n
	}
	if err := qr.Err(); err != nil {
		return wrap(err, "search stats")
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.common, st.commonAt, st.readAt = common, now, now
	st.rows, st.avgdl, st.at = rows, avgdl, now
	st.docs = map[string]cachedCount{}
	return nil
}

// statsFor returns the number of pieces, their average length and the document count of each token.
func (s *Store) statsFor(ctx context.Context, toks []string, phrases []searchPhrase) (rows int64, avgdl float64,
	docs []int64, err error) {
	st := &s.searchStats
	st.mu.Lock()
	defer st.mu.Unlock()
	now := time.Now()
	if st.docs == nil || now.Sub(st.at) >= searchStatsTTL {
		if st.rows, st.avgdl, err = s.ftsTotals(ctx); err != nil {
			return 0, 0, nil, err
		}
		st.at = now
		if st.docs == nil || len(st.docs) > 100000 {
			st.docs = map[string]cachedCount{}
		}
	}
	fresh := st.common != nil && now.Sub(st.commonAt) < searchStatsTTL
	docs = make([]int64, len(toks))
	for i, t := range toks {
		if n, ok := st.common[t]; ok && fresh && !phrases[i].prefix {
			docs[i] = n
			continue
		}
		key := t
		if phrases[i].prefix {
			key += "*"
		}
		c, ok := st.docs[key]
		if !ok || now.Sub(c.at) >= searchStatsTTL {
			c = cachedCount{at: now}
			if phrases[i].prefix {
				// The pieces with any token that starts with it, as bm25() counts them: FTS5 merges those tokens'
				// posting lists (a few milliseconds for a prefix of a common word), kept like a word's count.
				err = s.read(ctx).row(`SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH ?`,
					`"`+phrases[i].word+`"*`).Scan(&c.n)
			} else {
				err = s.read(ctx).row(`SELECT doc FROM search_vocab WHERE term = ?`, t).Scan(&c.n)
			}
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return 0, 0, nil, err
			}
			st.docs[key] = c
		}
		docs[i] = c.n
	}
	return st.rows, st.avgdl, docs, nil
}

// queryTokens returns the token of each word (as the tokenizer makes it), and false when a word is not exactly
// one token (then bm25() ranks the query).
func (s *Store) queryTokens(ctx context.Context, words []string) ([]string, bool, error) {
	st := &s.searchStats
	st.mu.Lock()
	if st.tokens == nil || len(st.tokens) > 100000 {
		st.tokens = map[string]string{}
	}
	missing := map[int64][3]string{}
	for i, w := range words {
		if _, ok := st.tokens[w]; !ok {
			missing[int64(i+1)] = [3]string{"", w, ""}
		}
	}
	st.mu.Unlock()
	if len(missing) > 0 {
		counts, err := s.tokenize(ctx, missing)
		if err != nil {
			return nil, false, err
		}
		st.mu.Lock()
		for id, t := range missing {
			tok := ""
			if c := counts[id]; c.lens[1] == 1 && len(c.tokens) == 1 {
				for k := range c.tokens {
					tok = k
				}
			}
			st.tokens[t[1]] = tok
		}
		st.mu.Unlock()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]string, len(words))
	for i, w := range words {
		if out[i] = st.tokens[w]; out[i] == "" {
			return nil, false, nil
		}
	}
	return out, true, nil
}

// sqliteVarint decodes a SQLite varint (big-endian groups of 7 bits, the ninth byte whole) and returns it with
// its length, 0 when b ends first.
func sqliteVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 9; i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// bm25Score is FTS5's bm25() (fts5_aux.c) without its sign: for each query phrase, its inverse document
// frequency times its weighted frequency in the piece, saturated by k1 and normalised by the piece's length
// against the average.
func bm25Score(rows int64, avgdl float64, docs []int64, freq []float64, length int) float64 {
	const k1, b = 1.2, 0.75
	score := 0.0
	for i, n := range docs {
		idf := math.Log((float64(rows) - float64(n) + 0.5) / (float64(n) + 0.5))
		if !(idf > 0) { // also NaN: a cached count above a cached number of rows
			idf = 1e-6
		}
		score += idf * (freq[i] * (k1 + 1)) / (freq[i] + k1*(1-b+b*float64(length)/avgdl))
	}
	return score
}

// searchPhrase is one phrase of a query the store scores (as FTS5's bm25() sees the query ftsMatch writes): a
// word, or a prefix, that every match has — or, with or set, that a match may have instead of the phrase before
// it (the second of prefixForms).
type searchPhrase struct {
	word   string
	prefix bool
	or     bool
}

// scoredPhrases returns the phrases of the positive terms when each is one word, possibly a prefix (the queries
// SQLite scores itself), and false otherwise.
func scoredPhrases(terms []firebreak.SearchTerm) ([]searchPhrase, bool) {
	var out []searchPhrase
	for _, t := range terms {
		if t.Negate {
			continue
		}
		if len(t.Words) != 1 {
			return nil, false
		}
		if !t.Prefix {
			out = append(out, searchPhrase{word: t.Words[0]})
			continue
		}
		for i, f := range prefixForms(t.Words[0]) {
			out = append(out, searchPhrase{word: f, prefix: true, or: i > 0})
		}
	}
	return out, len(out) > 0
}

// sqliteScored returns the window most recent pieces matching match (all of them when window < 0), newest first,
// scored by bm25Score over their stored tokens, and whether older matches were left out. phrases are match's
// phrases (scoredPhrases). ok is false when a word is not one token; then the caller ranks with bm25().
func (s *Store) sqliteScored(ctx context.Context, match string, phrases []searchPhrase, window int) (
	pieces []scoredPiece, more, ok bool, err error) {
	return s.scoreWindow(ctx, match, phrases, window, true)
}

// scoreWindow is sqliteScored; forwardOK false reads the window backwards whatever the estimate.
func (s *Store) scoreWindow(ctx context.Context, match string, phrases []searchPhrase, window int, forwardOK bool) (
	pieces []scoredPiece, more, ok bool, err error) {
	words := make([]string, len(phrases))
	prefix := make([]bool, len(phrases))
	for i, p := range phrases {
		words[i], prefix[i] = p.word, p.prefix
	}
	toks, ok, err := s.queryTokens(ctx, words)
	if err != nil || !ok {
		return nil, false, ok, wrap(err, "search")
	}
	rowsN, avgdl, docs, err := s.statsFor(ctx, toks, phrases)
	if err != nil {
		return nil, false, false, wrap(err, "search")
	}
	// FTS5 walks its posting lists backwards (newest first, to stop at the window) at a higher cost per entry than
	// forwards: when the words' counts say the matches are fewer than the window (their product over the rows,
	// as if the words were independent, is below a quarter of it), they are read forwards instead, up to four
	// windows' worth (words that go together match more than that product); past that, backwards after all.
	// Either way the window is the newest matches.
	est, alt := float64(rowsN), 0.0
	for i, n := range docs {
		alt += float64(n)
		if i+1 == len(docs) || !phrases[i+1].or {
			est *= min(1, alt/float64(max(rowsN, 1)))
			alt = 0
		}
	}
	forward := window < 0 || (forwardOK && est*searchForwardFactor <= float64(window))
	forwardCap := -1
	if forward && window >= 0 {
		forwardCap = 4 * window
	}
	limit := window
	if forward {
		limit = forwardCap
	}
	ids, blobs, err := s.windowTerms(ctx, match, forward, limit)
	if err != nil {
		return nil, false, false, wrap(err, "search")
	}
	var pending []int
	cs := make([][3]int, len(toks))
	freq := make([]float64, len(toks))
	score := func(data []byte) (float64, bool) {
		lens, ok := termsReader{data}.counts(toks, prefix, cs)
		if !ok {
			return 0, false
		}
		for i, c := range cs {
			freq[i] = searchWeights[0]*float64(c[0]) + searchWeights[1]*float64(c[1]) + searchWeights[2]*float64(c[2])
		}
		return bm25Score(rowsN, avgdl, docs, freq, lens[0]+lens[1]+lens[2]), true
	}
	pieces = make([]scoredPiece, len(ids))
	for k, id := range ids {
		pieces[k].id = id
		if blobs[k] == nil {
			pending = append(pending, k)
		} else if pieces[k].score, ok = score(blobs[k]); !ok {
			return nil, false, false, wrap(errors.New("search_terms: bad data"), "search")
		}
	}
	if forward && forwardCap >= 0 && len(pieces) == forwardCap {
		return s.scoreWindow(ctx, match, phrases, window, false)
	}
	if len(pending) > 0 {
		// Written since the indexer last ran: tokenized here (not stored; the indexer will).
		ids := make([]any, len(pending))
		for i, k := range pending {
			ids[i] = pieces[k].id
		}
		texts, err := s.pieceTexts(ctx, ids)
		if err != nil {
			return nil, false, false, wrap(err, "search")
		}
		counts, err := s.tokenize(ctx, texts)
		if err != nil {
			return nil, false, false, wrap(err, "search")
		}
		for _, k := range pending {
			pieces[k].score, _ = score(encodeTerms(counts[pieces[k].id]))
		}
	}
	if forward {
		slices.Reverse(pieces)
		if window >= 0 && len(pieces) > window {
			return pieces[:window], true, true, nil
		}
		return pieces, false, true, nil
	}
	return pieces, window >= 0 && len(pieces) == window, true, nil
}

// scoredPiece is a matching search_docs row and its score (higher is better).
type scoredPiece struct {
	id    int64
	score float64
}

// bestPieces returns the k best-scored of pieces (all of them when there are no more).
func bestPieces(pieces []scoredPiece, k int) []scoredPiece {
	if len(pieces) <= k {
		return pieces
	}
	best := slices.Clone(pieces)
	slices.SortFunc(best, func(a, b scoredPiece) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return best[:k]
}

// piecesJSON renders pieces as the JSON array of [id, score] pairs that the search query reads with json_each.
func piecesJSON(pieces []scoredPiece) string {
	var b bytes.Buffer
	b.Grow(32*len(pieces) + 2)
	b.WriteByte('[')
	for i, p := range pieces {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('[')
		b.WriteString(strconv.FormatInt(p.id, 10))
		b.WriteByte(',')
		sc := p.score
		if math.IsNaN(sc) || math.IsInf(sc, 0) {
			sc = 0
		}
		b.WriteString(strconv.FormatFloat(sc, 'g', -1, 64))
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String()
}

// termsCache keeps search_terms data read by searches in memory (SQLite): a broad search scores a window of
// thousands of matches, and looking up each one's counts (a B-tree descent per piece) cost as much as FTS5
// finding them. A piece's data only changes when its text changes or it is deleted (and a deleted id can be
// given to a new piece); both append the id to search_terms_log (migration 00021), and every search first reads
// the log entries added since seq, in the same snapshot as the data it reads, and forgets those pieces. Pending
// pieces (data NULL) are not kept.
type termsCache struct {
	mu    sync.Mutex
	seq   int64 // search_terms_log is applied up to here (when data is not nil)
	data  map[int64][]byte
	bytes int
}

// searchTermsCacheBytes bounds termsCache (tests lower it): about 80,000 pieces of the benchmark's post-mortems.
var searchTermsCacheBytes = 32 << 20

// searchTermsLogKeep is how many of the newest search_terms_log entries PruneSearchTermsLog keeps: a cache that
// has not looked at the log for longer than that many changes starts over (tests lower it).
var searchTermsLogKeep = 10000

// termsEntryBytes is what one cached piece costs besides its data (map entry and slice header, roughly).
const termsEntryBytes = 64

// sync brings the cache to the log of a snapshot (its entries after the cache's seq, which the caller read up to
// last; first is the log's oldest entry there): it forgets the changed pieces, or everything when the log no
// longer holds what it missed. It reports whether the cache now matches that snapshot, and whether it holds
// anything.
func (c *termsCache) sync(first, last int64, changed func(after int64) ([]int64, error)) (current, warm bool,
	err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case searchTermsCacheBytes <= 0:
		c.data, c.bytes, c.seq = nil, 0, 0
		return false, false, nil
	case c.data == nil || (c.seq < last && first > c.seq+1):
		// New, or the log was pruned past what it missed: start over. (seq only grows: the newest entries are
		// always kept.)
		c.data, c.bytes, c.seq = map[int64][]byte{}, 0, last
		return true, false, nil
	case c.seq > last:
		return false, false, nil // another search has seen a newer snapshot
	case c.seq == last:
		return true, len(c.data) > 0, nil
	}
	ids, err := changed(c.seq)
	if err != nil {
		return false, false, err
	}
	for _, id := range ids {
		if d, ok := c.data[id]; ok {
			c.bytes -= len(d) + termsEntryBytes
			delete(c.data, id)
		}
	}
	c.seq = last
	return true, len(c.data) > 0, nil
}

// get returns the cached data of ids (nil where it is not cached).
func (c *termsCache) get(ids []int64) [][]byte {
	out := make([][]byte, len(ids))
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, id := range ids {
		out[k] = c.data[id]
	}
	return out
}

// put keeps the data of ids (nil: pending, not kept) read in the snapshot whose log ends at seq, unless the cache
// has moved on to a newer one; past searchTermsCacheBytes it forgets arbitrary pieces until a quarter is free.
func (c *termsCache) put(seq int64, ids []int64, blobs [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.data == nil || c.seq != seq || searchTermsCacheBytes <= 0 {
		return
	}
	for k, id := range ids {
		d := blobs[k]
		if d == nil {
			continue
		}
		if _, ok := c.data[id]; ok {
			continue
		}
		c.data[id] = d
		c.bytes += len(d) + termsEntryBytes
	}
	if c.bytes > searchTermsCacheBytes {
		for id, d := range c.data { // map order: arbitrary
			delete(c.data, id)
			c.bytes -= len(d) + termsEntryBytes
			if c.bytes <= searchTermsCacheBytes*3/4 {
				break
			}
		}
	}
}

// windowTerms returns the ids of the newest limit matches of match (the oldest, forward; all when limit < 0), in
// the order read, and each one's search_terms data (nil while pending). Pieces whose data the cache holds are
// not looked up; the ones that are, are kept.
func (s *Store) windowTerms(ctx context.Context, match string, forward bool, limit int) ([]int64, [][]byte, error) {
	order := "DESC"
	if forward {
		order = "ASC"
	}
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read only
	x := q{s: s, ctx: ctx, db: tx, tx: tx, stmts: s.rstmts}
	var first, last int64
	if err := x.row(`SELECT COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM search_terms_log`).Scan(&first,
		&last); err != nil {
		return nil, nil, err
	}
	c := &s.termsCache
	current, warm, err := c.sync(first, last, func(after int64) ([]int64, error) {
		return scanIDs(x.query(`SELECT id FROM search_terms_log WHERE seq > ? AND seq <= ?`, after, last))
	})
	if err != nil {
		return nil, nil, err
	}
	var ids []int64
	var blobs [][]byte
	if warm {
		if ids, err = scanIDs(x.query(`SELECT rowid FROM search_fts WHERE search_fts MATCH ?
			ORDER BY rowid `+order+` LIMIT ?`, match, limit)); err != nil {
			return nil, nil, err
		}
		blobs = c.get(ids)
		var missing []int64
		for k, b := range blobs {
			if b == nil {
				missing = append(missing, ids[k])
			}
		}
		if len(missing) > 0 {
			read := make(map[int64][]byte, len(missing))
			present := make(map[int64]bool, len(missing))
			if err := scanTerms(x.query(`SELECT id, data FROM search_terms
				WHERE id IN (SELECT value FROM json_each(?))`, idsJSON(missing)))(func(id int64, d []byte) {
				read[id], present[id] = d, true
			}); err != nil {
				return nil, nil, err
			}
			// As the join below: a match without a search_terms row (none: the triggers write one per piece) is
			// left out.
			k := 0
			for i, id := range ids {
				if blobs[i] == nil {
					if !present[id] {
						continue
					}
					blobs[i] = read[id]
				}
				ids[k], blobs[k] = id, blobs[i]
				k++
			}
			ids, blobs = ids[:k], blobs[:k]
		}
	} else {
		if err := scanTerms(x.query(`SELECT f.rowid, t.data FROM search_fts f CROSS JOIN search_terms t
			ON t.id = f.rowid WHERE f.search_fts MATCH ? ORDER BY f.rowid `+order+` LIMIT ?`, match, limit))(
			func(id int64, d []byte) { ids, blobs = append(ids, id), append(blobs, d) }); err != nil {
			return nil, nil, err
		}
	}
	if current {
		c.put(last, ids, blobs)
	}
	return ids, blobs, nil
}

// scanTerms returns a function that hands each (id, data) row of a query to each, in order.
func scanTerms(rows *sql.Rows, err error) func(each func(id int64, data []byte)) error {
	return func(each func(id int64, data []byte)) error {
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var d []byte
			if err := rows.Scan(&id, &d); err != nil {
				return err
			}
			each(id, d)
		}
		return rows.Err()
	}
}

// scanIDs reads a query's single integer column.
func scanIDs(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// idsJSON renders ids as a JSON array (read with json_each).
func idsJSON(ids []int64) string {
	b := make([]byte, 0, 8*len(ids)+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// PruneSearchTermsLog drops all but the newest searchTermsLogKeep entries of search_terms_log (SQLite; the
// store's indexer calls it).
func (s *Store) PruneSearchTermsLog(ctx context.Context) error {
	if s.d.name == dialectPostgres {
		return nil
	}
	return wrap(s.write(ctx, func(t *txn) error {
		_, err := t.exec(`DELETE FROM search_terms_log WHERE seq <= (SELECT MAX(seq) FROM search_terms_log) - ?`,
			searchTermsLogKeep)
		return err
	}), "prune search terms log")
}
