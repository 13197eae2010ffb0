package sqlstore_test

import (
	"context"
	"testing"

	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// SQLite's full-text index takes a transaction's new and changed search pieces just before it commits (migration
// 00025). After every commit it must match search_docs exactly, including pieces that were changed or deleted
// before they were ever indexed, and pieces of the index changed or deleted later.
func TestSearchIndexAtCommit(t *testing.T) {
	s := sqltest.Open(t, "sqlite")
	ctx := context.Background()
	piece := func(exec func(string, ...any) error, id int, body string) error {
		return exec(`INSERT INTO search_docs (id, kind, doc_id, incident_id, part, part_id, body)
			VALUES (?, 'incident', 'doc', 'inc', 'timeline', ?, ?)`, id, id, body)
	}
	check := func(when string, want map[string]string) {
		t.Helper()
		for word, ids := range want {
			var got string
			if err := sqlstore.QueryRow(ctx, s, `SELECT COALESCE(group_concat(rowid, ','), '') FROM (SELECT rowid
				FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid)`, word).Scan(&got); err != nil {
				t.Fatalf("%s: %s: %v", when, word, err)
			}
			if got != ids {
				t.Fatalf("%s: %q finds pieces [%s], want [%s]", when, word, got, ids)
			}
		}
		// FTS5's own check of an external-content index against its table.
		if err := sqlstore.WriteFunc(ctx, s, func(exec func(string, ...any) error) error {
			return exec(`INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 1)`)
		}); err != nil {
			t.Fatalf("%s: integrity check: %v", when, err)
		}
		if n := must(sqlstore.QueryInt(ctx, s, `SELECT COUNT(*) FROM search_fts_pending`)); n != 0 {
			t.Fatalf("%s: %d pieces still pending after the commit", when, n)
		}
	}
	// One transaction: four new pieces, one of them changed and one deleted before the commit.
	if err := sqlstore.WriteFunc(ctx, s, func(exec func(string, ...any) error) error {
		for i, body := range []string{"zebra", "yak", "xenon", "walrus"} {
			if err := piece(exec, 1001+i, body); err != nil {
				return err
			}
		}
		if err := exec(`UPDATE search_docs SET body = 'yodel' WHERE id = 1002`); err != nil {
			return err
		}
		return exec(`DELETE FROM search_docs WHERE id = 1003`)
	}); err != nil {
		t.Fatal(err)
	}
	check("new pieces", map[string]string{"zebra": "1001", "yak": "", "yodel": "1002", "xenon": "",
		"walrus": "1004"})
	// Then: indexed pieces changed and deleted, a piece inserted and deleted, a deleted id used again, and an
	// indexed piece changed twice.
	if err := sqlstore.WriteFunc(ctx, s, func(exec func(string, ...any) error) error {
		if err := exec(`UPDATE search_docs SET body = 'zulu' WHERE id = 1001`); err != nil {
			return err
		}
		if err := exec(`DELETE FROM search_docs WHERE id = 1004`); err != nil {
			return err
		}
		if err := piece(exec, 1005, "vole"); err != nil {
			return err
		}
		if err := exec(`DELETE FROM search_docs WHERE id = 1005`); err != nil {
			return err
		}
		if err := piece(exec, 1004, "viper"); err != nil {
			return err
		}
		if err := exec(`UPDATE search_docs SET body = 'yeti' WHERE id = 1002`); err != nil {
			return err
		}
		return exec(`UPDATE search_docs SET body = 'yarrow' WHERE id = 1002`)
	}); err != nil {
		t.Fatal(err)
	}
	check("changes", map[string]string{"zebra": "", "zulu": "1001", "walrus": "", "vole": "", "viper": "1004",
		"yodel": "", "yeti": "", "yarrow": "1002"})
	// A write that fails is rolled back with the pieces it noted.
	if err := sqlstore.WriteFunc(ctx, s, func(exec func(string, ...any) error) error {
		if err := piece(exec, 1006, "urchin"); err != nil {
			return err
		}
		return piece(exec, 1006, "urchin") // the same id again: fails
	}); err == nil {
		t.Fatal("a duplicate piece was accepted")
	}
	check("a failed write", map[string]string{"urchin": "", "zulu": "1001"})
}
