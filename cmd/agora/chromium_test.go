package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newBrowser starts headless Chromium for a test. In CI a missing browser
// is a failure; elsewhere the test is skipped, loudly.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; CI must install it (apt-get install chromium)")
		}
		t.Skip("SKIPPED: chromium is not installed (apt-get install chromium); the page is untested")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU,
		chromedp.NoSandbox,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1200, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// saveScreenshot writes png under testdata/screenshots (ignored by git) so
// a person can look at what the test saw.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestPageBattleInChromium drives the arena page in a real browser: a
// prompt streams into both panes, the vote buttons enable when both are
// done, a vote reveals the two models.
func TestPageBattleInChromium(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	ctx := newBrowser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitEnabled(chromedp.ID("send")),
		chromedp.SendKeys(chromedp.ID("prompt"), "<b>bold?</b> How should I learn Go?"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitEnabled(chromedp.ID("vote-a")),
	)
	if err != nil {
		t.Fatal(err)
	}
	answerA := browse(t, ctx, chromedp.Text(chromedp.ID("answer-a")))
	answerB := browse(t, ctx, chromedp.Text(chromedp.ID("answer-b")))
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=strength][value=clear]`)),
		chromedp.Click(chromedp.ID("vote-a")),
		chromedp.WaitVisible(chromedp.ID("reveal")),
	)
	if err != nil {
		t.Fatal(err)
	}
	reveal := browse(t, ctx, chromedp.Text(chromedp.ID("reveal-text")))
	saveScreenshot(t, "reveal.png", browse(t, ctx, chromedp.FullScreenshot(100)))
	if len(answerA) < 20 || len(answerB) < 20 {
		t.Errorf("panes hold %q and %q, want two streamed answers", answerA, answerB)
	}
	named := 0
	for _, name := range demoNames {
		if strings.Contains(reveal, name) {
			named++
		}
	}
	if named != 2 {
		t.Errorf("reveal %q names %d demo models, want 2", reveal, named)
	}

	if shown := browse(t, ctx, chromedp.Evaluate[bool](`document.getElementById("follow-form").offsetParent !== null`)); shown {
		t.Error("the follow-up box is still shown after the vote")
	}

	// The prompt is shown as text, not markup, and a keyboard shortcut
	// starts a new battle.
	if bolds := browse(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".answer b").length`)); bolds != 0 {
		t.Errorf("the page rendered %d <b> elements from text", bolds)
	}
	err = chromedp.Do(ctx, chromedp.KeyEvent("n"), chromedp.WaitNotVisible(chromedp.ID("reveal")))
	if err != nil {
		t.Fatal(err)
	}
	if prompt := browse(t, ctx, chromedp.Value(chromedp.ID("prompt"))); prompt != "" {
		t.Errorf("after N the prompt box holds %q, want it empty", prompt)
	}
}

// browse runs one browser action and returns its value, failing the test on
// error.
func browse[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPagePhoneWidth checks that the page fits a phone screen.
func TestPagePhoneWidth(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	ctx := newBrowser(t)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(375, 740),
		chromedp.Navigate(base+"/"),
		chromedp.WaitEnabled(chromedp.ID("send")),
	)
	if err != nil {
		t.Fatal(err)
	}
	scrollWidth := browse(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	innerWidth := browse(t, ctx, chromedp.Evaluate[int](`window.innerWidth`))
	saveScreenshot(t, "phone.png", browse(t, ctx, chromedp.FullScreenshot(100)))
	if scrollWidth > innerWidth {
		t.Errorf("page is %dpx wide on a %dpx screen", scrollWidth, innerWidth)
	}
}
