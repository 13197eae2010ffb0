package app_test

import (
	"bufio"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

// Two replicas on one PostgreSQL database: they start together (migrations under the advisory lock), share the
// data, and a browser watching an incident on one replica sees a note written through the other at once.
func TestTwoReplicasShareOneDatabase(t *testing.T) {
	if !slices.Contains(sqltest.Dialects(t), "postgres") {
		t.Skip("needs PostgreSQL (FIREBREAK_TEST_POSTGRES_URL)")
	}
	o := sqltest.Options(t, "postgres")
	cfg := app.Config{Addr: "127.0.0.1:0", DatabaseURL: o.DatabaseURL, AdminToken: adminToken}
	apps := make([]*app.App, 2)
	errs := make(chan error, 2)
	for i := range apps {
		go func() {
			a, err := app.Open(context.Background(), cfg, nil)
			if err == nil {
				err = a.Start()
			}
			apps[i] = a
			errs <- err
		}()
	}
	for range apps {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range apps {
		t.Cleanup(func() { _ = a.Close() })
	}
	if apps[0].AdminPassword != "" && apps[1].AdminPassword != "" {
		t.Fatal("both replicas created a first admin")
	}
	ctx := context.Background()
	a, b := client.New(apps[0].URL(), adminToken), client.New(apps[1].URL(), adminToken)
	inc, err := a.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Seen everywhere", Severity: firebreak.SEV1})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.GetIncident(ctx, inc.Reference); err != nil || got.ID != inc.ID {
		t.Fatalf("replica B reads %+v %v", got, err)
	}

	// A console session on replica B watches the incident's live timeline.
	admin, err := apps[1].Store.GetUser(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	secret, err := apps[1].Store.CreateSession(ctx, admin.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(sctx, "GET", apps[1].URL()+"/incidents/"+inc.Reference+"/events", nil)
	req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: secret})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(300 * time.Millisecond) // the stream is subscribed
	start := time.Now()
	if _, err := a.AddTimelineEvent(ctx, inc.ID, firebreak.TimelineInput{Message: "written on replica A"}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("stream ended before the note arrived")
			}
			if strings.HasPrefix(line, "data:") && strings.Contains(line, "written on replica A") {
				// Well inside the 10 s fallback poll: the note came through LISTEN/NOTIFY.
				if d := time.Since(start); d > 3*time.Second {
					t.Fatalf("the note took %v to cross replicas", d)
				}
				return
			}
		case <-sctx.Done():
			t.Fatal("the note never reached the other replica's stream")
		}
	}
}
