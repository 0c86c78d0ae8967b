package analytics

import "fmt"

// Covariance returns the n×n asymptotic covariance of the centred
// natural-log strengths of a Bradley–Terry fit (mean zero, the
// leaderboard's mean-1000 convention): the inverse of the Fisher
// information Σ n_ij·p_ij·(1−p_ij)·(e_i−e_j)(e_i−e_j)ᵀ (plus the fit's
// ridge prior), at fit.Beta. Multiplying a standard deviation by 400/ln 10
// gives rating points.
//
// It costs O(pairs + n³) and is what matchmaking and the simulation use as
// a cheap stand-in for the bootstrap. Without a prior the comparison graph
// must be connected.
func Covariance(n int, pairs []Pair, fit *Fit) ([]float64, error) {
	hinv, err := inverseInformation(n, pairs, fit)
	if err != nil {
		return nil, err
	}
	centre(hinv, n)
	return hinv, nil
}

// RobustCovariance is Covariance with the sandwich estimator H⁻¹·J·H⁻¹,
// where J sums the outer products of each battle's observed score. It
// tracks what the bootstrap measures when the model's variance is off: in
// particular ties, which count as half a win and vary less than a win or a
// loss, make the bootstrap intervals narrower than Covariance's.
func RobustCovariance(n int, pairs []Pair, fit *Fit) ([]float64, error) {
	hinv, err := inverseInformation(n, pairs, fit)
	if err != nil {
		return nil, err
	}
	// J is a weighted Laplacian: a battle between i and j with outcome s
	// (1, 0 or ½ for i) has score (s − p)·(e_i − e_j).
	j := make([]float64, n*n)
	for _, p := range pairs {
		pi := sigmoid(fit.Beta[p.I] - fit.Beta[p.J])
		w := p.WinsI*(1-pi)*(1-pi) + p.WinsJ*pi*pi + p.Ties*(0.5-pi)*(0.5-pi)
		j[p.I*n+p.I] += w
		j[p.J*n+p.J] += w
		j[p.I*n+p.J] -= w
		j[p.J*n+p.I] -= w
	}
	out := matMul(hinv, matMul(j, hinv, n), n)
	centre(out, n)
	return out, nil
}

// inverseInformation returns the inverse of the negative Hessian of the
// penalized log-likelihood at fit.Beta. Without a prior the Hessian is
// singular along 1, so s·11ᵀ is added first (see gauge); centring the
// result then gives the pseudo-inverse.
func inverseInformation(n int, pairs []Pair, fit *Fit) ([]float64, error) {
	if len(fit.Beta) != n {
		return nil, fmt.Errorf("bradley-terry covariance: fit has %d strengths for %d models", len(fit.Beta), n)
	}
	h := make([]float64, n*n)
	gradHess(fit.Beta, pairs, fit.Prior, make([]float64, n), h)
	if fit.Prior == 0 {
		gauge(h, n)
	}
	if err := cholesky(h, n); err != nil {
		return nil, fmt.Errorf("bradley-terry covariance: %w (is the comparison graph connected?)", err)
	}
	inv := make([]float64, n*n)
	col := make([]float64, n)
	for c := 0; c < n; c++ {
		clear(col)
		col[c] = 1
		cholSolve(h, n, col)
		for r, v := range col {
			inv[r*n+c] = v
		}
	}
	return inv, nil
}

// centre replaces the n×n matrix a by C·a·C with C = I − 11ᵀ/n: the
// covariance of strengths measured from their mean.
func centre(a []float64, n int) {
	row := make([]float64, n)
	col := make([]float64, n)
	var all float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := a[i*n+j]
			row[i] += v
			col[j] += v
			all += v
		}
	}
	fn := float64(n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a[i*n+j] += all/(fn*fn) - row[i]/fn - col[j]/fn
		}
	}
}

// matMul returns a·b for n×n matrices.
func matMul(a, b []float64, n int) []float64 {
	out := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for k := 0; k < n; k++ {
			v := a[i*n+k]
			if v == 0 {
				continue
			}
			brow := b[k*n : k*n+n]
			orow := out[i*n : i*n+n]
			for j, bv := range brow {
				orow[j] += v * bv
			}
		}
	}
	return out
}
