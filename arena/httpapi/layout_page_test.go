package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
)

// maxLayoutShift bounds what a page's content may move while it loads
// (Chromium's layout-shift scores summed; Lighthouse calls 0.1 good): the
// pages reserve the room of what their scripts and data fill in.
const maxLayoutShift = 0.01

// TestPagesHoldStill loads the arena and the leaderboard on a slowed
// phone (browsertest.SlowPhone) and at desktop width, waits until each
// has drawn what its scripts and data bring (the arena connected, the
// leaderboard's board, chart and heat map), and wants nothing on screen
// to have moved meanwhile: at most maxLayoutShift, naming what moved if
// not.
func TestPagesHoldStill(t *testing.T) {
	s := newPagesSetup(t)
	pages := []struct{ name, path, drawn string }{
		{"arena", "/", `!document.getElementById("send").disabled`},
		{"leaderboard", "/leaderboard", `current !== null && !document.getElementById("cut-panel").hidden &&
			document.querySelectorAll("#heatmap rect").length === Math.min(30, current.matrices.models.length) ** 2 &&
			document.querySelector("#chart circle") !== null`},
	}
	for _, page := range pages {
		for _, vp := range viewports {
			t.Run(page.name+"-"+vp.name, func(t *testing.T) {
				ctx := browsertest.New(t)
				browsertest.Run(t, ctx, chromedp.Navigate("about:blank"))
				browsertest.SlowPhone(t, ctx)
				err := chromedp.Do(ctx,
					chromedp.EmulateViewport(vp.width, vp.height),
					chromedp.Navigate(s.http.URL+page.path),
					chromedp.Poll[chromedp.Void](page.drawn),
					// Whatever else is on its way (an account box, a note)
					// has a second more to arrive.
					chromedp.Sleep(time.Second),
				)
				if err != nil {
					t.Fatal(err)
				}
				var total float64
				var moved []string
				for _, shift := range browsertest.LayoutShifts(t, ctx) {
					total += shift.Value
					moved = append(moved, shift.String())
				}
				t.Logf("%s %s: layout shift %.4f\n%s", page.name, vp.name, total, strings.Join(moved, "\n"))
				browsertest.SaveScreenshot(t, "loaded-"+page.name+"-"+vp.name+".png", browsertest.Run(t, ctx, chromedp.CaptureScreenshot()))
				if total > maxLayoutShift {
					t.Errorf("%s %s: the page moved while loading: layout shift %.4f > %.2f:\n%s",
						page.name, vp.name, total, maxLayoutShift, strings.Join(moved, "\n"))
				}
			})
		}
	}
}
