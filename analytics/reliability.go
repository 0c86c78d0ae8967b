package analytics

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
)

// ReliabilityReport summarizes a reliability-weighted fit in the
// leaderboard JSON.
type ReliabilityReport struct {
	Iterations   int     `json:"iterations"` // EM iterations
	Contributors int     `json:"contributors"`
	Unreliable   int     `json:"unreliable"` // contributors whose η departs from 1
	Flippers     int     `json:"flippers"`   // of which η < ½
	Capped       int     `json:"capped"`     // contributors whose weight was capped
	Threshold    float64 `json:"threshold"`  // likelihood-ratio statistic above which η departs from 1
	Prior        float64 `json:"prior"`      // the ridge penalty of the weighted fit
	// Worst lists up to 20 contributors with the lowest η.
	Worst []ContributorReliability `json:"worst"`
}

// reliabilityBoard fits crowd Bradley–Terry on the votes of d that sel
// keeps and bootstraps it over contributors. It returns the strengths, the
// bootstrap strengths of every round, and the report.
func reliabilityBoard(ctx context.Context, d *Dataset, sel *selector, c *Counts, prior, tol float64, opt Options) ([]float64, [][]float64, *ReliabilityReport, error) {
	if d == nil {
		return nil, nil, nil, fmt.Errorf("reliability weighting needs the battles, not only their counts")
	}
	o := opt.Reliability.withDefaults()
	for name, g := range o.Gold {
		if g.Correct < 0 || g.Correct > g.Total {
			return nil, nil, nil, fmt.Errorf("reliability weighting: gold result of %q: %d correct of %d", name, g.Correct, g.Total)
		}
	}
	cc, err := crowdCellsOf(d, sel, c)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := fitCrowd(ctx, c.N(), cc, prior, tol, o)
	if err != nil {
		return nil, nil, nil, err
	}
	rep := &ReliabilityReport{Iterations: f.Iterations, Contributors: len(f.Contributors), Threshold: f.Threshold, Prior: f.Prior}
	for _, r := range f.Contributors {
		if r.Eta < 1 {
			rep.Unreliable++
		}
		if r.Eta < 0.5 {
			rep.Flippers++
		}
		if r.Weight < 1 {
			rep.Capped++
		}
	}
	worst := slices.Clone(f.Contributors)
	slices.SortStableFunc(worst, func(x, y ContributorReliability) int {
		switch {
		case x.Eta < y.Eta:
			return -1
		case x.Eta > y.Eta:
			return 1
		}
		return 0
	})
	rep.Worst = worst[:min(20, rep.Unreliable)]
	var rounds [][]float64
	if opt.Rounds > 0 {
		rounds, err = f.bootstrapContributors(ctx, c.N(), opt)
		if err != nil {
			return nil, nil, nil, err
		}
	}
	return f.Beta, rounds, rep, nil
}

// contribution is one contributor's soft counts on one pair.
type contribution struct {
	pair         int32
	winsI, winsJ float64
}

// bootstrapContributors refits the weighted strengths on resamples of the
// contributors (drawn with replacement, each bringing all their votes),
// with every contributor's η and weight kept from the full fit: one heavy
// contributor cannot narrow an interval.
func (f *CrowdFit) bootstrapContributors(ctx context.Context, n int, opt Options) ([][]float64, error) {
	per, pairs := f.contributions(n)
	K := len(per)
	out := make([][]float64, opt.Rounds)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ps := slices.Clone(pairs)
			draws := make([]int32, K)
			for r := range next {
				rng := rand.New(rand.NewPCG(opt.Seed, uint64(r)+0x63726f7764))
				clear(draws)
				for range K {
					draws[rng.IntN(K)]++
				}
				for p := range ps {
					ps[p].WinsI, ps[p].WinsJ = 0, 0
				}
				for k, m := range draws {
					for _, c := range per[k] {
						ps[c.pair].WinsI += float64(m) * c.winsI
						ps[c.pair].WinsJ += float64(m) * c.winsJ
					}
				}
				beta, err := fitRound(n, ps, f.Beta)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				out[r] = beta
				mu.Unlock()
				if opt.Progress != nil {
					opt.Progress("bootstrap", r+1, opt.Rounds)
				}
			}
		}()
	}
	for r := 0; r < opt.Rounds && checkpoint(ctx) == nil; r++ {
		next <- r
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, first
}

// fitRound fits one bootstrap round, with the weak prior when the round's
// resample has no exact estimate.
func fitRound(n int, ps []Pair, start []float64) ([]float64, error) {
	prior := 0.0
	if !Diagnose(n, ps).Exact() {
		prior = DefaultPrior
	}
	fit, err := FitNewton(n, ps, FitOptions{Prior: prior, Start: start, Tol: 1e-7})
	if err != nil {
		return nil, fmt.Errorf("contributor bootstrap: %w", err)
	}
	return fit.Beta, nil
}

// contributions returns each contributor's soft counts at the fit, and the
// pairs they index (with zero counts).
func (f *CrowdFit) contributions(n int) ([][]contribution, []Pair) {
	cc := f.cells
	index := map[int]int32{}
	var pairs []Pair
	per := make([][]contribution, len(cc.contributors))
	for c := range cc.k {
		k, i, j := cc.k[c], int(cc.i[c]), int(cc.j[c])
		p, ok := index[i*n+j]
		if !ok {
			p = int32(len(pairs))
			index[i*n+j] = p
			pairs = append(pairs, Pair{I: i, J: j})
		}
		wi, wj := f.softCell(c, f.Beta)
		if l := len(per[k]); l > 0 && per[k][l-1].pair == p {
			per[k][l-1].winsI += wi
			per[k][l-1].winsJ += wj
			continue
		}
		per[k] = append(per[k], contribution{pair: p, winsI: wi, winsJ: wj})
	}
	return per, pairs
}
