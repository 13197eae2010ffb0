package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/app"
	"github.com/firebreak/firebreak/client"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// Config.IntakeRate and IntakeBurst set the per-integration intake limit (the load command lifts it).
func TestIntakeRateConfig(t *testing.T) {
	o := sqltest.Options(t, "sqlite")
	a, err := app.Open(context.Background(), app.Config{Addr: "127.0.0.1:0", DataDir: o.DataDir,
		AdminToken: adminToken, IntakeRate: 0.001, IntakeBurst: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	ctx := context.Background()
	api := client.New(a.URL(), adminToken)
	if _, err := api.CreateService(ctx, firebreak.ServiceInput{Slug: "checkout"}); err != nil {
		t.Fatal(err)
	}
	in, err := api.CreateIntegration(ctx, firebreak.IntegrationInput{Service: "checkout",
		Kind: firebreak.IntegrationPagerDuty})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for i := range 4 {
		b, _ := json.Marshal(map[string]any{"routing_key": in.Key, "dedup_key": fmt.Sprint("k", i),
			"event_action": "trigger", "payload": map[string]any{"summary": "s", "source": "db-1", "severity": "warning"}})
		resp, err := http.Post(a.URL()+"/v2/enqueue", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got = append(got, resp.StatusCode)
	}
	if want := []int{202, 202, 202, 429}; !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v (a burst of 3, then throttled)", got, want)
	}
}
