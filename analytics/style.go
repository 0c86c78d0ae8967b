package analytics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
)

// styleFit is Bradley–Terry with style covariates: the log-odds that A beats
// B is β_A − β_B + Σ_k γ_k·z_k, where z_k is feature k's normalized
// difference (A−B)/(A+B+1), z-scored over the battles. Ties count as half a
// win. It is fitted by Newton's method over the battles (each iteration is
// one pass), starting from the plain fit.
type styleFit struct {
	beta       []float64 // model strengths, natural log
	gamma      [numStyle]float64
	gammaSE    [numStyle]float64
	cov        []float64 // m×m covariance (pseudo-inverse of the information)
	n, m       int
	styled     int64
	iterations int
	gradient   float64
}

// variance returns the variance of model i's strength relative to the mean
// (anchor < 0) or to the anchor model.
func (s *styleFit) variance(i, anchor int) float64 {
	m := s.m
	if anchor >= 0 {
		return s.cov[i*m+i] + s.cov[anchor*m+anchor] - 2*s.cov[i*m+anchor]
	}
	n := float64(s.n)
	var row, all float64
	for j := 0; j < s.n; j++ {
		row += s.cov[i*m+j]
		for k := 0; k < s.n; k++ {
			all += s.cov[j*m+k]
		}
	}
	return s.cov[i*m+i] - 2*row/n + all/(n*n)
}

func isMissing(v float32) bool { return v != v }

// fitStyle fits with up to workers goroutines; zero means GOMAXPROCS.
func fitStyle(ctx context.Context, d *Dataset, sel *selector, c *Counts, start []float64, prior, tol float64, workers int) (*styleFit, error) {
	n := c.N()
	keep, z, styled := styleBattles(d, sel)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	st := newStyleSolver(d, c.ids, keep, z, n, prior, workers)
	copy(st.theta, start)
	sf := &styleFit{n: n, m: st.m, styled: styled}
	if err := st.newton(ctx, tol, sf); err != nil {
		return nil, err
	}
	sf.cov = st.covariance()
	sf.beta = st.theta[:n]
	for k := 0; k < numStyle; k++ {
		if z.active[k] {
			sf.gamma[k] = st.theta[n+k]
			sf.gammaSE[k] = math.Sqrt(max(sf.cov[(n+k)*st.m+n+k], 0))
		}
	}
	return sf, nil
}

// zScale z-scores style features over the battles with style; battles
// without enter at z = 0, and a feature without spread stays out.
type zScale struct {
	mean, inv [numStyle]float64
	active    [numStyle]bool
}

// styleBattles returns the battles sel keeps (nil when it keeps them
// all: nothing the size of d is allocated then), the z-scale of their
// style features and how many have style.
func styleBattles(d *Dataset, sel *selector) (keep []int32, z zScale, styled int64) {
	all := sel.all()
	var sum, sumSq [numStyle]float64
	for i := range d.a {
		if !all {
			if !sel.keep(d, i) {
				continue
			}
			keep = append(keep, int32(i))
		}
		if d.style != nil && !isMissing(d.style[numStyle*i]) {
			styled++
			for k := 0; k < numStyle; k++ {
				v := float64(d.style[numStyle*i+k])
				sum[k] += v
				sumSq[k] += v * v
			}
		}
	}
	if !all && keep == nil {
		keep = []int32{} // none kept, not all
	}
	cnt := float64(max(styled, 1))
	for k := 0; k < numStyle; k++ {
		z.mean[k] = sum[k] / cnt
		sd := math.Sqrt(max(sumSq[k]/cnt-z.mean[k]*z.mean[k], 0))
		if sd > 1e-12 && styled > 1 {
			z.inv[k], z.active[k] = 1/sd, true
		}
	}
	return keep, z, styled
}

