package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
)

// TestPageBattleInChromium drives the arena page in a real browser: a
// prompt streams into both panes, the vote buttons enable when both are
// done, a vote reveals the two models.
func TestPageBattleInChromium(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	ctx := browsertest.New(t)
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
	answerA := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("answer-a")))
	answerB := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("answer-b")))
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("vote-a")),
		chromedp.WaitVisible(chromedp.ID("reveal")),
	)
	if err != nil {
		t.Fatal(err)
	}
	reveal := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("reveal-text")))
	browsertest.SaveScreenshot(t, "reveal.png", browsertest.Run(t, ctx, chromedp.FullScreenshot(100)))
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

	if shown := browsertest.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("follow-form").offsetParent !== null`)); shown {
		t.Error("the follow-up box is still shown after the vote")
	}

	// The prompt is shown as text, not markup, and a keyboard shortcut
	// starts a new battle.
	if bolds := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".answer b").length`)); bolds != 0 {
		t.Errorf("the page rendered %d <b> elements from text", bolds)
	}
	err = chromedp.Do(ctx, chromedp.KeyEvent("n"), chromedp.WaitNotVisible(chromedp.ID("reveal")))
	if err != nil {
		t.Fatal(err)
	}
	if prompt := browsertest.Run(t, ctx, chromedp.Value(chromedp.ID("prompt"))); prompt != "" {
		t.Errorf("after N the prompt box holds %q, want it empty", prompt)
	}
}

// TestPagePhoneWidth checks that the page fits a phone screen.
func TestPagePhoneWidth(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	ctx := browsertest.New(t)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(375, 740),
		chromedp.Navigate(base+"/"),
		chromedp.WaitEnabled(chromedp.ID("send")),
	)
	if err != nil {
		t.Fatal(err)
	}
	scrollWidth := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	innerWidth := browsertest.Run(t, ctx, chromedp.Evaluate[int](`window.innerWidth`))
	browsertest.SaveScreenshot(t, "phone.png", browsertest.Run(t, ctx, chromedp.FullScreenshot(100)))
	if scrollWidth > innerWidth {
		t.Errorf("page is %dpx wide on a %dpx screen", scrollWidth, innerWidth)
	}
}
