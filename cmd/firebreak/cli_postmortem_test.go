package main

import (
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
)

func TestPostmortemCommands(t *testing.T) {
	s := startServer(t)
	var inc firebreak.Incident
	s.jsonOut(t, &inc, "incident", "declare", "--title", "Checkout errors", "--severity", "SEV2")
	s.ok(t, "incident", "status", inc.Reference, "resolved")

	out := s.ok(t, "postmortem", "show", inc.Reference)
	contains(t, out, "Post-mortem of "+inc.Reference, "Status:", "draft (version 1)", "Missing before publishing:",
		"trigger: is required", "approvals:")

	// Edit from stdin; the lint runs on save.
	out, err := s.cliIn(t, `{"trigger":"Human error during the deploy.","lessons_learned":["Stage flags"]}`,
		"postmortem", "edit", inc.Reference, "--file", "-", "--version", "1")
	if err != nil {
		t.Fatalf("edit: %v\n%s", err, out)
	}
	contains(t, out, "Saved version 2", "[blocking] trigger")
	// A stale version is refused.
	_, err = s.cliIn(t, `{"summary":"x"}`, "postmortem", "edit", inc.Reference, "--file", "-", "--version", "1")
	if err == nil || !strings.Contains(err.Error(), "current version is 2") {
		t.Fatalf("stale edit: %v", err)
	}
	if _, err := s.cliIn(t, `{"nope":1}`, "postmortem", "edit", inc.Reference, "--file", "-"); err == nil ||
		!strings.Contains(err.Error(), "not a post-mortem patch") {
		t.Fatalf("bad patch: %v", err)
	}

	// Publishing lists what is missing.
	_, err = s.cli(t, "postmortem", "publish", inc.Reference)
	if err == nil || !strings.Contains(err.Error(), "contributing_factors:") ||
		!strings.Contains(err.Error(), "trigger: blameless lint (human-error-cause)") {
		t.Fatalf("publish: %v", err)
	}

	md := s.ok(t, "postmortem", "export", inc.Reference)
	if !strings.HasPrefix(md, "# Post-mortem: Checkout errors ("+inc.Reference+")") ||
		!strings.Contains(md, "## Lessons learned\n\n- Stage flags") {
		t.Fatalf("export:\n%s", md)
	}
	contains(t, s.ok(t, "postmortem", "revisions", inc.Reference), "VERSION", "created", "edited")
	var pm firebreak.Postmortem
	s.jsonOut(t, &pm, "postmortem", "show", inc.Reference)
	if pm.Version != 2 || len(pm.Lessons) != 1 {
		t.Fatalf("json %+v", pm)
	}
	if _, err := s.cli(t, "postmortem", "create", inc.Reference); err == nil ||
		!strings.Contains(err.Error(), "already has a post-mortem") {
		t.Fatalf("create twice: %v", err)
	}
}
