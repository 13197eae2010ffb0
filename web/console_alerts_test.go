package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"
	"go.yaml.in/yaml/v3"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

const consolePublicURL = "https://firebreak.example.com"

// newAlertConsoleEnv is the console with alert intake, and a public URL when public is set.
func newAlertConsoleEnv(t *testing.T, st *sqlstore.Store, public string) *consoleEnv {
	t.Helper()
	return newConsoleEnvWith(t, st, func(cfg *web.Config) {
		cfg.Alerts = st
		cfg.PublicURL = public
	})
}

// alertmanagerConfig is the part of Alertmanager's configuration file (config.Config) that a Firebreak snippet
// fills, with the same YAML names; decoding with KnownFields refuses anything else.
type alertmanagerConfig struct {
	Receivers []struct {
		Name           string `yaml:"name"`
		WebhookConfigs []struct {
			URL          string `yaml:"url"`
			SendResolved *bool  `yaml:"send_resolved"`
		} `yaml:"webhook_configs"`
		PagerdutyConfigs []struct {
			RoutingKey   string `yaml:"routing_key"`
			URL          string `yaml:"url"`
			SendResolved *bool  `yaml:"send_resolved"`
		} `yaml:"pagerduty_configs"`
	} `yaml:"receivers"`
}

func parseAlertmanagerSnippet(t *testing.T, text string) alertmanagerConfig {
	t.Helper()
	var cfg alertmanagerConfig
	dec := yaml.NewDecoder(strings.NewReader(text))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("the Alertmanager snippet is not valid Alertmanager YAML: %v\n%s", err, text)
	}
	if len(cfg.Receivers) != 1 || cfg.Receivers[0].Name == "" {
		t.Fatalf("snippet receivers: %+v\n%s", cfg.Receivers, text)
	}
	return cfg
}

