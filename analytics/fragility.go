package analytics

import (
	"cmp"
	"context"
	"math"
	"slices"
)

// Fragility is the leaderboard's fragility audit: how few votes decide its
// order. Bootstrap intervals do not show this, because they resample; they
// do not remove the worst votes (Huang, Shen, Wei, Broderick 2025).
type Fragility struct {
	// Pairs has one entry per pair of models adjacent in rating order.
	Pairs []FragilePair `json:"pairs"`
	// Leader is the share of the leader's margin over the runner-up owed
	// to the top 1% of contributors by votes.
	Leader *LeaderShare `json:"leader,omitempty"`
}

// FragilePair is how many votes keep one model above the next.
type FragilePair struct {
	Upper  string  `json:"upper"`
	Lower  string  `json:"lower"`
	Margin float64 `json:"margin"` // rating points
	// VotesToSwap is the fewest votes found whose removal puts Lower above
	// Upper, confirmed by an exact refit; -1 when removing every vote that
	// helps Upper does not swap them.
	VotesToSwap int `json:"votes_to_swap"`
	// Approximate is the influence estimate the search started from.
	Approximate int `json:"approximate"`
}

// LeaderShare is what the most active contributors owe the leader.
type LeaderShare struct {
	Contributors  int      `json:"contributors"` // the top 1% (at least one)
	Votes         int64    `json:"votes"`
	Margin        float64  `json:"margin"`         // leader − runner-up, rating points
	MarginWithout *float64 `json:"margin_without"` // the same without their votes (null when a model has no other votes)
	Share         float64  `json:"share"`          // (Margin − MarginWithout)/Margin
}

// removal is one (pair, outcome) cell of votes, with the change in the
// audited margin (natural-log strengths) that removing one of its votes
// makes, to first order.
type removal struct {
	pair  int
	kind  uint8 // 0 a win of I, 1 a win of J, 2 a tie
	votes int64
	delta float64
}

