package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

// TestTreeTop: ReadHashes gives the hashes the records give, read from
// the store and again (the upper ones from memory, with indexes repeated
// and out of order, or far apart), and keeps only upper hashes in memory.
func TestTreeTop(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const n = 700 // two complete subtrees of 256 leaves: two hashes at level 8, one at 9
	refs, recs := make([]string, n), make([][]byte, n)
	var want []ledger.Hash
	for i := range recs {
		refs[i], recs[i] = fmt.Sprint(i), fmt.Appendf(nil, "policy 1\ntop %d\n", i)
		hs, err := ledger.StoredHashes(int64(i), recs[i], func(xs []int64) ([]ledger.Hash, error) {
			out := make([]ledger.Hash, len(xs))
			for j, x := range xs {
				out[j] = want[x]
			}
			return out, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, hs...)
	}
	for lo := 0; lo < n; lo += 100 { // several commits, several runs
		if _, err := s.AppendRecords(ctx, ledger.KindPolicy, refs[lo:lo+100], recs[lo:lo+100]); err != nil {
			t.Fatal(err)
		}
	}
	all := make([]int64, 0, 2*len(want)) // every index, twice, out of order: one cluster
	for i := len(want) - 1; i >= 0; i-- {
		all = append(all, int64(i), int64(len(want)-1-i))
	}
	var apart []int64 // more than a run apart: read one by one
	for i := len(want) - 1; i >= 0; i -= maxRun + 7 {
		apart = append(apart, int64(i))
	}
	for round, indexes := range [][]int64{apart, all, all, apart} {
		got, err := s.ReadHashes(ctx, indexes)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range indexes {
			if got[i] != want[x] {
				t.Fatalf("round %d: hash %d = %v; want %v", round, x, got[i], want[x])
			}
		}
	}
	if len(s.top.m) != 3 {
		t.Errorf("%d upper hashes kept; want 3", len(s.top.m))
	}
	for x := range s.top.m {
		if ledger.HashLevel(x) < topLevel {
			t.Errorf("hash %d of level %d kept", x, ledger.HashLevel(x))
		}
	}
}
