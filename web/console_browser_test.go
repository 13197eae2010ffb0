package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

// Browser tests drive Debian's Chromium through chromedp against the real server. Without Chromium they skip,
// unless FIREBREAK_REQUIRE_BROWSER=1 (CI), where they fail. FIREBREAK_SCREENSHOTS=<dir> also saves screenshots
// of the main pages, desktop and phone, for a person to look at.

const (
	envRequireBrowser = "FIREBREAK_REQUIRE_BROWSER"
	envChromium       = "FIREBREAK_CHROMIUM"
	envScreenshots    = "FIREBREAK_SCREENSHOTS"
)

func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv(envChromium)
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		if os.Getenv(envRequireBrowser) == "1" {
			t.Fatalf("%s=1 but Chromium is not at %s: %v", envRequireBrowser, p, err)
		}
		t.Skipf("browser test skipped: Chromium is not at %s (apt-get install chromium; %s=1 makes this a failure)",
			p, envRequireBrowser)
	}
	return p
}

// newChromium starts n headless Chromium processes, in parallel, each with a fresh profile (its own cookies),
// and returns the context of each one's first tab. zones[i], when given, is browser i's time zone (TZ).
func newChromium(t *testing.T, path string, n int, zones ...string) []context.Context {
	t.Helper()
	ctxs := make([]context.Context, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		opts := []chromedp.ExecAllocatorOption{
			chromedp.ExecPath(path),
			chromedp.UserDataDir(t.TempDir()),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.NoDefaultBrowserCheck,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.Flag("disable-extensions", true),
			chromedp.Flag("disable-default-apps", true),
			chromedp.Flag("disable-domain-reliability", true),
			chromedp.Flag("disable-background-timer-throttling", true),
			chromedp.Flag("disable-renderer-backgrounding", true),
			chromedp.Flag("disable-backgrounding-occluded-windows", true),
			chromedp.Flag("password-store", "basic"),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.WindowSize(1280, 900),
		}
		if i < len(zones) && zones[i] != "" {
			opts = append(opts, chromedp.Env("TZ="+zones[i]))
		}
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(actx)
		t.Cleanup(func() {
			cancel()
			cancelAlloc()
		})
		ctxs[i] = ctx
		wg.Go(func() { errs[i] = chromedp.Do(ctx) }) // start the browser
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	}
	return ctxs
}

