package analytics

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
)

// resampler draws Multinomial(N, c/N) over the cells of a count table:
// exactly the cell counts of N battles drawn with replacement.
//
// It draws an independent Poisson(c_k) for every cell — whose sum M is
// random but, given M, the counts are Multinomial(M, c/N) — and then
// corrects the total: when M < N it adds N−M draws from c/N (alias table),
// when M > N it removes M−N items chosen uniformly without replacement
// (Fenwick tree). Either way the result is exactly Multinomial(N, c/N), and
// |M−N| is only about √N. The per-cell Poisson constants do not change
// between rounds, so they are computed once: an inversion table for each
// distinct count up to maxTableLambda (counts are whole numbers, so cells
// share them), PTRS constants for larger counts.
type resampler struct {
	cells  []cell
	total  int64
	groups []tableGroup    // cells with a count up to maxTableLambda, by count
	big    []int32         // the other cells, drawn by PTRS
	pois   []poissonParams // PTRS constants of each cell in big
	aliasP []float64       // alias table over cells, probability c/N
	aliasK []int32
	// log(k!) for k up to a bit beyond the largest likely PTRS draw
	lfactor []float64
}

// tableGroup is the cells of one count, drawn from one table one after
// another (so the table stays in cache).
type tableGroup struct {
	table poissonTable
	cells []int32
}

// poissonParams are the constants of Hörmann's PTRS for one λ ≥ 10
// (numpy's random_poisson_ptrs).
type poissonParams struct {
	lam, loglam, a, twoA, b, invAlpha, vr float64
}

func newResampler(cells []cell) *resampler {
	return newResamplerTables(cells, nil)
}

// newResamplerTables is newResampler taking the inversion tables from
// tables, by count, and adding those it makes, when tables is not nil:
// a live bootstrap draws over cells whose counts change a little between
// refreshes, and most tables stay the same.
func newResamplerTables(cells []cell, tables map[int64]poissonTable) *resampler {
	rs := &resampler{cells: cells}
	byCount := map[int64][]int32{}
	maxC := int64(0)
	for k, c := range cells {
		rs.total += c.count
		if c.count <= maxTableLambda {
			byCount[c.count] = append(byCount[c.count], int32(k))
			continue
		}
		maxC = max(maxC, c.count)
		rs.big = append(rs.big, int32(k))
		rs.pois = append(rs.pois, newPoissonParams(float64(c.count)))
	}
	for _, count := range slices.Sorted(maps.Keys(byCount)) {
		t, ok := tables[count]
		if !ok {
			t = newPoissonTable(count)
			if tables != nil {
				tables[count] = t
			}
		}
		rs.groups = append(rs.groups, tableGroup{t, byCount[count]})
	}
	if maxC > 0 {
		n := min(maxC+10*int64(math.Sqrt(float64(maxC)))+100, 1<<20)
		rs.lfactor = make([]float64, n)
		for k := int64(1); k < n; k++ {
			rs.lfactor[k] = rs.lfactor[k-1] + math.Log(float64(k))
		}
	}
	rs.buildAlias()
	return rs
}

func newPoissonParams(lam float64) poissonParams {
	p := poissonParams{lam: lam, loglam: math.Log(lam), b: 0.931 + 2.53*math.Sqrt(lam)}
	p.a = -0.059 + 0.02483*p.b
	p.twoA = 2 * p.a
	p.invAlpha = 1.1239 + 1.1328/(p.b-3.4)
	p.vr = 0.9277 - 3.6224/(p.b-2)
	return p
}

// buildAlias builds Vose's alias table for the cell probabilities.
func (rs *resampler) buildAlias() {
	scaled := make([]float64, len(rs.cells))
	for i, c := range rs.cells {
		scaled[i] = float64(c.count) * float64(len(rs.cells)) / float64(rs.total)
	}
	rs.aliasP, rs.aliasK = vose(scaled)
}

// vose returns Vose's alias table for weights scaled to a mean of 1: column
// i yields i with probability keep[i] and alias[i] otherwise. It overwrites
// scaled.
func vose(scaled []float64) (keep []float64, alias []int32) {
	keep, alias = make([]float64, len(scaled)), make([]int32, len(scaled))
	var small, large []int32
	for i, w := range scaled {
		if w < 1 {
			small = append(small, int32(i))
		} else {
			large = append(large, int32(i))
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		keep[s], alias[s] = scaled[s], l
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		keep[i], alias[i] = 1, i
	}
	return keep, alias
}

func (rs *resampler) logFactorial(k int64) float64 {
	if k < int64(len(rs.lfactor)) {
		return rs.lfactor[k]
	}
	v, _ := math.Lgamma(float64(k + 1))
	return v
}

// ptrs draws from Poisson(λ ≥ 10) for the cell big[i] by Hörmann's
// transformed rejection.
func (rs *resampler) ptrs(rng *rand.Rand, i int) int64 {
	p := &rs.pois[i]
	for {
		u := rng.Float64() - 0.5
		v := rng.Float64()
		us := 0.5 - math.Abs(u)
		y := (p.twoA/us+p.b)*u + p.lam + 0.43
		if y < 0 {
			continue // x = floor(y) < 0: rejected
		}
		x := int64(y) // floor, y ≥ 0
		if us >= 0.07 && v <= p.vr {
			return x
		}
		if us < 0.013 && v > us {
			continue
		}
		if math.Log(v*p.invAlpha/(p.a/(us*us)+p.b)) <= -p.lam+float64(x)*p.loglam-rs.logFactorial(x) {
			return x
		}
	}
}

// draw fills x (one count per cell) with a Multinomial(N, c/N) draw from
// rng, which must draw from src (the tables take src's numbers directly,
// without the interface call); fen is scratch space of len(cells)+1.
func (rs *resampler) draw(src *rand.PCG, rng *rand.Rand, x []int64, fen []int64) {
	var m int64
	for g := range rs.groups {
		t := &rs.groups[g].table
		for _, k := range rs.groups[g].cells {
			x[k] = t.draw(src)
			m += x[k]
		}
	}
	for i, k := range rs.big {
		x[k] = rs.ptrs(rng, i)
		m += x[k]
	}
	switch {
	case m < rs.total:
		kk := len(rs.cells)
		for j := m; j < rs.total; j++ {
			i := rng.IntN(kk)
			if rng.Float64() >= rs.aliasP[i] {
				i = int(rs.aliasK[i])
			}
			x[i]++
		}
	case m > rs.total:
		// Fenwick tree over x for uniform removal of single items.
		n := len(rs.cells)
		clear(fen)
		for i := 1; i <= n; i++ {
			fen[i] += x[i-1]
			if j := i + i&-i; j <= n {
				fen[j] += fen[i]
			}
		}
		top := 1
		for top*2 <= n {
			top *= 2
		}
		for rem := m; rem > rs.total; rem-- {
			r := rng.Int64N(rem) // the r-th remaining item, 0-based
			pos := 0
			for step := top; step > 0; step /= 2 {
				if next := pos + step; next <= n && fen[next] <= r {
					pos = next
					r -= fen[next]
				}
			}
			// pos is the count of cells before the chosen one.
			x[pos]--
			for i := pos + 1; i <= n; i += i & -i {
				fen[i]--
			}
		}
	}
}