// postJSON sends body to the server as a monitoring tool would (no session, no token).
func postJSON(t *testing.T, u string, body []byte, headers ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// createIntegration creates one through the console form and returns the page that shows its key.
func createIntegration(t *testing.T, b *browser, slug string, set url.Values) *page {
	t.Helper()
	form := b.get("/services/" + slug + "/integrations")
	wantStatus(t, form, http.StatusOK)
	res := b.submit(form, "form.integration-form", set)
	wantStatus(t, res, http.StatusSeeOther)
	if want := "/services/" + slug + "/integrations#new-integration"; res.location() != want {
		t.Fatalf("created, redirected to %q, want %q", res.location(), want)
	}
	shown := b.get(strings.TrimSuffix(res.location(), "#new-integration"))
	wantStatus(t, shown, http.StatusOK)
	return shown
}

var keyRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestConsoleIntegrations(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newAlertConsoleEnv(t, st, consolePublicURL)
		ada := e.browser()
		ada.login("ada")

		// The service page links to the integrations and shows the default routing policy.
		svc := ada.get("/services/api")
		wantStatus(t, svc, http.StatusOK)
		if got := svc.text(t, "#integrations .empty"); !strings.Contains(got, "No integrations") {
			t.Fatalf("integrations on the service page: %q", got)
		}
		if svc.find(t, "#integrations a[href='/services/api/integrations#create']").Length() != 1 {
			t.Fatal("no link to add an integration on the service page")
		}
		if got := svc.text(t, "#routing #routing-window"); got != "30m" {
			t.Fatalf("group window shown as %q", got)
		}
		if n := svc.find(t, "#routing .routing-rule").Length(); n != 4 {
			t.Fatalf("%d routing rules shown, want the 4 default ones", n)
		}

		// Invalid input is shown next to its field, with what was typed kept.
		form := ada.get("/services/api/integrations")
		wantStatus(t, form, http.StatusOK)
		bad := ada.submit(form, "form.integration-form", url.Values{"kind": {"alertmanager"}, "name": {"prom-eu"},
			"signature_secret": {"s3cret"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if got := bad.text(t, "#signature_secret ~ .field-error"); !strings.Contains(got, "only Grafana") {
			t.Fatalf("signature secret error %q", got)
		}
		if bad.attr(t, "#integration-name", "value") != "prom-eu" {
			t.Fatal("name not kept after a failed create")
		}

		// Created: the key and the snippets are shown once.
		shown := createIntegration(t, ada, "api", url.Values{"kind": {"alertmanager"}, "name": {"prom-eu"}})
		key := shown.text(t, "#integration-key")
		if !keyRE.MatchString(key) {
			t.Fatalf("key shown as %q", key)
		}
		hookURL := consolePublicURL + "/api/v1/intake/alertmanager/" + key
		if got := shown.text(t, "#integration-url"); got != hookURL {
			t.Fatalf("webhook URL %q, want %q", got, hookURL)
		}
		am := parseAlertmanagerSnippet(t, shown.find(t, "#snippet-alertmanager").Text())
		rc := am.Receivers[0]
		if len(rc.WebhookConfigs) != 1 || rc.WebhookConfigs[0].URL != hookURL || rc.WebhookConfigs[0].SendResolved == nil ||
			!*rc.WebhookConfigs[0].SendResolved || len(rc.PagerdutyConfigs) != 0 {
			t.Fatalf("alertmanager receiver %+v", rc)
		}
		if shown.find(t, ".integration-table tr.is-new").Length() != 1 {
			t.Fatal("the new integration is not highlighted in the list")
		}
		again := ada.get("/services/api/integrations")
		wantStatus(t, again, http.StatusOK)
		if strings.Contains(again.body, key) || again.find(t, "#integration-key").Length() != 0 {
			t.Fatal("the key is shown a second time")
		}
		row := again.text(t, ".integration-table tbody tr")
		if !strings.Contains(row, "prom-eu") || !strings.Contains(row, "alertmanager") {
			t.Fatalf("list row %q", row)
		}

		// The URL of the snippet works: Alertmanager's delivery is accepted there (posted to this test server).
		local := strings.Replace(hookURL, consolePublicURL, e.url, 1)
		if code, body := postJSON(t, local, intakeFixture(t, "alertmanager-v4-firing.json")); code != http.StatusOK {
			t.Fatalf("alertmanager delivery: %d %s", code, body)
		}

		// A PagerDuty integration gets pagerduty_configs with the key as routing_key and our Events API URL.
		pd := createIntegration(t, ada, "api", url.Values{"kind": {"pagerduty"}})
		pdKey := pd.text(t, "#integration-key")
		am = parseAlertmanagerSnippet(t, pd.find(t, "#snippet-alertmanager").Text())
		if pc := am.Receivers[0].PagerdutyConfigs; len(pc) != 1 || pc[0].RoutingKey != pdKey ||
			pc[0].URL != consolePublicURL+"/v2/enqueue" || len(am.Receivers[0].WebhookConfigs) != 0 {
			t.Fatalf("pagerduty receiver %+v", am.Receivers[0])
		}
		if got := pd.text(t, "#snippet-grafana"); !strings.Contains(got, "Integration Key: "+pdKey) ||
			!strings.Contains(got, consolePublicURL+"/v2/enqueue") {
			t.Fatalf("grafana pagerduty snippet %q", got)
		}
		if got := pd.text(t, "#snippet-curl"); !strings.Contains(got, `"routing_key":"`+pdKey+`"`) {
			t.Fatalf("curl snippet %q", got)
		}
		// The example for any Events API v2 sender is a request our endpoint accepts.
		head, body, ok := strings.Cut(pd.find(t, "#snippet-pagerduty").Text(), "\n\n")
		if !ok || !strings.HasPrefix(head, "POST "+consolePublicURL+"/v2/enqueue\n") {
			t.Fatalf("pagerduty sender snippet %q", head)
		}
		if code, res := postJSON(t, e.url+"/v2/enqueue", []byte(body)); code != http.StatusAccepted {
			t.Fatalf("the sender example is refused: %d %s", code, res)
		}

		// A signed Grafana integration explains the HMAC header; its provisioning YAML parses.
		gf := createIntegration(t, ada, "api", url.Values{"kind": {"grafana"}, "signature_secret": {"hmac-secret"}})
		gKey := gf.text(t, "#integration-key")
		if got := gf.text(t, "#snippet-grafana"); !strings.Contains(got, consolePublicURL+"/api/v1/intake/grafana/"+gKey) ||
			!strings.Contains(got, "X-Grafana-Alerting-Signature") {
			t.Fatalf("grafana snippet %q", got)
		}
		var prov struct {
			APIVersion    int `yaml:"apiVersion"`
			ContactPoints []struct {
				OrgID     int    `yaml:"orgId"`
				Name      string `yaml:"name"`
				Receivers []struct {
					UID      string `yaml:"uid"`
					Type     string `yaml:"type"`
					Settings struct {
						URL        string `yaml:"url"`
						HTTPMethod string `yaml:"httpMethod"`
						HMACConfig *struct {
							Secret string `yaml:"secret"`
							Header string `yaml:"header"`
						} `yaml:"hmacConfig"`
					} `yaml:"settings"`
				} `yaml:"receivers"`
			} `yaml:"contactPoints"`
		}
		dec := yaml.NewDecoder(strings.NewReader(gf.find(t, "#snippet-grafana-provisioning").Text()))
		dec.KnownFields(true)
		if err := dec.Decode(&prov); err != nil || len(prov.ContactPoints) != 1 ||
			prov.ContactPoints[0].Receivers[0].Type != "webhook" ||
			prov.ContactPoints[0].Receivers[0].Settings.URL != consolePublicURL+"/api/v1/intake/grafana/"+gKey ||
			prov.ContactPoints[0].Receivers[0].Settings.HMACConfig == nil {
			t.Fatalf("grafana provisioning: %v %+v", err, prov)
		}
		if strings.Contains(gf.body, "hmac-secret") {
			t.Fatal("the signature secret is shown back")
		}
		list := gf.text(t, ".integration-table")
		if !strings.Contains(list, "Yes, HMAC") {
			t.Fatalf("signed integration not marked: %q", list)
		}

		// A generic integration gets a curl command that really works.
		gen := createIntegration(t, ada, "db", url.Values{"kind": {"generic"}, "name": {"cron"}})
		curl := gen.find(t, "#snippet-curl").Text()
		m := regexp.MustCompile(`-d '([^']+)'`).FindStringSubmatch(curl)
		genURL := consolePublicURL + "/api/v1/intake/generic/" + gen.text(t, "#integration-key")
		if m == nil || !strings.Contains(curl, "'"+genURL+"'") {
			t.Fatalf("curl snippet %q", curl)
		}
		if code, body := postJSON(t, strings.Replace(genURL, consolePublicURL, e.url, 1), []byte(m[1])); code != http.StatusOK {
			t.Fatalf("the curl snippet's body is refused: %d %s", code, body)
		}

		// The service page lists them now.
		svc = ada.get("/services/api")
		if n := svc.find(t, "#integrations .integration-list li").Length(); n != 3 {
			t.Fatalf("%d integrations on the service page, want 3", n)
		}

		// Viewers and responders see the list but no form, and cannot post one.
		for _, name := range []string{"vera", "alice"} {
			b := e.browser()
			b.login(name)
			p := b.get("/services/api/integrations")
			wantStatus(t, p, http.StatusOK)
			if p.find(t, "form.integration-form").Length() != 0 || p.find(t, ".integration-table tbody tr").Length() != 3 {
				t.Fatalf("%s: form shown or list wrong", name)
			}
			csrf := p.attr(t, "form[action='/logout'] input[name=csrf_token]", "value")
			res := b.post("/services/api/integrations", url.Values{"csrf_token": {csrf}, "kind": {"generic"}})
			wantStatus(t, res, http.StatusForbidden)
		}
		// A form without the CSRF token is refused.
		wantStatus(t, ada.post("/services/api/integrations", url.Values{"kind": {"generic"}}), http.StatusForbidden)
		wantStatus(t, ada.get("/services/nope/integrations"), http.StatusNotFound)
	})
}

func TestConsoleIntegrationSnippetFollowsRequestHost(t *testing.T) {
	st := sqltest.Open(t, sqltest.Dialects(t)[0])
	e := newAlertConsoleEnv(t, st, "")
	ada := e.browser()
	ada.login("ada")
	shown := createIntegration(t, ada, "web", url.Values{"kind": {"alertmanager"}})
	key := shown.text(t, "#integration-key")
	am := parseAlertmanagerSnippet(t, shown.find(t, "#snippet-alertmanager").Text())
	if got := am.Receivers[0].WebhookConfigs[0].URL; got != e.url+"/api/v1/intake/alertmanager/"+key {
		t.Fatalf("without a public URL, the snippet's URL is %q", got)
	}
}

func TestConsoleAlertsPages(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newAlertConsoleEnv(t, st, "")
		ctx := context.Background()
		ada := e.browser()
		ada.login("ada")

		// Nothing yet: friendly empty states.
		empty := ada.get("/alerts")
		wantStatus(t, empty, http.StatusOK)
		if got := empty.text(t, ".empty-state h2"); got != "No alerts yet" {
			t.Fatalf("empty alerts page: %q", got)
		}
		if empty.attr(t, ".nav a[href='/alerts']", "aria-current") != "page" {
			t.Fatal("the Alerts nav link is not current")
		}

		am := createIntegration(t, ada, "api", url.Values{"kind": {"alertmanager"}})
		amURL := am.text(t, "#integration-url")
		if code, body := postJSON(t, amURL, intakeFixture(t, "alertmanager-v4-firing.json")); code != http.StatusOK {
			t.Fatalf("alertmanager delivery: %d %s", code, body)
		}
		pd := createIntegration(t, ada, "api", url.Values{"kind": {"pagerduty"}})
		pdKey := pd.text(t, "#integration-key")
		change := fmt.Sprintf(`{"routing_key":%q,"payload":{"summary":"Deploy api v2.14.0","timestamp":%q,"source":"ci"},"links":[{"href":"https://ci.example.com/run/1","text":"CI run"}]}`,
			pdKey, time.Now().UTC().Add(-10*time.Minute).Format(time.RFC3339))
		if code, body := postJSON(t, e.url+"/v2/change/enqueue", []byte(change)); code != http.StatusAccepted {
			t.Fatalf("change event: %d %s", code, body)
		}
		gen := createIntegration(t, ada, "db", url.Values{"kind": {"generic"}})
		var batch []string
		for i := range 55 {
			batch = append(batch, fmt.Sprintf(`{"dedup_key":"disk-%02d","status":"resolved","summary":"Disk %d full","severity":"warning"}`, i, i))
		}
		if code, body := postJSON(t, gen.text(t, "#integration-url"), []byte(`{"alerts":[`+strings.Join(batch, ",")+`]}`)); code != http.StatusOK {
			t.Fatalf("generic delivery: %d %s", code, body)
		}

		// The list pages by 50, newest first; the firing critical alerts opened INC-1 (default routing).
		all := ada.get("/alerts")
		wantStatus(t, all, http.StatusOK)
		if n := all.find(t, ".alert-row").Length(); n != 50 {
			t.Fatalf("%d rows on the first page, want 50", n)
		}
		next := all.attr(t, ".pager a[rel=next]", "href")
		p2 := ada.get(next)
		wantStatus(t, p2, http.StatusOK)
		if n := p2.find(t, ".alert-row").Length(); n != 7 {
			t.Fatalf("%d rows on the second page, want 7", n)
		}
		if p2.find(t, ".pager a[rel=next]").Length() != 0 || p2.attr(t, ".pager a.btn-quiet", "href") != "/alerts" {
			t.Fatal("second page pager wrong")
		}
		// A mangled cursor starts again from the first page of the same filter.
		if r := ada.get("/alerts?service=db&cursor=garbage"); r.status != http.StatusSeeOther || r.location() != "/alerts?service=db" {
			t.Fatalf("bad cursor: %d %q", r.status, r.location())
		}

		// Filters: service, status, incident; the form keeps them.
		firing := ada.get("/alerts?service=api&status=firing")
		wantStatus(t, firing, http.StatusOK)
		rows := firing.find(t, ".alert-row")
		if rows.Length() != 2 {
			t.Fatalf("%d firing alerts of api, want 2", rows.Length())
		}
		rows.Each(func(_ int, s *goquery.Selection) {
			txt := strings.Join(strings.Fields(s.Text()), " ")
			for _, want := range []string{"firing", "critical", "5xx ratio above 5%", "api", "alertmanager", "1×", "INC-1"} {
				if !strings.Contains(txt, want) {
					t.Errorf("row %q lacks %q", txt, want)
				}
			}
		})
		if firing.attr(t, "#af-svc option[selected]", "value") != "api" || firing.attr(t, "#af-status option[selected]", "value") != "firing" {
			t.Fatal("filters not kept in the form")
		}
		if n := ada.get("/alerts?incident=INC-1").find(t, ".alert-row").Length(); n != 2 {
			t.Fatalf("%d alerts of INC-1, want 2", n)
		}
		none := ada.get("/alerts?service=web")
		if got := none.text(t, ".empty-state h2"); got != "No alerts match" {
			t.Fatalf("no match: %q", got)
		}
		badRef := ada.get("/alerts?incident=yesterday")
		wantStatus(t, badRef, http.StatusUnprocessableEntity)
		if got := badRef.text(t, "#alerts-problem"); !strings.Contains(got, "yesterday") {
			t.Fatalf("bad incident filter: %q", got)
		}

		// The alert's page: labels, annotations, links, its incident and the timeline entry.
		href := firing.attr(t, ".alert-row a.alert-link", "href")
		ap := ada.get(href)
		wantStatus(t, ap, http.StatusOK)
		if got := ap.text(t, "#alert-labels"); !strings.Contains(got, "cluster prod-eu-1") || !strings.Contains(got, "alertname HighErrorRate") {
			t.Fatalf("labels %q", got)
		}
		if got := ap.text(t, "#alert-annotations"); !strings.Contains(got, "runbook_url https://runbooks.example.com/HighErrorRate") {
			t.Fatalf("annotations %q", got)
		}
		if ap.find(t, "#alert-incident a[href='/incidents/INC-1']").Length() != 1 {
			t.Fatal("no link to the incident")
		}
		if got := ap.text(t, "#alert-timeline"); !strings.Contains(got, "Alert joined") {
			t.Fatalf("alert timeline %q", got)
		}
		wantStatus(t, ada.get("/alerts/00000000-0000-0000-0000-000000000000"), http.StatusNotFound)

		// The incident page lists its alerts and the change before it; the timeline links each alert.
		inc := ada.get("/incidents/INC-1")
		wantStatus(t, inc, http.StatusOK)
		if n := inc.find(t, "#alerts .alert-row").Length(); n != 2 {
			t.Fatalf("%d alerts on the incident page, want 2", n)
		}
		if got := inc.text(t, "#changes .change"); !strings.Contains(got, "Deploy api v2.14.0") || !strings.Contains(got, "CI run") {
			t.Fatalf("changes before: %q", got)
		}
		if got := inc.text(t, "#timeline-list .tl-alert_attached .tl-kind"); !strings.Contains(got, "Alert") {
			t.Fatalf("alert timeline entries %q", got)
		}
		if inc.find(t, "#timeline-list .tl-alert_attached a.tl-alert-link").Length() != 2 {
			t.Fatal("the timeline does not link the alerts")
		}

		// An incident without alerts or changes says so.
		other, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{Title: "Slow web",
			Severity: firebreak.SEV3, Services: []string{"web"}})
		if err != nil {
			t.Fatal(err)
		}
		q := ada.get("/incidents/" + firebreak.IncidentRef(other.Number))
		if got := q.text(t, "#alerts .empty"); !strings.Contains(got, "No alerts") {
			t.Fatalf("empty alerts section %q", got)
		}
		if got := q.text(t, "#changes .empty"); !strings.Contains(got, "No changes") {
			t.Fatalf("empty changes section %q", got)
		}
		_ = ctx

		// Viewers read alerts too.
		vera := e.browser()
		vera.login("vera")
		wantStatus(t, vera.get("/alerts"), http.StatusOK)
		wantStatus(t, vera.get(href), http.StatusOK)
	})
}

