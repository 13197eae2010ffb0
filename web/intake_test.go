package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/intake"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

func intakeFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "intake", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// needAlerts fails when the alert routes are not registered (the store must implement firebreak.AlertService).
func needAlerts(t *testing.T, e *apiEnv) {
	t.Helper()
	if !slices.Contains(e.srv.APIRoutes(), "GET /api/v1/alerts") {
		t.Fatal("the alert routes are not registered: the store does not implement firebreak.AlertService")
	}
}

func (e *apiEnv) integration(service string, kind firebreak.IntegrationKind, secret string) *client.CreatedIntegration {
	e.t.Helper()
	in, err := e.admin.CreateIntegration(context.Background(),
		firebreak.IntegrationInput{Service: service, Kind: kind, SignatureSecret: secret})
	if err != nil {
		e.t.Fatalf("create %s integration: %v", kind, err)
	}
	if in.Key == "" {
		e.t.Fatal("the creating answer has no key")
	}
	return in
}

func (e *apiEnv) alerts(f firebreak.AlertFilter) []firebreak.Alert {
	e.t.Helper()
	var out []firebreak.Alert
	f.Limit = firebreak.MaxLimit
	for {
		p, err := e.viewer.ListAlerts(context.Background(), f)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.NextCursor == "" {
			return out
		}
		f.Cursor = p.NextCursor
	}
}

func byDedup(as []firebreak.Alert) map[string]firebreak.Alert {
	m := map[string]firebreak.Alert{}
	for _, a := range as {
		m[a.DedupKey] = a
	}
	return m
}

func wantIntake(t *testing.T, r rawResp, n int) {
	t.Helper()
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d (%s), want 200: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var res web.IntakeResult
	r.json(t, &res)
	if res.Alerts != n {
		t.Fatalf("answer says %d alerts, want %d", res.Alerts, n)
	}
}

func TestIntakeAlertmanager(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		in := e.integration("api", firebreak.IntegrationAlertmanager, "")
		path := "/api/v1/intake/alertmanager/" + in.Key
		firing, resolved := intakeFixture(t, "alertmanager-v4-firing.json"), intakeFixture(t, "alertmanager-v4-resolved.json")

		wantIntake(t, e.do("POST", path, "", string(firing)), 2)
		first := byDedup(e.alerts(firebreak.AlertFilter{Service: "api"}))
		if len(first) != 2 {
			t.Fatalf("%d alerts, want 2", len(first))
		}
		for _, fp := range []string{"b0d8971c19bf81ea", "066081209f7e8173"} {
			a, ok := first[fp]
			if !ok || a.Status != firebreak.AlertFiring || a.Source != firebreak.IntegrationAlertmanager ||
				a.IntegrationID != in.ID || a.Service != "api" || a.Occurrences != 1 || a.ResolvedAt != nil {
				t.Fatalf("alert %s: %+v", fp, a)
			}
		}

		// Alertmanager HA redelivers: nothing changes.
		wantIntake(t, e.do("POST", path, "", string(firing)), 2)
		again := byDedup(e.alerts(firebreak.AlertFilter{Service: "api"}))
		for fp, a := range again {
			if a.Occurrences != first[fp].Occurrences || !a.LastSeenAt.Equal(first[fp].LastSeenAt) {
				t.Fatalf("redelivery changed %s: %+v -> %+v", fp, first[fp], a)
			}
		}

		wantIntake(t, e.do("POST", path, "", string(resolved)), 2)
		after := e.alerts(firebreak.AlertFilter{Service: "api"})
		if len(after) != 2 {
			t.Fatalf("resolved fixture made %d alerts, want the same 2", len(after))
		}
		for _, a := range after {
			if a.ID != first[a.DedupKey].ID || a.Status != firebreak.AlertResolved || a.ResolvedAt == nil {
				t.Fatalf("after resolve: %+v", a)
			}
		}

		// A payload that does not parse: 400 naming the field.
		p := e.do("POST", path, "", `{"version":"3","status":"firing","alerts":[]}`).problem(t, http.StatusBadRequest)
		if len(p.Errors) == 0 || p.Errors[0].Field == "" {
			t.Fatalf("problem names no field: %+v", p)
		}
	})
}

