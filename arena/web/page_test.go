package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/demo"
	"github.com/agora-rlhf/agora/arena/web/browsertest"
)

// viewport is one screen the page's tests run at.
type viewport struct {
	name          string
	width, height int64
}

// viewports are the desktop and phone screens.
var viewports = []viewport{{"desktop", 1366, 900}, {"phone", 390, 844}}

// openArena opens the arena page of s in Chromium at vp and waits until it
// is connected.
func openArena(t *testing.T, s *setup, vp viewport) context.Context {
	t.Helper()
	ctx := browsertest.New(t)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(vp.width, vp.height),
		chromedp.Navigate(s.http.URL+"/"),
		chromedp.WaitEnabled(chromedp.ID("send")),
	)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// startBattle sends prompt from the page and waits until it may be voted.
func startBattle(t *testing.T, ctx context.Context, prompt string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("prompt"), prompt),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitEnabled(chromedp.ID("vote-a")),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// TestPageRendersMarkdown streams the demo models' Markdown-rich answer
// into both panes: headers, lists, a table, a highlighted code block with
// a copy button and typeset math appear as such, at both screen sizes.
func TestPageRendersMarkdown(t *testing.T) {
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			answer := demo.Markdown("good")
			s := newSetup(t, options{tokens: demo.Tokens(answer), delay: 3 * time.Millisecond})
			ctx := openArena(t, s, vp)
			startBattle(t, ctx, "Show me some Markdown")
			err := chromedp.Do(ctx,
				chromedp.WaitVisible(chromedp.CSS("#answer-a pre code.hljs")),
				chromedp.WaitVisible(chromedp.CSS("#answer-a .katex")),
			)
			if err != nil {
				t.Fatal(err)
			}
			counts := browsertest.Run(t, ctx, chromedp.Evaluate[map[string]int](`(() => {
				const n = (sel) => document.querySelectorAll(sel).length;
				return {h2: n("#answer-a .md h2"), h3: n("#answer-a .md h3"), ol: n("#answer-a .md ol > li"),
					ul: n("#answer-a .md ul > li"), td: n("#answer-a .md table td"), pre: n("#answer-a .md pre"),
					copy: n("#answer-a .md pre button.copy"), keyword: n("#answer-a .md pre .hljs-keyword"),
					inlineMath: n("#answer-a .md p .katex"), displayMath: n("#answer-a .md .katex-display"),
					strong: n("#answer-a .md strong"), panesB: n("#answer-b .md table")};
			})()`))
			want := map[string]int{"h2": 1, "h3": 1, "ol": 3, "ul": 2, "td": 6, "pre": 1, "copy": 1,
				"inlineMath": 1, "displayMath": 1, "strong": 1, "panesB": 1}
			for k, w := range want {
				if counts[k] != w {
					t.Errorf("%s: %d elements, want %d (all: %v)", k, counts[k], w, counts)
				}
			}
			if counts["keyword"] == 0 {
				t.Errorf("the Go code block has no highlighted keyword (all: %v)", counts)
			}
			if raw := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("answer-a"))); strings.Contains(raw, "## ") || strings.Contains(raw, "```") {
				t.Errorf("pane A still shows Markdown syntax: %q", raw)
			}
			browsertest.SaveScreenshot(t, "markdown-"+vp.name+".png", browsertest.Run(t, ctx, chromedp.FullScreenshot(100)))
			reportFirstToken(t, ctx, len(answer))
		})
	}
}

