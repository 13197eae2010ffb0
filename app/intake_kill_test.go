package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// Environment of the child server of TestIntakeSurvivesSIGKILL.
const (
	killChildDataDir = "FIREBREAK_KILL_CHILD_DATA_DIR"
	killChildDBURL   = "FIREBREAK_KILL_CHILD_DATABASE_URL"
)

// TestIntakeSurvivesSIGKILL runs the server as a child process, sends it PagerDuty events and Alertmanager
// deliveries from many clients, kills it (SIGKILL) in the middle, starts it again on the same database and
// checks that every alert of a request answered 2xx is there exactly once (one row per dedup key and
// integration), in a state at least as far along as what was acknowledged. (A process kill, not a power cut;
// synchronous=FULL / fsync=on cover the latter.)
func TestIntakeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns server processes")
	}
	for _, d := range sqltest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			o := sqltest.Options(t, d)
			testIntakeKill(t, o.DataDir, o.DatabaseURL)
		})
	}
}

// TestIntakeKillChild is the server TestIntakeSurvivesSIGKILL starts and kills.
func TestIntakeKillChild(t *testing.T) {
	dir, dbURL := os.Getenv(killChildDataDir), os.Getenv(killChildDBURL)
	if dir == "" && dbURL == "" {
		t.Skip("helper process of TestIntakeSurvivesSIGKILL")
	}
	a, err := app.Open(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: dbURL,
		AdminToken: adminToken, IntakeRate: 1e6, IntakeBurst: 1e6}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	if err := a.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	fmt.Printf("url %s\n", a.URL())
	time.Sleep(2 * time.Minute)
	os.Exit(2) // not killed: the parent reports it
}

type killChild struct {
	cmd *exec.Cmd
	url string
}

func startKillChild(t *testing.T, dir, dbURL string) *killChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntakeKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildDataDir+"="+dir, killChildDBURL+"="+dbURL)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &killChild{cmd: cmd}
	t.Cleanup(c.kill)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "url "); ok {
			c.url = u
			break
		}
	}
	if c.url == "" {
		t.Fatal("the child server did not start")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return c
}

func (c *killChild) kill() {
	if c.cmd.ProcessState == nil {
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	}
}

// pdLevel is how far a PagerDuty dedup key's sequence got: 1 triggered, 2 resolved, 3 triggered again.
type pdLevel struct{ sent, acked int }

