package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/agora-rlhf/agora/arena/httpapi/browsertest"
	"github.com/agora-rlhf/agora/arena/policy"
)

// writePolicy writes a policy file of version and min_votes.
func writePolicy(t *testing.T, version, minVotes int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	text := fmt.Sprintf("version: %d\nmin_votes: %d\nmax_unlisted_per_lab: 2\nvariants: {more_than: 3, window: 720h, fresh_votes: 10}\nsampling: {target: equal, tolerance: 0.05}\n", version, minVotes)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTransparencyLive runs the server with a policy file, checks the
// transparency report's figures against the votes cast, the CLI's
// provisional labels, a release listed after "agora release", and a
// policy file of a higher version recorded in the log at the next start.
func TestTransparencyLive(t *testing.T) {
	data, cfg := t.TempDir(), ledgerConfig(t, "")
	p := startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg, "--policy", writePolicy(t, 5, 100))
	voteN(t, p.url, 2, 8, "policy")
	var rep policy.Report
	getJSON(t, p.url+"/api/v1/transparency", "", &rep)
	if rep.InForce.Version != 5 || rep.InForce.By != "operator" || rep.InForce.Leaf < 0 || len(rep.History) != 1 {
		t.Errorf("policy in force %+v, history %d, want version 5 from the file, in the log", rep.InForce, len(rep.History))
	}
	if rep.Votes != (policy.VoteCounts{Total: 8, Counted: 8}) || rep.Sides != 16 {
		t.Errorf("votes %+v, sides %d; want 8 counted votes and 16 sides", rep.Votes, rep.Sides)
	}
	if len(rep.Shares) != 1 || rep.Shares[0] != (policy.LabShare{Lab: "operator", Sides: 16, Share: 1, Target: 1}) {
		t.Errorf("shares %+v, want the operator's 16 sides of 16, on target", rep.Shares)
	}
	if len(rep.Releases) != 0 {
		t.Errorf("releases %+v before any", rep.Releases)
	}
	p.stop(t)

	// Eight battles may leave one of the four demo models unmatched: every
	// model the board lists is provisional.
	out, _, err := runAgora(t, "leaderboard", "--data", data, "--rounds", "10")
	var listed int
	if m := regexp.MustCompile(`(\d+) models;`).FindStringSubmatch(out); m != nil {
		listed, _ = strconv.Atoi(m[1])
	}
	if err != nil || listed < 2 || strings.Count(out, "provisional: ") != listed {
		t.Errorf("agora leaderboard: %v, want every listed model provisional (min_votes 100):\n%s", err, out)
	}
	out, _, err = runAgora(t, "release", "--data", data, "--config", cfg, "--output", filepath.Join(t.TempDir(), "rel"))
	leaf := regexp.MustCompile(`release leaf: (\d+)`).FindStringSubmatch(out)
	votes := regexp.MustCompile(`votes: (\d+)`).FindStringSubmatch(out)
	if err != nil || leaf == nil || votes == nil {
		t.Fatalf("release: %v\n%s", err, out)
	}

	p = startSubprocess(t, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfg, "--policy", writePolicy(t, 6, 2))
	defer p.stop(t)
	getJSON(t, p.url+"/api/v1/transparency", "", &rep)
	if len(rep.History) != 2 || rep.InForce.Version != 6 || rep.InForce.Leaf < 0 || rep.Policy.MinVotes != 2 {
		t.Errorf("history %+v, want version 6 recorded at start in a leaf of the log", rep.History)
	}
	wantLeaf, _ := strconv.ParseInt(leaf[1], 10, 64)
	wantVotes, _ := strconv.ParseInt(votes[1], 10, 64)
	if len(rep.Releases) != 1 || rep.Releases[0].Leaf != wantLeaf || rep.Releases[0].Votes != wantVotes || rep.Releases[0].Format != "arena-jsonl" {
		t.Errorf("releases %+v, want one of %d votes at leaf %d", rep.Releases, wantVotes, wantLeaf)
	}
}

// TestTransparencyPageInChromium opens the transparency page at a phone's
// width in a real browser: no error under the content security policy,
// no axe-core violation,
// the figures of the report in its tables, and nothing wider than the
// screen but the tables' own scrolling boxes.
func TestTransparencyPageInChromium(t *testing.T) {
	base := serveInProcess(t, "--config", fastConfig(t))
	voteN(t, base, 1, 3, "page")
	ctx := browsertest.New(t)
	problems := browsertest.Problems(t, ctx)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(375, 740),
		chromedp.Navigate(base+"/transparency"),
		chromedp.WaitVisible("#votes tbody td"),
	)
	if err != nil {
		t.Fatal(err)
	}
	status := browsertest.Run(t, ctx, chromedp.Text(chromedp.ID("status")))
	votes := browsertest.Run(t, ctx, chromedp.Text("#votes tbody"))
	shares := browsertest.Run(t, ctx, chromedp.Text("#shares tbody"))
	if !strings.HasPrefix(status, "As of ") || !strings.HasPrefix(strings.TrimSpace(votes), "3") || !strings.Contains(shares, "operator") {
		t.Errorf("page: status %q, votes %q, shares %q", status, votes, shares)
	}
	wide := browsertest.Run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if wide > 375 {
		t.Errorf("the page is %d px wide on a 375 px screen", wide)
	}
	browsertest.SaveScreenshot(t, "transparency-phone.png", browsertest.Run(t, ctx, chromedp.FullScreenshot(100)))
	for _, v := range browsertest.Axe(t, ctx) {
		t.Errorf("axe-core: %s", v)
	}
	if p := problems(); len(p) > 0 {
		t.Errorf("browser problems: %v", p)
	}
}
