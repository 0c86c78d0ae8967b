package httpapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
	"github.com/agora-rlhf/agora/arena/passkey"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// withPasskeys turns on accounts with passkeys for the page's origin.
func withPasskeys(t *testing.T, origin string) (httpapi.PasskeyCeremonies, httpapi.OpenID) {
	keys, err := passkey.New(passkey.Config{RPID: "localhost", Name: "Agora test", Origins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	return keys, nil
}

// TestPasskeysInChromium signs up and in with passkeys on the arena page
// in real Chromium, through its virtual authenticator: the anonymous
// contributor's votes become the account's, signing out gives a new
// anonymous identity, and a fresh browser (no cookies, the same synced
// passkey) signs back in as the same contributor.
func TestPasskeysInChromium(t *testing.T) {
	ctx := browsertest.New(t)
	s := newSetup(t, options{accounts: withPasskeys})
	browsertest.VirtualAuthenticator(t, ctx)
	page := s.device(t).base + "/"

	err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitEnabled(chromedp.ID("send")), chromedp.WaitVisible(chromedp.ID("account-signup")))
	if err != nil {
		t.Fatal(err)
	}
	anon := pageAccount(t, ctx)
	voteOnPage(t, ctx)
	if n := votesBy(t, s.store, anon.ContributorID); n != 1 {
		t.Fatalf("anonymous contributor %s has %d votes, want 1", anon.ContributorID, n)
	}

	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("account-signup")), chromedp.WaitVisible(chromedp.ID("account-signout")),
		chromedp.WaitEnabled(chromedp.ID("send")))
	if err != nil {
		t.Fatal(err)
	}
	st := pageAccount(t, ctx)
	if !st.SignedIn || st.Member.ContributorID != anon.ContributorID {
		t.Fatalf("after passkey sign-up: %+v, want signed in as %s", st, anon.ContributorID)
	}
	voteOnPage(t, ctx)
	if n := votesBy(t, s.store, anon.ContributorID); n != 2 {
		t.Errorf("the account's contributor has %d votes, want 2 (one anonymous, one signed in)", n)
	}
	browsertest.SaveScreenshot(t, "signed-in.png", browsertest.Run(t, ctx, chromedp.FullScreenshot(100)))

	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("account-signout")), chromedp.WaitVisible(chromedp.ID("account-signin")))
	if err != nil {
		t.Fatal(err)
	}
	if out := pageAccount(t, ctx); out.SignedIn || out.ContributorID == anon.ContributorID || out.ContributorID == "" {
		t.Errorf("after sign-out: %+v, want a new anonymous contributor", out)
	}

	browsertest.ClearCookies(t, ctx) // a second device with the same (synced) passkey
	err = chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("account-signin")))
	if err != nil {
		t.Fatal(err)
	}
	fresh := pageAccount(t, ctx)
	err = chromedp.Do(ctx, chromedp.Click(chromedp.ID("account-signin")), chromedp.WaitVisible(chromedp.ID("account-signout")))
	if err != nil {
		t.Fatal(err)
	}
	back := pageAccount(t, ctx)
	if !back.SignedIn || back.ContributorID != anon.ContributorID || back.Member.ID != st.Member.ID {
		t.Errorf("passkey sign-in on a fresh browser: %+v, want member %s as %s", back, st.Member.ID, anon.ContributorID)
	}
	if !slices.Contains(back.Member.Linked, fresh.ContributorID) {
		t.Errorf("linked = %v, want the fresh browser's anonymous id %s in it", back.Member.Linked, fresh.ContributorID)
	}
}

// pageAccount asks the server who the page is, as the page does.
func pageAccount(t *testing.T, ctx context.Context) accountState {
	t.Helper()
	return browsertest.Run(t, ctx, chromedp.Evaluate[accountState](`fetch("/api/v1/account").then(r => r.json())`, chromedp.EvalAwaitPromise))
}

// voteOnPage plays one battle on the page and waits for the reveal.
func voteOnPage(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.WaitEnabled(chromedp.ID("send")),
		chromedp.SendKeys(chromedp.ID("prompt"), "Which is the largest planet?"),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitEnabled(chromedp.ID("vote-a")),
		chromedp.Click(chromedp.ID("vote-a")),
		chromedp.WaitVisible(chromedp.ID("reveal")),
		chromedp.Click(chromedp.ID("new-battle")),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// votesBy counts the stored votes of contributor.
func votesBy(t *testing.T, store *store.Store, contributor string) int {
	t.Helper()
	n := 0
	err := store.Records(context.Background(), func(r *rlhf.Record) error {
		if r.Vote.ContributorID == contributor {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