func testIntakeKill(t *testing.T, dir, dbURL string) {
	ctx := context.Background()
	child := startKillChild(t, dir, dbURL)
	api := client.New(child.url, adminToken)
	if _, err := api.CreateService(ctx, firebreak.ServiceInput{Slug: "checkout"}); err != nil {
		t.Fatal(err)
	}
	pdInt, err := api.CreateIntegration(ctx, firebreak.IntegrationInput{Service: "checkout",
		Kind: firebreak.IntegrationPagerDuty})
	if err != nil {
		t.Fatal(err)
	}
	amInt, err := api.CreateIntegration(ctx, firebreak.IntegrationInput{Service: "checkout",
		Kind: firebreak.IntegrationAlertmanager})
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	post := func(u string, body any, want int) bool {
		b, _ := json.Marshal(body)
		resp, err := hc.Post(u, "application/json", bytes.NewReader(b))
		if err != nil {
			return false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != want { // a transport error is the kill; any answer but want is a failure
			t.Errorf("POST %s: %s, want %d", u, resp.Status, want)
		}
		return resp.StatusCode == want
	}
	pdURL := child.url + "/v2/enqueue"
	amURL := child.url + "/api/v1/intake/alertmanager/" + amInt.Key

	var (
		mu       sync.Mutex
		pd       = map[string]*pdLevel{} // dedup key → sequence sent and acknowledged
		amSent   = map[string]bool{}     // fingerprint → sent
		amAcked  = map[string]bool{}     // fingerprint → in a delivery answered 200
		acks     atomic.Int64
		stopping atomic.Bool
		wg       sync.WaitGroup
	)
	// PagerDuty: 12 clients; every third key is triggered, resolved and triggered again, one step after the other.
	for w := range 12 {
		wg.Go(func() {
			for i := 0; !stopping.Load(); i++ {
				key := fmt.Sprintf("pd-%d-%d", w, i)
				steps := []string{"trigger"}
				if i%3 == 0 {
					steps = []string{"trigger", "resolve", "trigger"}
				}
				for n, action := range steps {
					mu.Lock()
					l := pd[key]
					if l == nil {
						l = &pdLevel{}
						pd[key] = l
					}
					l.sent = n + 1
					mu.Unlock()
					ev := map[string]any{"routing_key": pdInt.Key, "dedup_key": key, "event_action": action}
					if action == "trigger" {
						ev["payload"] = map[string]any{"summary": "disk full on " + key, "source": "db-1",
							"severity": "critical"}
					}
					if !post(pdURL, ev, http.StatusAccepted) {
						return // the server is gone
					}
					mu.Lock()
					l.acked = n + 1
					mu.Unlock()
					acks.Add(1)
				}
			}
		})
	}
	// Alertmanager: 4 clients, each delivery a new group of 20 firing alerts.
	for w := range 4 {
		wg.Go(func() {
			for i := 0; !stopping.Load(); i++ {
				var alerts []map[string]any
				var fps []string
				for j := range 20 {
					fp := fmt.Sprintf("%04x%04x%08x", w, i, j)
					fps = append(fps, fp)
					alerts = append(alerts, map[string]any{"status": "firing", "fingerprint": fp,
						"labels": map[string]string{"alertname": fmt.Sprintf("Group%d-%d", w, i), "instance": fmt.Sprint(j),
							"severity": "critical"},
						"annotations": map[string]string{"summary": "high error rate"},
						"startsAt":    "2026-08-20T10:15:30Z", "endsAt": "0001-01-01T00:00:00Z"})
				}
				mu.Lock()
				for _, fp := range fps {
					amSent[fp] = true
				}
				mu.Unlock()
				body := map[string]any{"version": "4", "status": "firing", "receiver": "firebreak",
					"groupKey": fmt.Sprintf("{}:{alertname=\"Group%d-%d\"}", w, i), "alerts": alerts}
				if !post(amURL, body, http.StatusOK) {
					return
				}
				mu.Lock()
				for _, fp := range fps {
					amAcked[fp] = true
				}
				mu.Unlock()
				acks.Add(1)
			}
		})
	}
	deadline := time.Now().Add(time.Minute)
	for acks.Load() < 1500 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if acks.Load() < 50 {
		t.Fatalf("only %d requests answered before the kill", acks.Load())
	}
	if err := child.cmd.Process.Kill(); err != nil { // SIGKILL, mid-load
		t.Fatal(err)
	}
	_ = child.cmd.Wait()
	stopping.Store(true)
	wg.Wait()

	child = startKillChild(t, dir, dbURL)
	api = client.New(child.url, adminToken)
	stored := map[string][]firebreak.Alert{} // integration/dedup key → rows
	for cursor := ""; ; {
		page, err := api.ListAlerts(ctx, firebreak.AlertFilter{Service: "checkout", Limit: firebreak.MaxLimit,
			Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Items {
			k := a.IntegrationID + "/" + a.DedupKey
			stored[k] = append(stored[k], a)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for k, rows := range stored {
		if len(rows) != 1 {
			t.Errorf("%d rows for %s", len(rows), k)
		}
	}
	ackedPD, ackedAM := 0, 0
	for key, l := range pd {
		rows := stored[pdInt.ID+"/"+key]
		if l.acked == 0 {
			if len(rows) > 0 && l.sent == 0 {
				t.Errorf("PagerDuty key %s stored but never sent", key)
			}
			continue
		}
		ackedPD++
		if len(rows) != 1 {
			t.Errorf("acknowledged PagerDuty key %s: %d rows", key, len(rows))
			continue
		}
		// The stored state is the one after the last acknowledged step, or after a later step that was sent.
		a := rows[0]
		var got int
		switch {
		case a.Status == firebreak.AlertFiring && a.Occurrences == 1:
			got = 1
		case a.Status == firebreak.AlertResolved && a.Occurrences == 1:
			got = 2
		case a.Status == firebreak.AlertFiring && a.Occurrences == 2:
			got = 3
		}
		if got < l.acked || got > l.sent {
			t.Errorf("PagerDuty key %s: %s with %d occurrences; steps acknowledged %d, sent %d", key, a.Status,
				a.Occurrences, l.acked, l.sent)
		}
	}
	for fp := range amSent {
		rows := stored[amInt.ID+"/"+fp]
		if !amAcked[fp] {
			continue
		}
		ackedAM++
		if len(rows) != 1 || rows[0].Status != firebreak.AlertFiring || rows[0].Occurrences != 1 {
			t.Errorf("acknowledged Alertmanager alert %s: %+v", fp, rows)
		}
	}
	for k := range stored {
		id, key, _ := strings.Cut(k, "/")
		if (id == pdInt.ID && pd[key] == nil) || (id == amInt.ID && !amSent[key]) {
			t.Errorf("stored alert %s was never sent", k)
		}
	}
	t.Logf("%d PagerDuty keys and %d Alertmanager alerts acknowledged before the kill; %d alerts stored "+
		"(deliveries in flight may be stored unacknowledged)", ackedPD, ackedAM, len(stored))
	if ackedPD == 0 || ackedAM == 0 {
		t.Fatalf("too little was acknowledged to check (%d PagerDuty, %d Alertmanager)", ackedPD, ackedAM)
	}
	// The server takes alerts again after the restart.
	if !post(child.url+"/v2/enqueue", map[string]any{"routing_key": pdInt.Key, "dedup_key": "after-restart", "event_action": "trigger",
		"payload": map[string]any{"summary": "after the restart", "source": "db-1", "severity": "warning"}},
		http.StatusAccepted) {
		t.Fatal("the restarted server refused an event")
	}
}