func TestConsoleRoutingPolicy(t *testing.T) {
	sqltest.ForEach(t, func(t *testing.T, st *sqlstore.Store) {
		e := newAlertConsoleEnv(t, st, "")
		ada := e.browser()
		ada.login("ada")
		p := ada.get("/services/api/routing")
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.text(t, "textarea#policy"), `"group_window": "30m0s"`) {
			t.Fatalf("policy JSON %q", p.text(t, "textarea#policy"))
		}

		// Invalid JSON: the line and column; then domain refusals, each with its field.
		bad := ada.submit(p, "form.routing-form", url.Values{"policy": {"{\n  \"rules\": [\n}"}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if got := bad.text(t, "#policy-errors"); !strings.Contains(got, "line 3") {
			t.Fatalf("syntax error shown as %q", got)
		}
		if bad.text(t, "textarea#policy") != "{ \"rules\": [ }" {
			t.Fatalf("typed policy not kept: %q", bad.text(t, "textarea#policy"))
		}
		bad = ada.submit(p, "form.routing-form", url.Values{"policy": {
			`{"rules":[{"match":{"severity":"critical"},"action":"page"},{"match":{},"action":"incident","severity":"SEV9"}],"group_window":"5s"}`}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		got := bad.text(t, "#policy-errors")
		for _, want := range []string{"rules[0].action must be incident or record", "rules[1].severity", "group_window must be between 1m and 24h"} {
			if !strings.Contains(got, want) {
				t.Errorf("problems %q lack %q", got, want)
			}
		}
		bad = ada.submit(p, "form.routing-form", url.Values{"policy": {`{"rulez":[]}`}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if got := bad.text(t, "#policy-errors"); !strings.Contains(got, "rulez") {
			t.Fatalf("unknown field shown as %q", got)
		}
		bad = ada.submit(p, "form.routing-form", url.Values{"policy": {`{"group_window":"soon"}`}})
		wantStatus(t, bad, http.StatusUnprocessableEntity)
		if got := bad.text(t, "#policy-errors"); !strings.Contains(got, "group_window") {
			t.Fatalf("bad duration shown as %q", got)
		}

		// Saved: the view and the service page show the new policy.
		ok := ada.submit(p, "form.routing-form", url.Values{"policy": {
			`{"rules":[{"match":{"severity":"critical","team":"core"},"action":"incident","severity":"SEV1"}],"group_window":"45m","group_by":["cluster"],"auto_resolve":{"SEV1":false,"SEV2":true,"SEV3":true}}`}})
		wantStatus(t, ok, http.StatusSeeOther)
		if ok.location() != "/services/api/routing?saved=1" {
			t.Fatalf("saved, redirected to %q", ok.location())
		}
		saved := ada.get(ok.location())
		if saved.text(t, "#notice") == "" || saved.text(t, "#routing-window") != "45m" || saved.text(t, "#routing-group-by") != "cluster" {
			t.Fatalf("after saving: notice %q window %q group by %q", saved.text(t, "#notice"),
				saved.text(t, "#routing-window"), saved.text(t, "#routing-group-by"))
		}
		if got := saved.text(t, ".routing-rule"); !strings.Contains(got, "severity=critical and team=core") ||
			!strings.Contains(got, "SEV1") {
			t.Fatalf("rule shown as %q", got)
		}
		pol, err := st.GetRoutingPolicy(context.Background(), "api")
		if err != nil || pol.GroupWindow.String() != "45m0s" || !pol.AutoResolve[firebreak.SEV2] {
			t.Fatalf("stored policy %+v %v", pol, err)
		}
		svc := ada.get("/services/api")
		if svc.text(t, "#routing #routing-auto-resolve") != "SEV1: no, SEV2: yes, SEV3: yes" {
			t.Fatalf("auto-resolve on the service page: %q", svc.text(t, "#routing #routing-auto-resolve"))
		}

		// A responder reads it but has no form, and cannot post one.
		alice := e.browser()
		alice.login("alice")
		ap := alice.get("/services/api/routing")
		wantStatus(t, ap, http.StatusOK)
		if ap.find(t, "form.routing-form").Length() != 0 {
			t.Fatal("a responder gets the edit form")
		}
		csrf := ap.attr(t, "form[action='/logout'] input[name=csrf_token]", "value")
		wantStatus(t, alice.post("/services/api/routing", url.Values{"csrf_token": {csrf}, "policy": {`{}`}}),
			http.StatusForbidden)
	})
}

func TestConsoleAlertsWithoutIntake(t *testing.T) {
	st := sqltest.Open(t, sqltest.Dialects(t)[0])
	e := newConsoleEnv(t, st) // no AlertService
	b := e.browser()
	b.login("ada")
	wantStatus(t, b.get("/alerts"), http.StatusNotFound)
	svc := b.get("/services/api")
	wantStatus(t, svc, http.StatusOK)
	if svc.find(t, "#integrations, #routing").Length() != 0 {
		t.Fatal("alert sections on the service page without alert intake")
	}
	if _, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{Title: "x",
		Severity: firebreak.SEV3}); err != nil {
		t.Fatal(err)
	}
	inc := b.get("/incidents/INC-1")
	wantStatus(t, inc, http.StatusOK)
	if inc.find(t, "#alerts, #changes").Length() != 0 {
		t.Fatal("alert sections on the incident page without alert intake")
	}
}

// TestBrowserIntegrationJourney: an admin creates an Alertmanager integration in the browser, copies the snippet,
// Alertmanager posts to the URL it names, and the alerts appear on the Alerts page and on the incident they opened.
func TestBrowserIntegrationJourney(t *testing.T) {
	path := chromiumPath(t)
	st := sqltest.Open(t, sqltest.Dialects(t)[0])
	e := newAlertConsoleEnv(t, st, "")
	ctx := newChromium(t, path, 1)[0]
	uiLogin(t, ctx, e.url, "ada")

	ui(t, ctx, "open the service's integrations",
		chromedp.Navigate(e.url+"/services/api"),
		chromedp.WaitVisible(chromedp.ID("integrations")),
		chromedp.Click(chromedp.CSS("#integrations a[href='/services/api/integrations#create']")),
		chromedp.WaitVisible(chromedp.CSS("form.integration-form")),
	)
	ui(t, ctx, "create an Alertmanager integration",
		chromedp.SetValue(chromedp.ID("kind"), "alertmanager"),
		chromedp.SendKeys(chromedp.ID("integration-name"), "prometheus-prod"),
		chromedp.Click(chromedp.CSS("form.integration-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("integration-key")),
	)
	key := evalJS[string](t, ctx, `document.getElementById("integration-key").textContent.trim()`)
	if !keyRE.MatchString(key) {
		t.Fatalf("key shown as %q", key)
	}
	if !evalJS[bool](t, ctx, `!document.querySelector("button[data-copy='snippet-alertmanager']").hidden`) {
		t.Fatal("no copy button for the snippet")
	}
	snippetText := evalJS[string](t, ctx, `document.getElementById("snippet-alertmanager").textContent`)
	am := parseAlertmanagerSnippet(t, snippetText)
	hook := am.Receivers[0].WebhookConfigs[0].URL
	if hook != e.url+"/api/v1/intake/alertmanager/"+key {
		t.Fatalf("snippet URL %q", hook)
	}

	// A reload does not show the key again.
	ui(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".integration-table")))
	if evalJS[bool](t, ctx, `document.body.innerText.includes(`+jsString(key)+`)`) {
		t.Fatal("the key is still shown after a reload")
	}

	// Alertmanager delivers to the URL of the snippet.
	if code, body := postJSON(t, hook, intakeFixture(t, "alertmanager-v4-firing.json"),
		"User-Agent", "Alertmanager/0.34.0"); code != http.StatusOK {
		t.Fatalf("delivery to the snippet's URL: %d %s", code, body)
	}

	ui(t, ctx, "open the Alerts page from the nav",
		chromedp.Click(chromedp.CSS(".nav a[href='/alerts']")),
		chromedp.WaitVisible(chromedp.CSS(".alert-table")),
	)
	eventually(t, ctx, "two firing alerts, linked to INC-1",
		`document.querySelectorAll(".alert-row").length === 2 &&
		 [...document.querySelectorAll(".alert-row")].every(r => r.innerText.toLowerCase().includes("firing") && r.innerText.includes("INC-1"))`,
		5*time.Second)
	ui(t, ctx, "open the incident from the alert",
		chromedp.Click(chromedp.CSS(".alert-row a[href='/incidents/INC-1']")),
		chromedp.WaitVisible(chromedp.ID("alerts")),
	)
	eventually(t, ctx, "the incident lists its alerts and the timeline shows them joining",
		`document.querySelectorAll("#alerts .alert-row").length === 2 &&
		 document.querySelectorAll("#timeline-list .tl-alert_attached").length === 2 &&
		 document.querySelector("#timeline-list .tl-alert_attached").innerText.includes("Alert joined")`,
		5*time.Second)
}
