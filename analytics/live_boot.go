package analytics

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// liveBoot is the bootstrap of a live leaderboard's unfiltered board, kept
// between refreshes: every round's resampled cell counts, its random stream
// and its solution. When votes arrive it turns each round's resample of N
// battles into an exact resample of N+1, instead of drawing afresh:
//
// A resample Y of the N+1 battles is N+1 draws from the mixture "the new
// battle with probability 1/(N+1), else one of the N old ones". With B ~
// Binomial(N+1, 1/(N+1)) new-battle draws, the other N+1−B draws are a
// resample of the old battles. The round holds X, a resample of N old
// battles, so: B = 0 adds one draw of an old battle to X; B = 1 keeps X;
// B ≥ 2 removes B−1 uniformly chosen draws from X; then B copies of the new
// battle are added. The result has exactly the distribution of a fresh
// resample, and each round's solution moves only a little, so the refit
// starts from it.
//
// A round far behind is drawn afresh instead: a Multinomial(N+k,
// c/(N+k)) draw over the cells (see resampler) is exactly a resample too,
// and k updates cost about k times a removal's scan of part of the cells
// where a fresh draw costs a few passes over them (roundCost), so a
// refresh after thousands of votes costs no more than one after a few.
//
// A refresh brings only the rounds it can afford up to date (see
// liveRoundWork), the stalest first; the others keep their resample of
// slightly fewer battles and its solution until a later refresh. Every
// round stays an exact resample of the battles it covers, and with
// millions of battles a round a few votes behind changes no interval.
type liveBoot struct {
	rounds  int
	seed    uint64
	models  int
	battles int   // battles [0, battles) of the dataset have their cells indexed
	covered []int // round r resamples battles [0, covered[r])
	index   map[cellKey]int32
	keys    []cellKey
	counts  [][]int32 // rounds × cells
	rngs    []*rand.Rand
	srcs    []*rand.PCG // rngs[r] draws from srcs[r]
	beta    [][]float64
	// the fresh draws' tables by count, kept between refreshes: at most
	// one per count up to maxTableLambda
	tables map[int64]poissonTable
}

// maxLiveCells bounds rounds × cells kept (4 bytes each).
const maxLiveCells = 32 << 20

// liveRoundWork bounds the work of one refresh: about 50 ms on one core.
// A refreshed round costs its cells plus models² (the solve), plus
// bringing its counts up to date (roundCost). With 50 models and a few
// votes between refreshes every round is refreshed every time; with 100,
// about a third of them, so each is at most three refreshes behind; after
// thousands of votes (5 s at 500 votes/s) about a third with 50 models.
const liveRoundWork = 8 << 20

// roundCost returns the work, in liveRoundWork's units, of refreshing a
// round k battles behind over cells cells and n models, and whether the
// round is cheaper drawn afresh: updating it battle by battle costs about
// k times a removal's scan of a share of the cells, a fresh draw about six
// passes over them (measured with 50 models: 0.47 µs a battle against
// 125 µs a draw).
func roundCost(k, cells, n int) (work int, fresh bool) {
	return roundCostOf(k, cells, n)
}

// roundCostOf is roundCost's model; tests replace it to choose how rounds
// are refreshed.
var roundCostOf = func(k, cells, n int) (work int, fresh bool) {
	update, draw := k*(cells/96+64), 6*cells
	return cells + n*n + min(update, draw), draw < update
}

// cellKey names a (pair, outcome) cell by dataset model ids, i < j; kind 0
// is a win of i, 1 a win of j, 2 a tie.
type cellKey struct {
	i, j int32
	kind uint8
}

func battleCell(a, b int32, w uint8) cellKey {
	k := cellKey{i: min(a, b), j: max(a, b)}
	switch w {
	case outA:
		if a != k.i {
			k.kind = 1
		}
	case outB:
		if b != k.i {
			k.kind = 1
		}
	default:
		k.kind = 2
	}
	return k
}

// battleSnap is a read-only view of the first battles of a dataset.
type battleSnap struct {
	a, b []int32
	w    []uint8
}

func newLiveBoot(bs *Bootstrap, pairs []Pair, opt BootstrapOptions, models, battles int) *liveBoot {
	lb := &liveBoot{
		rounds: opt.Rounds, seed: opt.Seed, models: models, battles: battles,
		index: make(map[cellKey]int32, len(bs.cells)), counts: bs.counts, rngs: bs.rngs, srcs: bs.srcs, beta: bs.Beta,
		covered: make([]int, opt.Rounds),
	}
	for r := range lb.covered {
		lb.covered[r] = battles
	}
	for k, c := range bs.cells {
		p := pairs[c.pair]
		key := cellKey{i: int32(p.I), j: int32(p.J), kind: c.kind}
		lb.index[key] = int32(k)
		lb.keys = append(lb.keys, key)
	}
	return lb
}

// fits reports whether lb can be updated for these options.
func (lb *liveBoot) fits(opt BootstrapOptions, models, battles int) bool {
	return lb != nil && lb.rounds == opt.Rounds && lb.seed == opt.Seed && lb.models == models && lb.battles <= battles
}

