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
	Rounds   int
	Seed     uint64
	Workers  int     // goroutines; zero means GOMAXPROCS
	Tol      float64 // gradient tolerance per round; zero means DefaultTol
	Progress func(done, total int)
	// Warm, when it has Rounds rows of n strengths, gives each round its
	// starting point (the previous refresh of a live leaderboard).
	Warm [][]float64
}

// Bootstrap holds the refitted strengths of every round.
type Bootstrap struct {
	Beta [][]float64 // Rounds × n natural-log strengths, mean 0
	// PriorRounds counts rounds whose resample had no finite exact estimate
	// (a model lost its only loss, say) and were fitted with DefaultPrior.
	PriorRounds int
	// Iterations is the total number of solver iterations over all rounds.
	Iterations int
}

// cell is one (pair, outcome) cell of the count table.
type cell struct {
	pair  int32
	kind  uint8 // 0: I won, 1: J won, 2: tie
	count int64
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
	out := &Bootstrap{Beta: make([][]float64, opt.Rounds)}
	if opt.Rounds <= 0 || n == 0 {
		return out, nil
	}
	tol := opt.Tol
	if tol == 0 {
		tol = DefaultTol
	}
	var cells []cell
	var total int64
	for k, p := range pairs {
		for kind, c := range [3]float64{p.WinsI, p.WinsJ, p.Ties} {
			if c > 0 {
				cells = append(cells, cell{pair: int32(k), kind: uint8(kind), count: int64(c)})
				total += int64(c)
			}
		}
	}
	rs := newResampler(cells)
	chol := make([]float64, n*n)
	g := make([]float64, n)
	gradHess(fit.Beta, pairs, fit.Prior, g, chol)
	if fit.Prior == 0 {
		gauge(chol, n)
	}
	if err := cholesky(chol, n); err != nil {
		return nil, err
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, opt.Rounds)
	var next, done, priorRounds, iterations atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rw := &roundWorker{
				n: n, pairs: pairs, rs: rs, chol: chol, fit: fit, tol: tol,
				sample: slices.Clone(pairs),
				x:      make([]int64, len(cells)), fen: make([]int64, len(cells)+1),
				e: make([]float64, n), g: make([]float64, n), step: make([]float64, n),
			}
			for {
				r := int(next.Add(1) - 1)
				if r >= opt.Rounds {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				start := fit.Beta
				if len(opt.Warm) == opt.Rounds && len(opt.Warm[r]) == n {
					start = opt.Warm[r]
				}
				beta, its, usedPrior, err := rw.round(opt.Seed, uint64(r), start)
				if err != nil {
					errs[w] = err
					return
				}
				out.Beta[r] = beta
				iterations.Add(int64(its))
				if usedPrior {
					priorRounds.Add(1)
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
			return nil, err
		}
	}
	out.PriorRounds = int(priorRounds.Load())
	out.Iterations = int(iterations.Load())
	return out, nil
}

// roundWorker holds one goroutine's scratch space.
type roundWorker struct {
	n      int
	pairs  []Pair
	rs     *resampler
	x, fen []int64
	chol   []float64
	fit    *Fit
	tol    float64
	sample []Pair
	e, g   []float64
	step   []float64
}

// maxFixedIter bounds the fixed-Hessian iterations before full Newton.
const maxFixedIter = 60

func (w *roundWorker) round(seed, r uint64, start []float64) (beta []float64, iters int, usedPrior bool, err error) {
	rng := rand.New(rand.NewPCG(seed, r))
	w.resample(rng)
	prior := w.fit.Prior
	if prior == 0 && w.lostEdge() && !Diagnose(w.n, w.sample).Exact() {
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

// resample draws Multinomial(N, counts/N) over the cells into w.sample.
func (w *roundWorker) resample(rng *rand.Rand) {
	for k := range w.sample {
		w.sample[k].WinsI, w.sample[k].WinsJ, w.sample[k].Ties = 0, 0, 0
	}
	w.rs.draw(rng, w.x, w.fen)
	for k, c := range w.rs.cells {
		p := &w.sample[c.pair]
		switch c.kind {
		case 0:
			p.WinsI = float64(w.x[k])
		case 1:
			p.WinsJ = float64(w.x[k])
		default:
			p.Ties = float64(w.x[k])
		}
	}
}

// lostEdge reports whether the resample lost a "won or tied against" edge
// of the full data, the only way it can stop being strongly connected.
func (w *roundWorker) lostEdge() bool {
	for k, p := range w.pairs {
		s := &w.sample[k]
		if p.WinsI+p.Ties > 0 && s.WinsI+s.Ties == 0 || p.WinsJ+p.Ties > 0 && s.WinsJ+s.Ties == 0 {
			return true
		}
	}
	return false
}

// quantile returns the q-quantile of sorted values with linear
// interpolation (NumPy's default).
func quantile(sorted []float64, q float64) float64 {
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
