package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

func init() {
	migrationUndo[VoteLeafMigration] = `CREATE INDEX log_leaves_ref ON log_leaves(ref); ALTER TABLE votes DROP COLUMN leaf`
}

// TestVoteLeafIndex: a vote saved with the log keeps its leaf's index on
// its row, the leaf LeafIndex finds by the vote's id; a vote that failed
// (a second vote on a battle) took no leaf, and a vote saved without the
// log has none.
func TestVoteLeafIndex(t *testing.T) {
	ctx := context.Background()
	s := voteLogged(t, t.TempDir()+"/agora.db", 1, 5)
	defer s.Close()
	b := testBattle("b3", 1)
	b.Status = rlhf.StatusVoted
	if err := s.SaveVote(ctx, b, testVote(b, "again")); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Fatalf("second vote on b3: %v; want a conflict", err)
	}
	for i := 1; i <= 5; i++ {
		n, err := s.LeafIndex(ctx, fmt.Sprint("v", i))
		if err != nil || n != int64(i-1) {
			t.Errorf("LeafIndex(v%d) = %d, %v; want %d", i, n, err, i-1)
		}
	}
	if n, _ := s.LogSize(ctx); n != 5 {
		t.Errorf("log size %d; want 5 (the failed vote took no leaf)", n)
	}
	s.UseLedger(nil)
	b = testBattle("unlogged", 1)
	b.Status = rlhf.StatusVoted
	if err := s.SaveVote(ctx, b, testVote(b, "unlogged")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"unlogged", "again", "nonesuch"} {
		if _, err := s.LeafIndex(ctx, id); rlhf.ErrorCode(err) != rlhf.ENotFound {
			t.Errorf("LeafIndex(%s): %v; want not found", id, err)
		}
	}
}

// TestVoteLeafMigration: votes logged before VoteLeafMigration get their
// leaf's index on their row from log_leaves, and new votes theirs as they
// are saved.
func TestVoteLeafMigration(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/agora.db"
	voteLogged(t, path, 0, 6)
	undoFrom(t, path, VoteLeafMigration)
	s := voteLogged(t, path, 6, 2)
	defer s.Close()
	for i := range 8 {
		n, err := s.LeafIndex(ctx, fmt.Sprint("v", i))
		if err != nil || n != int64(i) {
			t.Errorf("LeafIndex(v%d) = %d, %v; want %d", i, n, err, i)
		}
	}
}
