package analytics

import (
	"context"
	"fmt"
	"math"
	"slices"
)

// Weighting names how votes are weighted in a leaderboard.
const (
	WeightingPlain       = "plain"       // every counted vote weighs one (Chatbot Arena's convention)
	WeightingReliability = "reliability" // crowd Bradley–Terry: votes weighted by their contributor's reliability
)

// ReliabilityOptions controls the crowd Bradley–Terry fit (Chen et al.,
// WSDM 2013): contributor k reports "i beats j" with probability
// η_k·σ(s_i−s_j) + (1−η_k)·σ(s_j−s_i). An η near ½ is a random clicker, an
// η below ½ flips votes. The zero value uses the defaults below.
type ReliabilityOptions struct {
	// Threshold is the likelihood-ratio statistic 2·(ℓ(η̂)−ℓ(1)) above which
	// a contributor's η departs from 1: below it the contributor counts as
	// an ordinary honest voter. Zero means the statistic that a crowd of
	// honest contributors exceeds with probability FamilyAlpha (about
	// χ²₁ at 2·FamilyAlpha/contributors).
	Threshold   float64
	FamilyAlpha float64 // zero means 0.01
	// Gold holds contributors' gold-battle results (the store's
	// GoldScores), the prior for each contributor's η: the η update
	// maximizes the votes' log-likelihood plus log π_k(η), where π_k is
	// the Beta(1+correct, 1+wrong) posterior of gold accuracy (a uniform
	// Beta(1, 1) prior, as GoldScores' estimate) carried over to η by
	// accuracy = (1−g) + (2g−1)·η, g = GoldAgreement: the right side of a
	// gold battle is an outcome of model probability g, so an honest voter
	// (η = 1) is right with probability g and a flipper (η = 0) with 1−g.
	// The prior also counts in the likelihood-ratio test, so a contributor
	// who fails gold is found from few ordinary votes, while one with no
	// gold result (π_k flat) is fitted from their votes alone.
	Gold map[string]GoldResult
	// MaxContributorShare caps one contributor's total weight at this share
	// of all votes (but never below MinCap votes); zero means 0.01,
	// negative means no cap.
	MaxContributorShare float64
	// Clusters maps contributors to a cluster (same address, same agent,
	// …); MaxClusterShare caps a cluster's total weight likewise. Zero
	// means 0.02.
	Clusters        map[string]string
	MaxClusterShare float64
	// MinCap is the least weight a cap allows; zero means 50 votes.
	MinCap  float64
	MaxIter int // EM iterations; zero means 500
}

// GoldResult is a contributor's record on gold battles.
type GoldResult struct{ Correct, Total int }

// lrThreshold returns the likelihood-ratio statistic that any of k honest
// contributors exceeds with probability alpha. On the boundary η = 1 the
// statistic is ½χ²₀ + ½χ²₁, so each may exceed it with probability α/k
// when P(χ²₁ > x) = 2α/k.
func lrThreshold(alpha float64, k int) float64 {
	p := min(2*alpha/float64(max(k, 1)), 1)
	e := math.Erfinv(1 - p)
	return 2 * e * e
}

// GoldAgreement is how often an honest contributor picks the right side of
// a gold battle.
const GoldAgreement = 0.95

func (o *ReliabilityOptions) withDefaults() ReliabilityOptions {
	r := *o
	if r.FamilyAlpha == 0 {
		r.FamilyAlpha = 0.01
	}
	if r.MaxContributorShare == 0 {
		r.MaxContributorShare = 0.01
	}
	if r.MaxClusterShare == 0 {
		r.MaxClusterShare = 0.02
	}
	if r.MinCap == 0 {
		r.MinCap = 50
	}
	if r.MaxIter == 0 {
		r.MaxIter = 500
	}
	return r
}

// crowdCells are a selection's votes grouped by (contributor, pair,
// outcome), sorted by contributor. i < j index the Counts' models; kind 0
// is a win of i, 1 a win of j, 2 a tie.
type crowdCells struct {
	k, i, j      []int32
	kind         []uint8
	count        []float64
	contributors []string // by k
	start        []int    // contributor k's cells are [start[k], start[k+1])
}

