package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/bench"
	"github.com/firebreak/firebreak/sqlstore"
)

const testAdminToken = "test-admin-token-0123456789"

func TestMain(m *testing.M) {
	sqlstore.PasswordIterations = 1000 // fast user creation; the hashing itself is the store's to test
	// The commands read these as defaults; tests pass --url and --token unless they test the variables.
	os.Unsetenv("FIREBREAK_URL")
	os.Unsetenv("FIREBREAK_TOKEN")
	os.Exit(m.Run())
}

type testServer struct {
	app   *app.App
	url   string
	token string
}

// startServer runs the real server in-process on 127.0.0.1:0 with a fresh SQLite database.
func startServer(t *testing.T) *testServer {
	t.Helper()
	a, err := app.Open(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(),
		AdminToken: testAdminToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return &testServer{app: a, url: a.URL(), token: testAdminToken}
}

// cli runs the firebreak command line with args (plus the server's --url and --token) and returns its output.
func (s *testServer) cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return s.cliIn(t, "", args...)
}

func (s *testServer) cliIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	if s != nil {
		args = append(args, "--url", s.url, "--token", s.token)
	}
	return runCLI(t, stdin, args...)
}

func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

// ok runs the command and fails the test when it fails.
func (s *testServer) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, err := s.cli(t, args...)
	if err != nil {
		t.Fatalf("firebreak %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// jsonOut runs the command with --json and decodes its output into v.
func (s *testServer) jsonOut(t *testing.T, v any, args ...string) {
	t.Helper()
	out := s.ok(t, append(args, "--json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("firebreak %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func contains(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func matches(t *testing.T, out, pattern string) {
	t.Helper()
	if !regexp.MustCompile(pattern).MatchString(out) {
		t.Errorf("output does not match %s:\n%s", pattern, out)
	}
}

func TestIncidentCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "orders", "--name", "Order Processing")
	s.ok(t, "service", "add", "--slug", "payments", "--name", "Payment Gateway", "--depends-on", "orders")
	s.ok(t, "admin", "user", "create", "--username", "alice", "--role", "responder")
	s.ok(t, "admin", "user", "create", "--username", "bob", "--role", "responder")

	// declare: human and JSON.
	out := s.ok(t, "incident", "declare", "--title", "Checkout failing", "--severity", "sev1",
		"--service", "orders", "--service", "payments", "--commander", "alice", "--summary", "Payments time out")
	if out != "Declared INC-1 (SEV1): Checkout failing\n" {
		t.Errorf("declare printed %q", out)
	}
	var inc firebreak.Incident
	s.jsonOut(t, &inc, "incident", "declare", "--title", "Search slow", "--severity", "3", "--status", "investigating",
		"--service", "orders,payments")
	if inc.Reference != "INC-2" || inc.Severity != firebreak.SEV3 || inc.Status != firebreak.StatusInvestigating ||
		strings.Join(inc.Services, ",") != "orders,payments" || inc.Milestones.AcknowledgedAt == nil {
		t.Errorf("declare --json = %+v", inc)
	}

	// list: table, filters, JSON.
	out = s.ok(t, "incident", "list")
	contains(t, out, "REF", "SEV", "STATUS", "TITLE", "COMMANDER")
	matches(t, out, `(?m)^INC-2 +SEV3 +investigating +Search slow +orders,payments +— +\d{4}-\d\d-\d\d \d\d:\d\d\n`)
	matches(t, out, `(?m)^INC-1 +SEV1 +detected +Checkout failing +orders,payments +alice `)
	if strings.Index(out, "INC-2") > strings.Index(out, "INC-1") {
		t.Errorf("list is not newest first:\n%s", out)
	}
	out = s.ok(t, "incident", "list", "--severity", "SEV1")
	if strings.Contains(out, "INC-2") || !strings.Contains(out, "INC-1") {
		t.Errorf("list --severity SEV1:\n%s", out)
	}
	var page firebreak.Page[firebreak.Incident]
	s.jsonOut(t, &page, "incident", "list", "--status", "investigating", "--open")
	if len(page.Items) != 1 || page.Items[0].Reference != "INC-2" {
		t.Errorf("list --status investigating --json = %+v", page)
	}
	out = s.ok(t, "incident", "list", "--limit", "1")
	contains(t, out, "INC-2", "(more incidents: use --all, or --limit)")
	s.jsonOut(t, &page, "incident", "list", "--limit", "1", "--all")
	if len(page.Items) != 2 || page.NextCursor != "" {
		t.Errorf("list --limit 1 --all = %+v", page)
	}
	if out := s.ok(t, "incident", "list", "--status", "closed"); out != "No incidents.\n" {
		t.Errorf("empty list printed %q", out)
	}

	// status, assign, note, update, resolve.
	out = s.ok(t, "incident", "status", "INC-1", "Investigating", "-m", "looking at the pool")
	if out != "INC-1 is now investigating: Checkout failing\n" {
		t.Errorf("status printed %q", out)
	}
	s.jsonOut(t, &inc, "incident", "status", "1", "mitigating")
	if inc.Status != firebreak.StatusMitigating || inc.Milestones.MitigatedAt == nil {
		t.Errorf("status --json = %+v", inc)
	}
	if out := s.ok(t, "incident", "assign", "INC-1", "tech-lead", "bob"); out != "INC-1: Technical Lead is now bob\n" {
		t.Errorf("assign printed %q", out)
	}
	s.jsonOut(t, &inc, "incident", "assign", "INC-1", "comms_lead", "alice")
	if inc.Roles[firebreak.RoleCommsLead] != "alice" || inc.Roles[firebreak.RoleTechLead] != "bob" {
		t.Errorf("assign --json roles = %v", inc.Roles)
	}

	at := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	out = s.ok(t, "incident", "note", "INC-1", "deploy of orders v2.3 started", "--at", at.Format(time.RFC3339), "--star")
	matches(t, out, `^Added note #\d+ to INC-1 at `+regexp.QuoteMeta(at.Local().Format("2006-01-02 15:04"))+"\n$")
	var ev firebreak.TimelineEvent
	s.jsonOut(t, &ev, "incident", "note", "1", "pool at 100/100")
	if ev.Kind != firebreak.EventNote || ev.Message != "pool at 100/100" || ev.Actor != "admin" || ev.Starred {
		t.Errorf("note --json = %+v", ev)
	}
	hhmm := time.Now().Add(-time.Hour).Truncate(time.Minute)
	s.jsonOut(t, &ev, "incident", "note", "INC-1", "rollback decided", "--at", hhmm.Format("15:04"))
	if !ev.OccurredAt.Equal(hhmm) {
		t.Errorf("note --at %s occurred at %s, want %s", hhmm.Format("15:04"), ev.OccurredAt, hhmm)
	}

	out = s.ok(t, "incident", "update", "INC-1", "We are rolling back.", "--audience", "external")
	if out != "Posted external update to INC-1 (status mitigating)\n" {
		t.Errorf("update printed %q", out)
	}
	var up firebreak.StatusUpdate
	s.jsonOut(t, &up, "incident", "update", "INC-1", "Internal: rollback at 50%")
	if up.Audience != firebreak.AudienceInternal || up.Author != "admin" || up.Status != firebreak.StatusMitigating {
		t.Errorf("update --json = %+v", up)
	}

	out = s.ok(t, "incident", "ack", "INC-1")
	matches(t, out, `^Acknowledged INC-1 at .+: Checkout failing\n$`)
	var acked firebreak.Incident
	s.jsonOut(t, &acked, "incident", "ack", "INC-1")
	if acked.Milestones.AcknowledgedAt == nil {
		t.Errorf("ack --json = %+v", acked.Milestones)
	}

	out = s.ok(t, "incident", "resolve", "INC-1", "-m", "error rate normal")
	matches(t, out, `^Resolved INC-1: Checkout failing \(impact \d+s\)\n$`)
	s.jsonOut(t, &inc, "incident", "resolve", "INC-2")
	if inc.Status != firebreak.StatusResolved || inc.Milestones.ResolvedAt == nil {
		t.Errorf("resolve --json = %+v", inc)
	}

	// timeline: every event in time order, the backdated note first.
	out = s.ok(t, "incident", "timeline", "INC-1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	matches(t, lines[0], `^TIME +KIND +ACTOR +MESSAGE$`)
	matches(t, lines[1], `★ +note +admin +deploy of orders v2\.3 started \(recorded `)
	contains(t, out, "declared", "Incident Commander assigned to alice", "Status changed from mitigating to resolved: error rate normal",
		"Technical Lead assigned to bob", "update_posted")
	var tl firebreak.Page[firebreak.TimelineEvent]
	s.jsonOut(t, &tl, "incident", "timeline", "INC-1")
	if len(tl.Items) != len(lines)-1 || tl.Items[0].Message != "deploy of orders v2.3 started" {
		t.Errorf("timeline --json has %d events, human %d; first %+v", len(tl.Items), len(lines)-1, tl.Items[0])
	}
	s.jsonOut(t, &tl, "incident", "timeline", "INC-1", "--starred")
	if len(tl.Items) != 1 || !tl.Items[0].Starred {
		t.Errorf("timeline --starred = %+v", tl.Items)
	}

	// show: the card and its JSON.
	inc1, err := s.app.Store.GetIncident(context.Background(), "INC-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.app.Store.AddActionItem(context.Background(), inc1.ID, firebreak.ActionItemInput{
		Title: "Add a circuit breaker to payments", Owner: "Platform Team", DueDate: "2030-01-31",
		Priority: firebreak.PriorityHigh}); err != nil {
		t.Fatal(err)
	}
	out = s.ok(t, "incident", "show", "INC-1", "--events", "3")
	contains(t, out, "INC-1  SEV1  RESOLVED\nCheckout failing\n\nPayments time out\n",
		"Services:", "orders, payments", "Incident Commander:", "Technical Lead:", "Communications Lead:",
		"Impact:", "Milestones", "acknowledged", "resolved",
		"Updates (2)", "We are rolling back.", "external",
		"Action items (1)", "Add a circuit breaker to payments", "Platform Team", "2030-01-31", "open")
	matches(t, out, `Timeline \(last 3 of \d+; all: firebreak incident timeline INC-1\)`)
	matches(t, out, `(?m)^Technical Lead: +bob$`)
	matches(t, out, `(?m)^  closed +—$`)
	var view incidentView
	s.jsonOut(t, &view, "incident", "show", "INC-1", "--events", "3")
	if view.Incident.Reference != "INC-1" || len(view.Timeline) != 3 || view.Events < 10 || len(view.Updates) != 2 ||
		len(view.ActionItems) != 1 {
		t.Errorf("show --json = incident %s, %d of %d events, %d updates, %d action items", view.Incident.Reference,
			len(view.Timeline), view.Events, len(view.Updates), len(view.ActionItems))
	}

	// The follow-up list across incidents; nothing is overdue yet (due in 2030).
	out = s.ok(t, "follow-ups")
	contains(t, out, "DUE", "2030-01-31", "Platform Team", "Add a circuit breaker to payments", "INC-1", "SEV1")
	contains(t, s.ok(t, "follow-ups", "--overdue"), "No action items.")
	var fus firebreak.Page[firebreak.FollowUp]
	s.jsonOut(t, &fus, "action-items", "--owner", "Platform Team", "--status", "open")
	if len(fus.Items) != 1 || fus.Items[0].IncidentRef != "INC-1" || fus.Items[0].Overdue {
		t.Errorf("follow-ups --json = %+v", fus.Items)
	}
	if _, err := s.cli(t, "follow-ups", "--status", "lost"); err == nil || !strings.Contains(err.Error(), "--status") {
		t.Errorf("bad status: %v", err)
	}
}

func TestServiceCommands(t *testing.T) {
	s := startServer(t)
	if out := s.ok(t, "service", "list"); !strings.HasPrefix(out, "No services.") {
		t.Errorf("empty catalog printed %q", out)
	}
	out := s.ok(t, "service", "add", "--slug", "postgres-primary", "--name", "PostgreSQL primary", "--team", "Database Team",
		"--tier", "1", "--runbook", "https://runbooks.example.com/pg")
	if out != "Added service postgres-primary (PostgreSQL primary), tier 1\n" {
		t.Errorf("service add printed %q", out)
	}
	var svc firebreak.Service
	s.jsonOut(t, &svc, "service", "add", "--slug", "orders", "--depends-on", "postgres-primary", "--description", "Checkout")
	if svc.Name != "orders" || svc.Tier != 3 || strings.Join(svc.DependsOn, ",") != "postgres-primary" {
		t.Errorf("service add --json = %+v", svc)
	}
	out = s.ok(t, "service", "list")
	matches(t, out, `(?m)^SLUG +NAME +TEAM +TIER +DEPENDS ON +RUNBOOK$`)
	matches(t, out, `(?m)^orders +orders +— +3 +postgres-primary +—$`)
	matches(t, out, `(?m)^postgres-primary +PostgreSQL primary +Database Team +1 +— +https://runbooks.example.com/pg$`)
	var page firebreak.Page[firebreak.Service]
	s.jsonOut(t, &page, "service", "list", "--team", "Database Team")
	if len(page.Items) != 1 || page.Items[0].Slug != "postgres-primary" {
		t.Errorf("service list --team --json = %+v", page)
	}

	_, err := s.cli(t, "service", "add", "--slug", "Bad Slug", "--runbook", "ftp://x")
	if err == nil || !strings.Contains(err.Error(), "\n  slug: must be") || !strings.Contains(err.Error(), "\n  runbook_url: must be an http(s) URL") {
		t.Errorf("bad service: %v", err)
	}
}

func TestAdminCommands(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()

	out, err := s.cliIn(t, "correct-horse-battery\n", "admin", "user", "create", "--username", "carol", "--role", "responder",
		"--name", "Carol Díaz", "--email", "carol@example.com", "--password-stdin")
	if err != nil || out != "Created user carol (responder)\n" {
		t.Fatalf("user create: %q, %v", out, err)
	}
	if _, err := s.app.Store.AuthenticatePassword(ctx, "carol", "correct-horse-battery"); err != nil {
		t.Errorf("carol cannot log in with the password from stdin: %v", err)
	}
	var u firebreak.User
	s.jsonOut(t, &u, "admin", "user", "create", "--username", "dan", "--role", "viewer")
	if u.Username != "dan" || u.Role != firebreak.RoleViewer || u.ID == "" {
		t.Errorf("user create --json = %+v", u)
	}
	out = s.ok(t, "admin", "user", "list")
	matches(t, out, `(?m)^USERNAME +NAME +EMAIL +ROLE +CREATED$`)
	matches(t, out, `(?m)^carol +Carol Díaz +carol@example.com +responder +\d{4}-`)
	matches(t, out, `(?m)^dan +dan +— +viewer +`)
	var users firebreak.Page[firebreak.User]
	s.jsonOut(t, &users, "admin", "user", "list")
	if len(users.Items) != 3 { // admin, carol, dan
		t.Errorf("user list --json = %+v", users)
	}

	// A token is shown once; it works for the CLI.
	out = s.ok(t, "admin", "token", "create", "--username", "carol", "--name", "laptop")
	m := regexp.MustCompile(`(?s)^Created token "laptop" for carol \(role responder\)\.\n\n  (\S+)\n\nWarning: this is the only time`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("token create printed:\n%s", out)
	}
	carol := &testServer{url: s.url, token: m[1]}
	if out := carol.ok(t, "whoami"); out != "carol (responder) at "+s.url+"\n" {
		t.Errorf("whoami with the new token: %q", out)
	}
	var tok firebreak.Token
	s.jsonOut(t, &tok, "admin", "token", "create", "--username", "carol", "--name", "ci", "--role", "viewer", "--expires", "24h")
	if tok.Secret == "" || tok.Role != firebreak.RoleViewer || tok.ExpiresAt == nil ||
		tok.ExpiresAt.Sub(time.Now()) < 23*time.Hour {
		t.Errorf("token create --json = %+v", tok)
	}
	viewer := &testServer{url: s.url, token: tok.Secret}
	_, err = viewer.cli(t, "incident", "declare", "--title", "x", "--severity", "SEV3")
	if err == nil || !strings.Contains(err.Error(), "role viewer may not do this") || !strings.Contains(err.Error(), "hint:") {
		t.Errorf("declare with a viewer token: %v", err)
	}

	// Tokens are listed without secrets, and a revoked token stops working.
	out = s.ok(t, "admin", "token", "list", "--username", "carol")
	matches(t, out, `(?m)^ID +USERNAME +NAME +ROLE +CREATED +EXPIRES +LAST USED$`)
	matches(t, out, `(?m)^`+regexp.QuoteMeta(tok.ID)+` +carol +ci +viewer +\S+ \S+ +\S+ \S+ +\S+ \S+$`)
	matches(t, out, `(?m)^\S+ +carol +laptop +responder +\S+ \S+ +— +\S+ \S+$`)
	if strings.Contains(out, tok.Secret) || strings.Contains(out, m[1]) {
		t.Errorf("token list shows a secret:\n%s", out)
	}
	var toks firebreak.Page[firebreak.Token]
	s.jsonOut(t, &toks, "admin", "token", "list")
	if len(toks.Items) != 3 { // FIREBREAK_ADMIN_TOKEN, laptop, ci
		t.Errorf("token list --json = %+v", toks)
	}
	if out := s.ok(t, "admin", "token", "revoke", tok.ID); out != "Revoked token "+tok.ID+"\n" {
		t.Errorf("token revoke printed %q", out)
	}
	if _, err := viewer.cli(t, "whoami"); err == nil || !strings.Contains(err.Error(), "hint: set FIREBREAK_TOKEN") {
		t.Errorf("whoami with a revoked token: %v", err)
	}

	// Through the API the admin commands need an admin.
	_, err = carol.cli(t, "admin", "user", "list")
	if err == nil || !strings.Contains(err.Error(), "needs admin") {
		t.Errorf("user list as a responder: %v", err)
	}
}

// The offline admin commands work on the database directly: a token made before the first start works once the
// server runs.
func TestAdminOffline(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, "", "admin", "user", "create", "--data-dir", dir, "--username", "ops", "--role", "admin")
	if err != nil || out != "Created user ops (admin)\n" {
		t.Fatalf("offline user create: %q, %v", out, err)
	}
	out, err = runCLI(t, "", "admin", "token", "create", "--data-dir", dir, "--username", "ops", "--name", "bootstrap", "--json")
	if err != nil {
		t.Fatalf("offline token create: %v\n%s", err, out)
	}
	var tok firebreak.Token
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.Secret == "" {
		t.Fatalf("offline token: %v %q", err, out)
	}
	out, err = runCLI(t, "", "admin", "user", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "ops") {
		t.Fatalf("offline user list: %q, %v", out, err)
	}

	a, err := app.Open(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	ops := &testServer{url: a.URL(), token: tok.Secret}
	if out := ops.ok(t, "whoami"); out != "ops (admin) at "+a.URL()+"\n" {
		t.Errorf("whoami with the offline token: %q", out)
	}
}

// FIREBREAK_URL and FIREBREAK_TOKEN are the defaults of --url and --token.
func TestEnvironment(t *testing.T) {
	s := startServer(t)
	t.Setenv("FIREBREAK_URL", s.url)
	t.Setenv("FIREBREAK_TOKEN", s.token)
	out, err := runCLI(t, "", "incident", "declare", "--title", "From the environment", "--severity", "SEV2")
	if err != nil || out != "Declared INC-1 (SEV2): From the environment\n" {
		t.Fatalf("declare with the environment: %q, %v", out, err)
	}
	// Help shows where the token comes from, never the token.
	out, err = runCLI(t, "", "incident", "--help")
	if err != nil || strings.Contains(out, s.token) || !strings.Contains(out, "FIREBREAK_TOKEN") {
		t.Errorf("incident --help: %v\n%s", err, out)
	}
	// Flags win over the environment.
	_, err = runCLI(t, "", "incident", "list", "--token", "wrong-token-wrong-token")
	if err == nil || !strings.Contains(err.Error(), "FIREBREAK_TOKEN") {
		t.Errorf("--token did not override FIREBREAK_TOKEN: %v", err)
	}
}

func TestErrors(t *testing.T) {
	s := startServer(t)
	s.ok(t, "incident", "declare", "--title", "Closed one", "--severity", "SEV3")
	s.ok(t, "incident", "resolve", "INC-1")
	s.ok(t, "incident", "status", "INC-1", "closed")

	for _, c := range []struct {
		name string
		s    *testServer
		args []string
		want string // the whole error, as printed after "error: "
		re   string // or a pattern
	}{
		{"validation", s, []string{"incident", "declare", "--severity", "SEV1"},
			"invalid request: title is required\n  title: is required", ""},
		{"several fields", s, []string{"incident", "declare", "--severity", "SEV9"},
			"invalid request: 2 fields are wrong\n  title: is required\n  severity: must be one of SEV1, SEV2, SEV3", ""},
		{"not found", s, []string{"incident", "show", "INC-42"}, "", `^incident INC-42 not found$`},
		{"conflict", s, []string{"incident", "status", "INC-1", "investigating"},
			"INC-1 is closed: no further status change is possible", ""},
		{"unauthorized", &testServer{url: s.url, token: ""}, []string{"incident", "list"}, "",
			`(?s)^authentication required.*\nhint: set FIREBREAK_TOKEN \(or --token\)`},
		{"bad token", &testServer{url: s.url, token: "not-a-real-token-at-all"}, []string{"service", "list"}, "",
			`\nhint: set FIREBREAK_TOKEN`},
		{"unknown flag", s, []string{"incident", "list", "--bogus"}, "",
			`^unknown flag: --bogus\nUsage: firebreak incident list \[flags\]\nRun 'firebreak incident list --help' for more\.$`},
		{"missing argument", s, []string{"incident", "show"}, "",
			`^expected an incident, got 0 argument\(s\)\nUsage: firebreak incident show INC-7`},
		{"unknown command", s, []string{"incident", "frobnicate"}, "",
			`^unknown command "frobnicate" for "firebreak incident"\nUsage: firebreak incident`},
		{"extra argument", s, []string{"incident", "list", "extra"}, "", `^expected no arguments, got 1 argument\(s\)\nUsage:`},
		{"bad --at", s, []string{"incident", "note", "INC-1", "x", "--at", "noon"}, "", `^--at "noon": use HH:MM`},
		{"future note", s, []string{"incident", "note", "INC-1", "x", "--at", "2099-01-01T00:00:00Z"},
			"invalid request: occurred_at must not be in the future\n  occurred_at: must not be in the future", ""},
		{"bad audience", s, []string{"incident", "update", "INC-1", "x", "--audience", "press"}, "",
			`^--audience must be internal, external or all\nUsage:`},
		{"server down", &testServer{url: "http://127.0.0.1:1", token: "x"}, []string{"incident", "list"}, "",
			`^cannot reach the server: .*connection refused\nhint: is 'firebreak serve' running there\?`},
		{"bench elsewhere", nil, []string{"bench", "--url", "http://192.0.2.1:8080", "--token", "x"}, "",
			`^bench: 192\.0\.2\.1 is not a loopback address`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.s.cli(t, c.args...)
			if err == nil {
				t.Fatalf("firebreak %s succeeded:\n%s", strings.Join(c.args, " "), out)
			}
			if c.want != "" && err.Error() != c.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, c.want)
			}
			if c.re != "" && !regexp.MustCompile(c.re).MatchString(err.Error()) {
				t.Errorf("error:\n%s\nwant match for %s", err, c.re)
			}
		})
	}
}

func TestParseAt(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	now := time.Date(2026, 11, 22, 15, 30, 0, 0, loc)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"14:00", time.Date(2026, 11, 22, 14, 0, 0, 0, loc)},
		{"15:30", now},
		{"16:00", time.Date(2026, 11, 21, 16, 0, 0, 0, loc)}, // later than now: yesterday
		{"00:05:30", time.Date(2026, 11, 22, 0, 5, 30, 0, loc)},
		{"2026-11-20 09:15", time.Date(2026, 11, 20, 9, 15, 0, 0, loc)},
		{"2026-11-20T09:15", time.Date(2026, 11, 20, 9, 15, 0, 0, loc)},
		{"2026-11-22T14:00:00Z", time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC)},
		{"2026-11-22T14:00:00+05:00", time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)},
	} {
		got, err := parseAt(c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("parseAt(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	// On the first of a month, a time later than now is the last day of the previous month.
	first := time.Date(2026, 12, 1, 0, 10, 0, 0, loc)
	if got, _ := parseAt("23:50", first); !got.Equal(time.Date(2026, 11, 30, 23, 50, 0, 0, loc)) {
		t.Errorf("parseAt(23:50) on Dec 1 = %s", got)
	}
	for _, bad := range []string{"", "noon", "25:00", "14h", "2026-13-01 10:00"} {
		if _, err := parseAt(bad, now); err == nil {
			t.Errorf("parseAt(%q) succeeded", bad)
		}
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "30s", 45 * time.Minute: "45m", 3*time.Hour + 15*time.Minute: "3h 15m", 2 * time.Hour: "2h",
		52 * time.Hour: "2d 4h", 48 * time.Hour: "2d",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%s) = %q, want %q", d, got, want)
		}
	}
	if got := truncate("a  very\nlong title", 10); got != "a very lo…" {
		t.Errorf("truncate = %q", got)
	}
	if got := wrap("one two three four", 9); got != "one two\nthree\nfour" {
		t.Errorf("wrap = %q", got)
	}
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// serve --demo loads the demo data once, through the loadDemo hook, before it serves.
func TestServeDemo(t *testing.T) {
	t.Setenv("FIREBREAK_ADMIN_TOKEN", testAdminToken)
	dir := t.TempDir()
	serveOnce := func() {
		ctx, cancel := context.WithCancel(context.Background())
		cmd := newRootCmd()
		var out syncBuffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"serve", "--demo", "--addr", "127.0.0.1:0", "--data-dir", dir})
		done := make(chan error, 1)
		go func() { done <- cmd.ExecuteContext(ctx) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}()
		re := regexp.MustCompile(`running at (http://127\.0\.0\.1:\d+)`)
		var url string
		for deadline := time.Now().Add(30 * time.Second); url == "" && time.Now().Before(deadline); {
			select {
			case err := <-done:
				t.Fatalf("serve ended: %v\n%s", err, out.String())
			case <-time.After(20 * time.Millisecond):
			}
			if m := re.FindStringSubmatch(out.String()); m != nil {
				url = m[1]
			}
		}
		if url == "" {
			t.Fatalf("serve did not start:\n%s", out.String())
		}
		s := &testServer{url: url, token: testAdminToken}
		var page firebreak.Page[firebreak.Incident]
		s.jsonOut(t, &page, "incident", "list", "--all")
		if len(page.Items) != 11 { // the 10 scripted incidents and the one the demo's alert storm opened
			t.Errorf("serve --demo: %d incidents, want the demo's 11", len(page.Items))
		}
		alerts := s.ok(t, "alert", "list", "--service", "orders")
		contains(t, alerts, "p99 checkout latency above 2s on orders-1", "alertmanager")
		out2 := s.ok(t, "incident", "show", "INC-4")
		contains(t, out2, "Cascading service failures during peak traffic", "Incident Commander:   alice", "Action items (10)")
		users := s.ok(t, "admin", "user", "list")
		matches(t, users, `(?m)^victor +Victor Lindqvist +victor@example.com +viewer `)
		contains(t, users, "alice")
		// The alert storm's incident is being paged by its service's escalation policy.
		contains(t, s.ok(t, "incident", "show", "INC-10"), "Escalation: running", "Policy Tier 1: page now",
			"Next:   step ")
		// Its pages go to the demo's example.com addresses: without SMTP settings each fails for good at its
		// first attempt and is dead-lettered, never retried.
		var pages []firebreak.Notification
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			var ns []firebreak.Notification
			s.jsonOut(t, &ns, "channel", "notifications", "--incident", "INC-10")
			pages = pages[:0]
			dead := 0
			for _, n := range ns {
				if n.Kind == "page" {
					pages = append(pages, n)
					if n.Status == firebreak.NotificationDead {
						dead++
					}
				}
			}
			if len(pages) > 0 && dead == len(pages) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("demo pages not dead-lettered: %+v", pages)
			}
		}
		for _, n := range pages {
			if n.Attempts != 1 || !strings.Contains(n.LastError, "no SMTP host configured") ||
				!strings.HasSuffix(n.Channel, " email") {
				t.Errorf("demo page %+v", n)
			}
		}
	}
	serveOnce()
	serveOnce() // the second start finds the data and adds nothing
}

