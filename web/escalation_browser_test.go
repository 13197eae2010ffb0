package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestBrowserEscalationPanel: a SEV1 of the API pages bob (step 1). Alice, on call on the primary schedule, opens
// the incident: the escalation panel says bob was paged and that step 2 pages the primary schedule — her — at its
// time, counting down. The step fires (the engine's claim and fire, straight on the store): her page shows it
// without a reload, and that nothing is left but the escalation running out. She acknowledges: the panel says
// the paging stopped, acknowledged by alice.
func TestBrowserEscalationPanel(t *testing.T) {
	path := chromiumPath(t)
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			st := sqltest.Open(t, dialect)
			e := newConsoleEnv(t, st)
			escalationPanelJourney(t, path, e, st)
		})
	}
}

func escalationPanelJourney(t *testing.T, path string, e *consoleEnv, st *sqlstore.Store) {
	ctx := context.Background()
	ada := as("ada", firebreak.RoleAdmin)
	for _, u := range []string{"alice", "bob"} {
		if _, err := st.CreateChannel(ada, firebreak.ChannelInput{Kind: firebreak.ChannelEmail, Name: u + "-mail",
			Address: u + "@example.com", User: u}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateSchedule(ada, firebreak.ScheduleInput{Name: "primary", TimeZone: "UTC",
		Layers: []firebreak.Layer{{Name: "week", Rotation: firebreak.RotationWeekly, Start: "2025-01-06",
			HandoffTime: "09:00", Participants: []string{"alice"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateEscalationPolicy(ada, firebreak.EscalationPolicyInput{Name: "api-paging",
		Steps: []firebreak.EscalationStep{
			{Delay: firebreak.Duration(5 * time.Minute), Targets: []firebreak.EscalationTarget{{Type: "user", Ref: "bob"}}},
			{Delay: firebreak.Duration(10 * time.Minute), Targets: []firebreak.EscalationTarget{{Type: "schedule", Ref: "primary"}}},
		}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.UpdateService(ada, "api", firebreak.ServicePatch{EscalationPolicy: new("api-paging")}, 0); err != nil {
		t.Fatal(err)
	}
	inc, err := st.DeclareIncident(as("bob", firebreak.RoleResponder), firebreak.DeclareInput{
		Title: "Public API returns 503", Severity: firebreak.SEV1, Services: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	declared := *inc.Milestones.DeclaredAt

	browsers := newChromium(t, path, 1)
	alice := browsers[0]
	uiLogin(t, alice, e.url, "alice")
	ui(t, alice, "alice opens the incident", chromedp.Navigate(e.url+"/incidents/"+inc.Reference),
		chromedp.WaitVisible(chromedp.ID("escalation")))
	panel := func() string { return evalJS[string](t, alice, `document.getElementById("escalation").innerText`) }
	if got := evalJS[string](t, alice, `document.querySelector("#escalation .esc-current").textContent`); !strings.HasPrefix(got, "Step 1 of 2 paged bob at ") {
		t.Fatalf("current step: %q\n%s", got, panel())
	}
	if got := evalJS[string](t, alice, `document.querySelector("#escalation .esc-next-step").textContent`); got != "Step 2 of 2 pages schedule primary (on call: alice)" {
		t.Fatalf("next step: %q\n%s", got, panel())
	}
	// The next step's time is the declaration plus step 1's delay, counting down in the browser.
	at, err := time.Parse(time.RFC3339, evalJS[string](t, alice,
		`document.querySelector("#escalation .esc-next-at").getAttribute("datetime")`))
	if want := declared.Add(5 * time.Minute); err != nil || at.Sub(want).Abs() > time.Second {
		t.Fatalf("next at %v (%v), want %v", at, err, want)
	}
	eventually(t, alice, "the countdown says how long until step 2",
		`/^in [45]m$/.test(document.querySelector("#escalation .esc-countdown").textContent)`, 5*time.Second)
	if !strings.Contains(panel(), "unacknowledged") {
		t.Errorf("the severity criterion is not listed:\n%s", panel())
	}
	eventually(t, alice, "alice's live stream connects",
		`document.getElementById("live-status").dataset.state === "on"`, 5*time.Second)
	ui(t, alice, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`))

	// Step 2 fires, as the engine would at its time.
	claims, err := st.ClaimEscalations(ctx, declared.Add(5*time.Minute+time.Second), 30*time.Second, 10)
	if err != nil || len(claims) == 0 {
		t.Fatalf("claim: %v %v", claims, err)
	}
	fired := 0
	for _, c := range claims {
		if c.PolicyID == "" {
			continue // a severity criterion (SEV1 unacknowledged) is due then too; this journey is about the policy
		}
		if err := st.FireEscalation(ctx, c, time.Now()); err != nil {
			t.Fatal(err)
		}
		fired++
	}
	if fired != 1 {
		t.Fatalf("claimed %+v: no escalation step", claims)
	}
	eventually(t, alice, "step 2 shows as paged, without a reload",
		`window.__notReloaded && document.querySelector("#escalation .esc-current")?.textContent.startsWith("Step 2 of 2 paged alice (on call on primary)")`,
		5*time.Second)
	if got := evalJS[string](t, alice, `document.querySelector("#escalation .esc-next-step").textContent`); !strings.Contains(got, "exhausted") {
		t.Fatalf("after the last step: %q", got)
	}

	shoot(t, alice, "escalation-running.png")
	ui(t, alice, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("escalation")))
	phoneFits(t, alice, "the incident page with a running escalation")

	// Alice acknowledges: the paging stops, and the panel says by whom.
	ui(t, alice, "alice acknowledges", chromedp.Click(chromedp.ID("ack-button")))
	eventually(t, alice, "the panel says the escalation stopped",
		`document.querySelector("#escalation").dataset.state === "stopped" && document.querySelector("#escalation .esc-reason")?.textContent === "acknowledged by alice"`,
		5*time.Second)
	if got := panel(); !strings.Contains(got, "Escalation stopped (policy api-paging): acknowledged by alice at") ||
		strings.Contains(got, "Next:") {
		t.Fatalf("stopped panel:\n%s", got)
	}
	shoot(t, alice, "escalation-stopped.png")
}

// shoot saves the escalation panel's picture when FIREBREAK_SCREENSHOTS names a folder.
func shoot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv(envScreenshots)
	if dir == "" {
		return
	}
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if shot, err := chromedp.Run(c, chromedp.Screenshot(chromedp.ID("escalation"))); err == nil {
		_ = os.WriteFile(filepath.Join(dir, name), shot, 0o644)
	}
}