// votesToSwap returns the fewest votes whose removal puts model lower
// above model upper in the fit of pairs, and the influence estimate. The
// influence of one vote on Δ = β_upper − β_lower is −(y − σ)(u_a − u_b),
// u = H⁻¹(e_upper − e_lower) (the approximate maximum influence
// perturbation); the votes are removed in order of influence, and the
// smallest prefix that swaps the pair is found by exact refits.
func votesToSwap(n int, pairs []Pair, fit *Fit, chol []float64, upper, lower int) (exact, approx int) {
	beta := fit.Beta
	margin := beta[upper] - beta[lower]
	if margin <= 0 {
		return 0, 0
	}
	u := make([]float64, n)
	u[upper], u[lower] = 1, -1
	cholSolve(chol, n, u)
	var cells []removal
	for p, pr := range pairs {
		s := sigmoid(beta[pr.I] - beta[pr.J])
		du := u[pr.I] - u[pr.J]
		for kind, c := range [3]float64{pr.WinsI, pr.WinsJ, pr.Ties} {
			y := [3]float64{1, 0, 0.5}[kind]
			if d := -(y - s) * du; c > 0 && d < 0 {
				cells = append(cells, removal{pair: p, kind: uint8(kind), votes: int64(c), delta: d})
			}
		}
	}
	slices.SortFunc(cells, func(x, y removal) int { return cmp.Compare(x.delta, y.delta) })
	var total int64
	sum := 0.0
	approx = -1
	for _, c := range cells {
		if approx < 0 && sum+float64(c.votes)*c.delta <= -margin {
			approx = int(total + int64(math.Ceil((-margin-sum)/c.delta)))
		}
		sum += float64(c.votes) * c.delta
		total += c.votes
	}
	swaps := func(m int64) bool { return swapsAfter(n, pairs, fit, cells, m, upper, lower) }
	if total == 0 || !swaps(total) {
		return -1, approx
	}
	lo, hi := int64(0), total // swaps(hi) holds; swaps(lo) does not (margin > 0)
	if approx > 0 && int64(approx) < total {
		if swaps(int64(approx)) {
			hi = int64(approx)
		} else {
			lo = int64(approx)
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if swaps(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return int(hi), approx
}

// swapsAfter reports whether removing the first m votes of cells (in
// order) and refitting puts lower at or above upper.
func swapsAfter(n int, pairs []Pair, fit *Fit, cells []removal, m int64, upper, lower int) bool {
	ps := slices.Clone(pairs)
	for _, c := range cells {
		if m <= 0 {
			break
		}
		k := min(m, c.votes)
		m -= k
		ps[c.pair].remove(c.kind, float64(k))
	}
	beta, err := refit(n, ps, fit)
	return err == nil && beta[lower] >= beta[upper]
}

// remove takes k votes of outcome kind (0 a win of I, 1 of J, 2 a tie)
// out of p.
func (p *Pair) remove(kind uint8, k float64) {
	switch kind {
	case 0:
		p.WinsI -= k
	case 1:
		p.WinsJ -= k
	default:
		p.Ties -= k
	}
}

// refit fits pairs from fit's solution, with fit's prior, or the weak
// prior when the exact estimate no longer exists.
func refit(n int, ps []Pair, fit *Fit) ([]float64, error) {
	prior := fit.Prior
	if prior == 0 && !Diagnose(n, ps).Exact() {
		prior = DefaultPrior
	}
	f, err := FitNewton(n, ps, FitOptions{Prior: prior, Start: fit.Beta})
	if err != nil {
		return nil, err
	}
	return f.Beta, nil
}

// negHessian returns the Cholesky factor of the negative Hessian of the
// log-likelihood at fit (made definite on the mean-zero gauge as the
// solver does).
func negHessian(n int, pairs []Pair, fit *Fit) ([]float64, error) {
	g := make([]float64, n)
	h := make([]float64, n*n)
	gradHess(fit.Beta, pairs, fit.Prior, g, h)
	if fit.Prior == 0 {
		gauge(h, n)
	}
	return h, cholesky(h, n)
}

// leaderShare returns what the top 1% of contributors (by votes among the
// battles sel keeps) owe the leader's margin over the runner-up in the
// fit: the margin refitted without their votes.
func leaderShare(d *Dataset, sel *selector, c *Counts, fit *Fit, order []int) *LeaderShare {
	if len(order) < 2 || d.contributor.ids == nil {
		return nil
	}
	votes := make([]int64, len(d.contributor.sym.names))
	all := sel.all()
	for v := range d.a {
		if all || sel.keep(d, v) {
			votes[d.contributor.at(v)]++
		}
	}
	ids := make([]int, 0, len(votes))
	for id, n := range votes {
		if n > 0 {
			ids = append(ids, id)
		}
	}
	slices.SortStableFunc(ids, func(x, y int) int { return cmp.Compare(float64(votes[y]), float64(votes[x])) })
	top := max(1, len(ids)/100)
	without := *sel
	without.exclude = slices.Clone(sel.exclude)
	if without.exclude == nil {
		without.exclude = make([]bool, len(votes))
	}
	ls := &LeaderShare{Contributors: top}
	for _, id := range ids[:top] {
		without.exclude[id] = true
		ls.Votes += votes[id]
	}
	lead, second := c.Models[order[0]], c.Models[order[1]]
	ls.Margin = ratingScale * (fit.Beta[order[0]] - fit.Beta[order[1]])
	c2 := d.count(&without)
	i, j := c2.Index(lead), c2.Index(second)
	if i < 0 || j < 0 {
		ls.Share = 1
		return ls
	}
	f2, err := refit(c2.N(), c2.Pairs(), &Fit{Beta: make([]float64, c2.N())})
	if err != nil {
		return nil
	}
	m := ratingScale * (f2[i] - f2[j])
	ls.MarginWithout = &m
	if ls.Margin > 0 {
		ls.Share = (ls.Margin - m) / ls.Margin
	}
	return ls
}

// fragility audits the adjacent pairs of order (model indexes in rating
// order) in the fit of pairs.
func fragility(ctx context.Context, c *Counts, pairs []Pair, fit *Fit, order []int) (*Fragility, error) {
	n := c.N()
	fr := &Fragility{Pairs: []FragilePair{}}
	chol, err := negHessian(n, pairs, fit)
	if err != nil {
		return nil, err
	}
	for r := 0; r+1 < len(order); r++ {
		if err := checkpoint(ctx); err != nil {
			return nil, err
		}
		up, lo := order[r], order[r+1]
		exact, approx := votesToSwap(n, pairs, fit, chol, up, lo)
		fr.Pairs = append(fr.Pairs, FragilePair{Upper: c.Models[up], Lower: c.Models[lo],
			Margin: ratingScale * (fit.Beta[up] - fit.Beta[lo]), VotesToSwap: exact, Approximate: approx})
	}
	return fr, nil
}
