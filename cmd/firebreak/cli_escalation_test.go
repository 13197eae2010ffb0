package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/firebreak/firebreak"
)

func TestEscalationCommands(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	st := s.app.Store
	for _, u := range []string{"alice", "carol"} {
		if _, err := st.CreateUser(ctx, firebreak.UserInput{Username: u}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: "alice-mail",
		Address: "alice@example.com", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	s.ok(t, "service", "add", "--slug", "payments")

	out := s.ok(t, "escalation-policy", "list")
	contains(t, out, "No escalation policies")
	out = s.ok(t, "escalation-policy", "create", "--name", "payments", "--repeat", "1",
		"--step", "5m user:alice", "--step", "10m user:alice, user:carol")
	contains(t, out, "Added escalation policy payments", "step 1: 5m user:alice", "step 2: 10m user:alice, user:carol",
		"runs 2 times")

	// Refusals name the field; a bad --step is a usage error.
	if out, err := s.cli(t, "escalation-policy", "create", "--name", "x", "--step", "5m user:carol"); err == nil ||
		!strings.Contains(out+err.Error(), "steps[0].targets") || !strings.Contains(out+err.Error(), "carol has no contact method") {
		t.Fatalf("unreachable step: %v\n%s", err, out)
	}
	if out, err := s.cli(t, "escalation-policy", "create", "--name", "x", "--step", "5m user:zed"); err == nil ||
		!strings.Contains(out+err.Error(), "steps[0].targets[0].ref") {
		t.Fatalf("unknown user: %v\n%s", err, out)
	}
	if _, err := s.cli(t, "escalation-policy", "create", "--name", "x", "--step", "soon user:alice"); err == nil {
		t.Fatal("a bad step was accepted")
	}

	// From a YAML file, and JSON on stdin.
	file := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(file, []byte("name: nights\ndescription: night shift\nsteps:\n"+
		"  - {delay: 15m, targets: [{type: user, ref: alice}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var p firebreak.EscalationPolicy
	s.jsonOut(t, &p, "escalation-policy", "create", "--file", file)
	if p.Name != "nights" || len(p.Steps) != 1 || p.Description != "night shift" {
		t.Fatalf("from YAML: %+v", p)
	}
	if out, err := s.cliIn(t, `{"name":"json","steps":[{"delay":"1m","targets":[{"type":"user","ref":"alice"}]}]}`,
		"escalation-policy", "create", "-f", "-"); err != nil || !strings.Contains(out, "Added escalation policy json") {
		t.Fatalf("from stdin: %v\n%s", err, out)
	}
	if _, err := s.cliIn(t, `{"name":"x","colour":"red"}`, "escalation-policy", "create", "-f", "-"); err == nil {
		t.Fatal("an unknown field in the file was accepted")
	}

	out = s.ok(t, "escalation-policy", "list")
	contains(t, out, "NAME", "payments", "5m user:alice → 10m user:alice, user:carol", "nights")
	out = s.ok(t, "escalation-policy", "attach", "payments", "--service", "payments")
	contains(t, out, "Service payments pages with escalation policy payments")
	out = s.ok(t, "escalation-policy", "show", "payments")
	contains(t, out, "services: payments")

	// "incident show" says where the paging stands: the step that paged, the next one and when; then who stopped it.
	s.ok(t, "incident", "declare", "--title", "Card payments failing", "--severity", "SEV3", "--service", "payments")
	out = s.ok(t, "incident", "show", "INC-1")
	contains(t, out, "Escalation: running", "Policy payments, started",
		"Paged:  step 1 of 2 (round 1 of 2) paged alice at",
		"Next:   step 2 of 2 (round 1 of 2) pages user alice and user carol at", "(in 4m) unless acknowledged",
		"unreachable then: carol: no contact method")
	var view incidentView
	s.jsonOut(t, &view, "incident", "show", "INC-1")
	if e := view.Escalation; e == nil || e.State != firebreak.EscalationRunning || len(e.Running) != 1 ||
		e.Running[0].Next == nil || e.Running[0].Next.Step != 2 {
		t.Fatalf("JSON escalation %+v", e)
	}
	s.ok(t, "incident", "ack", "INC-1")
	out = s.ok(t, "incident", "show", "INC-1")
	contains(t, out, "Escalation: stopped", "Policy payments: stopped at", "(acknowledged by admin)")
	if _, err := s.cli(t, "escalation-policy", "rm", "payments"); err == nil {
		t.Fatal("a policy in use was deleted")
	}
	out = s.ok(t, "escalation-policy", "detach", "--service", "payments")
	contains(t, out, "Service payments has no escalation policy")
	out = s.ok(t, "escalation-policy", "rm", "payments")
	contains(t, out, "Deleted escalation policy payments")
	if _, err := s.cli(t, "escalation-policy", "show", "payments"); err == nil {
		t.Fatal("a deleted policy was shown")
	}
}