type benchOutput struct {
	Target   string         `json:"target"`
	Clients  int            `json:"clients"`
	Duration float64        `json:"duration_seconds"`
	Go       string         `json:"go"`
	CPUs     int            `json:"cpus"`
	Results  []bench.Result `json:"results"`
}

func checkBench(t *testing.T, out string, names ...string) {
	t.Helper()
	var b benchOutput
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	if len(b.Results) != len(names) {
		t.Fatalf("bench ran %d phases, want %v:\n%s", len(b.Results), names, out)
	}
	for i, r := range b.Results {
		if r.Name != names[i] || r.Requests == 0 || r.Errors != 0 || r.PerSecond <= 0 || r.P50 <= 0 ||
			r.P50 > r.P90 || r.P90 > r.P99 || r.P99 > r.Max || r.Clients != 4 {
			t.Errorf("phase %d = %+v, want %q with requests and no errors", i, r, names[i])
		}
	}
}

// bench --local starts its own server and database, runs every phase and stops by itself.
func TestBenchLocal(t *testing.T) {
	kinds := []string{"sqlite"}
	pg := os.Getenv("FIREBREAK_TEST_POSTGRES_URL")
	if pg != "" {
		kinds = append(kinds, "postgres")
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			args := []string{"bench", "--local", kind, "--clients", "4", "--duration", "200ms", "--warmup", "0",
				"--read-events", "50", "--json"}
			if kind == "postgres" {
				args = append(args, "--database-url", pg)
			}
			start := time.Now()
			out, err := runCLI(t, "", args...)
			if err != nil {
				t.Fatalf("bench: %v\n%s", err, out)
			}
			if el := time.Since(start); el > 30*time.Second {
				t.Errorf("bench took %s", el)
			}
			checkBench(t, out, "append, 8 incidents", "append, 1 hot incident", "read incident", "read timeline (50 events)")
		})
	}
}

// bench against a running server, human output, one scenario, capped by --max-requests.
func TestBenchServer(t *testing.T) {
	s := startServer(t)
	out := s.ok(t, "bench", "--scenario", "read", "--clients", "4", "--duration", "10s", "--max-requests", "40",
		"--warmup", "0", "--read-events", "20", "--quiet")
	contains(t, out, "Firebreak bench: server at "+s.url, "4 clients", "scenario", "req/s", "p99")
	matches(t, out, `(?m)^read incident +40 +0 +\d+ +[\d.]+ms`)
	matches(t, out, `(?m)^read timeline \(20 events\) +40 +0 `)
	if strings.Contains(out, "append") {
		t.Errorf("--scenario read ran appends:\n%s", out)
	}
	// The server has the bench's incident with its 20 events.
	p, err := s.app.Store.ListIncidents(context.Background(), firebreak.IncidentFilter{Query: "Bench"})
	if err != nil || len(p.Items) != 1 {
		t.Fatalf("bench incidents: %v %+v", err, p)
	}
}
