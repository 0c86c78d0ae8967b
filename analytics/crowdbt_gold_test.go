package analytics

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// goldResults simulates every contributor of d answering perContributor
// gold battles: honest voters pick the right side 97% of the time, random
// clickers half the time, flippers 5% of the time.
func goldResults(d *Dataset, perContributor int, seed uint64) map[string]GoldResult {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := map[string]GoldResult{}
	for _, name := range d.contributor.sym.names {
		p := 0.97
		switch {
		case strings.HasPrefix(name, "random-"):
			p = 0.5
		case strings.HasPrefix(name, "flipper-"):
			p = 0.05
		}
		g := GoldResult{Total: perContributor}
		for range perContributor {
			if rng.Float64() < p {
				g.Correct++
			}
		}
		out[name] = g
	}
	return out
}

// TestGoldPriorImprovesCrowdBT: where bad voters also fail gold battles,
// gold accuracy as the prior for η finds the bad voters that a few votes
// each cannot expose, and the ranking agrees with the truth better than
// without the prior.
func TestGoldPriorImprovesCrowdBT(t *testing.T) {
	ctx := context.Background()
	var sumPlain, sumNone, sumGold float64
	better := 0
	const seeds = 8
	for seed := range uint64(seeds) {
		c := newCrowd(40, 200, seed)
		d := c.votes(400, 20, 0.20, 0.05, seed)
		plain, none := plainAndReliable(t, d)
		gold, err := Compute(ctx, d, Options{Weighting: WeightingReliability,
			Reliability: ReliabilityOptions{Gold: goldResults(d, 12, seed)}})
		if err != nil {
			t.Fatal(err)
		}
		found, wrong := unreliable(t, d, ReliabilityOptions{Gold: goldResults(d, 12, seed)})
		if wrong != 0 {
			t.Errorf("seed %d: %d honest contributors found unreliable with the gold prior", seed, wrong)
		}
		tp, tn, tg := c.tau(plain), c.tau(none), c.tau(gold)
		sumPlain, sumNone, sumGold = sumPlain+tp, sumNone+tn, sumGold+tg
		if tg > tn {
			better++
		}
		t.Logf("seed %d: Kendall τ plain %.3f, reliability %.3f (%d unreliable), with the gold prior %.3f (%d of 100 bad voters found)",
			seed, tp, tn, none.Reliability.Unreliable, tg, found)
	}
	mp, mn, mg := sumPlain/seeds, sumNone/seeds, sumGold/seeds
	t.Logf("mean Kendall τ over %d seeds: plain %.3f, reliability %.3f, with the gold prior %.3f; the prior ahead in %d", seeds, mp, mn, mg, better)
	if better < seeds-1 || mg <= mn {
		t.Errorf("gold prior ahead in %d of %d seeds, mean τ %.3f vs %.3f without; want ahead in ≥ %d", better, seeds, mg, mn, seeds-1)
	}
}

// unreliable fits d with o and returns how many bad voters (random
// clickers, flippers) and how many honest ones have an η below 1.
func unreliable(t *testing.T, d *Dataset, o ReliabilityOptions) (bad, honest int) {
	t.Helper()
	var f Filter
	sel := f.compile(d)
	c := d.count(&sel)
	cc, err := crowdCellsOf(d, &sel, c)
	if err != nil {
		t.Fatal(err)
	}
	fit, err := fitCrowd(context.Background(), c.N(), cc, 0, 1e-8, o.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range fit.Contributors {
		switch {
		case r.Eta == 1:
		case strings.HasPrefix(r.Contributor, "honest-"):
			honest++
		default:
			bad++
		}
	}
	return bad, honest
}

// TestGoldPriorAloneLowersEta: a contributor who picked the wrong side of
// all 20 gold battles gets a low η from five ordinary votes that look
// honest, and keeps η = 1 without the gold results.
func TestGoldPriorAloneLowersEta(t *testing.T) {
	c := newCrowd(10, 200, 3)
	d := c.votes(100, 30, 0, 0, 3)
	for v := range 5 {
		d.Add(Battle{ModelA: c.models[v], ModelB: c.models[v+1], Winner: rlhfWinner(c.truth[v] > c.truth[v+1]), Contributor: "gold-failer"})
	}
	for _, tc := range []struct {
		gold    map[string]GoldResult
		wantLow bool
	}{
		{nil, false},
		{map[string]GoldResult{"gold-failer": {Correct: 0, Total: 20}, "honest-1": {Correct: 20, Total: 20}}, true},
	} {
		lb, err := Compute(context.Background(), d, Options{Weighting: WeightingReliability, Reliability: ReliabilityOptions{Gold: tc.gold}})
		if err != nil {
			t.Fatal(err)
		}
		eta := 1.0
		for _, r := range lb.Reliability.Worst {
			if r.Contributor == "gold-failer" {
				eta = r.Eta
			}
		}
		t.Logf("gold %v: η of gold-failer %.3f", tc.gold, eta)
		if low := eta < 0.25; low != tc.wantLow || lb.Reliability.Unreliable != btoi(tc.wantLow) {
			t.Errorf("gold %v: η of gold-failer = %.3f, %d unreliable; want low %v and only them", tc.gold, eta, lb.Reliability.Unreliable, tc.wantLow)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rlhfWinner is A when aWins, else B.
func rlhfWinner(aWins bool) rlhf.Winner {
	if aWins {
		return rlhf.WinnerA
	}
	return rlhf.WinnerB
}

// TestGoldPriorBadInput: a gold result with more right answers than
// battles is an error, not a fit.
func TestGoldPriorBadInput(t *testing.T) {
	d := newCrowd(4, 200, 1).votes(10, 10, 0, 0, 1)
	_, err := Compute(context.Background(), d, Options{Weighting: WeightingReliability,
		Reliability: ReliabilityOptions{Gold: map[string]GoldResult{"x": {Correct: 3, Total: 2}}}})
	if err == nil || !strings.Contains(err.Error(), "3 correct of 2") {
		t.Errorf("Compute with 3 correct of 2 gold battles: error %v", err)
	}
}