func TestIntakeUnknownKeys(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		am := e.integration("api", firebreak.IntegrationAlertmanager, "")
		body := string(intakeFixture(t, "generic-single.json"))
		var details []string
		for _, path := range []string{
			"/api/v1/intake/generic/nope",
			"/api/v1/intake/generic/" + strings.Repeat("0", 32),
			"/api/v1/intake/generic/" + am.Key, // a key of another kind
			"/api/v1/intake/grafana/" + am.Key,
		} {
			p := e.do("POST", path, "", body).problem(t, http.StatusNotFound)
			details = append(details, p.Detail)
		}
		for _, d := range details {
			if d != "unknown integration" {
				t.Fatalf("details %q: every unknown key must get the same answer", details)
			}
		}
		if len(e.alerts(firebreak.AlertFilter{})) != 0 {
			t.Fatal("an unknown key stored alerts")
		}
		// No bearer token is needed, and one is not enough.
		e.asAdmin("POST", "/api/v1/intake/generic/nope", body).problem(t, http.StatusNotFound)
	})
}

func TestIntakeTooLarge(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		in := e.integration("api", firebreak.IntegrationGeneric, "")
		big := `{"alerts":[` + strings.Repeat(`{"dedup_key":"k","status":"firing","summary":"`+strings.Repeat("x", 1000)+`"},`, 600) + `{}]}`
		e.do("POST", "/api/v1/intake/generic/"+in.Key, "", big).problem(t, http.StatusRequestEntityTooLarge)
		r := e.do("POST", web.PagerDutyEnqueuePath, "", big)
		var pd intake.PagerDutyError
		if r.status != http.StatusRequestEntityTooLarge || json.Unmarshal(r.body, &pd) != nil || pd.Status != "invalid event" {
			t.Fatalf("PagerDuty endpoint: %d %s", r.status, r.body)
		}
		// More than 10,000 alerts (within 512 KiB) is 413 too.
		many := `{"alerts":[` + strings.Repeat(`{"status":"firing"},`, intake.MaxAlerts) + `{"status":"firing"}]}`
		if len(many) <= intake.MaxBodyBytes {
			e.do("POST", "/api/v1/intake/generic/"+in.Key, "", many).problem(t, http.StatusRequestEntityTooLarge)
		}
	})
}

func TestIntakeGrafanaSignature(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		body := string(intakeFixture(t, "grafana-webhook-docs-example.json"))
		signed := e.integration("api", firebreak.IntegrationGrafana, "s3cret")
		if !signed.Signed {
			t.Fatal("integration with a secret is not marked signed")
		}
		path := "/api/v1/intake/grafana/" + signed.Key
		e.do("POST", path, "", body).problem(t, http.StatusUnauthorized)
		e.do("POST", path, "", body, intake.GrafanaSignatureHeader, strings.Repeat("ab", 32)).problem(t, http.StatusUnauthorized)
		e.do("POST", path, "", body, intake.GrafanaSignatureHeader,
			intake.GrafanaSignature([]byte("other"), []byte(body), "")).problem(t, http.StatusUnauthorized)
		wantIntake(t, e.do("POST", path, "", body, intake.GrafanaSignatureHeader,
			intake.GrafanaSignature([]byte("s3cret"), []byte(body), "")), 2)

		open := e.integration("api", firebreak.IntegrationGrafana, "")
		wantIntake(t, e.do("POST", "/api/v1/intake/grafana/"+open.Key, "", body), 2)
		if n := len(e.alerts(firebreak.AlertFilter{Service: "api"})); n != 4 {
			t.Fatalf("%d alerts, want 2 per integration", n)
		}
	})
}

func TestIntakeGeneric(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("db")
		in := e.integration("db", firebreak.IntegrationGeneric, "")
		path := "/api/v1/intake/generic/" + in.Key
		wantIntake(t, e.do("POST", path, "", string(intakeFixture(t, "generic-single.json"))), 1)
		batch := intakeFixture(t, "generic-batch.json")
		evs, err := intake.ParseGeneric(batch)
		if err != nil {
			t.Fatal(err)
		}
		wantIntake(t, e.do("POST", path, "", string(batch)), len(evs))
		got := byDedup(e.alerts(firebreak.AlertFilter{Service: "db"}))
		a, ok := got["disk-full/db-1"]
		if !ok || a.Summary != "Disk 95% full on db-1" || a.Severity != firebreak.AlertWarning || a.Source != firebreak.IntegrationGeneric {
			t.Fatalf("generic alert: %+v (all: %v)", a, got)
		}
		for _, ev := range evs {
			if _, ok := got[ev.DedupKey]; !ok {
				t.Fatalf("batch alert %s not stored", ev.DedupKey)
			}
		}
		e.do("POST", path, "", `{"status":"exploded"}`).problem(t, http.StatusBadRequest)
	})
}

func TestIntakeRateLimit(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		in := e.integration("api", firebreak.IntegrationGeneric, "")
		var last rawResp
		for i := 0; i <= web.IntakeBurst+web.IntakeRate; i++ {
			// Bodies that do not parse: the limit counts deliveries before parsing, and nothing is written.
			if last = e.do("POST", "/api/v1/intake/generic/"+in.Key, "", `{}`); last.status == http.StatusServiceUnavailable {
				break
			}
		}
		last.problem(t, http.StatusServiceUnavailable)
		if last.header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	})
}

