package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBinomialDistribution compares the sampler's histogram with the exact
// probability mass function by a chi-square statistic, on both the
// inversion and the BTRS paths.
func TestBinomialDistribution(t *testing.T) {
	for _, tc := range []struct {
		n int64
		p float64
	}{{5, 0.3}, {40, 0.1}, {100, 0.3}, {1000, 0.5}, {5000, 0.93}, {100000, 0.02}} {
		rng := rand.New(rand.NewPCG(7, uint64(tc.n)))
		const draws = 200000
		hist := map[int64]float64{}
		var sum, sumSq float64
		for i := 0; i < draws; i++ {
			x := binomial(rng, tc.n, tc.p)
			if x < 0 || x > tc.n {
				t.Fatalf("binomial(%d, %g) = %d, out of range", tc.n, tc.p, x)
			}
			hist[x]++
			sum += float64(x)
			sumSq += float64(x) * float64(x)
		}
		mean := sum / draws
		wantMean := float64(tc.n) * tc.p
		sd := math.Sqrt(wantMean * (1 - tc.p))
		if math.Abs(mean-wantMean) > 5*sd/math.Sqrt(draws) {
			t.Errorf("binomial(%d, %g): mean %.4f, want %.4f", tc.n, tc.p, mean, wantMean)
		}
		// Chi-square over bins with expected count ≥ 20, the rest pooled.
		var chi, pooledObs, pooledExp float64
		bins := 0
		for k := int64(0); k <= tc.n; k++ {
			lp := lchoose(tc.n, k) + float64(k)*math.Log(tc.p) + float64(tc.n-k)*math.Log1p(-tc.p)
			e := draws * math.Exp(lp)
			if e < 20 {
				pooledObs += hist[k]
				pooledExp += e
				continue
			}
			chi += (hist[k] - e) * (hist[k] - e) / e
			bins++
		}
		if pooledExp > 0 {
			chi += (pooledObs - pooledExp) * (pooledObs - pooledExp) / pooledExp
			bins++
		}
		// df = bins−1; fail beyond mean + 6 standard deviations.
		df := float64(bins - 1)
		if chi > df+6*math.Sqrt(2*df) {
			t.Errorf("binomial(%d, %g): chi-square %.1f with %d bins", tc.n, tc.p, chi, bins)
		}
	}
}

func lchoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
