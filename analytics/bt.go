package analytics

import (
	"errors"
	"fmt"
	"math"
)

// Pair holds the outcomes between models I and J (I < J by convention).
// A tie counts as half a win for each side.
type Pair struct {
	I, J         int
	WinsI, WinsJ float64
	Ties         float64
}

// FitOptions controls a Bradley–Terry fit.
type FitOptions struct {
	// Tol is the convergence threshold on the largest absolute component of
	// the log-likelihood gradient (natural-log strengths, summed over
	// battles). Zero means DefaultTol.
	Tol float64
	// MaxIter bounds the iterations; zero means a solver default.
	MaxIter int
	// Prior is the ridge penalty λ: the fit maximizes ℓ(β) − λ/2·Σβ². Zero
	// fits the exact maximum-likelihood estimate, which exists only when the
	// comparison graph is strongly connected (see Diagnose).
	Prior float64
	// Start, when set, is the starting point (warm start).
	Start []float64
}

// DefaultTol is the default gradient tolerance of the solvers.
const DefaultTol = 1e-9

// DefaultPrior is the ridge penalty used when the exact estimate does not
// exist: a Normal(0, 10²) prior on natural-log strengths, that is a standard
// deviation of about 1,737 rating points. It keeps every rating finite while
// moving well-determined ones by a negligible amount.
const DefaultPrior = 0.01

// Fit is the result of a Bradley–Terry fit.
type Fit struct {
	Beta       []float64 // natural-log strengths, mean 0
	Iterations int
	Gradient   float64 // largest absolute gradient component at Beta
	Prior      float64 // the ridge penalty used
}

// ErrNoConvergence is returned when a solver reaches MaxIter.
var ErrNoConvergence = errors.New("bradley-terry: no convergence")

// FitNewton maximizes the Bradley–Terry log-likelihood (ties as half a win)
// by Newton's method with a backtracking line search. The Hessian is the
// weighted Laplacian of the comparison graph; the shift invariance of the
// exact problem is removed by adding a multiple of 11ᵀ, so steps keep the
// mean of β at zero. Each iteration costs O(pairs + n³).
func FitNewton(n int, pairs []Pair, opt FitOptions) (*Fit, error) {
	tol := opt.Tol
	if tol == 0 {
		tol = DefaultTol
	}
	maxIter := opt.MaxIter
	if maxIter == 0 {
		maxIter = 200
	}
	beta := make([]float64, n)
	if opt.Start != nil {
		copy(beta, opt.Start)
	}
	center(beta, opt.Prior)
	g := make([]float64, n)
	h := make([]float64, n*n)
	step := make([]float64, n)
	trial := make([]float64, n)
	fit := &Fit{Beta: beta, Prior: opt.Prior}
	ll := logLik(beta, pairs, opt.Prior)
	for it := 0; ; it++ {
		fit.Gradient = gradHess(beta, pairs, opt.Prior, g, h)
		fit.Iterations = it
		if fit.Gradient <= tol {
			return fit, nil
		}
		if it >= maxIter {
			return fit, fmt.Errorf("%w after %d Newton iterations (gradient %.3g)", ErrNoConvergence, it, fit.Gradient)
		}
		if opt.Prior == 0 {
			gauge(h, n)
		}
		if err := cholesky(h, n); err != nil {
			return fit, fmt.Errorf("bradley-terry: %w (is the comparison graph connected?)", err)
		}
		copy(step, g)
		cholSolve(h, n, step)
		// Backtrack until the log-likelihood does not decrease. Near the
		// optimum the full step is always taken.
		t := 1.0
		for k := 0; ; k++ {
			for i := range beta {
				trial[i] = beta[i] + t*step[i]
			}
			lt := logLik(trial, pairs, opt.Prior)
			if lt >= ll-1e-12*math.Abs(ll) || k >= 40 {
				copy(beta, trial)
				ll = lt
				break
			}
			t /= 2
		}
		center(beta, opt.Prior)
	}
}

// center shifts β to mean zero; with a prior the optimum is already centered
// only when the graph is connected, so it is left alone.
func center(beta []float64, prior float64) {
	if prior != 0 || len(beta) == 0 {
		return
	}
	var m float64
	for _, b := range beta {
		m += b
	}
	m /= float64(len(beta))
	for i := range beta {
		beta[i] -= m
	}
}

// gauge adds s·11ᵀ to the Laplacian h so that it becomes positive definite
// on a connected graph without changing steps orthogonal to 1.
func gauge(h []float64, n int) {
	var s float64
	for i := 0; i < n; i++ {
		s += h[i*n+i]
	}
	s /= float64(n) * float64(n)
	if s == 0 {
		s = 1
	}
	for i := range h {
		h[i] += s
	}
}

// logLik returns ℓ(β) − prior/2·Σβ².
func logLik(beta []float64, pairs []Pair, prior float64) float64 {
	var ll float64
	for _, p := range pairs {
		d := beta[p.I] - beta[p.J]
		wi := p.WinsI + p.Ties/2
		wj := p.WinsJ + p.Ties/2
		ll += wi*logSigmoid(d) + wj*logSigmoid(-d)
	}
	if prior != 0 {
		for _, b := range beta {
			ll -= prior / 2 * b * b
		}
	}
	return ll
}

func logSigmoid(x float64) float64 {
	if x >= 0 {
		return -math.Log1p(math.Exp(-x))
	}
	return x - math.Log1p(math.Exp(x))
}