// reportFirstToken logs how long each side's first token took from its
// frame's arrival to the screen (the page measures it as
// "agora:first-token"), against the budget of 50 ms. The figure
// is logged rather than asserted: it depends on the machine's load.
//
// What is asserted is that rendering is incremental: the first token was
// drawn while the answer was still streaming, not at its end.
func reportFirstToken(t *testing.T, ctx context.Context, fullChars int) {
	t.Helper()
	type shown struct{ Ms, Chars float64 }
	firsts := browsertest.Run(t, ctx, chromedp.Evaluate[[]shown](
		`performance.getEntriesByName("agora:first-token").map((e) => ({ms: e.duration, chars: e.detail.chars}))`))
	if len(firsts) != 2 {
		t.Fatalf("the page measured %d first tokens, want 2 (one per side)", len(firsts))
	}
	var ms []float64
	for _, f := range firsts {
		ms = append(ms, f.Ms)
		if int(f.Chars) >= fullChars/2 {
			t.Errorf("the first draw showed %v of %d characters: the answer was not drawn as it streamed", f.Chars, fullChars)
		}
	}
	sort.Float64s(ms)
	t.Logf("first token frame → screen: %.1f ms and %.1f ms (budget 50 ms)", ms[0], ms[1])
}

// hostile is a model answer that tries every way to run script or load
// remote content; REMOTE is replaced by another origin's URL.
const hostile = `<script>window.pwned = "script"</script>
<img src="REMOTE/img.png" onerror="window.pwned = 'onerror'">
<svg onload="window.pwned = 'svg'"><image href="REMOTE/svg.png"/></svg>
<iframe src="REMOTE/frame"></iframe>
<style>@import url("REMOTE/style.css");</style>
<a href="javascript:window.pwned='link'">raw link</a>

![tracker](REMOTE/tracker.png)

[markdown link](javascript:window.pwned='md')

<details open ontoggle="window.pwned='toggle'">x</details>

$\href{javascript:window.pwned='katex'}{math}$ and $\includegraphics{REMOTE/tex.png}$
`

// TestPageHostileAnswerIsInert streams a hostile answer: nothing runs,
// no request leaves for another origin, and the markup shows as text.
func TestPageHostileAnswerIsInert(t *testing.T) {
	var remoteHits atomic.Int32
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { remoteHits.Add(1) }))
	defer remote.Close()
	payload := strings.ReplaceAll(hostile, "REMOTE", remote.URL)
	s := newSetup(t, options{tokens: demo.Tokens(payload)})
	ctx := openArena(t, s, viewports[0])

	var mu sync.Mutex // guards requested
	var requested []string
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requested = append(requested, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	startBattle(t, ctx, "Say something nasty")
	err := chromedp.Do(ctx,
		// The math is typeset last, once KaTeX has loaded.
		chromedp.Poll[chromedp.Void](`!!window.katex && document.querySelectorAll("#answer-a .math").length === 2 &&
			document.querySelectorAll("#answer-a .math .katex, #answer-a .math .katex-error").length === 2`),
	)
	if err != nil {
		t.Fatal(err)
	}
	pwned := browsertest.Run(t, ctx, chromedp.Evaluate[string](`String(window.pwned)`))
	if pwned != "undefined" {
		t.Errorf("the answer ran script: window.pwned = %q", pwned)
	}
	bad := browsertest.Run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".answer *")].flatMap((el) =>
		[...el.attributes].filter((a) => /^on/i.test(a.name) || /^\s*javascript:/i.test(a.value) || a.name === "src" || a.name === "style" && !el.closest(".katex"))
			.map((a) => el.tagName + " " + a.name + "=" + a.value))
		.concat([...document.querySelectorAll(".answer script, .answer img, .answer iframe, .answer style, .answer svg, .answer image")].map((el) => el.tagName))`))
	if len(bad) > 0 {
		t.Errorf("the answers hold active markup: %q", bad)
	}
	text := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("answer-a")))
	if !strings.Contains(text, `<script>window.pwned = "script"</script>`) {
		t.Errorf("pane A does not show the raw HTML as text: %q", text)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range requested {
		if !strings.HasPrefix(u, s.http.URL) && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s", u)
		}
	}
	if n := remoteHits.Load(); n != 0 {
		t.Errorf("the other origin got %d requests, want 0", n)
	}
	if len(requested) == 0 {
		t.Error("no request was seen at all: the network listener does not work")
	}
	browsertest.SaveScreenshot(t, "hostile.png", browsertest.Run(t, ctx, chromedp.FullScreenshot(100)))
}
