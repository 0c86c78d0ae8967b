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
	m := n + numStyle
	all := sel.all()
	var keep []int32
	var sum, sumSq [numStyle]float64
	var styled int64
	for i := range d.a {
		if !all && !sel.keep(d, i) {
			continue
		}
		keep = append(keep, int32(i))
		if d.style != nil && !isMissing(d.style[numStyle*i]) {
			styled++
			for k := 0; k < numStyle; k++ {
				v := float64(d.style[numStyle*i+k])
				sum[k] += v
				sumSq[k] += v * v
			}
		}
	}
	// z-scores over the battles with style; battles without enter at z = 0.
	var mean, inv [numStyle]float64
	active := [numStyle]bool{}
	cnt := float64(max(styled, 1))
	for k := 0; k < numStyle; k++ {
		mean[k] = sum[k] / cnt
		sd := math.Sqrt(max(sumSq[k]/cnt-mean[k]*mean[k], 0))
		if sd > 1e-12 && styled > 1 {
			inv[k], active[k] = 1/sd, true
		}
	}
	theta := make([]float64, m)
	copy(theta, start)
	sf := &styleFit{n: n, m: m, styled: styled}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type acc struct{ g, h []float64 }
	accs := make([]acc, workers)
	for w := range accs {
		accs[w] = acc{make([]float64, m), make([]float64, m*m)}
	}
	g := make([]float64, m)
	h := make([]float64, m*m)
	ids := c.ids
	pass := func() {
		var wg sync.WaitGroup
		chunk := (len(keep) + workers - 1) / workers
		for w := 0; w < workers; w++ {
			lo, hi := min(w*chunk, len(keep)), min((w+1)*chunk, len(keep))
			wg.Add(1)
			go func(a acc, idx []int32) {
				defer wg.Done()
				clear(a.g)
				clear(a.h)
				var z [numStyle]float64
				for _, bi := range idx {
					i := int(bi)
					x, y := int(ids[d.a[i]]), int(ids[d.b[i]])
					eta := theta[x] - theta[y]
					z = [numStyle]float64{}
					if d.style != nil && !isMissing(d.style[numStyle*i]) {
						s := d.style[numStyle*i : numStyle*i+numStyle]
						for k := 0; k < numStyle; k++ {
							if active[k] {
								z[k] = (float64(s[k]) - mean[k]) * inv[k]
								eta += theta[n+k] * z[k]
							}
						}
					}
					p := sigmoid(eta)
					var yv float64
					switch d.w[i] {
					case outA:
						yv = 1
					case outB:
						yv = 0
					default:
						yv = 0.5
					}
					r := yv - p
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
						if !active[k] {
							continue
						}
						a.g[n+k] += r * z[k]
						wz := wt * z[k]
						a.h[x*m+n+k] += wz
						a.h[y*m+n+k] -= wz
						for l := 0; l <= k; l++ {
							if active[l] {
								a.h[(n+k)*m+n+l] += wz * z[l]
							}
						}
					}
				}
			}(accs[w], keep[lo:hi])
		}
		wg.Wait()
		clear(g)
		clear(h)
		for _, a := range accs {
			for i, v := range a.g {
				g[i] += v
			}
			for i, v := range a.h {
				h[i] += v
			}
		}
		// Mirror the blocks filled on one side only.
		for k := 0; k < numStyle; k++ {
			for j := 0; j < n; j++ {
				h[(n+k)*m+j] = h[j*m+n+k]
			}
			for l := 0; l < k; l++ {
				h[(n+l)*m+n+k] = h[(n+k)*m+n+l]
			}
			if !active[k] {
				h[(n+k)*m+n+k] = 1 // keeps γ_k at 0
			}
		}
		for i := 0; i < n; i++ {
			if prior != 0 {
				g[i] -= prior * theta[i]
				h[i*m+i] += prior
			}
		}
	}
	var gaugeS float64
	addGauge := func() {
		if prior != 0 {
			return
		}
		var tr float64
		for i := 0; i < n; i++ {
			tr += h[i*m+i]
		}
		gaugeS = tr / float64(n*n)
		if gaugeS == 0 {
			gaugeS = 1
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				h[i*m+j] += gaugeS
			}
		}
	}
	step := make([]float64, m)
	const maxIter = 50
	for it := 0; ; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pass()
		gmax := 0.0
		for _, v := range g {
			gmax = max(gmax, math.Abs(v))
		}
		sf.iterations, sf.gradient = it, gmax
		addGauge()
		if err := cholesky(h, m); err != nil {
			return nil, fmt.Errorf("style control: %w", err)
		}
		copy(step, g)
		cholSolve(h, m, step)
		smax := 0.0
		for _, v := range step {
			smax = max(smax, math.Abs(v))
		}
		// Stop at the gradient tolerance, or when the Newton step is below
		// 1e-10 (2e-8 rating points): with millions of battles the
		// gradient's rounding error exceeds any absolute tolerance.
		if gmax <= tol || smax < 1e-10 {
			break
		}
		if it >= maxIter {
			return nil, fmt.Errorf("style control: %w after %d iterations (gradient %.3g)", ErrNoConvergence, it, gmax)
		}
		for i := range theta {
			theta[i] += step[i]
		}
		if prior == 0 {
			var mu float64
			for i := 0; i < n; i++ {
				mu += theta[i]
			}
			mu /= float64(n)
			for i := 0; i < n; i++ {
				theta[i] -= mu
			}
		}
	}
	// h holds the Cholesky factor of the information plus the gauge term at
	// the solution; invert it column by column.
	sf.cov = make([]float64, m*m)
	col := make([]float64, m)
	for j := 0; j < m; j++ {
		clear(col)
		col[j] = 1
		cholSolve(h, m, col)
		for i := 0; i < m; i++ {
			sf.cov[i*m+j] = col[i]
		}
	}
	if prior == 0 {
		// Remove the gauge: (H + s·uuᵀ)⁻¹ = H⁺ + uuᵀ/(s·n²).
		corr := 1 / (gaugeS * float64(n) * float64(n))
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				sf.cov[i*m+j] -= corr
			}
		}
	}
	sf.beta = theta[:n]
	for k := 0; k < numStyle; k++ {
		if active[k] {
			sf.gamma[k] = theta[n+k]
			sf.gammaSE[k] = math.Sqrt(max(sf.cov[(n+k)*m+n+k], 0))
		}
	}
	return sf, nil
}
