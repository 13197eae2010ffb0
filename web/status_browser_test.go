package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/firebreak/firebreak"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
	"github.com/firebreak/firebreak/web"
)

// TestBrowserStatusPage: a responder posts an internal and an external update from the incident page; a member of
// the public, not signed in, on a phone, sees the external update on /status (mitigating shown as Monitoring) and
// never the internal ones, also after the page is rebuilt.
func TestBrowserStatusPage(t *testing.T) {
	path := chromiumPath(t)
	for _, dialect := range sqltest.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			st := sqltest.Open(t, dialect)
			clk := &statusClock{t: time.Now()}
			e := newConsoleEnvWith(t, st, func(c *web.Config) { c.Now = clk.Now })
			ctx := context.Background()
			if _, err := st.SetStatusPageConfig(ctx, firebreak.StatusPageInput{Name: "Acme status",
				Components: []firebreak.StatusComponentInput{{Service: "api", Name: "Payments API"},
					{Service: "web", Group: "Websites"}}}, 0); err != nil {
				t.Fatal(err)
			}
			inc, err := st.DeclareIncident(as("alice", firebreak.RoleResponder), firebreak.DeclareInput{
				Title: "Card payments <b>failing</b>", Severity: firebreak.SEV2, Services: []string{"api"},
				Summary: "Deploy 4512 broke the card processor client"})
			if err != nil {
				t.Fatal(err)
			}

			browsers := newChromium(t, path, 2)
			alice, public := browsers[0], browsers[1]
			uiLogin(t, alice, e.url, "alice")
			post := func(msg, audience string) {
				t.Helper()
				ui(t, alice, "post a "+audience+" update",
					chromedp.Navigate(e.url+"/incidents/"+inc.Reference),
					chromedp.WaitVisible(chromedp.ID("update-message")),
					chromedp.SendKeys(chromedp.ID("update-message"), msg),
					chromedp.Click(chromedp.CSS(`.update-form input[name=audience][value=`+audience+`]`)),
					chromedp.Click(chromedp.CSS(".update-form button[type=submit]")),
				)
				eventually(t, alice, "the update is listed",
					`document.getElementById("updates").textContent.includes(`+jsString(msg)+`)`, 5*time.Second)
			}
			const internal = "INTERNAL: rolling back deploy 4512, Bob is on it"
			const external = "Some card payments fail. We have found the cause and are rolling out a fix."
			post(internal, "internal")
			ui(t, alice, "move to mitigating",
				chromedp.WaitVisible(chromedp.CSS(`.status-form button[value=mitigating]`)),
				chromedp.Click(chromedp.CSS(`.status-form button[value=mitigating]`)),
			)
			eventually(t, alice, "mitigating", `document.querySelector("#incident-header .status").textContent.trim() === "Mitigating"`,
				5*time.Second)
			post(external, "external")

			// The public: no login, a phone.
			ui(t, public, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
			ui(t, public, "open the status page", chromedp.Navigate(e.url+"/status"), chromedp.WaitVisible(chromedp.CSS(".sp-inc")))
			if loc := evalJS[string](t, public, `location.pathname`); loc != "/status" {
				t.Fatalf("the public was sent to %s", loc)
			}
			text := `document.body.innerText`
			eventually(t, public, "the external update, as Monitoring, the component in partial outage",
				text+`.includes(`+jsString(external)+`) && document.querySelector(".sp-inc .sp-pill").textContent === "Monitoring"`+
					` && document.querySelector(".sp-comp[data-state=partial_outage] .sp-comp-name").textContent.includes("Payments API")`+
					` && document.querySelector(".sp-inc .sp-card-title").textContent === "Card payments <b>failing</b>"`,
				5*time.Second)
			never := func() {
				t.Helper()
				for _, s := range []string{"INTERNAL", "Deploy 4512", "alice", "Bob"} {
					if evalJS[bool](t, public, text+`.includes(`+jsString(s)+`)`) {
						t.Fatalf("the status page shows %q", s)
					}
				}
				if evalJS[int](t, public, `document.querySelectorAll("script").length`) != 0 {
					t.Fatal("the status page carries a script")
				}
				if w := evalJS[int](t, public, `document.documentElement.scrollWidth`); w > 390 {
					t.Fatalf("the page is %dpx wide on a 390px phone", w)
				}
				if fs := evalJS[float64](t, public, `parseFloat(getComputedStyle(document.querySelector(".sp-body")).fontSize)`); fs < 14 {
					t.Fatalf("update text is %vpx on a phone", fs)
				}
			}
			never()

			// Another internal update; once the page is rebuilt it still shows only the external one.
			post("INTERNAL: second private thought", "internal")
			clk.Advance(6 * time.Second)
			ui(t, public, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(".sp-inc")))
			eventually(t, public, "still the external update", text+`.includes(`+jsString(external)+`)`, 5*time.Second)
			never()
			if n := evalJS[int](t, public, `document.querySelectorAll(".sp-update").length`); n != 1 {
				t.Fatalf("%d updates shown, want the one external update", n)
			}
			if dir := os.Getenv(envScreenshots); dir != "" {
				shot, err := chromedp.Run(public, chromedp.FullScreenshot(100))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "phone-status-"+dialect+".png"), shot, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
