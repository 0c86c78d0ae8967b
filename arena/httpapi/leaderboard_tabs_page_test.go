package httpapi

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
)

// screens are the desktop and phone screens, for the tests of
// package web (package web_test has its own, viewports).
var screens = []struct {
	name          string
	width, height int64
}{{"desktop", 1366, 900}, {"phone", 390, 844}}

// Keys as chromedp/kb spells them (the runes it maps to key events).
const (
	keyArrowRight = "\u0303"
	keyEnd        = "\u0305"
)

// TestLeaderboardTabsPage drives the category and language tabs by
// keyboard at both widths: an arrow shows the coding board (the cut the
// API serves), a model's detail draws its votes per day in that tab, End
// reaches a language with no votes, which says so; axe-core finds nothing
// in either colour scheme.
func TestLeaderboardTabsPage(t *testing.T) {
	live, _ := newLive(t)
	base := newLeaderboardServer(t, live)
	for _, vp := range screens {
		ctx := browsertest.New(t)
		problems := browsertest.Problems(t, ctx)
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(vp.width, vp.height),
			chromedp.Navigate(base+"/leaderboard"),
			chromedp.WaitVisible(chromedp.CSS("#board tbody tr")),
			chromedp.Poll[chromedp.Void](`current && current.battles === 4000`),
			chromedp.Focus(chromedp.ID("cut-all")),
			chromedp.KeyEvent(keyArrowRight),
			chromedp.Poll[chromedp.Void](`current.battles === 1000 && document.activeElement.id === "cut-coding" &&
				document.getElementById("cut-coding").getAttribute("aria-selected") === "true" &&
				document.getElementById("cut-all").tabIndex === -1`),
			chromedp.Click(chromedp.CSS("#board tbody tr button.model")),
			chromedp.WaitVisible(chromedp.CSS("#daily rect.bar")),
		)
		if err != nil {
			t.Fatalf("%s: %v", vp.name, err)
		}
		label := browsertest.Run(t, ctx, chromedp.Evaluate[string](`document.getElementById("daily").getAttribute("aria-label")`))
		if !strings.HasPrefix(label, "Votes per day over 30 days:") {
			t.Errorf("%s: the daily chart is labelled %q", vp.name, label)
		}
		note := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("cut-note")))
		if !strings.Contains(note, "simple rule") {
			t.Errorf("%s: the coding tab's note reads %q", vp.name, note)
		}
		wide := browsertest.Run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		if wide {
			t.Errorf("%s: the page is wider than the screen", vp.name)
		}
		for _, scheme := range []string{"light", "dark"} {
			browsertest.ColorScheme(t, ctx, scheme)
			for _, v := range browsertest.Axe(t, ctx) {
				t.Errorf("leaderboard tabs %s %s: %s", vp.name, scheme, v)
			}
		}
		browsertest.ColorScheme(t, ctx, "light")
		png := browsertest.Run(t, ctx, chromedp.FullScreenshot(100))
		browsertest.SaveScreenshot(t, "leaderboard-coding-"+vp.name+".png", png)
		err = chromedp.Do(ctx,
			chromedp.Focus(chromedp.ID("cut-coding")),
			chromedp.KeyEvent(keyEnd),
			chromedp.Poll[chromedp.Void](`document.activeElement.id === "cut-pt" && current.battles === 0 &&
				document.getElementById("status").textContent === "No votes in this tab yet."`),
		)
		if err != nil {
			t.Errorf("%s: End: %v", vp.name, err)
		}
		if p := problems(); len(p) > 0 {
			t.Errorf("%s: problems in the page: %q", vp.name, p)
		}
	}
}