// gradHess fills g with the gradient of the penalized log-likelihood and h
// with its negative Hessian, and returns max |g|.
func gradHess(beta []float64, pairs []Pair, prior float64, g, h []float64) float64 {
	n := len(beta)
	clear(g)
	clear(h)
	for _, p := range pairs {
		pi := sigmoid(beta[p.I] - beta[p.J])
		tot := p.WinsI + p.WinsJ + p.Ties
		r := p.WinsI + p.Ties/2 - tot*pi
		g[p.I] += r
		g[p.J] -= r
		w := tot * pi * (1 - pi)
		h[p.I*n+p.I] += w
		h[p.J*n+p.J] += w
		h[p.I*n+p.J] -= w
		h[p.J*n+p.I] -= w
	}
	var gmax float64
	for i := range g {
		if prior != 0 {
			g[i] -= prior * beta[i]
			h[i*n+i] += prior
		}
		gmax = max(gmax, math.Abs(g[i]))
	}
	return gmax
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// gradient fills g with the gradient of the penalized log-likelihood and
// returns max |g|. It needs one exp per model, not per pair.
func gradient(beta, e []float64, pairs []Pair, prior float64, g []float64) float64 {
	bmax := math.Inf(-1)
	for _, b := range beta {
		bmax = max(bmax, b)
	}
	for i, b := range beta {
		e[i] = math.Exp(b - bmax)
	}
	clear(g)
	for _, p := range pairs {
		ei, ej := e[p.I], e[p.J]
		tot := p.WinsI + p.WinsJ + p.Ties
		r := p.WinsI + p.Ties/2 - tot*ei/(ei+ej)
		g[p.I] += r
		g[p.J] -= r
	}
	var gmax float64
	for i := range g {
		if prior != 0 {
			g[i] -= prior * beta[i]
		}
		gmax = max(gmax, math.Abs(g[i]))
	}
	return gmax
}

// FitMM maximizes the same likelihood by Zermelo's minorization–maximization
// iteration (Hunter 2004): π_i ← W_i / Σ_j n_ij/(π_i+π_j), where W_i counts
// wins plus half the ties. It is independent of FitNewton and converges
// linearly; it needs the exact problem (no prior) and every model to have
// W_i > 0.
func FitMM(n int, pairs []Pair, opt FitOptions) (*Fit, error) {
	if opt.Prior != 0 {
		return nil, errors.New("bradley-terry: the MM solver fits the exact likelihood only")
	}
	tol := opt.Tol
	if tol == 0 {
		tol = DefaultTol
	}
	maxIter := opt.MaxIter
	if maxIter == 0 {
		maxIter = 1_000_000
	}
	w := make([]float64, n)
	for _, p := range pairs {
		w[p.I] += p.WinsI + p.Ties/2
		w[p.J] += p.WinsJ + p.Ties/2
	}
	for i, wi := range w {
		if wi <= 0 {
			return nil, fmt.Errorf("bradley-terry: model %d never won or tied; the MM solver needs the exact estimate to exist", i)
		}
	}
	pi := make([]float64, n)
	for i := range pi {
		pi[i] = 1
		if opt.Start != nil {
			pi[i] = math.Exp(opt.Start[i])
		}
	}
	denom := make([]float64, n)
	fit := &Fit{}
	for it := 0; ; it++ {
		clear(denom)
		for _, p := range pairs {
			tot := p.WinsI + p.WinsJ + p.Ties
			x := tot / (pi[p.I] + pi[p.J])
			denom[p.I] += x
			denom[p.J] += x
		}
		// Gradient in natural-log strengths: W_i − π_i·Σ_j n_ij/(π_i+π_j).
		var gmax float64
		for i := range pi {
			gmax = max(gmax, math.Abs(w[i]-pi[i]*denom[i]))
		}
		fit.Iterations, fit.Gradient = it, gmax
		if gmax <= tol || it >= maxIter {
			break
		}
		var logSum float64
		for i := range pi {
			pi[i] = w[i] / denom[i]
			logSum += math.Log(pi[i])
		}
		scale := math.Exp(-logSum / float64(n))
		for i := range pi {
			pi[i] *= scale
		}
	}
	fit.Beta = make([]float64, n)
	for i := range pi {
		fit.Beta[i] = math.Log(pi[i])
	}
	center(fit.Beta, 0)
	if fit.Gradient > tol {
		return fit, fmt.Errorf("%w after %d MM iterations (gradient %.3g)", ErrNoConvergence, fit.Iterations, fit.Gradient)
	}
	return fit, nil
}

// cholesky factors the symmetric positive-definite n×n matrix a in place
// into its lower triangle L with a = L·Lᵀ.
func cholesky(a []float64, n int) error {
	for j := 0; j < n; j++ {
		rowJ := a[j*n : j*n+j]
		s := a[j*n+j]
		for _, v := range rowJ {
			s -= v * v
		}
		if s <= 0 || math.IsNaN(s) {
			return errors.New("matrix is not positive definite")
		}
		d := math.Sqrt(s)
		a[j*n+j] = d
		for i := j + 1; i < n; i++ {
			rowI := a[i*n : i*n+j]
			s := a[i*n+j]
			for k, v := range rowI {
				s -= v * rowJ[k]
			}
			a[i*n+j] = s / d
		}
	}
	return nil
}

// cholSolve solves L·Lᵀ·x = b in place, with L from cholesky.
func cholSolve(l []float64, n int, b []float64) {
	for i := 0; i < n; i++ {
		s := b[i]
		row := l[i*n : i*n+i]
		for k, v := range row {
			s -= v * b[k]
		}
		b[i] = s / l[i*n+i]
	}
	for i := n - 1; i >= 0; i-- {
		s := b[i]
		for k := i + 1; k < n; k++ {
			s -= l[k*n+i] * b[k]
		}
		b[i] = s / l[i*n+i]
	}
}
