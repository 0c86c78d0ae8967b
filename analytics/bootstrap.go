package analytics

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
)

// BootstrapOptions controls the bootstrap.
type BootstrapOptions struct {
	Rounds  int
	Seed    uint64
	Workers int // goroutines; zero means GOMAXPROCS
	// Tol is each round's convergence threshold on the gradient of the
	// mean log-likelihood per battle: max|g| ≤ Tol·N. Zero means
	// DefaultRoundTol. (The full-data fit uses an absolute 1e-9.)
	Tol      float64
	Progress func(done, total int)
}

// DefaultRoundTol is the default per-battle gradient tolerance of a
// bootstrap round: a round's ratings are within about 1e-4 rating points of
// its exact optimum, far below the Monte Carlo error of the percentiles.
const DefaultRoundTol = 1e-9

// Bootstrap holds the refitted strengths of every round.
type Bootstrap struct {
	Beta [][]float64 // Rounds × n natural-log strengths, mean 0
	// PriorRounds counts rounds whose resample had no finite exact estimate
	// (a model lost its only loss, say) and were fitted with DefaultPrior.
	PriorRounds int
	// Iterations is the total number of solver iterations over all rounds.
	Iterations int

	// Kept for live updates (see liveBoot): each round's cell counts and
	// random stream (rngs[r] draws from srcs[r]).
	cells  []cell
	counts [][]int32
	rngs   []*rand.Rand
	srcs   []*rand.PCG
}

// cell is one (pair, outcome) cell of the count table.
type cell struct {
	pair  int32
	kind  uint8 // 0: I won, 1: J won, 2: tie
	count int64
}

func pairCells(pairs []Pair) []cell {
	var cells []cell
	for k, p := range pairs {
		for kind, c := range [3]float64{p.WinsI, p.WinsJ, p.Ties} {
			if c > 0 {
				cells = append(cells, cell{pair: int32(k), kind: uint8(kind), count: int64(c)})
			}
		}
	}
	return cells
}

// RunBootstrap resamples battles with replacement Rounds times and refits
// Bradley–Terry on each resample, starting from fit.
//
// A resample of N battles has the same distribution as a multinomial draw of
// N over the (pair, outcome) cells with probabilities count/N, so a round
// draws that multinomial exactly (see resampler) in O(cells + √N) instead
// of O(N). Round r uses its own PCG stream seeded by (Seed, r), so
// results do not depend on the number of workers. Each round is solved by
// Newton iterations that reuse the full-data Hessian's Cholesky factor
// (warm-started at the full-data fit), falling back to full Newton if that
// does not converge.
func RunBootstrap(ctx context.Context, n int, pairs []Pair, fit *Fit, opt BootstrapOptions) (*Bootstrap, error) {
	return runBootstrap(ctx, n, pairs, fit, opt, false)
}