// styleSolver holds Newton's method's state for style control: θ is the
// n model strengths then the numStyle coefficients (m in all), g and h
// the gradient and Hessian of the penalized log-likelihood.
type styleSolver struct {
	d       *Dataset
	ids     []int32 // dataset model id → index in θ
	keep    []int32 // the battles fitted; nil: all of d's
	battles int     // how many
	z       zScale
	n, m    int
	prior   float64
	theta   []float64
	g, h    []float64
	accs    []styleAcc // one per worker
	gaugeS  float64
	step    []float64
	workers int
}

// styleAcc is one worker's share of a pass.
type styleAcc struct{ g, h []float64 }

func newStyleSolver(d *Dataset, ids, keep []int32, z zScale, n int, prior float64, workers int) *styleSolver {
	m := n + numStyle
	st := &styleSolver{
		d: d, ids: ids, keep: keep, z: z, n: n, m: m, prior: prior, workers: workers,
		theta: make([]float64, m), g: make([]float64, m), h: make([]float64, m*m), step: make([]float64, m),
		accs: make([]styleAcc, workers), battles: len(d.a),
	}
	if keep != nil {
		st.battles = len(keep)
	}
	for w := range st.accs {
		st.accs[w] = styleAcc{make([]float64, m), make([]float64, m*m)}
	}
	return st
}

// newton iterates until the gradient or the step is small, recording
// the iterations and the final gradient in sf. h then holds the Cholesky
// factor of the information plus the gauge term at the solution.
func (st *styleSolver) newton(ctx context.Context, tol float64, sf *styleFit) error {
	const maxIter = 50
	for it := 0; ; it++ {
		if err := checkpoint(ctx); err != nil {
			return err
		}
		st.pass(ctx)
		gmax := 0.0
		for _, v := range st.g {
			gmax = max(gmax, math.Abs(v))
		}
		sf.iterations, sf.gradient = it, gmax
		st.addGauge()
		if err := cholesky(st.h, st.m); err != nil {
			return fmt.Errorf("style control: %w", err)
		}
		copy(st.step, st.g)
		cholSolve(st.h, st.m, st.step)
		smax := 0.0
		for _, v := range st.step {
			smax = max(smax, math.Abs(v))
		}
		// Stop at the gradient tolerance, or when the Newton step is below
		// 1e-10 (2e-8 rating points): with millions of battles the
		// gradient's rounding error exceeds any absolute tolerance.
		if gmax <= tol || smax < 1e-10 {
			return nil
		}
		if it >= maxIter {
			return fmt.Errorf("style control: %w after %d iterations (gradient %.3g)", ErrNoConvergence, it, gmax)
		}
		st.move()
	}
}

// move takes the Newton step and, without a prior, re-centres the
// strengths.
func (st *styleSolver) move() {
	for i := range st.theta {
		st.theta[i] += st.step[i]
	}
	if st.prior != 0 {
		return
	}
	var mu float64
	for i := 0; i < st.n; i++ {
		mu += st.theta[i]
	}
	mu /= float64(st.n)
	for i := 0; i < st.n; i++ {
		st.theta[i] -= mu
	}
}

// pass computes g and h at θ over the kept battles, split among the
// workers, each stopping at a checkpoint every styleSlice battles (so
// that a paced fit sleeps within a pass; ctx's error is newton's to see).
func (st *styleSolver) pass(ctx context.Context) {
	var wg sync.WaitGroup
	chunk := (st.battles + st.workers - 1) / st.workers
	for w := 0; w < st.workers; w++ {
		lo, hi := min(w*chunk, st.battles), min((w+1)*chunk, st.battles)
		wg.Go(func() {
			a := st.accs[w]
			clear(a.g)
			clear(a.h)
			for ; lo < hi; lo += styleSlice {
				st.accumulate(a, lo, min(lo+styleSlice, hi))
				_ = checkpoint(ctx)
			}
		})
	}
	wg.Wait()
	clear(st.g)
	clear(st.h)
	for _, a := range st.accs {
		for i, v := range a.g {
			st.g[i] += v
		}
		for i, v := range a.h {
			st.h[i] += v
		}
	}
	st.mirror()
}

