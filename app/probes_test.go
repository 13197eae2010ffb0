package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// eventually polls cond every 100 ms until it returns true or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("after %s, still not %s; last seen: %s", within, what, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestProbeRaisesAndResolvesAlert runs the whole app with the real probe runner against a local server that
// answers 200, then 503, then 200 again: three failures in a row raise a "probe" alert that opens a SEV2
// incident (default routing, severity critical), and two successes resolve the alert.
func TestProbeRaisesAndResolvesAlert(t *testing.T) {
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			var healthy atomic.Bool
			healthy.Store(true)
			var hits atomic.Int64
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				if healthy.Load() {
					_, _ = w.Write([]byte(`{"status":"ok"}`))
					return
				}
				http.Error(w, "down", http.StatusServiceUnavailable)
			}))
			defer target.Close()

			a := startApp(t, d, nil)
			ctx := context.Background()
			c := client.New(a.URL(), adminToken)
			if _, err := c.CreateService(ctx, firebreak.ServiceInput{Slug: "checkout", Name: "Checkout"}); err != nil {
				t.Fatal(err)
			}
			p, err := c.CreateProbe(ctx, firebreak.ProbeInput{Service: "checkout", Name: "health", URL: target.URL + "/healthz",
				Interval: firebreak.Duration(time.Second), Conditions: []string{"[STATUS] == 200", "[BODY].status == ok"}})
			if err != nil {
				t.Fatal(err)
			}

			probeState := func() (*firebreak.ProbeStatus, string) {
				st, err := c.GetProbe(ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				return st, string(st.Probe.State) + " failures=" + strconv.Itoa(st.Probe.ConsecutiveFailures) +
					" successes=" + strconv.Itoa(st.Probe.ConsecutiveSuccesses) + " results=" + strconv.Itoa(len(st.Recent))
			}
			probeAlerts := func() []firebreak.Alert {
				pg, err := c.ListAlerts(ctx, firebreak.AlertFilter{Service: "checkout"})
				if err != nil {
					t.Fatal(err)
				}
				var out []firebreak.Alert
				for _, al := range pg.Items {
					if al.Source == "probe" {
						out = append(out, al)
					}
				}
				return out
			}

			// Up once the success threshold (2) is reached; no alert.
			eventually(t, 15*time.Second, "up", func() (bool, string) {
				st, s := probeState()
				return st.Probe.State == firebreak.ProbeUp, s
			})
			if n := len(probeAlerts()); n != 0 {
				t.Fatalf("%d probe alerts while healthy", n)
			}

			// The target fails: after three failures in a row the alert fires and opens an incident.
			healthy.Store(false)
			var alert firebreak.Alert
			eventually(t, 20*time.Second, "alerting", func() (bool, string) {
				as := probeAlerts()
				if len(as) == 1 && as[0].Status == firebreak.AlertFiring && as[0].IncidentID != "" {
					alert = as[0]
					return true, ""
				}
				_, s := probeState()
				return false, s
			})
			st, _ := probeState()
			if st.Probe.State != firebreak.ProbeDown || st.Probe.ConsecutiveFailures < 3 {
				t.Fatalf("probe with a firing alert: %+v", st.Probe)
			}
			// The alert came only after three failures in a row: the three latest results all failed, on the
			// status condition with the value seen.
			for _, r := range st.Recent[:3] {
				if r.Success || r.StatusCode != http.StatusServiceUnavailable ||
					len(r.FailedConditions) == 0 || !strings.Contains(r.FailedConditions[0], "503") {
					t.Fatalf("a recent result of the failing probe: %+v", r)
				}
			}
			if alert.DedupKey != "probe:"+p.ID || alert.Severity != firebreak.AlertCritical {
				t.Fatalf("probe alert %+v", alert)
			}
			inc, err := c.GetIncident(ctx, alert.IncidentID)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Severity != firebreak.SEV2 || !inc.Status.Open() {
				t.Fatalf("incident opened by the probe: %+v", inc)
			}
			attached, err := c.ListAlerts(ctx, firebreak.AlertFilter{Incident: inc.Reference})
			if err != nil || len(attached.Items) != 1 || attached.Items[0].ID != alert.ID {
				t.Fatalf("alerts of %s: %+v %v", inc.Reference, attached, err)
			}

			// The target recovers: two successes resolve the alert.
			healthy.Store(true)
			eventually(t, 20*time.Second, "resolved", func() (bool, string) {
				as := probeAlerts()
				if len(as) == 1 && as[0].Status == firebreak.AlertResolved {
					return true, ""
				}
				_, s := probeState()
				return false, s
			})
			st, _ = probeState()
			if st.Probe.State != firebreak.ProbeUp || st.Probe.ConsecutiveSuccesses < 2 || !st.Recent[0].Success {
				t.Fatalf("recovered probe: %+v", st.Probe)
			}
			if len(st.Windows) == 0 || st.Windows[0].Checks < 5 || st.Windows[0].UptimePercent == nil ||
				*st.Windows[0].UptimePercent >= 100 {
				t.Fatalf("24h window after an outage: %+v", st.Windows)
			}

			// The runner's counters are exported.
			code, body := get(t, a.URL()+"/metrics")
			if code != 200 || !strings.Contains(body, "firebreak_probe_checks_total") ||
				!strings.Contains(body, "firebreak_probe_check_failures_total") {
				t.Fatalf("metrics lack the probe counters: %d", code)
			}
		})
	}
}

