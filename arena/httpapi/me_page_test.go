package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/ingest/store"
)

// contributionsOf serves points from the setup's log, when it keeps one.
func contributionsOf(l httpapi.Ledger, store *store.Store) httpapi.Contributions {
	log, ok := l.(*ledger.Log)
	if !ok {
		return nil
	}
	return ledger.NewContributions(store, log.Encoder(), func(string) bool { return false })
}

// pagePoints is GET /api/v1/me/points as the page's cookie sees it.
type pagePoints struct {
	Votes, Total int64
	Receipts     []struct {
		Vote string `json:"vote_id"`
		Leaf int64  `json:"leaf_index"`
	}
}

// fetchInPage calls path from the page, with its (HttpOnly) cookie, and
// decodes the JSON answer into v.
func fetchInPage(t *testing.T, ctx context.Context, method, path string, v any) {
	t.Helper()
	js := fmt.Sprintf(`fetch(%q, {method: %q}).then((r) => r.text())`, path, method)
	body := browsertest.Run(t, ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%s %s: %v in %q", method, path, err, body)
	}
}

// TestMePage votes once from the arena page, then opens /me: the points
// and the newest receipt shown are the API's, the consent form changes
// the consent, the delete dialog says what cannot be recalled, and axe
// finds nothing in either colour scheme, at both screen sizes.
func TestMePage(t *testing.T) {
	s := newSetup(t, options{ledger: true, privacy: true})
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			ctx := openArena(t, s, vp)
			if href := evalString(t, ctx, `document.querySelector('header nav a[href="/me"]').textContent`); href != "My page" {
				t.Errorf("the arena's header links /me as %q", href)
			}
			startBattle(t, ctx, "Name a colour")
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("vote-a")), chromedp.WaitVisible(chromedp.ID("reveal"))); err != nil {
				t.Fatal(err)
			}
			// The vote's leaf is appended by the log; wait until the API has it.
			err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](`fetch("/api/v1/me/points").then((r) => r.json()).then((p) => p.receipts.length > 0)`))
			if err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(s.http.URL+"/me"), chromedp.WaitVisible(chromedp.CSS(`body[data-loaded="points"]`))); err != nil {
				t.Fatal(err)
			}
			var p pagePoints
			fetchInPage(t, ctx, "GET", "/api/v1/me/points", &p)
			if p.Votes != 1 || len(p.Receipts) != 1 {
				t.Fatalf("the API's points after one vote: %+v", p)
			}
			summary := evalString(t, ctx, `document.getElementById("points-summary").textContent`)
			if want := fmt.Sprintf("%d points from 1 vote.", p.Total); summary != want { // one vote: the singular
				t.Errorf("the page says %q, the API %q", summary, want)
			}
			cells := evalString(t, ctx, `[...document.querySelectorAll("#receipts tbody td")].map((c) => c.textContent).join("|")`)
			if want := fmt.Sprintf("%d|%s|", p.Receipts[0].Leaf, p.Receipts[0].Vote); !strings.HasPrefix(cells, want) {
				t.Errorf("the receipt shown is %q, the API's starts %q", cells, want)
			}
			if cmd := evalString(t, ctx, `document.getElementById("verify-cmd").textContent`); !strings.Contains(cmd, "agora verify --server "+s.http.URL+" --vote "+p.Receipts[0].Vote) {
				t.Errorf("the verify command reads %q", cmd)
			}
			if g := evalString(t, ctx, `document.getElementById("gold-summary").textContent`); g != "You have not judged a check battle yet." {
				t.Errorf("the gold accuracy reads %q before any check battle", g)
			}
			checkMeAxe(t, ctx, "loaded")
			browsertest.SaveScreenshot(t, "me-"+vp.name+".png", browsertest.Run(t, ctx, chromedp.FullScreenshot(100)))
			checkMeConsent(t, ctx)
			checkMeDelete(t, ctx, vp)
		})
	}
}

// checkMeAxe runs axe on the page in both colour schemes.
func checkMeAxe(t *testing.T, ctx context.Context, stage string) {
	t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		browsertest.ColorScheme(t, ctx, scheme)
		for _, v := range browsertest.Axe(t, ctx) {
			t.Errorf("%s, %s: %s", stage, scheme, v)
		}
	}
	browsertest.ColorScheme(t, ctx, "light")
}

// checkMeConsent narrows the future votes' consent with the form.
func checkMeConsent(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("scope"), "leaderboard"),
		chromedp.Click(chromedp.CSS("#consent-form button")),
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent === "Saved."`),
	)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Consent struct{ Scope string }
		Chosen  bool
	}
	fetchInPage(t, ctx, "GET", "/api/v1/me/consent", &c)
	if c.Consent.Scope != "leaderboard" || !c.Chosen {
		t.Errorf("after saving, the consent is %+v", c)
	}
}

// checkMeDelete opens the delete dialog, which states what cannot be
// recalled, and confirms it: the contributor's data is gone.
func checkMeDelete(t *testing.T, ctx context.Context, vp viewport) {
	t.Helper()
	var before struct{ Votes []any }
	fetchInPage(t, ctx, "GET", "/api/v1/me/data", &before)
	if len(before.Votes) != 1 {
		t.Errorf("the download holds %d votes, want the 1 given", len(before.Votes))
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("delete")), chromedp.WaitVisible(chromedp.ID("delete-dialog"))); err != nil {
		t.Fatal(err)
	}
	if text := evalString(t, ctx, `document.getElementById("delete-text").textContent`); !strings.Contains(text, "models already trained on them, cannot be recalled") {
		t.Errorf("the delete dialog reads %q", text)
	}
	checkMeAxe(t, ctx, "delete dialog")
	browsertest.SaveScreenshot(t, "me-delete-"+vp.name+".png", browsertest.Run(t, ctx, chromedp.CaptureScreenshot()))
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("delete-confirm")),
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent === "Your data was deleted."`),
	)
	if err != nil {
		t.Fatalf("deleting: %v (status %q)", err, evalString(t, ctx, `document.getElementById("status").textContent`))
	}
	var d map[string]any
	fetchInPage(t, ctx, "GET", "/api/v1/me/data", &d)
	if votes, _ := d["votes"].([]any); len(votes) != 0 {
		t.Errorf("after deletion the download still holds %d votes", len(votes))
	}
}