// crowdCellsOf groups the votes of d that sel keeps; c gives the models.
func crowdCellsOf(d *Dataset, sel *selector, c *Counts) (*crowdCells, error) {
	if len(c.Models) >= 1<<14 {
		return nil, fmt.Errorf("reliability weighting: %d models, at most %d", len(c.Models), 1<<14-1)
	}
	keys := make([]uint64, 0, c.Battles)
	all := sel.all()
	for v := range d.a {
		if !all && !sel.keep(d, v) {
			continue
		}
		a, b := uint64(c.ids[d.a[v]]), uint64(c.ids[d.b[v]])
		kind := uint64(2)
		switch d.w[v] {
		case outA:
			kind = 0
		case outB:
			kind = 1
		}
		if a > b {
			a, b = b, a
			if kind < 2 {
				kind = 1 - kind
			}
		}
		keys = append(keys, uint64(d.contributor.at(v))<<30|a<<16|b<<2|kind)
	}
	slices.Sort(keys)
	cc := &crowdCells{}
	local := map[uint64]int32{} // dataset contributor id → k
	for n, key := range keys {
		if n > 0 && key == keys[n-1] {
			cc.count[len(cc.count)-1]++
			continue
		}
		id := key >> 30
		k, ok := local[id]
		if !ok {
			k = int32(len(cc.contributors))
			local[id] = k
			cc.contributors = append(cc.contributors, contributorName(d, int32(id)))
			cc.start = append(cc.start, len(cc.k))
		}
		cc.k = append(cc.k, k)
		cc.i = append(cc.i, int32(key>>16&(1<<14-1)))
		cc.j = append(cc.j, int32(key>>2&(1<<14-1)))
		cc.kind = append(cc.kind, uint8(key&3))
		cc.count = append(cc.count, 1)
	}
	cc.start = append(cc.start, len(cc.k))
	return cc, nil
}

// contributorName returns the name of a dataset contributor id ("" when
// the dataset has no contributors).
func contributorName(d *Dataset, id int32) string {
	if int(id) < len(d.contributor.sym.names) {
		return d.contributor.sym.names[id]
	}
	return ""
}

// CrowdFit is a crowd Bradley–Terry fit.
type CrowdFit struct {
	Beta       []float64 // natural-log strengths, indexed like the Counts' models
	Iterations int
	Prior      float64
	Threshold  float64 // the likelihood-ratio threshold used
	// Contributors' reliabilities and weights, in contributor order.
	Contributors []ContributorReliability
	cells        *crowdCells
	eta, weight  []float64
}

// ContributorReliability is one contributor's fitted reliability.
type ContributorReliability struct {
	Contributor string  `json:"contributor"`
	Votes       float64 `json:"votes"`
	Eta         float64 `json:"eta"`    // P(votes as an honest voter would); 1 unless the evidence says otherwise
	Weight      float64 `json:"weight"` // per-vote weight after the caps
	LR          float64 `json:"lr"`     // likelihood-ratio statistic of η̂ against 1
}