func runBootstrap(ctx context.Context, n int, pairs []Pair, fit *Fit, opt BootstrapOptions, keep bool) (*Bootstrap, error) {
	out := &Bootstrap{Beta: make([][]float64, opt.Rounds)}
	if opt.Rounds <= 0 || n == 0 {
		return out, nil
	}
	cells := pairCells(pairs)
	rs := newResampler(cells)
	if keep {
		out.cells = cells
		out.counts = make([][]int32, opt.Rounds)
		out.rngs = make([]*rand.Rand, opt.Rounds)
		out.srcs = make([]*rand.PCG, opt.Rounds)
	}
	err := forRounds(ctx, n, pairs, fit, opt, out, func(w *roundWorker, r int) error {
		src := rand.NewPCG(opt.Seed, uint64(r))
		rng := rand.New(src)
		rs.draw(src, rng, w.x, w.fen)
		w.fill(cells, w.x)
		if keep {
			c := make([]int32, len(cells))
			for k, v := range w.x {
				c[k] = int32(v)
			}
			out.counts[r], out.rngs[r], out.srcs[r] = c, rng, src
		}
		return w.solve(out, r, fit.Beta)
	}, len(cells))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// forRounds runs fn for every round on Workers goroutines, each with its
// own roundWorker.
func forRounds(ctx context.Context, n int, pairs []Pair, fit *Fit, opt BootstrapOptions, out *Bootstrap,
	fn func(w *roundWorker, r int) error, numCells int) error {
	var total int64
	for _, p := range pairs {
		total += int64(p.WinsI + p.WinsJ + p.Ties)
	}
	tol := opt.Tol
	if tol == 0 {
		tol = DefaultRoundTol
	}
	chol := make([]float64, n*n)
	gradHess(fit.Beta, pairs, fit.Prior, make([]float64, n), chol)
	if fit.Prior == 0 {
		gauge(chol, n)
	}
	if err := cholesky(chol, n); err != nil {
		return err
	}
	pairIdx := make([]int32, n*n)
	for i := range pairIdx {
		pairIdx[i] = -1
	}
	for k, p := range pairs {
		pairIdx[p.I*n+p.J], pairIdx[p.J*n+p.I] = int32(k), int32(k)
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, opt.Rounds)
	var next, done, priorRounds, iterations atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for wi := 0; wi < workers; wi++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &roundWorker{
				n: n, pairs: pairs, chol: chol, fit: fit, tol: tol * float64(max(total, 1)),
				sample: slices.Clone(pairs),
				x:      make([]int64, numCells), fen: make([]int64, numCells+1),
				e: make([]float64, n), g: make([]float64, n), step: make([]float64, n),
				priorRounds: &priorRounds, iterations: &iterations, pairIdx: pairIdx,
			}
			for {
				r := int(next.Add(1) - 1)
				if r >= opt.Rounds {
					return
				}
				if err := checkpoint(ctx); err != nil {
					errs[wi] = err
					return
				}
				if err := fn(w, r); err != nil {
					errs[wi] = err
					return
				}
				d := int(done.Add(1))
				if opt.Progress != nil {
					opt.Progress(d, opt.Rounds)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	out.PriorRounds = int(priorRounds.Load())
	out.Iterations = int(iterations.Load())
	return nil
}

// roundWorker holds one goroutine's scratch space.
type roundWorker struct {
	n           int
	pairs       []Pair
	x, fen      []int64
	chol        []float64
	fit         *Fit
	tol         float64 // absolute gradient tolerance
	sample      []Pair
	e, g        []float64
	step        []float64
	priorRounds *atomic.Int64
	iterations  *atomic.Int64
	reach       []bool
	lost        [][2]int32 // edges lost by the resample
	pairIdx     []int32    // n×n: index of the pair of two models, -1 if none
}

// fill sets w.sample to the cell counts x.
func (w *roundWorker) fill(cells []cell, x []int64) {
	for k := range w.sample {
		w.sample[k].WinsI, w.sample[k].WinsJ, w.sample[k].Ties = 0, 0, 0
	}
	for k, c := range cells {
		p := &w.sample[c.pair]
		switch c.kind {
		case 0:
			p.WinsI = float64(x[k])
		case 1:
			p.WinsJ = float64(x[k])
		default:
			p.Ties = float64(x[k])
		}
	}
}

// solve fits w.sample from start and stores round r's solution in out.
func (w *roundWorker) solve(out *Bootstrap, r int, start []float64) error {
	beta, its, usedPrior, err := w.fitSample(start)
	if err != nil {
		return err
	}
	out.Beta[r] = beta
	w.iterations.Add(int64(its))
	if usedPrior {
		w.priorRounds.Add(1)
	}
	return nil
}

// maxFixedIter bounds the fixed-Hessian iterations before full Newton.
const maxFixedIter = 60

func (w *roundWorker) fitSample(start []float64) (beta []float64, iters int, usedPrior bool, err error) {
	prior := w.fit.Prior
	if prior == 0 && w.lostEdge() && !w.detours() && !w.stronglyConnected() {
		f, err := FitNewton(w.n, w.sample, FitOptions{Prior: DefaultPrior, Start: start, Tol: w.tol})
		if err != nil {
			return nil, 0, false, err
		}
		return f.Beta, f.Iterations, true, nil
	}
	beta = slices.Clone(start)
	prev := math.Inf(1)
	for it := 0; it < maxFixedIter; it++ {
		gm := gradient(beta, w.e, w.sample, prior, w.g)
		if gm <= w.tol {
			return beta, it, false, nil
		}
		if gm > prev && it > 3 {
			break // not contracting: let full Newton finish
		}
		prev = gm
		copy(w.step, w.g)
		cholSolve(w.chol, w.n, w.step)
		for i := range beta {
			beta[i] += w.step[i]
		}
		center(beta, prior)
	}
	f, err := FitNewton(w.n, w.sample, FitOptions{Prior: prior, Start: beta, Tol: w.tol})
	if err != nil {
		return nil, 0, false, err
	}
	return f.Beta, maxFixedIter + f.Iterations, false, nil
}

// lostEdge reports whether the resample lost a "won or tied against" edge
// of the full data, the only way it can stop being strongly connected, and
// collects the lost edges in w.lost.
func (w *roundWorker) lostEdge() bool {
	w.lost = w.lost[:0]
	for k, p := range w.pairs {
		s := &w.sample[k]
		if p.WinsI+p.Ties > 0 && s.WinsI+s.Ties == 0 {
			w.lost = append(w.lost, [2]int32{int32(p.I), int32(p.J)})
		}
		if p.WinsJ+p.Ties > 0 && s.WinsJ+s.Ties == 0 {
			w.lost = append(w.lost, [2]int32{int32(p.J), int32(p.I)})
		}
	}
	return len(w.lost) > 0
}

// edge reports whether the resample has the edge u → v (u won or tied
// against v).
func (w *roundWorker) edge(u, v int) bool {
	k := w.pairIdx[u*w.n+v]
	if k < 0 {
		return false
	}
	p := &w.sample[k]
	if p.I == u {
		return p.WinsI+p.Ties > 0
	}
	return p.WinsJ+p.Ties > 0
}

// detours reports whether every lost edge u → v still has a two-step path
// u → k → v. Since the full data is strongly connected and the resample
// only loses edges, that keeps the resample strongly connected; it is the
// usual case on dense comparison graphs and costs O(n) per lost edge.
func (w *roundWorker) detours() bool {
	for _, e := range w.lost {
		u, v := int(e[0]), int(e[1])
		found := false
		for k := 0; k < w.n && !found; k++ {
			found = k != u && k != v && w.edge(u, k) && w.edge(k, v)
		}
		if !found {
			return false
		}
	}
	return true
}

// stronglyConnected reports whether every model of the resample reaches
// every other through "won or tied against" edges: forward and backward
// reachability from model 0, by sweeps over the pair list (a few sweeps on
// dense comparison graphs, no allocation).
func (w *roundWorker) stronglyConnected() bool {
	if len(w.reach) < w.n {
		w.reach = make([]bool, w.n)
	}
	for dir := 0; dir < 2; dir++ {
		reach := w.reach[:w.n]
		clear(reach)
		reach[0] = true
		count := 1
		for changed := true; changed; {
			changed = false
			for _, p := range w.sample {
				fwd := p.WinsI+p.Ties > 0 // I → J
				bwd := p.WinsJ+p.Ties > 0 // J → I
				if dir == 1 {
					fwd, bwd = bwd, fwd
				}
				if fwd && reach[p.I] && !reach[p.J] {
					reach[p.J], changed = true, true
					count++
				}
				if bwd && reach[p.J] && !reach[p.I] {
					reach[p.I], changed = true, true
					count++
				}
			}
		}
		if count < w.n {
			return false
		}
	}
	return true
}

// Quantile returns the q-quantile of sorted values with linear
// interpolation (NumPy's default), NaN for no values.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(lo)
	return sorted[lo] + f*(sorted[lo+1]-sorted[lo])
}