// FuzzIntake posts arbitrary bodies to every intake endpoint through the real handler on a working store: never
// a 5xx, and a 2xx stored the alerts it counted.
func FuzzIntake(f *testing.F) {
	st := sqltest.Open(f, "sqlite")
	var as firebreak.AlertService = st
	ctx := context.Background()
	if _, err := st.CreateService(ctx, firebreak.ServiceInput{Slug: "api"}); err != nil {
		f.Fatal(err)
	}
	keys := map[firebreak.IntegrationKind]*firebreak.Integration{}
	for _, k := range firebreak.IntegrationKinds {
		in, err := as.CreateIntegration(ctx, firebreak.IntegrationInput{Service: "api", Kind: k})
		if err != nil {
			f.Fatal(err)
		}
		keys[k] = in
	}
	// A clock that moves a second per reading keeps the per-key rate limit out of the fuzzer's way.
	var tick atomic.Int64
	base := time.Now()
	srv := newServer(f, st, func(c *web.Config) {
		c.Now = func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Second) }
	})
	for _, name := range []string{"alertmanager-v4-firing.json", "alertmanager-v4-resolved.json",
		"alertmanager-v4-goalert-fixture.json", "grafana-webhook-docs-example.json", "grafana-webhook-v12-keep-fixture.json",
		"generic-single.json", "generic-batch.json", "pagerduty-v2-trigger.json", "pagerduty-v2-acknowledge.json"} {
		f.Add(intakeFixture(f, name))
	}
	f.Add([]byte(`{"routing_key":"` + keys[firebreak.IntegrationPagerDuty].Key + `","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info"}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[`))
	type target struct {
		kind  firebreak.IntegrationKind
		path  string
		parse func([]byte) ([]intake.Event, error)
	}
	targets := []target{
		{firebreak.IntegrationAlertmanager, "/api/v1/intake/alertmanager/", intake.ParseAlertmanagerV4},
		{firebreak.IntegrationGrafana, "/api/v1/intake/grafana/", intake.ParseGrafana},
		{firebreak.IntegrationGeneric, "/api/v1/intake/generic/", intake.ParseGeneric},
		{firebreak.IntegrationPagerDuty, web.PagerDutyEnqueuePath, func(b []byte) ([]intake.Event, error) {
			ev, err := intake.ParsePagerDutyV2(b)
			return []intake.Event{ev}, err
		}},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, tg := range targets {
			path := tg.path
			if tg.kind != firebreak.IntegrationPagerDuty {
				path += keys[tg.kind].Key
			}
			req := httptest.NewRequest("POST", path, bytes.NewReader(body))
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s: %d for body %q: %s", path, rec.Code, body, rec.Body)
			}
			if rec.Code >= 300 {
				continue
			}
			evs, err := tg.parse(body)
			if err != nil {
				t.Fatalf("%s: %d for a body the parser refuses (%v)", path, rec.Code, err)
			}
			if tg.kind == firebreak.IntegrationPagerDuty {
				if !bytes.Equal(rec.Body.Bytes(), intake.PagerDutyAccepted(evs[0].DedupKey)) && !evs[0].DedupKeyGenerated {
					t.Fatalf("202 body %s", rec.Body)
				}
				var acc struct {
					DedupKey string `json:"dedup_key"`
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &acc)
				evs[0].DedupKey = acc.DedupKey
			} else {
				var res web.IntakeResult
				if json.Unmarshal(rec.Body.Bytes(), &res) != nil || res.Alerts != len(evs) {
					t.Fatalf("%s: answer %s for %d alerts", path, rec.Body, len(evs))
				}
			}
			stored := map[string]bool{}
			cursor := ""
			for {
				p, err := as.ListAlerts(ctx, firebreak.AlertFilter{Service: "api", Limit: firebreak.MaxLimit, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range p.Items {
					if a.IntegrationID == keys[tg.kind].ID {
						stored[a.DedupKey] = true
					}
				}
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
			for _, ev := range evs {
				if !stored[ev.DedupKey] && ev.Action == intake.ActionTrigger {
					t.Fatalf("%s: answered %d but alert %q is not stored", path, rec.Code, ev.DedupKey)
				}
			}
		}
	})
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// pdFixture is a PagerDuty documentation example with its placeholder keys replaced.
func pdFixture(t *testing.T, name, routingKey, dedupKey string) string {
	b := string(intakeFixture(t, name))
	for _, ph := range []string{"samplekeyhere", "routingkeyhere"} {
		b = strings.Replace(b, `"routing_key": "`+ph+`"`, `"routing_key": "`+routingKey+`"`, 1)
		b = strings.Replace(b, `"dedup_key": "`+ph+`"`, `"dedup_key": "`+dedupKey+`"`, 1)
	}
	return strings.Replace(b, `"dedup_key": "dedupkeyhere"`, `"dedup_key": "`+dedupKey+`"`, 1)
}

func wantPD(t *testing.T, r rawResp, status int, body []byte) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/json" || (body != nil && !bytes.Equal(r.body, body)) {
		t.Fatalf("got %d %s %q; want %d %q", r.status, r.header.Get("Content-Type"), r.body, status, body)
	}
}