// ui runs browser steps with a time limit and fails the test with what was being done.
func ui(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eventually waits until the JavaScript condition is true in the page. It checks every 50 ms and rides over
// navigations (a form post reloads the page under it).
func eventually(t *testing.T, ctx context.Context, what, cond string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var lastErr error
	for {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	text, _ := chromedp.Run(c, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	t.Fatalf("%s: not true within %v (last error: %v)\npage text:\n%s", what, within, lastErr, text)
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func uiLogin(t *testing.T, ctx context.Context, base, username string) {
	t.Helper()
	ui(t, ctx, "log in as "+username,
		chromedp.Navigate(base+"/incidents"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), consolePassword),
		chromedp.Click(chromedp.CSS(".login-card button[type=submit]")),
		chromedp.WaitReady(chromedp.CSS(".topbar")),
	)
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// TestBrowserJourney: a responder declares a SEV1, hands command over, notes what happened, resolves it and
// corrects when the impact started (in her time zone, India's), while a colleague in another browser (UTC) watches
// the same incident page update live, without reloading. Then an admin creates an API token on a phone.
func TestBrowserJourney(t *testing.T) {
	path := chromiumPath(t)
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			st := sqltest.Open(t, dialect)
			e := newConsoleEnv(t, st)
			browserJourney(t, path, e, st)
		})
	}
}

func browserJourney(t *testing.T, path string, e *consoleEnv, st *sqlstore.Store) {
	browsers := newChromium(t, path, 2, "Asia/Kolkata")
	alice, bob := browsers[0], browsers[1]

	// Logged out, the console sends alice to the login page; a wrong password is refused.
	ui(t, alice, "wrong password",
		chromedp.Navigate(e.url+"/incidents/new"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "not my password"),
		chromedp.Click(chromedp.CSS(".login-card button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("login-error")),
		chromedp.SendKeys(chromedp.ID("password"), consolePassword),
		chromedp.Click(chromedp.CSS(".login-card button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("title")), // back on the declare form she asked for
	)

	// Declare a SEV1 affecting the API.
	ui(t, alice, "declare",
		chromedp.SendKeys(chromedp.ID("title"), "Payments API returns 503"),
		chromedp.Click(chromedp.CSS("input[name=severity][value=SEV1]")),
		chromedp.SendKeys(chromedp.ID("summary"), "All card payments fail at checkout."),
		chromedp.Click(chromedp.CSS("input[name=services][value=api]")),
		chromedp.Click(chromedp.CSS("form.declare button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("incident-header")),
	)
	loc := evalJS[string](t, alice, `location.pathname`)
	if loc != "/incidents/INC-1" {
		t.Fatalf("after declaring, at %s", loc)
	}
	if got := evalJS[string](t, alice, `document.querySelector("#incident-header .sev").textContent`); got != "SEV1" {
		t.Fatalf("severity badge %q", got)
	}
	incURL := e.url + loc

	// Bob opens the same incident in a second browser (own profile, own cookies).
	uiLogin(t, bob, e.url, "bob")
	ui(t, bob, "open the incident", chromedp.Navigate(incURL), chromedp.WaitVisible(chromedp.ID("timeline-list")))
	eventually(t, bob, "bob's live stream connects",
		`document.getElementById("live-status").dataset.state === "on"`, 5*time.Second)
	ui(t, bob, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`))

	// Alice hands command to bob.
	ui(t, alice, "assign the commander",
		chromedp.SendKeys(chromedp.ID("user-commander"), "bob"),
		chromedp.Click(chromedp.CSS("#role-commander form button:not([name])")),
	)
	eventually(t, alice, "commander shown", `document.querySelector("#role-commander .role-holder").textContent.includes("bob")`,
		5*time.Second)
	eventually(t, bob, "bob sees himself as commander without reloading",
		`window.__notReloaded && document.querySelector("#incident-header .inc-facts dd").textContent.includes("bob")`,
		5*time.Second)

	// Alice adds a note; bob sees it arrive.
	note := "Rolled back deploy 4512; error rate falling"
	ui(t, alice, "add a note",
		chromedp.WaitVisible(chromedp.ID("note-message")),
		chromedp.SendKeys(chromedp.ID("note-message"), note),
		chromedp.Click(chromedp.CSS("#note-form button[type=submit]")),
	)
	sent := time.Now()
	eventually(t, alice, "the note is on alice's timeline",
		`document.getElementById("timeline-list").textContent.includes(`+jsString(note)+`)`, 5*time.Second)
	eventually(t, bob, "the note arrives live in bob's browser",
		`window.__notReloaded && document.getElementById("timeline-list").textContent.includes(`+jsString(note)+`)`,
		5*time.Second)
	t.Logf("%s: the note reached the second browser %v after alice submitted it", st.Dialect(), time.Since(sent).Round(time.Millisecond))

	// Bob starts typing a status note; alice moves the incident to mitigating meanwhile. Bob's typing is not
	// wiped out by the refresh: a banner offers the change instead.
	ui(t, bob, "bob types in the header", chromedp.SendKeys(chromedp.ID("status-message"), "checking the graphs"))
	moveTo := func(value, label string) {
		t.Helper()
		ui(t, alice, "move to "+value,
			chromedp.WaitVisible(chromedp.CSS(`.status-form button[value=`+value+`]`)),
			chromedp.Click(chromedp.CSS(`.status-form button[value=`+value+`]`)),
		)
		eventually(t, alice, "status "+label,
			`document.querySelector("#incident-header .status").textContent.trim() === `+jsString(label), 5*time.Second)
	}
	moveTo("mitigating", "Mitigating")
	eventually(t, bob, "bob is told the incident changed, his typing kept",
		`!document.getElementById("live-banner").hidden && document.getElementById("status-message").value === "checking the graphs"`,
		5*time.Second)
	ui(t, bob, "bob shows the changes", chromedp.Click(chromedp.CSS("[data-apply-refresh]")))
	eventually(t, bob, "bob's header shows mitigating",
		`window.__notReloaded && document.querySelector("#incident-header .status").textContent.trim() === "Mitigating" && document.getElementById("live-banner").hidden`,
		5*time.Second)
	moveTo("resolved", "Resolved")
	eventually(t, bob, "bob's header shows resolved without reloading",
		`window.__notReloaded && document.querySelector("#incident-header .status").textContent.trim() === "Resolved"`,
		5*time.Second)
	eventually(t, bob, "bob's timeline has the status changes",
		`document.querySelectorAll("#timeline-list .tl-status_changed").length === 2`, 5*time.Second)

	inc, err := st.GetIncident(context.Background(), "INC-1")
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != firebreak.StatusResolved || inc.Roles[firebreak.RoleCommander] != "bob" ||
		inc.Severity != firebreak.SEV1 || inc.Milestones.ResolvedAt == nil {
		t.Fatalf("stored incident after the journey: %+v", inc)
	}

	// Alice corrects when the impact started. The form shows and takes her local time (UTC+05:30); the store
	// gets UTC; bob sees the milestone appear without reloading.
	ist := time.FixedZone("IST", 5*3600+30*60)
	detected := inc.Milestones.DetectedAt.UTC()
	impact := detected.Truncate(time.Minute).Add(-25 * time.Minute)
	ui(t, alice, "open the milestones form",
		chromedp.Click(chromedp.CSS("#milestones .ms-edit > summary")),
		chromedp.WaitVisible(chromedp.ID("msf-in-impact_started_at")))
	if got, want := evalJS[string](t, alice, `document.getElementById("msf-in-detected_at").value`),
		detected.In(ist).Format("2006-01-02T15:04"); got != want {
		t.Fatalf("detected shown as %q in alice's time, want %q", got, want)
	}
	if hint := evalJS[string](t, alice, `document.querySelector("#milestones [data-tz-hint]").textContent`); !strings.Contains(hint, "UTC+05:30") {
		t.Fatalf("time zone hint %q", hint)
	}
	ui(t, alice, "correct impact started",
		chromedp.SetValue(chromedp.ID("msf-in-impact_started_at"), impact.In(ist).Format("2006-01-02T15:04")),
		chromedp.SendKeys(chromedp.ID("ms-reason"), "errors began with the deploy"),
		chromedp.Click(chromedp.CSS(".ms-form button[type=submit]")))
	eventually(t, alice, "the correction is on alice's timeline",
		`!!document.querySelector("#timeline-list .tl-milestone_changed") && location.hash === "#milestones"`, 5*time.Second)
	eventually(t, bob, "bob sees impact started without reloading",
		`window.__notReloaded && Array.from(document.querySelectorAll("#milestones .ms-done .ms-label")).some(e => e.textContent === "Impact started")`,
		5*time.Second)
	if inc, err = st.GetIncident(context.Background(), "INC-1"); err != nil || inc.Milestones.ImpactStartedAt == nil ||
		!inc.Milestones.ImpactStartedAt.Equal(impact) {
		t.Fatalf("stored impact start %v, want %v (%v)", inc.Milestones.ImpactStartedAt, impact, err)
	}

	// The rest is layout and forms, the same on every database: once is enough.
	if st.Dialect() != "sqlite" {
		return
	}

	// On a phone-sized screen the pages fit without horizontal scrolling (bob's browser turns into a phone).
	fits := func(ctx context.Context, p string) {
		t.Helper()
		ui(t, ctx, "open "+p+" on a phone", chromedp.Navigate(e.url+p), chromedp.WaitReady(chromedp.CSS("main")))
		phoneFits(t, ctx, p)
	}
	phone := bob
	ui(t, phone, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, p := range []string{loc, "/incidents?open=", "/incidents/new", "/services", "/services/api",
		"/account/tokens", "/no/such/page"} {
		fits(phone, p)
	}
	ui(t, phone, "open both incident forms", chromedp.Navigate(incURL), chromedp.WaitReady(chromedp.CSS("main")),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`))
	phoneFits(t, phone, loc+" with its forms open")
	ui(t, phone, "open the incident on a phone", chromedp.Navigate(incURL))
	shot, err := chromedp.Run(phone, chromedp.FullScreenshot(100))
	if err != nil || len(shot) < 1000 {
		t.Fatalf("phone screenshot: %d bytes, %v", len(shot), err)
	}
	if dir := os.Getenv(envScreenshots); dir != "" {
		saveScreenshots(t, dir, e, st, alice, phone, incURL, shot)
	}

	// Alice hands her phone to ada, an admin, who creates an API token for bob: the secret shows once, and
	// works.
	admin := alice
	ui(t, admin, "alice signs out", chromedp.Click(chromedp.CSS("form[action='/logout'] button")),
		chromedp.WaitVisible(chromedp.ID("username")))
	uiLogin(t, admin, e.url, "ada")
	ui(t, admin, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	fits(admin, "/admin/users")
	ui(t, admin, "create a token",
		chromedp.Navigate(e.url+"/admin/tokens"),
		chromedp.SetValue(chromedp.ID("tok-user"), "bob"),
		chromedp.SendKeys(chromedp.ID("tok-name"), "pager-bridge"),
		chromedp.Click(chromedp.CSS(".token-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("new-token-secret")))
	phoneFits(t, admin, "/admin/tokens with a new token")
	secret := evalJS[string](t, admin, `document.getElementById("new-token-secret").textContent.trim()`)
	if a, err := st.AuthenticateToken(context.Background(), secret); err != nil || a.Username != "bob" {
		t.Fatalf("the token shown authenticates %+v, %v", a, err)
	}
	if !evalJS[bool](t, admin, `!document.querySelector("button[data-copy]").hidden`) {
		t.Fatal("the copy button stays hidden")
	}
	ui(t, admin, "reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS(".token-table")))
	if evalJS[bool](t, admin, `!!document.getElementById("new-token") || document.body.textContent.includes(`+jsString(secret)+`)`) {
		t.Fatal("the secret shows again after a reload")
	}
}

// phoneFits fails the test when the page in ctx is wider than a 390 px phone screen.
func phoneFits(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	// A page too wide for the phone makes its browser zoom out, which widens innerWidth too: compare with the
	// device width as well.
	w := evalJS[[]int](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if w[0] > w[1] || w[1] > 390 {
		wide := evalJS[string](t, ctx, `Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > 391).slice(0, 5).map(e => e.tagName + "." + e.className).join(", ")`)
		t.Errorf("%s overflows a 390 px screen: scrollWidth %d, innerWidth %d (too wide: %s)", what, w[0], w[1], wide)
	}
}

// saveScreenshots writes the main pages, desktop and phone, to dir for a person to look at. It adds some
// history first so the pages look like a team's real console.
func saveScreenshots(t *testing.T, dir string, e *consoleEnv, st *sqlstore.Store, desktop, phone context.Context,
	incURL string, phoneIncident []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seedHistory(t, st)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("phone-incident-resolved.png", phoneIncident)
	pages := map[string]string{
		"incidents":  "/incidents?open=",
		"open":       "/incidents",
		"incident":   "/incidents/INC-2",
		"resolved":   strings.TrimPrefix(incURL, e.url),
		"declare":    "/incidents/new",
		"services":   "/services",
		"service":    "/services/api",
		"declare422": "",
	}
	for name, p := range pages {
		for _, dev := range []struct {
			name string
			ctx  context.Context
		}{{"desktop", desktop}, {"phone", phone}} {
			if name == "declare422" {
				ui(t, dev.ctx, "declare without a title", chromedp.Navigate(e.url+"/incidents/new"),
					chromedp.SendKeys(chromedp.ID("summary"), "Typed but no title"),
					chromedp.Click(chromedp.CSS("form.declare button[type=submit]")),
					chromedp.WaitVisible(chromedp.ID("title-error")))
			} else {
				ui(t, dev.ctx, "open "+p, chromedp.Navigate(e.url+p), chromedp.Sleep(300*time.Millisecond))
			}
			shot, err := chromedp.Run(dev.ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			write(dev.name+"-"+name+".png", shot)
		}
	}
	login := newChromium(t, chromiumPath(t), 1)[0]
	ui(t, login, "open the login page", chromedp.Navigate(e.url+"/login"))
	shot, err := chromedp.Run(login, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	write("desktop-login.png", shot)

	// A stale form: someone else moves the incident on before alice clicks.
	ui(t, desktop, "open INC-2", chromedp.Navigate(e.url+"/incidents/INC-2"))
	if _, err := st.ChangeStatus(as("bob", firebreak.RoleResponder), "INC-2", firebreak.StatusMitigating, "", 0); err != nil {
		t.Fatal(err)
	}
	ui(t, desktop, "submit a stale status change", chromedp.Click(chromedp.CSS(`.status-form button[value=resolved]`)),
		chromedp.WaitVisible(chromedp.ID("problem")))
	shot, err = chromedp.Run(desktop, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	write("desktop-stale.png", shot)

	// The admin's service form, with a validation error.
	uiLogin(t, login, e.url, "ada")
	ui(t, login, "bad service", chromedp.Navigate(e.url+"/services/new"),
		chromedp.SendKeys(chromedp.ID("slug"), "Bad Slug"),
		chromedp.Click(chromedp.CSS(".svc-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("form-error")))
	shot, err = chromedp.Run(login, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	write("desktop-service-form.png", shot)

	// The incident's edit forms, open: details, and a refused milestone correction (resolved before mitigated).
	for _, dev := range []struct {
		name string
		ctx  context.Context
	}{{"desktop", desktop}, {"phone", phone}} {
		ui(t, dev.ctx, "refuse a milestone", chromedp.Navigate(e.url+"/incidents/INC-2"),
			chromedp.Click(chromedp.CSS("#milestones .ms-edit > summary")),
			chromedp.Evaluate[chromedp.Void](`(() => {
				const d = new Date(document.getElementById("msf-in-detected_at").value);
				d.setHours(d.getHours() - 1);
				const p = n => String(n).padStart(2, "0");
				document.getElementById("msf-in-resolved_at").value = d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" +
					p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes());
			})()`),
			chromedp.Click(chromedp.CSS(".ms-form button[type=submit]")),
			chromedp.WaitVisible(chromedp.ID("msf-err-resolved_at")),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("details.inc-edit").open = true`),
			chromedp.Sleep(200*time.Millisecond))
		shot, err := chromedp.Run(dev.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		write(dev.name+"-incident-edit.png", shot)
	}

	// Administration, as ada: desktop, then the same browser as a phone.
	admin := login
	ui(t, admin, "bad user", chromedp.Navigate(e.url+"/admin/users"),
		chromedp.SendKeys(chromedp.ID("u-username"), "bob"),
		chromedp.SendKeys(chromedp.ID("u-password"), "short"),
		chromedp.Click(chromedp.CSS(".user-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("form-error")))
	shoot := func(ctx context.Context, name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		write(name+".png", shot)
	}
	shoot(admin, "desktop-admin-users-422")
	for _, dev := range []string{"desktop", "phone"} {
		if dev == "phone" {
			ui(t, admin, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		}
		ui(t, admin, "users", chromedp.Navigate(e.url+"/admin/users"), chromedp.WaitReady(chromedp.CSS(".user-table")))
		shoot(admin, dev+"-admin-users")
		ui(t, admin, "create a token", chromedp.Navigate(e.url+"/admin/tokens"),
			chromedp.SetValue(chromedp.ID("tok-user"), "alice"),
			chromedp.SendKeys(chromedp.ID("tok-name"), "ci-deploy-"+dev),
			chromedp.Click(chromedp.CSS(".token-form button[type=submit]")),
			chromedp.WaitVisible(chromedp.ID("new-token-secret")))
		shoot(admin, dev+"-admin-token-created")
		ui(t, admin, "tokens", chromedp.Navigate(e.url+"/admin/tokens"), chromedp.WaitReady(chromedp.CSS("main")))
		shoot(admin, dev+"-admin-tokens")
		ui(t, admin, "account", chromedp.Navigate(e.url+"/account/tokens"), chromedp.WaitReady(chromedp.CSS("main")))
		shoot(admin, dev+"-account")
		ui(t, admin, "404", chromedp.Navigate(e.url+"/incidents/INC-2/nope"), chromedp.WaitReady(chromedp.CSS("main")))
		shoot(admin, dev+"-404")
	}
	t.Logf("screenshots in %s", dir)
}

func seedHistory(t *testing.T, st *sqlstore.Store) {
	ctx := as("alice", firebreak.RoleResponder)
	bg := context.Background()
	hour := time.Now().Add(-3 * time.Hour)
	inc, err := st.DeclareIncident(ctx, firebreak.DeclareInput{Title: "Elevated latency on the public API",
		Summary:  "p99 latency above 2 s for EU customers since 09:40. Cause unknown.",
		Severity: firebreak.SEV2, Services: []string{"api", "db"}, ImpactStartedAt: &hour,
		Roles: map[firebreak.Role]string{firebreak.RoleCommander: "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error {
			_, err := st.ChangeStatus(ctx, inc.ID, firebreak.StatusInvestigating, "looking at the DB", 0)
			return err
		},
		func() error {
			_, err := st.AssignRole(ctx, inc.ID, firebreak.RoleTechLead, "bob", 0)
			return err
		},
		func() error {
			at := time.Now().Add(-150 * time.Minute)
			_, err := st.AddTimelineEvent(ctx, inc.ID, firebreak.TimelineInput{Message: "Deploy 4511 of the API went out (backdated from the deploy log)", OccurredAt: &at, Starred: true})
			return err
		},
		func() error {
			_, err := st.AddTimelineEvent(ctx, inc.ID, firebreak.TimelineInput{Message: "Connection pool on db-primary is at 100%.\nReplica lag 40 s."})
			return err
		},
		func() error {
			_, err := st.PostUpdate(ctx, inc.ID, firebreak.UpdateInput{Message: "Some EU customers see slow API responses. We are investigating; next update in 30 minutes.", Audience: firebreak.AudienceAll})
			return err
		},
		func() error {
			_, err := st.ChangeStatus(ctx, inc.ID, firebreak.StatusIdentified, "pool exhaustion from a slow query", 0)
			return err
		},
		func() error {
			_, err := st.AddActionItem(ctx, inc.ID, firebreak.ActionItemInput{Title: "Alert on connection pool saturation above 80%", Owner: "bob", DueDate: time.Now().AddDate(0, 0, 14).Format(time.DateOnly), Priority: firebreak.PriorityHigh, Kind: firebreak.KindDetect})
			return err
		},
		func() error {
			_, err := st.AddActionItem(ctx, inc.ID, firebreak.ActionItemInput{Title: "Add an index for the orders-by-customer query", Owner: "alice", Kind: firebreak.KindPrevent})
			return err
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range []firebreak.DeclareInput{
		{Title: "Search results are stale", Severity: firebreak.SEV3, Services: []string{"web"}},
		{Title: "Login page 500s for SSO users", Severity: firebreak.SEV2, Services: []string{"web", "api"}},
		{Title: "Nightly export job failed", Severity: firebreak.SEV3, Services: []string{"db"}},
	} {
		x, err := st.DeclareIncident(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			if _, err := st.ChangeStatus(ctx, x.ID, firebreak.StatusResolved, "", 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = bg
}
