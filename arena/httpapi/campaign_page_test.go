package httpapi_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestCampaignPageInChromium follows a campaign link in a real browser:
// the campaign chooses the prompt, both panes show it and stream, and the
// vote reveals two of the campaign's models.
func TestCampaignPageInChromium(t *testing.T) {
	ctx := browsertest.New(t)
	ls := newLabSetup(t)
	acme := ls.account("labs", "acme")
	ls.model(acme, "m1", "")
	ls.model(acme, "m2", "")
	var camp struct{ Campaign rlhf.Campaign }
	ls.must(201, "POST", "/api/v1/campaigns", acme, map[string]any{"name": "Eval", "models": []string{"acme/m1", "acme/m2"}, "vote_target": 5}, &camp)
	id := camp.Campaign.ID
	if st, body := ls.do("PUT", "/api/v1/campaigns/"+id+"/prompts", acme, "application/jsonl", `{"text":"Which is the largest planet?"}`+"\n"); st != 200 {
		t.Fatalf("upload = %d %s", st, body)
	}
	ls.must(200, "POST", "/api/v1/campaigns/"+id+"/start", acme, nil, nil)

	err := chromedp.Do(ctx,
		chromedp.Navigate(ls.url+"/?campaign="+id),
		chromedp.WaitVisible(chromedp.ID("campaign-box")),
		chromedp.WaitEnabled(chromedp.ID("send")),
		chromedp.Click(chromedp.ID("campaign-start")),
		chromedp.WaitEnabled(chromedp.ID("vote-b")),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, pane := range []string{"answer-a", "answer-b"} {
		if text := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID(pane))); !strings.Contains(text, "Which is the largest planet?") {
			t.Errorf("%s = %q, want the campaign's prompt in it", pane, text)
		}
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("vote-b")), chromedp.WaitVisible(chromedp.ID("reveal")))
	if err != nil {
		t.Fatal(err)
	}
	reveal := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("reveal-text")))
	browsertest.SaveScreenshot(t, "campaign.png", browsertest.Run(t, ctx, chromedp.FullScreenshot(100)))
	if !strings.Contains(reveal, "acme/m1") || !strings.Contains(reveal, "acme/m2") {
		t.Errorf("reveal %q, want the campaign's two models", reveal)
	}
}
