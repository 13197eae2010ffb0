package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
)

// userServer creates a responder with a token and returns the server as seen with that token.
func (s *testServer) userServer(t *testing.T, username string) *testServer {
	t.Helper()
	s.ok(t, "admin", "user", "create", "--username", username, "--role", "responder")
	var tok firebreak.Token
	s.jsonOut(t, &tok, "admin", "token", "create", "--username", username, "--name", "cli")
	return &testServer{url: s.url, token: tok.Secret}
}

func TestChangeControlCommands(t *testing.T) {
	s := startServer(t)
	ic := s.userServer(t, "ic")
	dev := s.userServer(t, "dev")
	out := dev.ok(t, "incident", "declare", "--title", "Orders pool exhausted", "--severity", "SEV1", "--commander", "ic")
	contains(t, out, "INC-1")

	out = dev.ok(t, "incident", "propose", "INC-1", "--action", "Restart the orders pods", "--reason",
		"connections leak", "--risk", "medium")
	contains(t, out, "Proposed change #1 on INC-1: Restart the orders pods",
		"Waiting for the incident commander, ic: firebreak incident approve INC-1 1")
	dev.ok(t, "incident", "propose", "INC-1", "--action", "Fail over the database", "--reason", "slow primary")

	// Only the commander decides; the CLI says why.
	_, err := dev.cli(t, "incident", "approve", "INC-1", "1")
	if err == nil || !strings.Contains(err.Error(), "only the incident commander of INC-1 (ic)") {
		t.Fatalf("approve by a responder: %v", err)
	}
	out = ic.ok(t, "incident", "approve", "INC-1", "1", "--note", "one pod at a time")
	contains(t, out, "Change approved on INC-1: Restart the orders pods")
	_, err = ic.cli(t, "incident", "reject", "INC-1", "#1")
	if err == nil || !strings.Contains(err.Error(), "already approved by ic") {
		t.Fatalf("second decision: %v", err)
	}
	ic.ok(t, "incident", "reject", "INC-1", "2", "--note", "the primary is healthy")
	_, err = ic.cli(t, "incident", "approve", "INC-1", "3")
	if err == nil || !strings.Contains(err.Error(), "has 2 proposed changes; there is no #3") {
		t.Fatalf("unknown number: %v", err)
	}

	out = s.ok(t, "incident", "proposals", "INC-1")
	matches(t, out, `(?m)^1 +approved +medium +.* dev +Restart the orders pods +ic .*: one pod at a time`)
	matches(t, out, `(?m)^2 +rejected +— +.* dev +Fail over the database +ic `)
	var page firebreak.Page[firebreak.ChangeProposal]
	s.jsonOut(t, &page, "incident", "proposals", "INC-1")
	if len(page.Items) != 2 || page.Items[1].State != firebreak.ProposalRejected {
		t.Fatalf("proposals --json: %+v", page.Items)
	}
	// By id works too; a withdrawal is the proposer's.
	dev.ok(t, "incident", "propose", "INC-1", "--action", "Scale out", "--reason", "load")
	s.jsonOut(t, &page, "incident", "proposals", "INC-1")
	out = dev.ok(t, "incident", "withdraw", "INC-1", page.Items[2].ID)
	contains(t, out, "Change withdrawn on INC-1: Scale out")
	out = s.ok(t, "incident", "show", "INC-1", "--events", "20")
	contains(t, out, "Change proposed: Restart the orders pods", "Change approved: Restart the orders pods")
}

func TestRunbookCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "postgres-primary", "--name", "PostgreSQL primary")
	dir := t.TempDir()
	file := filepath.Join(dir, "failover.md")
	if err := os.WriteFile(file, []byte("# Failover\n\n1. Promote the replica\n2. Repoint pgbouncer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := s.ok(t, "runbook", "create", "--service", "postgres-primary", "--title", "Database failover", "--file", file)
	m := regexp.MustCompile(`^Created runbook (\S+) for postgres-primary: Database failover \(owner admin\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed %q", out)
	}
	id := m[1]
	out = s.ok(t, "runbook", "list")
	matches(t, out, `(?m)^`+id+` +postgres-primary +Database failover +admin +— +ok +1$`)

	// Edit from standard input, by title; a stale --version is refused.
	out, err := s.cliIn(t, "# Failover\n\n1. Promote through the cluster operator\n", "runbook", "edit",
		"database failover", "--file", "-", "--version", "1")
	if err != nil {
		t.Fatalf("edit: %v\n%s", err, out)
	}
	contains(t, out, "Saved Database failover, version 2")
	_, err = s.cli(t, "runbook", "edit", id[:8], "--title", "Old", "--version", "1")
	if err == nil || !strings.Contains(err.Error(), "current version is 2") {
		t.Fatalf("stale edit: %v", err)
	}
	_, err = s.cli(t, "runbook", "edit", id, "--version", "2")
	if err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Fatalf("empty edit: %v", err)
	}

	out = s.ok(t, "search", "cluster operator")
	contains(t, out, "runbook  Database failover  "+id, "postgres-primary")
	out = s.ok(t, "runbook", "show", id, "--revisions")
	contains(t, out, "Database failover  (postgres-primary)", "Reviewed:    never", "Promote through the cluster operator",
		"Revisions (2)")
	out = s.ok(t, "runbook", "show", id, "--version", "1")
	contains(t, out, "Repoint pgbouncer", "version 1, saved by admin")

	out = s.ok(t, "runbook", "review", id)
	contains(t, out, "Reviewed Database failover (version 2); next review due")
	var rb firebreak.Runbook
	s.jsonOut(t, &rb, "runbook", "review", id, "--version", "2")
	if rb.LastReviewedBy != "admin" || rb.Stale {
		t.Fatalf("review --json: %+v", rb)
	}
	if out := s.ok(t, "runbook", "list", "--stale"); !strings.Contains(out, "No runbooks.") {
		t.Errorf("list --stale: %s", out)
	}
	_, err = s.cli(t, "runbook", "show", "no such runbook")
	if err == nil || !strings.Contains(err.Error(), `no runbook is named "no such runbook"`) {
		t.Fatalf("unknown runbook: %v", err)
	}
	_, err = s.cli(t, "runbook", "create", "--service", "nope", "--title", "t", "--file", file)
	if err == nil || !strings.Contains(err.Error(), "service: unknown service") {
		t.Fatalf("unknown service: %v", err)
	}
}
