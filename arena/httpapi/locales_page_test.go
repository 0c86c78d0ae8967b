package httpapi

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
)

// TestPagePluralForms checks, in Chromium, that each locale's plural forms
// are the ones Intl.PluralRules picks from (so TestLocalesComplete wants
// the right ones), and that counts read as the language has them.
func TestPagePluralForms(t *testing.T) {
	live, _ := newLive(t)
	base := newLeaderboardServer(t, live)
	ctx := browsertest.New(t)
	want := map[string]map[int]string{
		"en": {0: "0 votes", 1: "1 vote", 2: "2 votes"},
		"es": {1: "1 voto", 5: "5 votos"},
		"ar": {1: "صوت واحد", 2: "صوتان", 3: "3 أصوات", 11: "11 صوتًا", 100: "100 صوت"},
	}
	for lang, counts := range want {
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/leaderboard?lang="+lang), chromedp.WaitVisible(chromedp.CSS("#board tbody tr"))); err != nil {
			t.Fatal(err)
		}
		forms := browsertest.Run(t, ctx, chromedp.Evaluate[[]string](fmt.Sprintf(`new Intl.PluralRules(%q).resolvedOptions().pluralCategories`, lang)))
		slices.Sort(forms)
		if w := slices.Sorted(slices.Values(pluralForms[lang])); !slices.Equal(forms, w) {
			t.Errorf("%s: Chromium's plural forms %v, the locales test wants %v", lang, forms, w)
		}
		for n, text := range counts {
			got := browsertest.Run(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`AgoraI18n.ready.then(() => AgoraI18n.plural("count.votes", %d))`, n), chromedp.EvalAwaitPromise))
			if strings.TrimSpace(got) != text {
				t.Errorf("%s: %d votes read %q, want %q", lang, n, got, text)
			}
		}
	}
}