// accumulate adds the kept battles lo to hi (positions in keep) to a's
// gradient and Hessian (the style blocks on one side only; mirror fills
// the other).
func (st *styleSolver) accumulate(a styleAcc, lo, hi int) {
	d, n, m, theta, zs := st.d, st.n, st.m, st.theta, &st.z
	var z [numStyle]float64
	for j := lo; j < hi; j++ {
		i := j
		if st.keep != nil {
			i = int(st.keep[j])
		}
		x, y := int(st.ids[d.a[i]]), int(st.ids[d.b[i]])
		eta := theta[x] - theta[y]
		z = [numStyle]float64{}
		if d.style != nil && !isMissing(d.style[numStyle*i]) {
			s := d.style[numStyle*i : numStyle*i+numStyle]
			for k := 0; k < numStyle; k++ {
				if zs.active[k] {
					z[k] = (float64(s[k]) - zs.mean[k]) * zs.inv[k]
					eta += theta[n+k] * z[k]
				}
			}
		}
		p := sigmoid(eta)
		r := outcomeScore(d.w[i]) - p
		wt := p * (1 - p)
		a.g[x] += r
		a.g[y] -= r
		a.h[x*m+x] += wt
		a.h[y*m+y] += wt
		a.h[x*m+y] -= wt
		a.h[y*m+x] -= wt
		if d.style == nil {
			continue
		}
		for k := 0; k < numStyle; k++ {
			if !zs.active[k] {
				continue
			}
			a.g[n+k] += r * z[k]
			wz := wt * z[k]
			a.h[x*m+n+k] += wz
			a.h[y*m+n+k] -= wz
			for l := 0; l <= k; l++ {
				if zs.active[l] {
					a.h[(n+k)*m+n+l] += wz * z[l]
				}
			}
		}
	}
}

// styleSlice is how many battles a style pass fits between two
// checkpoints (about a millisecond).
const styleSlice = 1 << 15

// outcomeScore is a battle's outcome for A: 1 won, 0 lost, ½ a tie.
func outcomeScore(w uint8) float64 {
	switch w {
	case outA:
		return 1
	case outB:
		return 0
	}
	return 0.5
}

// mirror fills the blocks of h accumulated on one side only, pins the
// inactive coefficients and adds the prior.
func (st *styleSolver) mirror() {
	n, m, h := st.n, st.m, st.h
	for k := 0; k < numStyle; k++ {
		for j := 0; j < n; j++ {
			h[(n+k)*m+j] = h[j*m+n+k]
		}
		for l := 0; l < k; l++ {
			h[(n+l)*m+n+k] = h[(n+k)*m+n+l]
		}
		if !st.z.active[k] {
			h[(n+k)*m+n+k] = 1 // keeps γ_k at 0
		}
	}
	for i := 0; i < n; i++ {
		if st.prior != 0 {
			st.g[i] -= st.prior * st.theta[i]
			h[i*m+i] += st.prior
		}
	}
}

// addGauge makes h invertible without a prior by adding s·uuᵀ over the
// strengths (u the ones vector), s the mean diagonal.
func (st *styleSolver) addGauge() {
	if st.prior != 0 {
		return
	}
	n, m, h := st.n, st.m, st.h
	var tr float64
	for i := 0; i < n; i++ {
		tr += h[i*m+i]
	}
	st.gaugeS = tr / float64(n*n)
	if st.gaugeS == 0 {
		st.gaugeS = 1
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			h[i*m+j] += st.gaugeS
		}
	}
}

// covariance inverts the factored h column by column and removes the
// gauge: (H + s·uuᵀ)⁻¹ = H⁺ + uuᵀ/(s·n²).
func (st *styleSolver) covariance() []float64 {
	n, m := st.n, st.m
	cov := make([]float64, m*m)
	col := make([]float64, m)
	for j := 0; j < m; j++ {
		clear(col)
		col[j] = 1
		cholSolve(st.h, m, col)
		for i := 0; i < m; i++ {
			cov[i*m+j] = col[i]
		}
	}
	if st.prior == 0 {
		corr := 1 / (st.gaugeS * float64(n) * float64(n))
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				cov[i*m+j] -= corr
			}
		}
	}
	return cov
}