// fitCrowd fits strengths and reliabilities jointly by EM: the E-step
// gives each vote the probability that it was cast honestly, the M-step
// refits Bradley–Terry on the resulting soft counts (Newton, warm
// started) and each contributor's η (Newton on a concave log-likelihood,
// kept at 1 unless the likelihood-ratio test rejects it).
func fitCrowd(ctx context.Context, n int, cc *crowdCells, prior, tol float64, o ReliabilityOptions) (*CrowdFit, error) {
	K := len(cc.contributors)
	if o.Threshold == 0 {
		o.Threshold = lrThreshold(o.FamilyAlpha, K)
	}
	f := &CrowdFit{cells: cc, Prior: prior, Threshold: o.Threshold, eta: make([]float64, K), weight: capWeights(cc, o)}
	etaHat := make([]float64, K)
	lr := make([]float64, K)
	prob := make([]float64, n*n)
	var obs []etaObs
	for k := range f.eta {
		f.eta[k], etaHat[k] = 1, 1
	}
	var beta []float64
	for it := 0; ; it++ {
		if err := checkpoint(ctx); err != nil {
			return nil, err
		}
		pairs := f.softPairs(n, beta)
		fit, err := FitNewton(n, pairs, FitOptions{Tol: tol, Prior: f.Prior, Start: beta})
		if err != nil && f.Prior == 0 {
			// Votes counted reversed or at no weight can leave a model
			// without wins: the exact estimate no longer exists.
			f.Prior = DefaultPrior
			fit, err = FitNewton(n, pairs, FitOptions{Tol: tol, Prior: f.Prior, Start: beta})
		}
		if err != nil {
			return nil, fmt.Errorf("reliability weighting: %w", err)
		}
		moved := 0.0
		for i := range fit.Beta {
			if beta != nil {
				moved = max(moved, math.Abs(fit.Beta[i]-beta[i]))
			}
		}
		beta = fit.Beta
		winProbs(prob, beta)
		changed := 0.0
		for k := range K {
			old := f.eta[k]
			obs = f.observations(obs[:0], k, prob, n, &o)
			etaHat[k], lr[k] = fitEta(obs, etaHat[k])
			f.eta[k] = 1
			if lr[k] > o.Threshold {
				f.eta[k] = etaHat[k]
			}
			changed = max(changed, math.Abs(f.eta[k]-old))
		}
		f.Iterations = it + 1
		if it > 0 && moved < 1e-9 && changed < 1e-8 || changed == 0 && it == 0 {
			break
		}
		if it >= o.MaxIter {
			return nil, fmt.Errorf("reliability weighting: %w after %d EM iterations", ErrNoConvergence, it)
		}
	}
	f.Beta = beta
	for k, name := range cc.contributors {
		var votes float64
		for c := cc.start[k]; c < cc.start[k+1]; c++ {
			votes += cc.count[c]
		}
		f.Contributors = append(f.Contributors, ContributorReliability{
			Contributor: name, Votes: votes, Eta: f.eta[k], Weight: f.weight[k], LR: lr[k]})
	}
	return f, nil
}

// capWeights returns each contributor's per-vote weight: 1, scaled down so
// that no contributor and no cluster weighs more than its cap.
func capWeights(cc *crowdCells, o ReliabilityOptions) []float64 {
	K := len(cc.contributors)
	w := make([]float64, K)
	votes := make([]float64, K)
	var total float64
	for k := range K {
		for c := cc.start[k]; c < cc.start[k+1]; c++ {
			votes[k] += cc.count[c]
		}
		total += votes[k]
		w[k] = 1
	}
	if o.MaxContributorShare > 0 {
		limit := max(o.MinCap, o.MaxContributorShare*total)
		for k := range K {
			if votes[k] > limit {
				w[k] = limit / votes[k]
			}
		}
	}
	if o.MaxClusterShare > 0 && len(o.Clusters) > 0 {
		limit := max(o.MinCap, o.MaxClusterShare*total)
		mass := map[string]float64{}
		for k, name := range cc.contributors {
			if cl, ok := o.Clusters[name]; ok {
				mass[cl] += w[k] * votes[k]
			}
		}
		for k, name := range cc.contributors {
			if m := mass[o.Clusters[name]]; m > limit {
				w[k] *= limit / m
			}
		}
	}
	return w
}

// softPairs returns the E-step's soft pair counts at beta (nil: every vote
// as cast).
func (f *CrowdFit) softPairs(n int, beta []float64) []Pair {
	wins := make([]float64, n*n)
	seen := make([]bool, n*n)
	cc := f.cells
	for c := range cc.k {
		i, j := int(cc.i[c]), int(cc.j[c])
		wi, wj := f.softCell(c, beta)
		wins[i*n+j] += wi
		wins[j*n+i] += wj
		seen[i*n+j] = true
	}
	var ps []Pair
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if seen[i*n+j] {
				ps = append(ps, Pair{I: i, J: j, WinsI: wins[i*n+j], WinsJ: wins[j*n+i]})
			}
		}
	}
	return ps
}

