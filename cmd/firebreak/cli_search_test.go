package main

import (
	"testing"

	"github.com/firebreak/firebreak"
)

func TestSearchCommand(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "db")
	s.ok(t, "incident", "declare", "--title", "Connection pool exhaustion", "--severity", "SEV2", "--service", "db")
	s.ok(t, "incident", "declare", "--title", "Checkout errors", "--severity", "SEV1")
	s.ok(t, "incident", "note", "INC-2", "The pool was exhausted again")

	out := s.ok(t, "search", "connection", "pool", "--service", "db")
	contains(t, out, "INC-1", "SEV2", "Connection pool exhaustion", "«")
	var p firebreak.Page[firebreak.SearchHit]
	s.jsonOut(t, &p, "search", "pool", "--severity", "SEV1")
	if len(p.Items) != 1 || p.Items[0].Ref != "INC-2" {
		t.Fatalf("hits %+v", p.Items)
	}
	contains(t, s.ok(t, "search", `"no such phrase`), "Nothing found.")
}
