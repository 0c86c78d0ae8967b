package httpapi_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
	"github.com/agora-rlhf/agora/rlhf"
)

// maxPageWeight is the bound on the arena page's weight over the
// wire, vendored libraries included, with a battle's lazy loads.
const maxPageWeight = 300 << 10

// newPagesSetup serves the arena (demo Markdown answers) and a leaderboard
// of synthetic votes among eight models.
func newPagesSetup(t *testing.T) *setup {
	t.Helper()
	synth, err := analytics.NewSynth(analytics.SynthConfig{Models: 8, Battles: 2000, Seed: 11, TieRate: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	var recs memRecords
	synth.Generate(func(b *analytics.Battle) error {
		id := fmt.Sprint("b", len(recs))
		recs = append(recs, rlhf.Record{
			Battle: rlhf.Battle{ID: id, ModelA: b.ModelA, ModelB: b.ModelB, Source: rlhf.SourceArena,
				Turns: []rlhf.Turn{{Prompt: "q", A: rlhf.Answer{Content: "a", Tokens: 5}, B: rlhf.Answer{Content: "b", Tokens: 5}}}},
			Vote: rlhf.Vote{ID: "v" + id, BattleID: id, ContributorID: fmt.Sprint("u", len(recs)%7), Winner: b.Winner, CreatedAt: b.Time},
		})
		return nil
	})
	live, err := analytics.NewLive(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	return newSetup(t, options{tokens: demo.Tokens(demo.Markdown("good")), leaderboards: live})
}

// TestPageWeight loads the arena page in Chromium and runs a battle whose
// answer needs every lazy library (highlight.js, KaTeX and its fonts),
// summing the bytes each response took on the wire: at most maxPageWeight,
// with the server's compression.
func TestPageWeight(t *testing.T) {
	s := newPagesSetup(t)
	ctx := browsertest.New(t)
	var mu sync.Mutex
	sizes := map[string]float64{}
	urls := map[network.RequestID]string{}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventResponseReceived:
			urls[ev.RequestID] = ev.Response.URL
		case *network.EventLoadingFinished:
			sizes[urls[ev.RequestID]] += ev.EncodedDataLength
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx, chromedp.EmulateViewport(1366, 900),
		chromedp.Navigate(s.http.URL+"/"),
		chromedp.WaitEnabled(chromedp.ID("send")))
	if err != nil {
		t.Fatal(err)
	}
	startBattle(t, ctx, "Show me some Markdown")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#answer-a .katex")), chromedp.WaitVisible(chromedp.CSS("#answer-a code.hljs"))); err != nil {
		t.Fatal(err)
	}
	// Fonts load once laid out; wait until the document has no pending load.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[browsertest.Void](`document.fonts.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var total float64
	var lines []string
	for u, n := range sizes {
		total += n
		lines = append(lines, fmt.Sprintf("%8.0f %s", n, strings.TrimPrefix(u, s.http.URL)))
	}
	sort.Strings(lines)
	t.Logf("arena page with a Markdown battle: %.0f bytes on the wire in %d responses:\n%s", total, len(sizes), strings.Join(lines, "\n"))
	if !strings.Contains(strings.Join(lines, "\n"), "katex") {
		t.Errorf("KaTeX was not loaded: the battle did not need every library")
	}
	if total > maxPageWeight {
		t.Errorf("the arena page weighs %.0f bytes on the wire, more than %d", total, maxPageWeight)
	}
}
