package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPoisson compares the PTRS and inversion samplers' histograms with the
// exact probability mass function by a chi-square statistic.
func TestPoisson(t *testing.T) {
	for _, lam := range []int64{1, 7, 12, 170, 5000} {
		rs := newResampler([]cell{{count: lam}})
		rng := rand.New(rand.NewPCG(3, uint64(lam)))
		const draws = 200000
		hist := map[int64]float64{}
		for i := 0; i < draws; i++ {
			hist[rs.poisson(rng, 0)]++
		}
		var chi, pooledObs, pooledExp float64
		bins := 0
		l := float64(lam)
		for k := int64(0); k <= 3*lam+50; k++ {
			lg, _ := math.Lgamma(float64(k + 1))
			e := draws * math.Exp(-l+float64(k)*math.Log(l)-lg)
			if e < 20 {
				pooledObs += hist[k]
				pooledExp += e
				continue
			}
			chi += (hist[k] - e) * (hist[k] - e) / e
			bins++
		}
		chi += (pooledObs - pooledExp) * (pooledObs - pooledExp) / math.Max(pooledExp, 1)
		df := float64(bins)
		if chi > df+6*math.Sqrt(2*df) {
			t.Errorf("Poisson(%d): chi-square %.1f with %d bins", lam, chi, bins)
		}
	}
}

// TestMultinomial checks the resampler's draws: the total is always N and
// each cell's count has the Binomial(N, c/N) mean and variance, in both the
// adding and the removing branch.
func TestMultinomial(t *testing.T) {
	cells := []cell{{count: 5000}, {count: 300}, {count: 40}, {count: 3}, {count: 1}, {count: 1200}}
	rs := newResampler(cells)
	rng := rand.New(rand.NewPCG(1, 2))
	const rounds = 40000
	x := make([]int64, len(cells))
	fen := make([]int64, len(cells)+1)
	sum := make([]float64, len(cells))
	sumSq := make([]float64, len(cells))
	for r := 0; r < rounds; r++ {
		rs.draw(rng, x, fen)
		var tot int64
		for k, v := range x {
			if v < 0 {
				t.Fatalf("negative count %d", v)
			}
			tot += v
			sum[k] += float64(v)
			sumSq[k] += float64(v) * float64(v)
		}
		if tot != rs.total {
			t.Fatalf("round %d: total %d, want %d", r, tot, rs.total)
		}
	}
	n := float64(rs.total)
	for k, c := range cells {
		p := float64(c.count) / n
		mean, v := sum[k]/rounds, sumSq[k]/rounds-(sum[k]/rounds)*(sum[k]/rounds)
		wantV := n * p * (1 - p)
		if math.Abs(mean-n*p) > 5*math.Sqrt(wantV/rounds) {
			t.Errorf("cell %d: mean %.3f, want %.3f", k, mean, n*p)
		}
		if math.Abs(v/wantV-1) > 0.05 {
			t.Errorf("cell %d: variance %.3f, want %.3f", k, v, wantV)
		}
	}
}
