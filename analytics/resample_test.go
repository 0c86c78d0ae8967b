package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// TestPoisson compares the inversion tables' and PTRS's histograms with the
// exact probability mass function by a chi-square statistic.
func TestPoisson(t *testing.T) {
	for _, lam := range []int64{1, 7, 12, 170, maxTableLambda, maxTableLambda + 1, 5000} {
		rs := newResampler([]cell{{count: lam}})
		src := rand.NewPCG(3, uint64(lam))
		rng := rand.New(src)
		const draws = 200000
		hist := map[int64]float64{}
		for i := 0; i < draws; i++ {
			if len(rs.groups) > 0 {
				hist[rs.groups[0].table.draw(src)]++
			} else {
				hist[rs.ptrs(rng, 0)]++
			}
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

// TestPoissonTable checks every probability of the alias tables against
// the exact mass function, and that the mass they leave out is negligible.
func TestPoissonTable(t *testing.T) {
	for _, lam := range []int64{1, 2, 3, 9, 10, 17, 64, 100, 333, maxTableLambda} {
		tab := newPoissonTable(lam)
		l := float64(lam)
		exact := func(k int64) float64 {
			lg, _ := math.Lgamma(float64(k + 1))
			return math.Exp(-l + float64(k)*math.Log(l) - lg)
		}
		got := make([]float64, len(tab.cut))
		for i, cut := range tab.cut {
			keep := math.Ldexp(float64(cut), -64)
			got[i] += keep / float64(tab.cols)
			got[tab.alias[i]] += (1 - keep) / float64(tab.cols)
		}
		for i, p := range got {
			// Within 1e-12 relative: the precision of the exact
			// reference's Lgamma at these λ, far below any
			// statistical effect.
			if k := tab.lo + int64(i); math.Abs(p-exact(k)) > 1e-12*exact(k)+1e-18 {
				t.Errorf("Poisson(%d) table: P(%d) = %.17g, want %.17g", lam, k, p, exact(k))
			}
		}
		var left float64
		for k := range tab.lo {
			left += exact(k)
		}
		for k := tab.lo + int64(len(got)); k < tab.lo+int64(len(got))+500; k++ {
			left += exact(k)
		}
		if left > 1e-18 {
			t.Errorf("Poisson(%d) table [%d, %d] leaves out mass %g", lam, tab.lo, tab.lo+int64(len(got))-1, left)
		}
	}
}

// TestMultinomial checks the resampler's draws: the total is always N and
// each cell's count has the Binomial(N, c/N) mean and variance, in both the
// adding and the removing branch.
func TestMultinomial(t *testing.T) {
	cells := []cell{{count: 5000}, {count: 300}, {count: 40}, {count: 3}, {count: 1}, {count: 1200}}
	rs := newResampler(cells)
	src := rand.NewPCG(1, 2)
	rng := rand.New(src)
	const rounds = 40000
	x := make([]int64, len(cells))
	fen := make([]int64, len(cells)+1)
	sum := make([]float64, len(cells))
	sumSq := make([]float64, len(cells))
	for r := 0; r < rounds; r++ {
		rs.draw(src, rng, x, fen)
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

// cpuTime returns the processor time the process has used, user and
// system: on a shared machine, steadier than the elapsed time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkResample is one bootstrap round's multinomial draw over the
// cells of 1M and 10M battles among 200 models.
func BenchmarkResample(b *testing.B) {
	for _, battles := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("battles=%d", battles), func(b *testing.B) {
			d := benchDataset(b, 200, battles)
			cells := pairCells(d.Count(Filter{}).Pairs())
			rs := newResampler(cells)
			src := rand.NewPCG(1, 2)
			rng := rand.New(src)
			x, fen := make([]int64, len(cells)), make([]int64, len(cells)+1)
			cpu0 := cpuTime()
			for b.Loop() {
				rs.draw(src, rng, x, fen)
			}
			n := float64(b.N * len(cells))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/cell")
			b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/cell")
		})
	}
}
