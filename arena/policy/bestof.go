package policy

import (
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
)

// BestOfConfig is a simulation of "best of N identical variants": a lab
// tests Variants copies of one model (all of true rating 1000) unlisted,
// PrivateVotes votes each against reference models of known strength,
// lists the one that scored best and retracts the rest.
type BestOfConfig struct {
	Variants     int
	PrivateVotes int // votes per variant before listing
	FreshVotes   int // votes after listing before the rating is final (the provisional rule)
	RefVotes     int // votes among the reference models
	Runs         int
	Seed         uint64
}

// BestOfResult is the listed variant's published rating minus its true
// rating (1000), over the runs: at listing (no provisional rule) and once
// FreshVotes votes after listing made it final (the rule).
type BestOfResult struct {
	Without, With Spread
}

// Spread summarises an inflation over runs, in rating points.
type Spread struct {
	Mean, Median, P10, P90 float64
}

func (s Spread) String() string {
	return fmt.Sprintf("mean %+.1f, median %+.1f, 10–90%% %+.1f to %+.1f", s.Mean, s.Median, s.P10, s.P90)
}

// refRatings are the true ratings of the reference models.
var refRatings = []float64{900, 950, 1000, 1050, 1100}

// BestOf runs the simulation.
func BestOf(ctx context.Context, cfg BestOfConfig) (BestOfResult, error) {
	rng := mrand.New(mrand.NewPCG(cfg.Seed, 0x5eed))
	var without, with []float64
	for range cfg.Runs {
		w, f, err := bestOfRun(ctx, cfg, rng)
		if err != nil {
			return BestOfResult{}, err
		}
		without, with = append(without, w-1000), append(with, f-1000)
	}
	return BestOfResult{Without: spread(without), With: spread(with)}, nil
}

// bestOfRun returns the listed variant's rating at listing and once final.
func bestOfRun(ctx context.Context, cfg BestOfConfig, rng *mrand.Rand) (atListing, final float64, err error) {
	var refs []analytics.Battle
	for range cfg.RefVotes {
		i, j := rng.IntN(len(refRatings)), rng.IntN(len(refRatings)-1)
		if j >= i {
			j++
		}
		refs = append(refs, duel(rng, refName(i), refRatings[i], refName(j), refRatings[j]))
	}
	private := make([][]analytics.Battle, cfg.Variants)
	for v := range private {
		private[v] = against(rng, fmt.Sprintf("variant-%d", v), cfg.PrivateVotes)
	}
	// The lab sees every variant's rating (all fitted together) and lists the best.
	all := slices.Clone(refs)
	for _, p := range private {
		all = append(all, p...)
	}
	ratings, err := fitRatings(ctx, all)
	if err != nil {
		return 0, 0, err
	}
	best := 0
	for v := range private {
		if ratings[fmt.Sprintf("variant-%d", v)] > ratings[fmt.Sprintf("variant-%d", best)] {
			best = v
		}
	}
	name := fmt.Sprintf("variant-%d", best)
	kept := append(slices.Clone(refs), private[best]...) // the others retracted
	if ratings, err = fitRatings(ctx, kept); err != nil {
		return 0, 0, err
	}
	atListing = ratings[name]
	kept = append(kept, against(rng, name, cfg.FreshVotes)...)
	if ratings, err = fitRatings(ctx, kept); err != nil {
		return 0, 0, err
	}
	return atListing, ratings[name], nil
}

func refName(i int) string { return fmt.Sprintf("ref-%d", i) }

// against returns n battles of model (true rating 1000) against random
// reference models.
func against(rng *mrand.Rand, model string, n int) []analytics.Battle {
	out := make([]analytics.Battle, 0, n)
	for range n {
		i := rng.IntN(len(refRatings))
		out = append(out, duel(rng, model, 1000, refName(i), refRatings[i]))
	}
	return out
}

// duel is one battle decided by the Bradley–Terry probability of the true
// ratings (no ties).
func duel(rng *mrand.Rand, a string, ra float64, b string, rb float64) analytics.Battle {
	w := rlhf.WinnerB
	if rng.Float64() < 1/(1+math.Pow(10, (rb-ra)/400)) {
		w = rlhf.WinnerA
	}
	return analytics.Battle{ModelA: a, ModelB: b, Winner: w}
}

// fitRatings fits Bradley–Terry, anchored so that ref-2 is 1000, its true
// rating.
func fitRatings(ctx context.Context, battles []analytics.Battle) (map[string]float64, error) {
	var d analytics.Dataset
	for _, b := range battles {
		if err := d.Add(b); err != nil {
			return nil, err
		}
	}
	opt := analytics.DefaultOptions()
	opt.Rounds, opt.Matrices, opt.Anchor, opt.AnchorRating = 0, false, refName(2), 1000
	lb, err := analytics.Compute(ctx, &d, opt)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(lb.Models))
	for _, r := range lb.Models {
		out[r.Model] = r.Rating
	}
	return out, nil
}

func spread(xs []float64) Spread {
	s := slices.Sorted(slices.Values(xs))
	q := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	sum := 0.0
	for _, x := range s {
		sum += x
	}
	return Spread{Mean: sum / float64(len(s)), Median: q(0.5), P10: q(0.1), P90: q(0.9)}
}
