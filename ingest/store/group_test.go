package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestGroupWithFailingWrites sends votes and second votes for the same
// battles at once, so that groups hold failing writes: the writer then runs
// the group again under savepoints, with the statements bound to the new
// transaction. Every first vote is stored, every second one is a conflict.
func TestGroupWithFailingWrites(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	const n = 200
	battles := make([]*rlhf.Battle, n)
	for i := range battles {
		battles[i] = testBattle(fmt.Sprintf("fw%d", i), 1)
		if err := s.SaveBattle(ctx, battles[i]); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i, b := range battles {
			wg.Go(func() {
				voted := *b
				voted.Status = rlhf.StatusVoted
				errs[i] = s.SaveVote(ctx, &voted, testVote(&voted, fmt.Sprintf("fw%d-v%d", i, round)))
			})
			if round == 1 && i%2 == 0 { // new battles' first votes in the same groups
				nb := testBattle(fmt.Sprintf("fw%d-new", i), 1)
				nb.Status = rlhf.StatusVoted
				wg.Go(func() {
					if err := s.SaveVote(ctx, nb, testVote(nb, nb.ID+"-v")); err != nil {
						t.Errorf("first vote of %s: %v", nb.ID, err)
					}
				})
			}
		}
		wg.Wait()
		for i, err := range errs {
			if round == 0 && err != nil {
				t.Fatalf("first vote of battle %d: %v", i, err)
			}
			if round == 1 && rlhf.ErrorCode(err) != rlhf.EConflict {
				t.Fatalf("second vote of battle %d: %v, want a conflict", i, err)
			}
		}
	}
	battlesN, votes, err := s.Counts(ctx)
	if err != nil || battlesN != n+n/2 || votes != n+n/2 {
		t.Errorf("Counts = %d, %d, %v; want %d, %d", battlesN, votes, err, n+n/2, n+n/2)
	}
}
