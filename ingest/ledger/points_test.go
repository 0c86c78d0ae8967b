package ledger_test

import (
	"context"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestPoints: every accepted vote earns PointsPerVote, a quarantined
// contributor's earn nothing, and a contributor sees only their own votes,
// newest first, with their leaves.
func TestPoints(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	ctx := context.Background()
	for i := range 7 {
		tl.voteAs(t, i, []string{"alice", "bob"}[i%2])
	}
	if err := tl.log.Publish(ctx); err != nil {
		t.Fatal(err)
	}
	bad := map[string]bool{"bob": true}
	c := ledger.NewContributions(tl.store, tl.log.Encoder(), func(id string) bool { return bad[id] })
	for _, tc := range []struct {
		who         string
		votes, each int64
		newest      int64
	}{{"alice", 4, ledger.PointsPerVote, 6}, {"bob", 3, 0, 5}, {"carol", 0, ledger.PointsPerVote, -1}} {
		if got := c.VotePoints(&rlhf.Battle{}, &rlhf.Vote{ContributorID: tc.who}); int64(got) != tc.each {
			t.Errorf("VotePoints(%s) = %d, want %d", tc.who, got, tc.each)
		}
		p, err := c.Points(ctx, tc.who)
		if err != nil {
			t.Fatal(err)
		}
		if p.Votes != tc.votes || p.Total != tc.votes*tc.each || int64(len(p.Receipts)) != tc.votes || p.Quarantined != bad[tc.who] {
			t.Errorf("Points(%s) = %+v, want %d votes of %d points", tc.who, p, tc.votes, tc.each)
		}
		if p.Contributor != tl.log.Encoder().Pseudonym(tc.who) {
			t.Errorf("Points(%s) names %s, not the log's pseudonym", tc.who, p.Contributor)
		}
		if tc.votes == 0 {
			continue
		}
		proof, err := tl.log.ProveInclusion(ctx, p.Receipts[0].Leaf, 7)
		if err != nil || p.Receipts[0].Leaf != tc.newest || proof.LeafHash != p.Receipts[0].LeafHash {
			t.Errorf("Points(%s) newest receipt %+v; want leaf %d with the tree's hash (%v)", tc.who, p.Receipts[0], tc.newest, err)
		}
	}
}

// TestPointsGold: a contributor's points follow the newest release's
// values of votes: before any release a gold answer earns 0; after it, a
// right one Right·10 and a wrong one Wrong·10 (rounded), shown with the
// reveal, on each receipt and in the total, which matches the weight in
// the release's share table; quarantined, nothing.
func TestPointsGold(t *testing.T) {
	tl := openLog(t, ledger.Config{})
	ctx := context.Background()
	votes := plan([]goldVoter{{"alice", 60, 0.8}, {"bob", 40, 0}, {"carol", 40, 1}})
	// dave answers one gold battle right and casts no ordinary vote.
	votes = append(votes, goldVote{who: "dave", gold: true, scored: true, right: rlhf.SideA, pick: rlhf.SideA})
	tl.cast(t, votes, false)
	c := ledger.NewContributions(tl.store, tl.log.Encoder(), nil)
	b, v := battleAndVote(1000)
	b.Gold, b.GoldWinner, b.ModelB = rlhf.GoldShuffled, rlhf.SideB, "gold:shuffled"
	v.ContributorID, v.Winner = "alice", rlhf.WinnerB
	before, err := c.Points(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.VotePoints(b, v); got != 0 || before.Values != (ledger.PointValues{Vote: 10}) || before.Total != 10*countOrdinary(votes, "alice") {
		t.Errorf("before any release: a right gold answer earns %d, values %+v, total %d; want 0, {10 0 0}, 10 per ordinary vote", got, before.Values, before.Total)
	}
	dir := t.TempDir()
	if _, err := tl.release(t, dir, tl.size(t), false); err != nil {
		t.Fatal(err)
	}
	table, _ := os.ReadFile(filepath.Join(dir, ledger.SharesFile))
	q, _ := ledger.TableQuality(table)
	p, err := c.Points(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.PointValues{Vote: 10, Right: ledger.PointsOf(q.Right), Wrong: ledger.PointsOf(q.Wrong)}
	if p.Values != want || want.Right <= 0 || want.Wrong >= 0 {
		t.Fatalf("values after the release %+v, want %+v from the table\n%s", p.Values, want, table)
	}
	if got := c.VotePoints(b, v); int64(got) != want.Right {
		t.Errorf("a right gold answer earns %d at the reveal, want %d", got, want.Right)
	}
	v.Winner = rlhf.WinnerTie
	if got := c.VotePoints(b, v); int64(got) != want.Wrong {
		t.Errorf("a tie on a gold battle earns %d at the reveal, want %d", got, want.Wrong)
	}
	var sum int64
	for _, r := range p.Receipts {
		sum += int64(r.Points)
	}
	if sum != p.Total || p.Gold == 0 || len(p.Shares) != 1 {
		t.Errorf("receipts add up to %d, total %d (gold answers %d, shares %+v)", sum, p.Total, p.Gold, p.Shares)
	}
	// The release's weight, in points, is the total but for the rounding
	// of each gold answer's value to whole points.
	s := p.Shares[0]
	w, _ := new(big.Rat).SetString(s.Weight)
	wp, _ := w.Float64()
	if s.Votes != countOrdinary(votes, "alice") || s.Gold != p.Gold || s.Right != p.Right || math.Abs(wp*10-float64(p.Total)) > 0.5*float64(p.Gold)+1e-6 {
		t.Errorf("share line %+v against points %d (%d gold, %d right)", s, p.Total, p.Gold, p.Right)
	}
	// Gold answers alone are not data: no share, no points.
	if d, err := c.Points(ctx, "dave"); err != nil || d.Gold != 1 || d.Right != 1 || d.Total != 0 || strings.Contains(string(table), d.Contributor) {
		t.Errorf("a contributor with only a right gold answer: %+v, %v; want no points and no line in the table\n%s", d, err, table)
	}
	q2 := ledger.NewContributions(tl.store, tl.log.Encoder(), func(string) bool { return true })
	if p, err := q2.Points(ctx, "alice"); err != nil || p.Total != 0 || p.Receipts[0].Points != 0 || q2.VotePoints(b, v) != 0 {
		t.Errorf("quarantined: %+v, %v; want no points", p, err)
	}
}
