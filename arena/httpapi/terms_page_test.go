package httpapi_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
)

// TestPageAsksForTerms opens the page in Chromium on a server with terms:
// the terms show in a modal dialog, and accepting them records the
// acceptance for the page's contributor, so that a reload no longer asks.
func TestPageAsksForTerms(t *testing.T) {
	s := newSetup(t, options{terms: "2026-12"})
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.http.URL+"/"), chromedp.WaitVisible(chromedp.ID("agora-terms-accept"))); err != nil {
		t.Fatal(err)
	}
	modal := browsertest.Run(t, ctx, chromedp.Evaluate[bool](`document.getElementById('agora-terms').matches(':modal')`))
	text := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("agora-terms")))
	if !modal || text == "" {
		t.Fatalf("terms dialog modal = %v with text %q; want the terms, blocking the page", modal, text)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("agora-terms-accept")), chromedp.WaitNotVisible(chromedp.ID("agora-terms"))); err != nil {
		t.Fatal(err)
	}
	accepted := browsertest.Run(t, ctx, chromedp.Evaluate[string](`fetch('/api/v1/terms').then(r => r.json()).then(t => t.accepted_at || '')`, chromedp.EvalAwaitPromise))
	if accepted == "" {
		t.Fatal("after Accept, GET /api/v1/terms says the page's contributor has not accepted")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.http.URL+"/"), chromedp.WaitVisible(chromedp.ID("agora-notice"))); err != nil {
		t.Fatal(err)
	}
	if n := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#agora-terms').length`)); n != 0 {
		t.Fatalf("after a reload: %d terms dialogs; want none", n)
	}
}