// update brings the stalest rounds, as many as work allows, up
// to the battles of snap and refits them from their previous solutions;
// the other rounds keep theirs. On error lb must be discarded.
// work is liveRoundWork but in benchmarks.
func (lb *liveBoot) update(ctx context.Context, snap battleSnap, n int, pairs []Pair, fit *Fit, opt BootstrapOptions, work int) (*Bootstrap, error) {
	t := len(snap.a)
	from := slices.Min(lb.covered)
	added := lb.indexBattles(snap, from, t)
	cells := lb.cells(pairs)
	refresh := lb.stalest(work, t, len(cells), n)
	var rs *resampler // for the rounds drawn afresh, made when one is
	if slices.Contains(refresh, refreshDraw) {
		if lb.tables == nil {
			lb.tables = map[int64]poissonTable{}
		}
		if rs = newResamplerTables(cells, lb.tables); rs.total != int64(t) {
			return nil, fmt.Errorf("live bootstrap: the cells hold %d battles, want %d", rs.total, t)
		}
	}
	out := &Bootstrap{Beta: make([][]float64, lb.rounds)}
	err := forRounds(ctx, n, pairs, fit, opt, out, func(w *roundWorker, r int) error {
		x, start := lb.counts[r], lb.beta[r]
		switch refresh[r] {
		case refreshNone:
			out.Beta[r] = start
			return nil
		case refreshDraw:
			rs.draw(lb.srcs[r], lb.rngs[r], w.x, w.fen)
			for k, v := range w.x {
				x[k] = int32(v)
			}
			start = fit.Beta
		default:
			lb.advance(r, snap, added[lb.covered[r]-from:], t)
			for k, v := range x {
				w.x[k] = int64(v)
			}
		}
		w.fill(cells, w.x)
		return w.solve(out, r, start)
	}, len(cells))
	if err != nil {
		return nil, err
	}
	for r, how := range refresh {
		if how != refreshNone {
			lb.covered[r] = t
		}
	}
	lb.battles, lb.beta = t, out.Beta
	return out, nil
}

// advance turns round r's resample of its battles into one of the
// battles [0, t) of snap, battle by battle; added holds the cells of the
// battles from the first one the round lacks.
func (lb *liveBoot) advance(r int, snap battleSnap, added []int32, t int) {
	x, rng := lb.counts[r], lb.rngs[r]
	for u := lb.covered[r]; u < t; u++ {
		old := int64(u) // battles before this one
		b := binomialOne(rng, old+1)
		switch {
		case b == 0:
			v := rng.Int64N(old)
			x[lb.index[battleCell(snap.a[v], snap.b[v], snap.w[v])]]++
		case b >= 2:
			removeUniform(rng, x, b-1, old)
		}
		x[added[u-lb.covered[r]]] += int32(b)
	}
}

// indexBattles gives the battles [lb.battles, t) of snap cells, adding
// the cells not seen before to every round, and returns the cells of the
// battles [from, t).
func (lb *liveBoot) indexBattles(snap battleSnap, from, t int) []int32 {
	added := make([]int32, t-from)
	for u := from; u < t; u++ {
		key := battleCell(snap.a[u], snap.b[u], snap.w[u])
		k, ok := lb.index[key]
		if !ok {
			k = int32(len(lb.keys))
			lb.index[key] = k
			lb.keys = append(lb.keys, key)
			for r := range lb.counts {
				lb.counts[r] = append(lb.counts[r], 0)
			}
		}
		added[u-from] = k
	}
	return added
}

// cells returns the kept cells in terms of pairs' indexes, with their
// counts in pairs.
func (lb *liveBoot) cells(pairs []Pair) []cell {
	pairIndex := make(map[[2]int32]int32, len(pairs))
	for k, p := range pairs {
		pairIndex[[2]int32{int32(p.I), int32(p.J)}] = int32(k)
	}
	cells := make([]cell, len(lb.keys))
	for k, key := range lb.keys {
		c := cell{pair: pairIndex[[2]int32{key.i, key.j}], kind: key.kind}
		c.count = int64([3]float64{pairs[c.pair].WinsI, pairs[c.pair].WinsJ, pairs[c.pair].Ties}[c.kind])
		cells[k] = c
	}
	return cells
}

// How a refresh brings a round up to date.
const (
	refreshNone   = iota // it keeps its resample
	refreshUpdate        // battle by battle (advance)
	refreshDraw          // drawn afresh
)

// stalest marks the rounds that cover the fewest battles (the lowest
// numbered first among equals), as many as work allows (roundCost), at
// least one, for a refresh up to the battles [0, t).
func (lb *liveBoot) stalest(work, t, cells, n int) []uint8 {
	refresh := make([]uint8, lb.rounds)
	order := make([]int, lb.rounds)
	for r := range order {
		order[r] = r
	}
	slices.SortStableFunc(order, func(x, y int) int { return cmp.Compare(lb.covered[x], lb.covered[y]) })
	for i, r := range order {
		cost, fresh := roundCost(t-lb.covered[r], cells, n)
		if i > 0 && cost > work {
			break
		}
		work -= cost
		refresh[r] = refreshUpdate
		if fresh {
			refresh[r] = refreshDraw
		}
	}
	return refresh
}

// binomialOne draws from Binomial(n, 1/n) by inversion.
func binomialOne(rng *rand.Rand, n int64) int64 {
	if n <= 1 {
		return n
	}
	p := 1 / float64(n)
	ratio := p / (1 - p)
	f := math.Exp(float64(n) * math.Log1p(-p))
	u := rng.Float64()
	var x int64
	for u > f && x < n {
		u -= f
		x++
		f *= float64(n-x+1) / float64(x) * ratio
	}
	return x
}

// removeUniform removes m of the total items counted in x, chosen
// uniformly without replacement.
func removeUniform(rng *rand.Rand, x []int32, m, total int64) {
	for ; m > 0; m-- {
		r := rng.Int64N(total)
		for k, v := range x {
			if r < int64(v) {
				x[k]--
				break
			}
			r -= int64(v)
		}
		total--
	}
}
