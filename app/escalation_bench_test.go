package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// BenchmarkEscalationLateness measures how late escalation steps fire relative to their due time on an idle
// server: a real app (real clock, the engine woken by its own schedule) pages 100 incidents, declared at random
// moments over 2 s, through a policy of 3 steps of 2 s each, run twice (500 steps fired by the engine; the first
// step of each incident fires inside the declaration). A step's due time is the previous step's firing time
// plus its delay, both recorded on the timeline (escalation_paged), so lateness = fired − (previous fired +
// delay). Pages go to webhook contact methods on a local receiver, so the outbox works alongside.
//
//	go test ./app -run '^$' -bench EscalationLateness -benchtime 1x
func BenchmarkEscalationLateness(b *testing.B) {
	for _, d := range sqltest.Dialects(b) {
		b.Run(d, func(b *testing.B) {
			for range b.N {
				lateness(b, d)
			}
		})
	}
}

func lateness(b *testing.B, dialect string) {
	b.StopTimer()
	const incidents, steps, rounds = 100, 3, 2
	const delay = 2 * time.Second
	o := sqltest.Options(b, dialect)
	cfg := app.Config{Addr: "127.0.0.1:0", DataDir: o.DataDir, DatabaseURL: o.DatabaseURL, AdminToken: adminToken,
		Escalation: &firebreak.EscalationCriteria{}}
	a, err := app.Open(context.Background(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := a.Start(); err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	var mu sync.Mutex
	received := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received++
		mu.Unlock()
	}))
	defer rcv.Close()
	ctx := context.Background()
	c := client.New(a.URL(), adminToken)
	var targets []firebreak.EscalationStep
	for i := range steps {
		u := "u" + strconv.Itoa(i)
		if _, err := c.CreateUser(ctx, firebreak.UserInput{Username: u, Role: firebreak.RoleResponder}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.CreateChannel(ctx, firebreak.ChannelInput{Kind: firebreak.ChannelWebhook, Name: u + "-hook",
			URL: rcv.URL + "/" + u, Secret: "0123456789abcdef", User: u}); err != nil {
			b.Fatal(err)
		}
		targets = append(targets, firebreak.EscalationStep{Delay: firebreak.Duration(delay),
			Targets: []firebreak.EscalationTarget{{Type: firebreak.TargetUser, Ref: u}}})
	}
	if _, err := c.CreateEscalationPolicy(ctx, firebreak.EscalationPolicyInput{Name: "bench", Repeat: rounds - 1,
		Steps: targets}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateService(ctx, firebreak.ServiceInput{Slug: "api"}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.UpdateService(ctx, "api", firebreak.ServicePatch{EscalationPolicy: new("bench")}, 0); err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start := time.Now()
	var refs []string
	for i := range incidents {
		time.Sleep(time.Until(start.Add(time.Duration(rand.Int64N(int64(2 * time.Second))))))
		inc, err := c.DeclareIncident(ctx, firebreak.DeclareInput{Title: fmt.Sprintf("Outage %d", i),
			Severity: firebreak.SEV1, Services: []string{"api"}})
		if err != nil {
			b.Fatal(err)
		}
		refs = append(refs, inc.Reference)
	}
	var late []time.Duration
	deadline := time.Now().Add(2 * time.Minute)
	for _, ref := range refs {
		for {
			tl, err := c.ListTimeline(ctx, ref, firebreak.TimelineFilter{Limit: firebreak.MaxLimit})
			if err != nil {
				b.Fatal(err)
			}
			var fired []time.Time
			done := false
			for _, e := range tl.Items {
				switch e.Kind {
				case firebreak.EventEscalationPaged:
					fired = append(fired, e.OccurredAt)
				case firebreak.EventEscalationExhausted:
					done = true
					fired = append(fired, e.OccurredAt) // due a delay after the last step, too
				}
			}
			if done {
				if len(fired) != steps*rounds+1 {
					b.Fatalf("%s: %d steps fired, want %d", ref, len(fired)-1, steps*rounds)
				}
				for i := 1; i < len(fired); i++ {
					late = append(late, fired[i].Sub(fired[i-1])-delay)
				}
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s did not finish", ref)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	b.StopTimer()
	slices.Sort(late)
	pct := func(p float64) time.Duration { return late[min(len(late)-1, int(p*float64(len(late))))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-late-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-late-ms")
	b.ReportMetric(float64(late[len(late)-1].Microseconds())/1000, "max-late-ms")
	b.ReportMetric(float64(late[0].Microseconds())/1000, "min-late-ms")
	b.ReportMetric(float64(len(late)), "steps")
	if late[0] < 0 {
		b.Errorf("a step fired %v early", -late[0])
	}
}
