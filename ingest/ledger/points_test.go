package ledger_test

import (
	"context"
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
		if got := c.VotePoints(&rlhf.Vote{ContributorID: tc.who}); int64(got) != tc.each {
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
