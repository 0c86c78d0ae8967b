package analytics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// bruteForceSwap returns the fewest votes (up to limit) whose removal
// swaps upper and lower, trying every multiset of removals over the
// (pair, outcome) cells; limit+1 when none of size ≤ limit does.
func bruteForceSwap(n int, pairs []Pair, fit *Fit, upper, lower, limit int) int {
	type cellRef struct {
		pair int
		kind int
		have float64
	}
	var cells []cellRef
	for p, pr := range pairs {
		for kind, c := range [3]float64{pr.WinsI, pr.WinsJ, pr.Ties} {
			if c > 0 {
				cells = append(cells, cellRef{p, kind, c})
			}
		}
	}
	ps := make([]Pair, len(pairs))
	take := make([]int, len(cells))
	var try func(from, left int) bool
	try = func(from, left int) bool {
		if left == 0 {
			copy(ps, pairs)
			for k, m := range take {
				ps[cells[k].pair].remove(uint8(cells[k].kind), float64(m))
			}
			beta, err := refit(n, ps, fit)
			return err == nil && beta[lower] >= beta[upper]
		}
		for k := from; k < len(cells); k++ {
			if float64(take[k]) < cells[k].have {
				take[k]++
				ok := try(k, left-1)
				take[k]--
				if ok {
					return true
				}
			}
		}
		return false
	}
	for size := 1; size <= limit; size++ {
		if try(0, size) {
			return size
		}
	}
	return limit + 1
}

// fragileFixture draws votes among close models.
func fragileFixture(models, votes int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	truth := make([]float64, models)
	for i := range truth {
		truth[i] = 6 * float64(models-i) * (0.5 + rng.Float64())
	}
	var d Dataset
	for v := range votes {
		a := rng.IntN(models)
		b := rng.IntN(models - 1)
		if b >= a {
			b++
		}
		pa := 1 / (1 + math.Pow(10, (truth[b]-truth[a])/400))
		w := rlhf.WinnerB
		switch u := rng.Float64(); {
		case u < 0.1:
			w = rlhf.WinnerTie
		case u < 0.1+0.9*pa:
			w = rlhf.WinnerA
		}
		d.Add(Battle{ModelA: fmt.Sprint("m", a), ModelB: fmt.Sprint("m", b), Winner: w, Contributor: fmt.Sprint("c", v%37)})
	}
	return &d
}

// TestFragilityMatchesBruteForce: on fixtures of up to 2,000 votes, the
// audit's swap count for every adjacent pair is within one of the fewest
// found by trying every removal of up to 3 votes (when brute force finds
// none that small, the audit must not claim fewer than 3).
func TestFragilityMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	const limit = 3
	checked, equal := 0, 0
	for seed := range uint64(16) {
		votes := []int{200, 500, 1000, 2000}[seed%4]
		d := fragileFixture(5, votes, seed)
		lb, err := Compute(ctx, d, Options{Fragility: true, Matrices: false})
		if err != nil {
			t.Fatal(err)
		}
		c := d.Count(Filter{})
		pairs := c.Pairs()
		fit, err := FitNewton(c.N(), pairs, FitOptions{Prior: lb.Solver.Prior})
		if err != nil {
			t.Fatal(err)
		}
		for _, fp := range lb.Fragility.Pairs {
			up, lo := c.Index(fp.Upper), c.Index(fp.Lower)
			brute := bruteForceSwap(c.N(), pairs, fit, up, lo, limit)
			got := fp.VotesToSwap
			if got < 0 {
				got = 1 << 30
			}
			ok := brute <= limit && abs(got-brute) <= 1 || brute > limit && got >= limit
			if !ok {
				t.Errorf("seed %d (%d votes), %s over %s by %.1f: audit %d (approx %d), brute force %d",
					seed, votes, fp.Upper, fp.Lower, fp.Margin, fp.VotesToSwap, fp.Approximate, brute)
			}
			if brute <= limit {
				checked++
				if got == brute {
					equal++
				}
			}
		}
		if lb.Fragility.Leader == nil || lb.Fragility.Leader.Contributors != 1 {
			t.Errorf("seed %d: leader share %+v, want the top contributor of 37", seed, lb.Fragility.Leader)
		}
	}
	t.Logf("%d adjacent pairs decided by at most %d votes checked against brute force; %d exactly equal", checked, limit, equal)
	if checked < 10 {
		t.Errorf("only %d pairs were within brute force's reach; the fixtures test too little", checked)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
