package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
)

// challenge GETs a challenge from the server.
func challenge(t *testing.T, s *setup, header http.Header) httpapi.Challenge {
	t.Helper()
	req, _ := http.NewRequest("GET", s.http.URL+"/api/v1/arena/challenge", nil)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c httpapi.Challenge
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != 200 {
		t.Fatalf("challenge: %d %v", resp.StatusCode, err)
	}
	return c
}

// dialStatus dials the websocket at rawURL and returns the handshake's
// status (101 when it opened) and the response.
func dialStatus(t *testing.T, rawURL string, header http.Header) (int, *http.Response) {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(rawURL, header)
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	if resp == nil {
		t.Fatalf("dial: %v", err)
	}
	return resp.StatusCode, resp
}

// TestProofOfWork runs a server that asks 12 bits of work for a new
// identity: without a solution the websocket is refused (403); with the
// Go reference solver's it opens once, sets the page's cookie, and the
// same solution is refused again; a contributor with a token needs none;
// and the page's solver (static/pow.js, run by node) solves a challenge
// the server accepts.
func TestProofOfWork(t *testing.T) {
	s := newSetup(t, options{pow: httpapi.PoWConfig{Bits: 12}})
	if code, _ := dialStatus(t, s.url, nil); code != http.StatusForbidden {
		t.Fatalf("no proof of work: status %d, want 403", code)
	}
	c := challenge(t, s, nil)
	if c.Bits != 12 || c.Challenge == "" {
		t.Fatalf("challenge %+v, want 12 bits", c)
	}
	sol, err := httpapi.SolveChallenge(c.Challenge, c.Bits, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	withPoW := s.url + "?pow=" + url.QueryEscape(sol)
	code, resp := dialStatus(t, withPoW, nil)
	if code != http.StatusSwitchingProtocols || !strings.Contains(resp.Header.Get("Set-Cookie"), "agora_token=") {
		t.Fatalf("with proof of work: status %d, Set-Cookie %q; want 101 and the token cookie", code, resp.Header.Get("Set-Cookie"))
	}
	if code, _ := dialStatus(t, withPoW, nil); code != http.StatusForbidden {
		t.Errorf("the same solution again: status %d, want 403", code)
	}
	cl, err := httpapi.DialArena(context.Background(), s.http.URL, "")
	if err != nil {
		t.Fatalf("DialArena solves the work itself: %v", err)
	}
	defer cl.Close()
	h := http.Header{"Authorization": {"Bearer " + cl.Hello.Token}}
	if c := challenge(t, s, h); c.Bits != 0 {
		t.Errorf("challenge for a contributor with a token: %+v, want no work", c)
	}
	if code, _ := dialStatus(t, s.url, h); code != http.StatusSwitchingProtocols {
		t.Errorf("with a token: status %d, want 101", code)
	}

	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is required in CI")
		}
		t.Skip("SKIPPED: node is not installed; the page's solver is not checked")
	}
	c = challenge(t, s, nil)
	out, err := exec.Command(node, "-e", `process.stdout.write(require("./static/pow.js").solve(process.argv[1], +process.argv[2]))`,
		c.Challenge, "12").Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if code, _ := dialStatus(t, s.url+"?pow="+url.QueryEscape(string(out)), nil); code != http.StatusSwitchingProtocols {
		t.Errorf("pow.js's solution %q: status %d, want 101", out, code)
	}
}

// TestPageProofOfWork opens the arena page on a server that asks 12 bits
// of work: the page solves the challenge (pow.js), connects, keeps the
// identity it earned as its cookie (the server then asks it no work),
// battles, and after a reload connects again. The work is done in a Web
// Worker, with a labelled progress bar shown meanwhile.
func TestPageProofOfWork(t *testing.T) {
	s := newSetup(t, options{pow: httpapi.PoWConfig{Bits: 12}})
	if c := challenge(t, s, nil); c.Bits != 12 {
		t.Fatalf("challenge without a token: %+v, want 12 bits", c)
	}
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchPoW}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.http.URL+"/"), chromedp.WaitEnabled(chromedp.ID("send"))); err != nil {
		t.Fatal(err)
	}
	if seen := evalString(t, ctx, `JSON.stringify(window.powSeen)`); seen != `{"workers":1,"shown":true,"label":true,"hidden":true}` {
		t.Errorf("the page's work: %s; want one worker, a labelled progress bar shown, then hidden", seen)
	}
	if bits := evalString(t, ctx, pageChallengeBits); bits != "0" {
		t.Errorf("the connected page is asked %s bits of work, want 0: it kept no token cookie", bits)
	}
	startBattle(t, ctx, "Why is the sky blue?")
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitEnabled(chromedp.ID("send"))); err != nil {
		t.Fatal(err)
	}
	if bits := evalString(t, ctx, pageChallengeBits); bits != "0" {
		t.Errorf("after a reload the page is asked %s bits of work, want 0", bits)
	}
}

// watchPoW runs in the page before its scripts, and records in powSeen the
// workers started and whether the progress bar (#pow-progress) was shown
// with a label and hidden again.
const watchPoW = `window.powSeen = { workers: 0, shown: false, label: false, hidden: false };
const RealWorker = window.Worker;
window.Worker = function (url, opts) { window.powSeen.workers++; return new RealWorker(url, opts); };
document.addEventListener("DOMContentLoaded", () => {
	const box = document.getElementById("pow-progress");
	new MutationObserver((records) => {
		for (const r of records) if (r.oldValue !== null) {
			window.powSeen.shown = true;
			const bar = box.querySelector("progress");
			window.powSeen.label = !!bar && bar.labels.length === 1 && bar.labels[0].textContent.trim() !== "";
		}
		window.powSeen.hidden = box.hidden;
	}).observe(box, { attributes: true, attributeFilter: ["hidden"], attributeOldValue: true });
});`

// pageChallengeBits asks for a challenge from the page, with its cookie.
const pageChallengeBits = `(function () {
	const x = new XMLHttpRequest();
	x.open("GET", "/api/v1/arena/challenge", false);
	x.send();
	return String(JSON.parse(x.responseText).bits);
})()`
