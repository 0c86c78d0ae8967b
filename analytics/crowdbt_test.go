package analytics

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// crowd is a simulated crowd: models of known strength and contributors
// who are honest Bradley–Terry voters, random clickers or flippers.
type crowd struct {
	truth  []float64 // rating points
	models []string
}

func newCrowd(models int, spread float64, seed uint64) *crowd {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := &crowd{}
	for i := range models {
		c.models = append(c.models, fmt.Sprintf("m%02d", i))
		c.truth = append(c.truth, spread*rng.NormFloat64())
	}
	return c
}

// votes returns a dataset of contributors × perContributor votes; the
// first random share of contributors click at random, the next flip
// shares vote against their preference.
func (c *crowd) votes(contributors, perContributor int, random, flip float64, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	var d Dataset
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for k := range contributors {
		kind := "honest"
		switch f := float64(k) / float64(contributors); {
		case f < random:
			kind = "random"
		case f < random+flip:
			kind = "flipper"
		}
		for v := range perContributor {
			a := rng.IntN(len(c.models))
			b := rng.IntN(len(c.models) - 1)
			if b >= a {
				b++
			}
			p := 1 / (1 + math.Pow(10, (c.truth[b]-c.truth[a])/400))
			aWins := rng.Float64() < p
			switch kind {
			case "random":
				aWins = rng.IntN(2) == 0
			case "flipper":
				aWins = !aWins
			}
			w := rlhf.WinnerB
			if aWins {
				w = rlhf.WinnerA
			}
			d.Add(Battle{ModelA: c.models[a], ModelB: c.models[b], Winner: w,
				Contributor: fmt.Sprintf("%s-%d", kind, k), Time: t0.Add(time.Duration(k*perContributor+v) * time.Second)})
		}
	}
	return &d
}

// tau returns Kendall's τ between a leaderboard and the truth.
func (c *crowd) tau(lb *Leaderboard) float64 {
	var got, want []float64
	for _, row := range lb.Models {
		for i, m := range c.models {
			if m == row.Model {
				got, want = append(got, row.Rating), append(want, c.truth[i])
			}
		}
	}
	return KendallTau(got, want)
}

// TestCrowdBTBeatsPlain: with 20% random clickers and 5% flippers, the
// reliability-weighted ranking agrees with the truth better than plain
// Bradley–Terry's in nearly every seed, and closes at least half of the gap
// to an oracle that knows who the bad voters are and drops them.
func TestCrowdBTBeatsPlain(t *testing.T) {
	ctx := context.Background()
	var sumPlain, sumCrowd, sumOracle float64
	wins := 0
	const seeds = 8
	for seed := range uint64(seeds) {
		c := newCrowd(40, 200, seed)
		d := c.votes(100, 120, 0.20, 0.05, seed)
		plain, rel := plainAndReliable(t, d)
		oracle, err := Compute(ctx, d, Options{Filter: Filter{ExcludeContributors: badVoters(d)}})
		if err != nil {
			t.Fatal(err)
		}
		tp, tc, to := c.tau(plain), c.tau(rel), c.tau(oracle)
		sumPlain, sumCrowd, sumOracle = sumPlain+tp, sumCrowd+tc, sumOracle+to
		if tc > tp {
			wins++
		}
		t.Logf("seed %d: Kendall τ plain %.3f, reliability %.3f, oracle %.3f; %d contributors unreliable (%d flippers)",
			seed, tp, tc, to, rel.Reliability.Unreliable, rel.Reliability.Flippers)
	}
	mp, mc, mo := sumPlain/seeds, sumCrowd/seeds, sumOracle/seeds
	t.Logf("mean Kendall τ over %d seeds: plain %.3f, reliability %.3f, oracle %.3f; reliability ahead in %d", seeds, mp, mc, mo, wins)
	if wins < seeds-1 || mc-mp < (mo-mp)/2 {
		t.Errorf("reliability ahead of plain in %d of %d seeds, mean τ %.3f vs plain %.3f (oracle %.3f); want ahead in ≥ %d and at least half the oracle's gain",
			wins, seeds, mc, mp, mo, seeds-1)
	}
}

// plainAndReliable computes d's plain and reliability-weighted boards.
func plainAndReliable(t *testing.T, d *Dataset) (plain, rel *Leaderboard) {
	t.Helper()
	var err error
	if plain, err = Compute(context.Background(), d, Options{}); err != nil {
		t.Fatal(err)
	}
	if rel, err = Compute(context.Background(), d, Options{Weighting: WeightingReliability}); err != nil {
		t.Fatal(err)
	}
	return plain, rel
}

// badVoters returns the simulated random clickers and flippers of d.
func badVoters(d *Dataset) []string {
	var out []string
	for _, name := range d.contributor.sym.names {
		if strings.HasPrefix(name, "random-") || strings.HasPrefix(name, "flipper-") {
			out = append(out, name)
		}
	}
	return out
}

// TestCrowdBTEqualsPlainWithoutBadVoters: honest voters only, the
// reliability-weighted ratings are plain Bradley–Terry's to 1e-6.
func TestCrowdBTEqualsPlainWithoutBadVoters(t *testing.T) {
	c := newCrowd(20, 150, 7)
	d := c.votes(500, 40, 0, 0, 7)
	plain, rel := plainAndReliable(t, d)
	if rel.Reliability.Unreliable != 0 {
		t.Errorf("%d honest contributors found unreliable: %+v", rel.Reliability.Unreliable, rel.Reliability.Worst)
	}
	for i, row := range rel.Models {
		if p := plain.Models[i]; row.Model != p.Model || math.Abs(row.Rating-p.Rating) > 1e-6 || *row.UnadjustedRating != p.Rating {
			t.Errorf("row %d: reliability %s %.9f (plain column %.9f), plain %s %.9f", i, row.Model, row.Rating, *row.UnadjustedRating, p.Model, p.Rating)
		}
	}
}

// BenchmarkCrowdBT is the reliability-weighted fit of a million votes from
// 10,000 contributors (20% random clickers, 5% flippers) among 50 models,
// without intervals, beside the plain fit of the same votes, and with
// every contributor's gold results as the prior for η. Goal: ≤ 5 s per
// fit on 2 cores.
func BenchmarkCrowdBT(b *testing.B) {
	d := newCrowd(50, 200, 1).votes(10000, 100, 0.20, 0.05, 1)
	ctx := context.Background()
	gold := goldResults(d, 3, 1) // 3 gold battles per 100 votes, the default share
	for _, bc := range []struct {
		name string
		opt  Options
	}{
		{WeightingPlain, Options{}},
		{WeightingReliability, Options{Weighting: WeightingReliability}},
		{"reliability-gold", Options{Weighting: WeightingReliability, Reliability: ReliabilityOptions{Gold: gold}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Compute(ctx, d, bc.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
