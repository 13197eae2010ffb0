package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/firebreak/firebreak/sqlstore/sqltest"
)

func TestZZDebug(t *testing.T) {
	path := chromiumPath(t)
	st := sqltest.Open(t, "sqlite")
	e := newConsoleEnv(t, st)
	t0 := time.Now()
	alice := newChromium(t, path)
	t.Log("started", time.Since(t0))
	t.Cleanup(func() { t.Log("cleanup begins", time.Since(t0)) })
	uiLogin(t, alice, e.url, "alice")
	t.Log("logged in", time.Since(t0))
	for _, tc := range []string{"same"} {
		_ = tc
		phone := alice
		start := time.Now()
		ui(t, phone, "nav1", chromedp.Navigate(e.url+"/services"))
		t.Log("nav1", time.Since(start))
		ui(t, phone, "vp", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		t.Log("vp", time.Since(start))
		ui(t, phone, "nav2", chromedp.Navigate(e.url+"/incidents"))
		t.Log("nav2", time.Since(start))
	}
	_ = context.Background
}