func TestIntakePagerDutyRefusals(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		// PagerDuty's documented example, placeholder key and all: PagerDuty's documented 400, byte for byte.
		wantPD(t, e.do("POST", web.PagerDutyEnqueuePath, "", string(intakeFixture(t, "pagerduty-v2-trigger.json"))),
			http.StatusBadRequest, intakeFixture(t, "pagerduty-v2-response-400.json"))
		// Unknown keys, and the key of another kind of integration, all get the same answer.
		am := e.integration("api", firebreak.IntegrationAlertmanager, "")
		var bodies [][]byte
		for _, key := range []string{strings.Repeat("0", 32), strings.Repeat("f", 32), am.Key} {
			r := e.do("POST", web.PagerDutyEnqueuePath, "", pdFixture(t, "pagerduty-v2-trigger.json", key, "x"))
			if r.status != http.StatusBadRequest {
				t.Fatalf("key %q: %d %s", key, r.status, r.body)
			}
			bodies = append(bodies, r.body)
		}
		if !bytes.Equal(bodies[0], bodies[1]) {
			t.Fatalf("unknown keys answered differently: %s / %s", bodies[0], bodies[1])
		}
	})
}

func TestIntakePagerDuty(t *testing.T) {
	forEachAPI(t, func(t *testing.T, e *apiEnv) {
		needAlerts(t, e)
		e.service("api")
		in := e.integration("api", firebreak.IntegrationPagerDuty, "")
		if utf8.RuneCountInString(in.Key) != intake.PagerDutyRoutingKeyLen {
			t.Fatalf("the store issues %d-character keys; PagerDuty senders and intake.ParsePagerDutyV2 need %d",
				utf8.RuneCountInString(in.Key), intake.PagerDutyRoutingKeyLen)
		}
		send := func(fixture, dedup string) rawResp {
			return e.do("POST", web.PagerDutyEnqueuePath, "", pdFixture(t, fixture, in.Key, dedup))
		}
		wantPD(t, send("pagerduty-v2-trigger.json", "srv01/HTTP"), http.StatusAccepted, intake.PagerDutyAccepted("srv01/HTTP"))
		a := byDedup(e.alerts(firebreak.AlertFilter{Service: "api"}))["srv01/HTTP"]
		if a.Status != firebreak.AlertFiring || a.Source != firebreak.IntegrationPagerDuty || a.Summary == "" {
			t.Fatalf("after trigger: %+v", a)
		}
		wantPD(t, send("pagerduty-v2-acknowledge.json", "srv01/HTTP"), http.StatusAccepted, intake.PagerDutyAccepted("srv01/HTTP"))
		if a := byDedup(e.alerts(firebreak.AlertFilter{Service: "api"}))["srv01/HTTP"]; a.Status != firebreak.AlertAcknowledged {
			t.Fatalf("after acknowledge: %+v", a)
		}
		wantPD(t, send("pagerduty-v2-resolve.json", "srv01/HTTP"), http.StatusAccepted, intake.PagerDutyAccepted("srv01/HTTP"))
		if a := byDedup(e.alerts(firebreak.AlertFilter{Service: "api"}))["srv01/HTTP"]; a.Status != firebreak.AlertResolved || a.ResolvedAt == nil {
			t.Fatalf("after resolve: %+v", a)
		}

		// No dedup_key (Gatus sends ""): one is generated and echoed.
		r := send("pagerduty-v2-trigger.json", "")
		var acc struct {
			DedupKey string `json:"dedup_key"`
		}
		r.json(t, &acc)
		wantPD(t, r, http.StatusAccepted, intake.PagerDutyAccepted(acc.DedupKey))
		if !uuidRE.MatchString(acc.DedupKey) {
			t.Fatalf("generated dedup_key %q", acc.DedupKey)
		}
		if _, ok := byDedup(e.alerts(firebreak.AlertFilter{Service: "api"}))[acc.DedupKey]; !ok {
			t.Fatal("the generated dedup_key is not the stored alert's")
		}
	})
}