// softCell returns cell c's soft wins of i and of j at beta: each vote's
// weight split by the probability that it was cast honestly (nil beta:
// every vote as cast).
func (f *CrowdFit) softCell(c int, beta []float64) (wi, wj float64) {
	cc := f.cells
	k := cc.k[c]
	m := cc.count[c] * f.weight[k]
	ri, rj := 1.0, 1.0
	if eta := f.eta[k]; eta != 1 && beta != nil {
		p := sigmoid(beta[cc.i[c]] - beta[cc.j[c]]) // P(i beats j)
		ri, rj = posterior(eta, p), posterior(eta, 1-p)
	}
	switch cc.kind[c] {
	case 0:
		return m * ri, m * (1 - ri)
	case 1:
		return m * (1 - rj), m * rj
	}
	return m / 2 * (ri + 1 - rj), m / 2 * (rj + 1 - ri)
}

// posterior is P(honest | reported the outcome of probability p).
func posterior(eta, p float64) float64 {
	num := eta * p
	den := num + (1-eta)*(1-p)
	if den <= 0 {
		return 0.5
	}
	return num / den
}

// etaObs is one observation of a contributor's reliability: with mass m,
// a report whose probability is a + η·s (a = 1−p, s = 2p−1 for a report of
// model probability p).
type etaObs struct{ a, s, m float64 }

// observations appends contributor k's observations at the win
// probabilities prob (n×n) to obs.
func (f *CrowdFit) observations(obs []etaObs, k int, prob []float64, n int, o *ReliabilityOptions) []etaObs {
	cc := f.cells
	add := func(p, m float64) { obs = append(obs, etaObs{a: 1 - p, s: 2*p - 1, m: m}) }
	for c := cc.start[k]; c < cc.start[k+1]; c++ {
		p := prob[int(cc.i[c])*n+int(cc.j[c])]
		switch cc.kind[c] {
		case 0:
			add(p, cc.count[c])
		case 1:
			add(1-p, cc.count[c])
		default:
			add(p, cc.count[c]/2)
			add(1-p, cc.count[c]/2)
		}
	}
	// The gold prior: log π_k(η) has the form of these two observations.
	if g, ok := o.Gold[cc.contributors[k]]; ok {
		add(GoldAgreement, float64(g.Correct))
		add(1-GoldAgreement, float64(g.Total-g.Correct))
	}
	return obs
}

// fitEta returns the maximum-likelihood η in [0, 1] of the observations,
// starting from start, and the likelihood-ratio statistic against η = 1.
// ℓ(η) = Σ m·log(a + η·s) is concave, so safeguarded Newton converges.
func fitEta(obs []etaObs, start float64) (eta, lr float64) {
	deriv := func(eta float64) (d1, d2 float64) {
		for _, o := range obs {
			q := o.a + eta*o.s
			d1 += o.m * o.s / q
			d2 -= o.m * o.s * o.s / (q * q)
		}
		return d1, d2
	}
	if d1, _ := deriv(1); d1 >= 0 {
		return 1, 0
	}
	lo, hi := 0.0, 1.0
	eta = min(max(start, 1e-6), 1-1e-9)
	for range 50 {
		d1, d2 := deriv(eta)
		if d1 > 0 {
			lo = eta
		} else {
			hi = eta
		}
		next := eta - d1/d2
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		if math.Abs(next-eta) < 1e-10 {
			eta = next
			break
		}
		eta = next
	}
	var lr2 float64
	for _, o := range obs {
		lr2 += o.m * (math.Log(o.a+eta*o.s) - math.Log(o.a+o.s))
	}
	return eta, 2 * lr2
}

// winProbs fills prob (n×n) with σ(β_i − β_j).
func winProbs(prob, beta []float64) {
	n := len(beta)
	for i := range n {
		for j := range n {
			prob[i*n+j] = sigmoid(beta[i] - beta[j])
		}
	}
}
