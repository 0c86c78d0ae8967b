package sim

import (
	"math"
	"slices"
)

// accuracy compares fitted ratings with the true ones: Spearman's rank
// correlation, Kendall's τ-b, how many of the true top k are in the fitted
// top k, and the root-mean-square rating error (both scales have mean 1000).
func accuracy(truth, fitted []float64, k int) (spearman, kendall float64, topK int, rmse float64) {
	n := len(truth)
	spearman = pearson(ranks(truth), ranks(fitted))
	var concordant, discordant, tiesT, tiesF float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dt, df := sign(truth[i]-truth[j]), sign(fitted[i]-fitted[j])
			switch {
			case dt == 0 && df == 0:
			case dt == 0:
				tiesT++
			case df == 0:
				tiesF++
			case dt == df:
				concordant++
			default:
				discordant++
			}
		}
	}
	kendall = (concordant - discordant) / math.Sqrt((concordant+discordant+tiesT)*(concordant+discordant+tiesF))
	top := func(r []float64) map[int]bool {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(r[a], r[b]) })
		set := map[int]bool{}
		for _, i := range order[:k] {
			set[i] = true
		}
		return set
	}
	want := top(truth)
	for i := range top(fitted) {
		if want[i] {
			topK++
		}
	}
	for i := range truth {
		d := fitted[i] - truth[i]
		rmse += d * d
	}
	rmse = math.Sqrt(rmse / float64(n))
	return spearman, kendall, topK, rmse
}

func sign(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ranks returns the rank of each value (1 = smallest), ties sharing the
// mean of their ranks.
func ranks(x []float64) []float64 {
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmpFloat(x[a], x[b]) })
	r := make([]float64, len(x))
	for lo := 0; lo < len(order); {
		hi := lo
		for hi+1 < len(order) && x[order[hi+1]] == x[order[lo]] {
			hi++
		}
		for k := lo; k <= hi; k++ {
			r[order[k]] = float64(lo+hi)/2 + 1
		}
		lo = hi + 1
	}
	return r
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

// summarize averages each policy's runs.
func summarize(policies []string, results []Result) []Summary {
	var out []Summary
	uniform := math.NaN()
	for _, p := range policies {
		s := Summary{Policy: p}
		var votes []float64
		for _, r := range results {
			if r.Policy != p {
				continue
			}
			s.Runs++
			if r.Reached {
				s.Reached++
			}
			votes = append(votes, float64(r.Votes))
			s.Width += r.Width
			s.Spearman += r.Spearman
			s.Kendall += r.Kendall
			s.TopK += float64(r.TopK)
			s.RMSE += r.RMSE
			s.MinPair += float64(r.MinPair)
			s.Effective += r.EffectivePairs
			s.Seconds += r.Seconds
		}
		k := float64(s.Runs)
		for _, v := range votes {
			s.Votes += v / k
		}
		for _, v := range votes {
			s.VotesSD += (v - s.Votes) * (v - s.Votes)
		}
		if s.Runs > 1 {
			s.VotesSD = math.Sqrt(s.VotesSD / (k - 1))
		}
		s.Width /= k
		s.Spearman /= k
		s.Kendall /= k
		s.TopK /= k
		s.RMSE /= k
		s.MinPair /= k
		s.Effective /= k
		if p == "uniform" {
			uniform = s.Votes
		}
		out = append(out, s)
	}
	if !math.IsNaN(uniform) {
		for i := range out {
			if out[i].Policy != "uniform" {
				out[i].VsUniform = 1 - out[i].Votes/uniform
			}
		}
	}
	return out
}
