package ledger_test

import (
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

// TestQualityValues: the values of gold answers from a population's
// tally, as the formula says, read back from their text.
func TestQualityValues(t *testing.T) {
	half := big.NewRat(1, 2)
	q := ledger.NewQuality(ledger.Tally{Votes: 970, Gold: 30, Correct: 27}, half)
	// Right = ½·970·3/(27·30) = 1455/810 = 97/54; Wrong = −½·970/30 = −97/6.
	if q.Right.Cmp(big.NewRat(97, 54)) != 0 || q.Wrong.Cmp(big.NewRat(-97, 6)) != 0 {
		t.Errorf("values %v", q)
	}
	back, err := ledger.ParseQuality(q.String())
	if err != nil || back.Right.Cmp(q.Right) != 0 || back.Wrong.Cmp(q.Wrong) != 0 {
		t.Errorf("ParseQuality(%q) = %v, %v", q, back, err)
	}
	// The population's own weight is its ordinary votes: gold answers, on
	// the whole, neither add nor take away.
	if w := q.Weight(ledger.Tally{Votes: 970, Gold: 30, Correct: 27}); w.Cmp(big.NewRat(970, 1)) != 0 {
		t.Errorf("population weight %v, want 970", w)
	}
	for _, pop := range []ledger.Tally{{Votes: 10}, {Votes: 10, Gold: 3}, {Gold: 3, Correct: 3}} {
		if q := ledger.NewQuality(pop, half); q.Right.Sign() != 0 || q.Wrong.Sign() != 0 {
			t.Errorf("population %+v: gold answers are worth %v, want 0 (no measure)", pop, q)
		}
	}
	if _, err := ledger.ParseQuality("value vote 1 right x wrong 1"); err == nil {
		t.Error("ParseQuality accepted a value that is not a number")
	}
	for _, tc := range []struct {
		v    *big.Rat
		want int64
	}{{big.NewRat(1, 1), 10}, {big.NewRat(97, 54), 18}, {big.NewRat(-97, 6), -162}, {big.NewRat(3, 20), 2}, {big.NewRat(-3, 20), -2}} {
		if got := ledger.PointsOf(tc.v); got != tc.want {
			t.Errorf("PointsOf(%v) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

// TestQualitySplit: a contributor's weight is the sum of their parts'
// weights however the votes are split, unless a part's would be below 0;
// a split never lowers the weight.
func TestQualitySplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	q := ledger.NewQuality(ledger.Tally{Votes: 97_000, Gold: 3000, Correct: 2550}, big.NewRat(1, 2))
	exact := 0
	for range 2000 {
		var whole ledger.Tally
		parts := make([]ledger.Tally, 10)
		acc := rng.Float64()
		for range 20 + rng.IntN(400) {
			p := &parts[rng.IntN(10)]
			switch r := rng.Float64(); {
			case r < 0.03 && rng.Float64() < acc:
				p.Gold++
				p.Correct++
			case r < 0.03:
				p.Gold++
			default:
				p.Votes++
			}
		}
		sum := new(big.Rat)
		clipped := false
		for _, p := range parts {
			whole.Add(p)
			sum.Add(sum, q.Weight(p))
			raw := new(big.Rat).Add(new(big.Rat).SetInt64(p.Votes), new(big.Rat).Mul(q.Right, big.NewRat(p.Correct, 1)))
			raw.Add(raw, new(big.Rat).Mul(q.Wrong, big.NewRat(p.Gold-p.Correct, 1)))
			clipped = clipped || raw.Sign() < 0
		}
		w := q.Weight(whole)
		switch c := sum.Cmp(w); {
		case c < 0:
			t.Fatalf("split %+v weighs %v, less than the whole %+v's %v", parts, sum, whole, w)
		case c > 0 && !clipped:
			t.Fatalf("split %+v weighs %v, more than the whole %+v's %v, with no part below 0", parts, sum, whole, w)
		case c == 0:
			exact++
		}
	}
	t.Logf("%d of 2000 random splits (accuracy uniform in 0–1) weigh exactly the whole", exact)
}
