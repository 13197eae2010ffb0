package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
)

// deliver posts a body as a monitoring tool does, and fails unless it gets want.
func deliver(t *testing.T, url string, body []byte, want int) {
	t.Helper()
	res, err := http.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("POST %s: %d %s, want %d", url, res.StatusCode, b, want)
	}
}

func TestIntegrationCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "api", "--name", "Public API")

	// The key is printed once, with the snippet for the kind.
	out := s.ok(t, "integration", "add", "--service", "api", "--kind", "alertmanager", "--name", "prom-eu")
	m := regexp.MustCompile(`Key \(shown only now, Firebreak keeps a hash\): ([0-9a-f]{32})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no key in:\n%s", out)
	}
	key := m[1]
	hook := s.url + "/api/v1/intake/alertmanager/" + key
	contains(t, out, `Added alertmanager integration "prom-eu" to api.`, "Webhook URL: "+hook, "webhook_configs:",
		"url: "+hook, "send_resolved: true")

	// --json has the key and the snippets; a PagerDuty integration's snippet is pagerduty_configs.
	var pd client.CreatedIntegration
	s.jsonOut(t, &pd, "integration", "add", "--service", "api", "--kind", "PagerDuty")
	if pd.Kind != firebreak.IntegrationPagerDuty || len(pd.Key) != 32 || pd.Snippets.URL != s.url+"/v2/enqueue" ||
		!strings.Contains(pd.Snippets.Alertmanager, "routing_key: "+pd.Key) {
		t.Fatalf("pagerduty integration %+v", pd)
	}

	// A Grafana signature secret read from stdin; the list says it is signed and shows no key.
	out, err := s.cliIn(t, "hmac-secret\n", "integration", "add", "--service", "api", "--kind", "grafana",
		"--signature-secret", "-")
	if err != nil {
		t.Fatalf("grafana: %v\n%s", err, out)
	}
	contains(t, out, "X-Grafana-Alerting-Signature")
	list := s.ok(t, "integration", "list", "--service", "api")
	contains(t, list, "prom-eu", "alertmanager", "pagerduty", "grafana")
	matches(t, list, `grafana\s+yes`)
	if strings.Contains(list, key) || strings.Contains(list, pd.Key) {
		t.Fatal("the list shows a key")
	}
	var page firebreak.Page[firebreak.Integration]
	s.jsonOut(t, &page, "integration", "list", "--service", "api")
	if len(page.Items) != 3 {
		t.Fatalf("%d integrations in JSON", len(page.Items))
	}

	// Refusals name the field.
	out, err = s.cli(t, "integration", "add", "--service", "api", "--kind", "nagios")
	if err == nil || !strings.Contains(err.Error(), "kind: must be pagerduty, alertmanager, grafana or generic") {
		t.Fatalf("bad kind: %v\n%s", err, out)
	}
	if _, err := s.cli(t, "integration", "add", "--service", "api", "--kind", "generic", "--signature-secret", "x"); err == nil ||
		!strings.Contains(err.Error(), "signature_secret") {
		t.Fatalf("secret on a generic integration: %v", err)
	}
}

func TestAlertAndChangeCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "api")
	s.ok(t, "service", "add", "--slug", "db")
	var am, pd client.CreatedIntegration
	s.jsonOut(t, &am, "integration", "add", "--service", "api", "--kind", "alertmanager")
	s.jsonOut(t, &pd, "integration", "add", "--service", "api", "--kind", "pagerduty")
	payload, err := os.ReadFile(filepath.Join("..", "..", "intake", "testdata", "alertmanager-v4-firing.json"))
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, am.Snippets.URL, payload, http.StatusOK)

	out := s.ok(t, "alert", "list")
	contains(t, out, "STATUS", "firing", "critical", "5xx ratio above 5% on api-1:8080", "alertmanager", "INC-1")
	if n := strings.Count(out, "\n"); n != 3 {
		t.Fatalf("%d lines, want a header and 2 alerts:\n%s", n, out)
	}
	var page firebreak.Page[firebreak.Alert]
	s.jsonOut(t, &page, "alert", "list", "--service", "api", "--status", "firing", "--incident", "INC-1")
	if len(page.Items) != 2 || page.Items[0].Labels["cluster"] != "prod-eu-1" {
		t.Fatalf("alerts %+v", page.Items)
	}
	s.jsonOut(t, &page, "alert", "list", "--limit", "1")
	if len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("--limit 1: %d items, cursor %q", len(page.Items), page.NextCursor)
	}
	// One alert in full, as a person reads it and as JSON.
	shown := page.Items[0]
	contains(t, s.ok(t, "alert", "show", shown.ID), shown.Summary, "Labels:", "cluster=prod-eu-1", "INC-1")
	var one firebreak.Alert
	s.jsonOut(t, &one, "alert", "show", shown.ID)
	if one.ID != shown.ID || one.DedupKey != shown.DedupKey {
		t.Fatalf("alert show --json = %+v, want %s", one, shown.ID)
	}
	if _, err := s.cli(t, "alert", "show", "00000000-0000-0000-0000-000000000000"); err == nil {
		t.Fatal("alert show of an unknown id succeeded")
	}
	contains(t, s.ok(t, "alert", "list", "--status", "resolved"), "No alerts.")
	contains(t, s.ok(t, "alert", "list", "--service", "db"), "No alerts.")
	if _, err := s.cli(t, "alert", "list", "--status", "open"); err == nil || !strings.Contains(err.Error(), "--status") {
		t.Fatalf("bad status: %v", err)
	}
	if _, err := s.cli(t, "alert", "list", "--incident", "yesterday"); err == nil || !strings.Contains(err.Error(), "incident") {
		t.Fatalf("bad incident: %v", err)
	}

	// Change events, by service and since.
	at := time.Now().UTC().Add(-30 * time.Minute).Format(time.RFC3339)
	deliver(t, s.url+"/v2/change/enqueue", fmt.Appendf(nil,
		`{"routing_key":%q,"payload":{"summary":"Deploy api v2.14.0","timestamp":%q,"source":"ci"}}`, pd.Key, at),
		http.StatusAccepted)
	out = s.ok(t, "change", "list", "--service", "api", "--since", "1h")
	contains(t, out, "OCCURRED", "api", "Deploy api v2.14.0", "ci")
	contains(t, s.ok(t, "change", "list", "--since", "10m"), "No changes.")
	contains(t, s.ok(t, "change", "list", "--service", "db"), "No changes.")
	var changes firebreak.Page[firebreak.Change]
	s.jsonOut(t, &changes, "change", "list", "--since", time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339))
	if len(changes.Items) != 1 || changes.Items[0].Summary != "Deploy api v2.14.0" {
		t.Fatalf("changes %+v", changes.Items)
	}
	if _, err := s.cli(t, "change", "list", "--since", "last week"); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Fatalf("bad --since: %v", err)
	}
}

func TestRoutingCommands(t *testing.T) {
	s := startServer(t)
	s.ok(t, "service", "add", "--slug", "api")
	out := s.ok(t, "routing", "show", "api")
	contains(t, out, "Group window: 30m0s", "Auto-resolve: SEV1: no, SEV2: no, SEV3: yes", "severity=critical",
		"incident", "SEV2", "severity=warning", "record")

	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.json", `{"rules":[{"match":{"team":"core"},"action":"page"}]}`)
	if _, err := s.cli(t, "routing", "set", "api", "--file", bad); err == nil ||
		!strings.Contains(err.Error(), "rules[0].action: must be incident or record") {
		t.Fatalf("invalid policy: %v", err)
	}
	if _, err := s.cli(t, "routing", "set", "api", "--file", write("typo.json", `{"rulez":[]}`)); err == nil ||
		!strings.Contains(err.Error(), "rulez") {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := s.cli(t, "routing", "set", "api"); err == nil || !strings.Contains(err.Error(), "--file is required") {
		t.Fatalf("no file: %v", err)
	}

	good := write("good.json", `{"rules":[{"match":{"team":"core"},"action":"incident","severity":"SEV1"}],
		"group_window":"45m","group_by":["cluster"]}`)
	out = s.ok(t, "routing", "set", "api", "--file", good)
	contains(t, out, "Saved.", "Group window: 45m0s", "Group by:     cluster", "team=core")
	var p firebreak.RoutingPolicy
	s.jsonOut(t, &p, "routing", "show", "api")
	if p.GroupWindow != 45*time.Minute || len(p.Rules) != 1 || p.Rules[0].Severity != firebreak.SEV1 ||
		!p.AutoResolve[firebreak.SEV3] {
		t.Fatalf("stored policy %+v", p)
	}
	// The JSON that show prints is what set takes, from stdin too.
	shown := s.ok(t, "routing", "show", "api", "--json")
	out, err := s.cliIn(t, strings.Replace(shown, "45m0s", "1h0m0s", 1), "routing", "set", "api", "--file", "-")
	if err != nil {
		t.Fatalf("set from stdin: %v\n%s", err, out)
	}
	contains(t, out, "Group window: 1h0m0s")
	if _, err := s.cli(t, "routing", "show", "nope"); err == nil {
		t.Fatal("an unknown service has a routing policy")
	}
}
