package store

import (
	"context"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestImportKeepsGold: a gold battle imported in bulk keeps its kind and
// right side, so its vote scores its contributor's gold accuracy.
func TestImportKeepsGold(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	b := testBattle("gold1", 1)
	b.Turns[0].B = b.Turns[0].A // no side failed
	b.Status, b.Gold, b.GoldWinner = rlhf.StatusVoted, rlhf.GoldShuffled, rlhf.SideB
	if _, err := s.ImportRecords(ctx, []rlhf.Record{{Battle: *b, Vote: *testVote(b, "gv1")}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Battle(ctx, "gold1")
	if err != nil || got.Gold != rlhf.GoldShuffled || got.GoldWinner != rlhf.SideB {
		t.Fatalf("Battle(gold1) gold %q, right side %q (%v); want %q, %q", got.Gold, got.GoldWinner, err, rlhf.GoldShuffled, rlhf.SideB)
	}
	if g, err := s.GoldScore(ctx, "c1"); err != nil || g.Battles != 1 || g.Correct != 0 {
		t.Errorf("GoldScore(c1) = %+v, %v; want 1 battle, 0 correct", g, err)
	}
}
