package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// TestBrowserChangeControlJourney: during a SEV1, bob (a responder) sees that the API's runbook is stale and
// proposes a change; alice, the incident commander, watching the same incident in another browser, sees the
// proposal arrive without reloading and approves it, and bob's page shows the approval live. Alice opens the
// stale runbook, reads it rendered and records her review, which clears the flag. Then ada, an admin, adds a
// notification channel, tests and disables it, and retries a dead letter.
func TestBrowserChangeControlJourney(t *testing.T) {
	path := chromiumPath(t)
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			st := sqltest.Open(t, dialect)
			e := newConsoleEnv(t, st)
			changeControlJourney(t, path, e, st)
		})
	}
}

func changeControlJourney(t *testing.T, path string, e *consoleEnv, st *sqlstore.Store) {
	ctx := context.Background()
	rb, err := st.CreateRunbook(as("alice", firebreak.RoleResponder), firebreak.RunbookInput{Service: "api",
		Title: "API overload", Body: "# API overload\n\n1. Check the **gateway** dashboard\n2. Shed load: `apictl shed 20%`"})
	if err != nil {
		t.Fatal(err)
	}
	changed := time.Now().UTC()
	if _, err := st.UpdateService(as("ada", firebreak.RoleAdmin), "api",
		firebreak.ServicePatch{ArchitectureChangedAt: &changed}, 0); err != nil {
		t.Fatal(err)
	}
	inc, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{
		Title: "Public API returns 503", Severity: firebreak.SEV1, Services: []string{"api"},
		Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	incURL := e.url + "/incidents/" + inc.Reference
	browsers := newChromium(t, path, 2)
	alice, bob := browsers[0], browsers[1]

	uiLogin(t, alice, e.url, "alice")
	ui(t, alice, "alice opens the incident", chromedp.Navigate(incURL), chromedp.WaitVisible(chromedp.ID("proposals")))
	eventually(t, alice, "alice's live stream connects",
		`document.getElementById("live-status").dataset.state === "on"`, 5*time.Second)
	ui(t, alice, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`))

	// Bob sees the stale runbook on the incident and proposes a change.
	uiLogin(t, bob, e.url, "bob")
	ui(t, bob, "bob opens the incident", chromedp.Navigate(incURL), chromedp.WaitVisible(chromedp.ID("runbooks")))
	eventually(t, bob, "the runbook is flagged stale on the incident",
		`document.querySelector("#runbook-ref-`+rb.ID+` .tag-stale") !== null`, 5*time.Second)
	if n := evalJS[int](t, bob, `document.querySelectorAll("#proposals .proposal-decide").length`); n != 0 {
		t.Fatalf("bob sees %d decision forms", n)
	}
	ui(t, bob, "bob proposes a change",
		chromedp.Click(chromedp.CSS("#proposals .proposal-add > summary")),
		chromedp.WaitVisible(chromedp.ID("proposal-action")),
		chromedp.SendKeys(chromedp.ID("proposal-action"), "Shed 20% of API traffic at the gateway"),
		chromedp.SendKeys(chromedp.ID("proposal-reason"), "the API pods are saturated"),
		chromedp.Click(chromedp.CSS(`#propose-form input[name=risk][value=medium]`)),
		chromedp.Click(chromedp.CSS("#propose-form button[type=submit]")),
	)
	eventually(t, bob, "bob's proposal is listed, waiting",
		`document.querySelector("#proposals .proposal-proposed .proposal-action")?.textContent === "Shed 20% of API traffic at the gateway"`,
		5*time.Second)
	ui(t, bob, "mark bob's page", chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`))
	eventually(t, bob, "bob's live stream connects",
		`document.getElementById("live-status").dataset.state === "on"`, 5*time.Second)

	// Alice sees it arrive live, with the buttons only she has; she approves with a note.
	eventually(t, alice, "the proposal arrives in alice's browser without reloading",
		`window.__notReloaded && document.querySelector("#proposals .proposal-decide button[data-decision=approve]") !== null`,
		5*time.Second)
	ui(t, alice, "alice approves",
		chromedp.SendKeys(chromedp.CSS("#proposals .proposal-decide input[name=note]"), "go, watch the error rate"),
		chromedp.Click(chromedp.CSS("#proposals .proposal-decide button[data-decision=approve]")),
	)
	eventually(t, alice, "approved on alice's page",
		`document.querySelector("#proposals .proposal-approved .proposal-note")?.textContent === "go, watch the error rate"`,
		5*time.Second)
	eventually(t, bob, "bob sees the approval without reloading",
		`window.__notReloaded && document.querySelector("#proposals .proposal-approved") !== null && document.getElementById("timeline-list").textContent.includes("Change approved: Shed 20%")`,
		5*time.Second)
	ps, err := st.ListProposals(ctx, inc.ID)
	if err != nil || len(ps) != 1 || ps[0].State != firebreak.ProposalApproved || ps[0].DecidedBy != "alice" {
		t.Fatalf("stored proposals %+v %v", ps, err)
	}

	// Alice opens the stale runbook from the incident, reads it rendered, and records her review.
	ui(t, alice, "open the runbook", chromedp.Click(chromedp.CSS("#runbook-ref-"+rb.ID+" a")),
		chromedp.WaitVisible(chromedp.ID("runbook-body")))
	if got := evalJS[string](t, alice, `document.querySelector("#runbook-body strong").textContent + "|" + document.querySelector("#runbook-body code").textContent`); got != "gateway|apictl shed 20%" {
		t.Fatalf("rendered runbook: %q", got)
	}
	eventually(t, alice, "the stale warning shows", `document.getElementById("stale-warning") !== null`, 5*time.Second)
	ui(t, alice, "alice reviews it", chromedp.Click(chromedp.CSS("#review-form button")))
	eventually(t, alice, "the runbook is current again",
		`document.getElementById("stale-warning") === null && document.getElementById("notice").textContent.includes("review is recorded")`,
		5*time.Second)
	ui(t, alice, "back to the incident", chromedp.Navigate(incURL), chromedp.WaitVisible(chromedp.ID("runbooks")))
	if n := evalJS[int](t, alice, `document.querySelectorAll("#runbooks .tag-stale").length`); n != 0 {
		t.Fatalf("still flagged stale on the incident (%d)", n)
	}

	// Ada, an admin, takes over bob's browser: channels and dead letters.
	ui(t, bob, "bob signs out", chromedp.Click(chromedp.CSS("form[action='/logout'] button")),
		chromedp.WaitVisible(chromedp.ID("username")))
	uiLogin(t, bob, e.url, "ada")
	ada := bob
	ui(t, ada, "ada adds a Slack channel",
		chromedp.Navigate(e.url+"/channels"), chromedp.WaitVisible(chromedp.ID("new-channel")),
		chromedp.SetValue(chromedp.ID("ch-kind"), "slack"),
		chromedp.SendKeys(chromedp.ID("ch-name"), "ops-slack"),
		chromedp.SendKeys(chromedp.ID("ch-url"), "https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
		chromedp.Click(chromedp.CSS("#new-channel button[type=submit]")),
	)
	eventually(t, ada, "the channel is listed, its URL masked",
		`document.querySelector("#channel-list .ch-dest code")?.textContent === "https://hooks.slack.com/****" && !document.body.innerHTML.includes("XXXXSECRET")`,
		5*time.Second)
	ui(t, ada, "ada tests it", chromedp.Click(chromedp.CSS("#channel-list form[action$='/test'] button")))
	eventually(t, ada, "the test is queued", `document.getElementById("notice")?.textContent.includes("test message to ops-slack")`,
		5*time.Second)
	ui(t, ada, "ada disables it",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS("#channel-list form[action$='/enabled'] button")))
	eventually(t, ada, "disabled", `document.querySelector("#channel-list .ch-row.is-disabled") !== null`, 5*time.Second)

	// The test message gives up (the receiver refused it for good): ada retries the dead letter.
	if _, err := st.UpdateChannel(ctx, "ops-slack", firebreak.ChannelPatch{Enabled: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	dead := deadLetter(t, st)
	ui(t, ada, "ada opens the dead letters", chromedp.Click(chromedp.ID("dead-link")),
		chromedp.WaitVisible(chromedp.ID("nt-"+dead)))
	ui(t, ada, "ada retries it", chromedp.Click(chromedp.CSS("#nt-"+dead+" form button")))
	eventually(t, ada, "the dead letter is queued again",
		`document.getElementById("nt-`+dead+`") === null && document.getElementById("notice").textContent.includes("queued again")`,
		5*time.Second)
	queued, err := st.ListNotifications(ctx, firebreak.NotificationFilter{Status: firebreak.NotificationQueued})
	if err != nil || len(queued) != 1 || queued[0].ID != dead {
		t.Fatalf("queued after the retry: %+v %v", queued, err)
	}
	if st.Dialect() != "sqlite" {
		return
	}
	ui(t, ada, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, p := range []string{"/channels", "/notifications?status=queued", "/runbooks", "/runbooks/" + rb.ID,
		"/incidents/" + inc.Reference} {
		ui(t, ada, "open "+p+" on a phone", chromedp.Navigate(e.url+p), chromedp.WaitReady(chromedp.CSS("main")))
		phoneFits(t, ada, p)
		if t.Failed() {
			t.Logf("wide on %s: %s", p, evalJS[string](t, ada, `Array.from(document.querySelectorAll("main *")).filter(e => e.getBoundingClientRect().right > 391).slice(0, 8).map(e => e.tagName + "#" + e.id + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`))
		}
		if dir := os.Getenv(envScreenshots); dir != "" {
			shot, err := chromedp.Run(ada, chromedp.FullScreenshot(100))
			if err == nil {
				name := filepath.Join(dir, "cc-phone-"+filepath.Base(filepath.Clean("/"+p))+".png")
				_ = os.WriteFile(name, shot, 0o644)
			}
		}
	}
}