// TestProbesFromConfigFileAppliedAtStart restarts the app with probes in its configuration: they are created on
// the first start with them, replaced (not duplicated) on the next, and probes made over the API are kept.
func TestProbesFromConfigFileAppliedAtStart(t *testing.T) {
	o := sqltest.Options(t, "sqlite")
	open := func(probes []firebreak.ProbeInput) *app.App {
		t.Helper()
		a, err := app.Open(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: o.DataDir,
			DatabaseURL: o.DatabaseURL, AdminToken: adminToken, ShutdownTimeout: 10 * time.Second, Probes: probes}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		return a
	}
	ctx := context.Background()
	a := open(nil)
	c := client.New(a.URL(), adminToken)
	if _, err := c.CreateService(ctx, firebreak.ServiceInput{Slug: "payments"}); err != nil {
		t.Fatal(err)
	}
	manual, err := c.CreateProbe(ctx, firebreak.ProbeInput{Service: "payments", Name: "manual", URL: "tcp://127.0.0.1:9",
		Enabled: new(false)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	cfgProbe := firebreak.ProbeInput{Service: "payments", Name: "health", URL: "http://127.0.0.1:9/healthz",
		Interval: firebreak.Duration(30 * time.Second), Conditions: []string{"[STATUS] == 200"}, Enabled: new(false)}
	a = open([]firebreak.ProbeInput{cfgProbe})
	c = client.New(a.URL(), adminToken)
	list, err := c.ListProbes(ctx, firebreak.ProbeFilter{Service: "payments"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "health" || time.Duration(list[0].Interval) != 30*time.Second ||
		list[1].ID != manual.ID {
		t.Fatalf("probes after a start with one in the configuration: %+v", list)
	}
	id := list[0].ID
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	cfgProbe.Interval = firebreak.Duration(time.Minute)
	a = open([]firebreak.ProbeInput{cfgProbe})
	defer a.Close()
	c = client.New(a.URL(), adminToken)
	list, err = c.ListProbes(ctx, firebreak.ProbeFilter{Service: "payments"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != id || time.Duration(list[0].Interval) != time.Minute {
		t.Fatalf("probes after a restart with a changed configuration: %+v", list)
	}

	// A probe of a service that does not exist stops the start, saying which.
	_, err = app.Open(ctx, app.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Probes: []firebreak.ProbeInput{
		{Service: "nope", Name: "x", URL: "http://x"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "probe") {
		t.Fatalf("start with a probe of an unknown service: %v", err)
	}
}
