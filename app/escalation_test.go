package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

func TestConfigFileEscalation(t *testing.T) {
	load := func(yaml string) (app.Config, error) {
		path := filepath.Join(t.TempDir(), "firebreak.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		c := app.BuiltinDefaults()
		return c, c.LoadFile(path)
	}
	c, err := load(`
escalation:
  commander: [schedule:incident-commanders]
  leadership: [user:cto, "user: vp"]
  unacknowledged: {severities: [SEV1], leadership_after: 10m}
  stale_status: {after: 45m}
  mitigation_stalled: {enabled: false}
`)
	if err != nil {
		t.Fatal(err)
	}
	e := c.Escalation
	if e == nil || len(e.Commander) != 1 || e.Commander[0] != (firebreak.EscalationTarget{Type: "schedule",
		Ref: "incident-commanders"}) || len(e.Leadership) != 2 || e.Leadership[1].Ref != "vp" {
		t.Fatalf("targets %+v", e)
	}
	if !slices.Equal(e.Unacknowledged.Severities, []firebreak.Severity{firebreak.SEV1}) ||
		e.Unacknowledged.After != 10*time.Minute || e.StaleStatus.After != 45*time.Minute ||
		!e.StaleStatus.Watches(firebreak.SEV2) || e.MitigationStalled.Enabled ||
		e.LongRunning.After != time.Hour {
		t.Fatalf("criteria %+v", e)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for yaml, want := range map[string]string{
		"escalation: {leadership: [cto]}":                    "escalation.leadership",
		"escalation: {stale_status: {after: 0s}}":            "escalation.stale_status.after",
		"escalation: {long_running: {severities: [SEV7]}}":   "escalation.long_running.severities",
		"escalation: {unacknowledged: {after: 5m}}":          "after",
		"escalation: {mitigation_stalled: {after: forever}}": "forever",
	} {
		if _, err := load(yaml); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %s", yaml, err, want)
		}
	}
}

// pageLog records the pages webhook contact methods receive: which incident, round and step each one is.
type pageLog struct {
	mu   sync.Mutex
	keys map[string]int      // Idempotency-Key → deliveries
	step map[string][]string // "INC-3 round 1 step 2" → keys
	at   []time.Time         // when each page arrived
	srv  *httptest.Server
}

var pageStepRE = regexp.MustCompile(`step (\d+) of \d+, round (\d+) of`)

func newPageLog(t *testing.T) *pageLog {
	l := &pageLog{keys: map[string]int{}, step: map[string][]string{}}
	l.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Event    string `json:"event"`
			Text     string `json:"text"`
			Incident struct {
				Ref string `json:"ref"`
			} `json:"incident"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		key := r.Header.Get("Idempotency-Key")
		l.mu.Lock()
		defer l.mu.Unlock()
		l.keys[key]++
		if m := pageStepRE.FindStringSubmatch(body.Text); body.Event == "page" && m != nil && l.keys[key] == 1 {
			k := fmt.Sprintf("%s round %s step %s", body.Incident.Ref, m[2], m[1])
			l.step[k] = append(l.step[k], key)
			l.at = append(l.at, time.Now())
		}
	}))
	t.Cleanup(l.srv.Close)
	return l
}

// Two replicas on one PostgreSQL database page a set of incidents: every step of every round fires exactly
// once, and stopping one replica in the middle does not stop the paging — the other one carries on.
func TestEscalationAcrossReplicas(t *testing.T) {
	if !slices.Contains(sqltest.Dialects(t), "postgres") {
		t.Skip("needs PostgreSQL (FIREBREAK_TEST_POSTGRES_URL)")
	}
	o := sqltest.Options(t, "postgres")
	cfg := app.Config{Addr: "127.0.0.1:0", DatabaseURL: o.DatabaseURL, AdminToken: adminToken,
		Escalation: &firebreak.EscalationCriteria{}} // the policy alone pages
	apps := make([]*app.App, 2)
	for i := range apps {
		a, err := app.Open(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		apps[i] = a
		t.Cleanup(func() { _ = a.Close() })
	}
	ctx := context.Background()
	c := client.New(apps[1].URL(), adminToken)
	log := newPageLog(t)
	for _, u := range []string{"bob", "ic"} {
		if _, err := c.CreateUser(ctx, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: u + "-hook",
			URL: log.srv.URL + "/" + u, Secret: "0123456789abcdef", User: u}); err != nil {
			t.Fatal(err)
		}
	}
	const rounds, steps, incidents = 3, 2, 8
	if _, err := c.CreateEscalationPolicy(ctx, firebreak.EscalationPolicyInput{Name: "fast", Repeat: rounds - 1,
		Steps: []firebreak.EscalationStep{
			{Delay: firebreak.Duration(time.Second), Targets: []firebreak.EscalationTarget{{Type: "user", Ref: "bob"}}},
			{Delay: firebreak.Duration(time.Second), Targets: []firebreak.EscalationTarget{{Type: "user", Ref: "ic"}}},
		}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateService(ctx, firebreak.ServiceInput{Slug: "api", Name: "API"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateService(ctx, "api", firebreak.ServicePatch{EscalationPolicy: new("fast")}, 0); err != nil {
		t.Fatal(err)
	}
	var refs []string
	for i := range incidents {
		// Declared on both replicas, alternately.
		inc, err := client.New(apps[i%2].URL(), adminToken).DeclareIncident(ctx, firebreak.DeclareInput{
			Title: fmt.Sprintf("Outage %d", i), Severity: firebreak.SEV1, Services: []string{"api"}})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, inc.Reference)
	}
	// Replica A stops while the first round is under way; B must carry on.
	time.Sleep(1500 * time.Millisecond)
	stoppedAt := time.Now()
	if err := apps[0].Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, ref := range refs {
		for {
			tl, err := c.ListTimeline(ctx, ref, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			if slices.ContainsFunc(tl.Items, func(e firebreak.TimelineEvent) bool {
				return e.Kind == firebreak.EventEscalationExhausted
			}) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the escalation did not finish after replica A stopped: %v", ref, kindsOf(tl.Items))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// Deliveries of the last pages may still be in flight: wait for every page the timelines record.
	want := incidents * rounds * steps
	for {
		log.mu.Lock()
		n := len(log.step)
		log.mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, ref := range refs {
		for r := 1; r <= rounds; r++ {
			for s := 1; s <= steps; s++ {
				k := fmt.Sprintf("%s round %d step %d", ref, r, s)
				if got := log.step[k]; len(got) != 1 {
					t.Errorf("%s: paged %d times (keys %v), want once", k, len(got), got)
				}
			}
		}
	}
	for key, n := range log.keys {
		if n != 1 {
			t.Errorf("page %s delivered %d times", key, n)
		}
	}
	after := 0
	for _, at := range log.at {
		if at.After(stoppedAt) {
			after++
		}
	}
	if after == 0 {
		t.Fatal("no page arrived after replica A stopped")
	}
	t.Logf("%d pages, each once; %d of them after replica A stopped", len(log.keys), after)
	// Every step's timeline event was written once, too.
	for _, ref := range refs {
		tl, _ := c.ListTimeline(ctx, ref, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
		seen := map[string]int{}
		for _, e := range tl.Items {
			if e.Kind == firebreak.EventEscalationPaged {
				seen[e.Data["round"]+"."+e.Data["step"]]++
			}
		}
		if len(seen) != rounds*steps {
			t.Errorf("%s: paged events %v", ref, seen)
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("%s: step %s recorded %d times", ref, k, n)
			}
		}
	}
}

func kindsOf(evs []firebreak.TimelineEvent) []firebreak.EventKind {
	out := make([]firebreak.EventKind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}
