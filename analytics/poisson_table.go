package analytics

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// maxTableLambda is the largest λ drawn from a table. A table holds about
// 18√λ entries; with one table per distinct count, all of them together
// stay under a megabyte.
const maxTableLambda = 512

// poissonTable draws from Poisson(λ) with Walker's alias method: one 64-bit
// uniform picks a column (its high product with the column count) and a
// point within the column (the low product); the column yields its own
// value below its cut and its alias above. No loop, no floating point, one
// random number a draw, against PTRS's two floating-point uniforms, a
// division and at times a logarithm.
//
// The table covers every k whose probability is at least 2^−64 (a 64-bit
// uniform could not tell a smaller one from zero); the mass left out is
// below 10^−18 and the rest is scaled to 1. Each probability is then
// drawn within about (columns)·2^−64 of its exact value.
type poissonTable struct {
	lo    int64    // the value of column 0
	cols  uint64   // len(cut)
	cut   []uint64 // column i yields lo+i when the point is below cut[i]
	alias []int32  // and lo+alias[i] otherwise
}

// minTableMass is the least probability a table keeps: 2^−64.
var minTableMass = math.Ldexp(1, -64)

func newPoissonTable(lambda int64) poissonTable {
	lam := float64(lambda)
	pmf, lo := poissonPMF(lam)
	var total float64
	for _, p := range pmf {
		total += p
	}
	n := len(pmf)
	scaled := make([]float64, n)
	for i, p := range pmf {
		scaled[i] = p / total * float64(n)
	}
	keep, alias := vose(scaled)
	t := poissonTable{lo: lo, cols: uint64(n), cut: make([]uint64, n), alias: alias}
	for i, k := range keep {
		t.cut[i] = scale64(k)
	}
	return t
}

// poissonPMF returns P(X = k) for the k from lo on whose probability is at
// least minTableMass, computed from the mode outwards by the ratios
// P(k+1)/P(k) = λ/(k+1), so that e^−λ never underflows.
func poissonPMF(lam float64) (pmf []float64, lo int64) {
	mode := int64(lam)
	lg, _ := math.Lgamma(float64(mode) + 1)
	top := math.Exp(-lam + float64(mode)*math.Log(lam) - lg)
	if lam == 0 {
		top = 1
	}
	var down []float64 // P(mode−1), P(mode−2), …
	for k, p := mode, top; k > 0; k-- {
		if p *= float64(k) / lam; p < minTableMass {
			break
		}
		down = append(down, p)
	}
	for i := len(down) - 1; i >= 0; i-- {
		pmf = append(pmf, down[i])
	}
	pmf = append(pmf, top)
	for k, p := mode+1, top*lam/float64(mode+1); p >= minTableMass; k++ {
		pmf = append(pmf, p)
		p *= lam / float64(k+1)
	}
	return pmf, mode - int64(len(down))
}

// scale64 returns p·2^64 as an integer, p in [0, 1].
func scale64(p float64) uint64 {
	if p >= 1 {
		return math.MaxUint64
	}
	return uint64(math.Ldexp(p, 64))
}

// draw returns one Poisson(λ) draw.
func (t *poissonTable) draw(src *rand.PCG) int64 {
	col, point := bits.Mul64(src.Uint64(), t.cols)
	i := int32(col)
	if point >= t.cut[col] {
		i = t.alias[col]
	}
	return t.lo + int64(i)
}
