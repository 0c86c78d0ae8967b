package ledger_test

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

func TestShares(t *testing.T) {
	cap := big.NewRat(1, 4)
	tests := []struct {
		name    string
		weights map[string]int64
		want    map[string]string
	}{
		{"proportional", map[string]int64{"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, map[string]string{"a": "0.200000000", "b": "0.200000000", "e": "0.200000000"}},
		{"thirds round to 1", map[string]int64{"a": 1, "b": 1, "c": 1}, map[string]string{"a": "0.333333334", "b": "0.333333333", "c": "0.333333333"}},
		{"two capped in turn, the rest share their excess", map[string]int64{"big": 90, "a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 5},
			map[string]string{"big": "0.250000000", "a": "0.100000000", "f": "0.250000000"}},
		{"zero weights have no share", map[string]int64{"a": 3, "z": 0, "b": 1, "c": 1, "d": 1, "e": 1}, map[string]string{"a": "0.250000000", "b": "0.187500000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ledger.Shares(shareRows(tt.weights), cap)
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			got := map[string]string{}
			for _, r := range rows {
				total += r.Units
				got[r.Contributor] = ledger.FormatShare(r.Units)
			}
			if total != ledger.ShareUnits {
				t.Errorf("shares add up to %s, want 1", ledger.FormatShare(total))
			}
			for c, w := range tt.want {
				if got[c] != w {
					t.Errorf("share of %s = %s, want %s (all: %v)", c, got[c], w, got)
				}
			}
			if _, ok := got["z"]; ok {
				t.Errorf("a contributor of weight 0 has a share")
			}
		})
	}
}

// TestSharesSplitIsUseless: one contributor under the cap split into k
// identities keeps the same total share (within rounding); one over the
// cap gets back at most what they would have without a cap.
func TestSharesSplitIsUseless(t *testing.T) {
	cap := big.NewRat(1, 10)
	base := map[string]int64{"x": 0}
	for i := range 20 {
		base[fmt.Sprintf("o%02d", i)] = int64(10 + i*3)
	}
	for _, w := range []int64{7, 50, 400} {
		whole := copyWeights(base)
		whole["x"] = w
		split := copyWeights(base)
		delete(split, "x")
		for k := range 10 {
			split[fmt.Sprintf("x%d", k)] = w / 10
		}
		split["x0"] += w % 10
		a := shareOf(t, whole, cap, "x")
		b := shareOf(t, split, cap, "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9")
		uncapped := shareOf(t, whole, big.NewRat(1, 1), "x")
		switch {
		case a < ledger.ShareUnits/10 && abs(a-b) > 10:
			t.Errorf("weight %d under the cap: share %s whole, %s split", w, ledger.FormatShare(a), ledger.FormatShare(b))
		case b > uncapped+10:
			t.Errorf("weight %d: split share %s is more than the uncapped share %s", w, ledger.FormatShare(b), ledger.FormatShare(uncapped))
		}
	}
}

func shareOf(t *testing.T, w map[string]int64, cap *big.Rat, ids ...string) int64 {
	t.Helper()
	rows, err := ledger.Shares(shareRows(w), cap)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range rows {
		for _, id := range ids {
			if r.Contributor == id {
				n += r.Units
			}
		}
	}
	return n
}

func copyWeights(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// shareRows makes rows of whole weights.
func shareRows(w map[string]int64) []ledger.ShareRow {
	var rows []ledger.ShareRow
	for c, n := range w {
		rows = append(rows, ledger.ShareRow{Contributor: c, Tally: ledger.Tally{Votes: n}, Weight: big.NewRat(n, 1)})
	}
	return rows
}
