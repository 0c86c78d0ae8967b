package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
	"github.com/agora-rlhf/agora/rlhf"
)

// newFlatLive is a live leaderboard where every model always answers in
// one style of its own, as the demo models do: style cannot be told apart
// from the model, so style control cannot be fitted.
func newFlatLive(t *testing.T) *analytics.Live {
	t.Helper()
	s, err := analytics.NewSynth(analytics.SynthConfig{Models: 4, Battles: 600, Seed: 5, TieRate: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	var recs []rlhf.Record
	s.Generate(func(b *analytics.Battle) error {
		id := fmt.Sprint("f", len(recs))
		answer := func(model string) rlhf.Answer {
			n := 1 + slices.Index(s.Models, model)
			return rlhf.Answer{Content: strings.Repeat("# h\n- item\n", n%3) + strings.Repeat("word ", 5*n), Tokens: 5 * n}
		}
		recs = append(recs, rlhf.Record{
			Battle: rlhf.Battle{ID: id, ModelA: b.ModelA, ModelB: b.ModelB, Source: rlhf.SourceArena,
				Turns: []rlhf.Turn{{Prompt: "q", A: answer(b.ModelA), B: answer(b.ModelB)}}},
			Vote: rlhf.Vote{ID: "v" + id, BattleID: id, ContributorID: "u", Winner: b.Winner, CreatedAt: b.Time},
		})
		return nil
	})
	live, err := analytics.NewLive(context.Background(), recordSource(recs))
	if err != nil {
		t.Fatal(err)
	}
	return live
}

// TestLeaderboardStyleUnfittable asks for style control where it cannot
// be fitted (as on the demo arena): the API says so (400, never a 500),
// and the page turns its switch off and says why.
func TestLeaderboardStyleUnfittable(t *testing.T) {
	base := newLeaderboardServer(t, newFlatLive(t))
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code := getJSONAs(t, "", base+"/api/v1/leaderboard?style=true", &body); code != http.StatusBadRequest || body.Error.Code != rlhf.EInvalid {
		t.Fatalf("style=true on unfittable votes: status %d %+v, want 400 invalid", code, body.Error)
	}
	for _, vp := range screens {
		ctx := browsertest.New(t)
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(vp.width, vp.height),
			chromedp.Navigate(base+"/leaderboard"),
			chromedp.WaitVisible(chromedp.CSS("#board tbody tr")),
			chromedp.WaitVisible(chromedp.ID("style-reason")),
		)
		if err != nil {
			t.Fatal(err)
		}
		disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("style").disabled`))
		if err != nil || !disabled {
			t.Errorf("%s: the style switch is not disabled (%v)", vp.name, err)
		}
		reason, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("style-reason")))
		if !strings.Contains(reason, "cannot be told apart") {
			t.Errorf("%s: the reason reads %q", vp.name, reason)
		}
		wide, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
		if wide {
			t.Errorf("%s: the leaderboard is wider than the screen", vp.name)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		browsertest.SaveScreenshot(t, "leaderboard-unfittable-"+vp.name+".png", png)
	}
}

// TestLeaderboardPageAccessible runs axe-core on the leaderboard page,
// with a model's detail open, and on the 404 page, at both widths in both
// colour schemes. It wants no violation.
func TestLeaderboardPageAccessible(t *testing.T) {
	live, _ := newLive(t)
	base := newLeaderboardServer(t, live)
	for _, vp := range screens {
		ctx := browsertest.New(t)
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(vp.width, vp.height),
			chromedp.Navigate(base+"/leaderboard"),
			chromedp.WaitVisible(chromedp.CSS("#board tbody tr")),
			chromedp.Click(chromedp.CSS("#board tbody tr button.model")),
			chromedp.WaitVisible(chromedp.CSS("#detail tbody tr")),
		)
		if err != nil {
			t.Fatal(err)
		}
		for _, scheme := range []string{"light", "dark"} {
			browsertest.ColorScheme(t, ctx, scheme)
			for _, v := range browsertest.Axe(t, ctx) {
				t.Errorf("leaderboard %s %s: %s", vp.name, scheme, v)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			browsertest.SaveScreenshot(t, "leaderboard-"+vp.name+"-"+scheme+".png", png)
		}
	}
}
