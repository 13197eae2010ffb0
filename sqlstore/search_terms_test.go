package sqlstore

import (
	"context"

	"fmt"
	firebreak "github.com/firebreak/firebreak"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// termsStore opens a SQLite store whose searches read the words' statistics afresh on every call, as bm25() does.
func termsStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	old := searchStatsTTL
	searchStatsTTL = 0
	t.Cleanup(func() { searchStatsTTL = old })
	return s
}

// bm25Scores returns FTS5's bm25() of every match of match (with the store's weights, negated: higher is better)
// and the matches newest first.
func bm25Scores(t *testing.T, s *Store, match string) (map[int64]float64, []int64) {
	t.Helper()
	rows, err := s.read(context.Background()).query(`SELECT rowid, -bm25(search_fts, 10.0, 2.0, 0.5) FROM search_fts
		WHERE search_fts MATCH ? ORDER BY rowid DESC`, match)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[int64]float64{}
	var order []int64
	for rows.Next() {
		var id int64
		var sc float64
		if err := rows.Scan(&id, &sc); err != nil {
			t.Fatal(err)
		}
		want[id] = sc
		order = append(order, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return want, order
}

// TestSearchTermsScoreIsBM25: the store's scores of word queries are FTS5's bm25() with the same weights, for
// stored counts and for pieces tokenized on the fly (written or edited since the indexer ran), and the window is
// the newest matches.
func TestSearchTermsScoreIsBM25(t *testing.T) {
	s := termsStore(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 5))
	vocab := strings.Fields("replica replicas lagging lag primary failover database databases connection pool " +
		"exhausted Café naïve deploy deployment deployed the of ÉCOLE x1 42")
	text := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = vocab[r.IntN(len(vocab))]
		}
		return strings.Join(w, " ")
	}
	write := func(from, to int) {
		t.Helper()
		if err := s.write(ctx, func(x *txn) error {
			for id := from; id <= to; id++ {
				if _, err := x.exec(`INSERT INTO search_docs (id, kind, doc_id, incident_id, part, part_id, title, body,
					context) VALUES (?, 'incident', ?, ?, 'timeline', ?, ?, ?, ?)`, id, id, id, id, text(r.IntN(4)),
					text(r.IntN(40)), text(r.IntN(6))); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(stage string) {
		t.Helper()
		for _, query := range []string{"replica", "replicas", "lag primary", "cafe", "naive deploy",
			"connection pool exhausted", "x1", "42 database", "replica replica", "replica*", "deploy*", "data* lag",
			"ex* pool", "deploy* deploy", "naï*", "4*"} {
			terms := withoutStopWords(firebreak.ParseSearchQuery(query))
			match, _, _ := ftsMatch(terms)
			words, simple := scoredPhrases(terms)
			if !simple {
				t.Fatalf("%q is not scored by the store", query)
			}
			got, more, ok, err := s.sqliteScored(ctx, match, words, -1)
			if err != nil || !ok || more {
				t.Fatalf("%s %v: ok %v, more %v, err %v", stage, words, ok, more, err)
			}
			want, order := bm25Scores(t, s, match)
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("%s %v: %d pieces scored, bm25() has %d", stage, words, len(got), len(want))
			}
			for i, p := range got {
				if p.id != order[i] || math.Abs(p.score-want[p.id]) > 1e-9*math.Max(1, math.Abs(want[p.id])) {
					t.Fatalf("%s %v: piece %d (#%d) scored %v, bm25() gives %v (piece %d)", stage, words, p.id, i,
						p.score, want[p.id], order[i])
				}
			}
			// Small windows: read forwards, more than four windows' worth of matches go backwards after all.
			for _, w := range []int{1, 2, len(got) / 2} {
				if w == 0 || w >= len(got) {
					continue
				}
				win, more, _, err := s.sqliteScored(ctx, match, words, w)
				if err != nil || !more || len(win) != w || win[0] != got[0] || win[w-1] != got[w-1] {
					t.Fatalf("%s %v: window of %d: %d pieces (more %v, err %v)", stage, words, w, len(win), more, err)
				}
			}
		}
	}
	write(1, 300)
	check("all pending")
	for {
		n, err := s.IndexSearchTerms(ctx, 70)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	pending, _ := QueryIntInternal(ctx, s, `SELECT COUNT(*) FROM search_terms WHERE data IS NULL`)
	if pending != 0 {
		t.Fatalf("%d pieces still pending after indexing", pending)
	}
	check("all stored")
	restore := searchForwardFactor
	searchForwardFactor = 0 // every window read forwards, then cut to the newest
	check("all stored, forwards")
	searchForwardFactor = restore
	// The common tokens' counts read at once (the background pass) give the same scores.
	searchStatsTTL = time.Hour
	if err := s.RefreshSearchStats(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.searchStats.common) == 0 {
		t.Fatal("no common token kept")
	}
	check("counts kept")
	searchStatsTTL = 0
	write(301, 340)
	if err := s.write(ctx, func(x *txn) error {
		_, err := x.exec(`UPDATE search_docs SET body = ? WHERE id IN (5, 77, 200)`, "replica lag on the primary "+
			fmt.Sprint(r.IntN(9)))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	pending, _ = QueryIntInternal(ctx, s, `SELECT COUNT(*) FROM search_terms WHERE data IS NULL`)
	if pending != 43 {
		t.Fatalf("%d pieces pending after 40 writes and 3 edits, want 43", pending)
	}
	check("some pending")
	if err := s.write(ctx, func(x *txn) error {
		_, err := x.exec(`DELETE FROM search_docs WHERE id IN (6, 301)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n, _ := QueryIntInternal(ctx, s, `SELECT COUNT(*) FROM search_terms WHERE id IN (6, 301)`); n != 0 {
		t.Fatalf("deleted pieces keep %d search_terms rows", n)
	}
	if _, err := s.IndexSearchTerms(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	check("stored again")

	// The store keeps the counts it read (termsCache); a piece's edit or deletion makes it forget them, also when
	// the deleted piece's id goes to a new piece with other words.
	if len(s.termsCache.data) == 0 {
		t.Fatal("no counts kept in memory")
	}
	edit := func(stage string, ids ...int) {
		t.Helper()
		if err := s.write(ctx, func(x *txn) error {
			for _, id := range ids {
				if _, err := x.exec(`UPDATE search_docs SET body = ? WHERE id = ?`, text(30), id); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		check(stage)
	}
	if err := s.write(ctx, func(x *txn) error {
		_, err := x.exec(`DELETE FROM search_docs WHERE id = 340`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	write(340, 340)
	check("id reused, pending")
	if _, err := s.IndexSearchTerms(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	check("id reused, stored")
	// The log pruned past entries the cache has not seen: it starts over. Piece 9's edit is pruned away.
	check("before pruning")
	defer func(old int) { searchTermsLogKeep = old }(searchTermsLogKeep)
	searchTermsLogKeep = 1
	if err := s.write(ctx, func(x *txn) error {
		_, err := x.exec(`UPDATE search_docs SET body = ? WHERE id = 9`, text(30))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IndexSearchTerms(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	if err := s.write(ctx, func(x *txn) error {
		_, err := x.exec(`UPDATE search_docs SET body = ? WHERE id = 10`, text(30))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PruneSearchTermsLog(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := QueryIntInternal(ctx, s, `SELECT COUNT(*) FROM search_terms_log`); n != 1 {
		t.Fatalf("%d log entries after pruning to 1", n)
	}
	check("log pruned")
	// A cache over its size forgets pieces.
	defer func(old int) { searchTermsCacheBytes = old }(searchTermsCacheBytes)
	searchTermsCacheBytes = 4000
	edit("small cache", 11, 12)
	if s.termsCache.bytes > searchTermsCacheBytes {
		t.Fatalf("cache holds %d bytes, limit %d", s.termsCache.bytes, searchTermsCacheBytes)
	}
}

func QueryIntInternal(ctx context.Context, s *Store, query string, args ...any) (int64, error) {
	var n int64
	err := s.read(ctx).row(query, args...).Scan(&n)
	return n, err
}

// Searches running while pieces are edited and deleted leave the kept counts coherent: afterwards every score is
// bm25()'s again (a search that filled the cache from an older snapshot after a newer one had forgotten a piece
// would leave that piece's old counts behind).
func TestSearchTermsCacheConcurrentEdits(t *testing.T) {
	s := termsStore(t)
	ctx := context.Background()
	words := strings.Fields("replica lag primary failover database pool exhausted deploy")
	text := func(r *rand.Rand, n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ")
	}
	r := rand.New(rand.NewPCG(7, 9))
	if err := s.write(ctx, func(x *txn) error {
		for id := 1; id <= 200; id++ {
			if _, err := x.exec(`INSERT INTO search_docs (id, kind, doc_id, incident_id, part, part_id, title, body,
				context) VALUES (?, 'incident', ?, ?, 'timeline', ?, '', ?, '')`, id, id, id, id, text(r, 20)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IndexSearchTerms(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	phrases := []searchPhrase{{word: "replica"}}
	const match = `"replica"`
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, _, err := s.sqliteScored(ctx, match, phrases, -1); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range 60 {
		id := 1 + r.IntN(200)
		if err := s.write(ctx, func(x *txn) error {
			if i%10 == 9 { // a deletion, and the id given to a new piece
				if _, err := x.exec(`DELETE FROM search_docs WHERE id = ?`, id); err != nil {
					return err
				}
				_, err := x.exec(`INSERT INTO search_docs (id, kind, doc_id, incident_id, part, part_id, title, body,
					context) VALUES (?, 'incident', ?, ?, 'timeline', ?, '', ?, '')`, id, id, id, id, text(r, 20))
				return err
			}
			_, err := x.exec(`UPDATE search_docs SET body = ? WHERE id = ?`, text(r, 20), id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 {
			if _, err := s.IndexSearchTerms(ctx, 1000); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := s.IndexSearchTerms(ctx, 1000); err != nil {
		t.Fatal(err)
	}
	got, _, _, err := s.sqliteScored(ctx, match, phrases, -1)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := bm25Scores(t, s, match)
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%d pieces scored, bm25() has %d", len(got), len(want))
	}
	for _, p := range got {
		if math.Abs(p.score-want[p.id]) > 1e-9*math.Max(1, math.Abs(want[p.id])) {
			t.Fatalf("piece %d scored %v after concurrent edits, bm25() gives %v", p.id, p.score, want[p.id])
		}
	}
	if len(s.termsCache.data) == 0 {
		t.Fatal("nothing kept in memory")
	}
}
