package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// wikipediaPairs is the worked example of the Wikipedia article
// "Bradley–Terry model": four teams, 21 games. A beat B twice and lost three
// times, never met C, beat D once and lost four times; B beat C five times
// and lost three; B never met D; C beat D once and lost three times.
func wikipediaPairs() []Pair {
	const a, b, c, d = 0, 1, 2, 3
	return []Pair{
		{I: a, J: b, WinsI: 2, WinsJ: 3},
		{I: a, J: d, WinsI: 1, WinsJ: 4},
		{I: b, J: c, WinsI: 5, WinsJ: 3},
		{I: c, J: d, WinsI: 1, WinsJ: 3},
	}
}

func TestWikipediaExample(t *testing.T) {
	// Published strengths, normalized to a geometric mean of 1.
	want := []float64{0.640, 1.043, 0.660, 2.270}
	for name, solve := range map[string]func(int, []Pair, FitOptions) (*Fit, error){"newton": FitNewton, "mm": FitMM} {
		fit, err := solve(4, wikipediaPairs(), FitOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, b := range fit.Beta {
			if got := math.Exp(b); math.Abs(got-want[i]) > 0.0005 {
				t.Errorf("%s: strength[%d] = %.4f, want %.3f", name, i, got, want[i])
			}
		}
	}
}

func TestSolversAgree(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		s, err := NewSynth(SynthConfig{Models: 30, Battles: 20000, Seed: seed, TieRate: 0.4})
		if err != nil {
			t.Fatal(err)
		}
		c := s.Dataset().Count(Filter{})
		assertSolversAgree(t, c)
	}
}

// assertSolversAgree fits c with both solvers and checks that the strengths
// (log10 units, the β of 400β+1000) agree to 1e-9.
func assertSolversAgree(t *testing.T, c *Counts) {
	t.Helper()
	pairs := c.Pairs()
	nf, err := FitNewton(c.N(), pairs, FitOptions{})
	if err != nil {
		t.Fatalf("FitNewton: %v", err)
	}
	mf, err := FitMM(c.N(), pairs, FitOptions{})
	if err != nil {
		t.Fatalf("FitMM: %v", err)
	}
	var worst float64
	for i := range nf.Beta {
		worst = max(worst, math.Abs(nf.Beta[i]-mf.Beta[i])/math.Ln10)
	}
	if worst > 1e-9 {
		t.Errorf("Newton and MM strengths differ by %.3g (log10 units), want ≤ 1e-9 (Newton %d it, MM %d it)", worst, nf.Iterations, mf.Iterations)
	}
	t.Logf("%d models: Newton %d iterations, MM %d iterations, max difference %.2g log10 units = %.2g rating points",
		c.N(), nf.Iterations, mf.Iterations, worst, 400*worst)
}

func TestHardCases(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		pairs []Pair
		exact bool
	}{
		{"undefeated", 3, []Pair{{I: 0, J: 1, WinsI: 3}, {I: 1, J: 2, WinsI: 2, WinsJ: 1}}, false},
		{"disconnected", 4, []Pair{{I: 0, J: 1, WinsI: 2, WinsJ: 1}, {I: 2, J: 3, WinsI: 1, WinsJ: 4}}, false},
		{"one battle", 2, []Pair{{I: 0, J: 1, WinsI: 1}}, false},
		{"one tie", 2, []Pair{{I: 0, J: 1, Ties: 1}}, true},
		{"cycle", 3, []Pair{{I: 0, J: 1, WinsI: 1}, {I: 1, J: 2, WinsI: 1}, {I: 0, J: 2, WinsJ: 1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diagnose(tt.n, tt.pairs)
			if d.Exact() != tt.exact {
				t.Fatalf("Diagnose().Exact() = %v, want %v", d.Exact(), tt.exact)
			}
			prior := 0.0
			if !d.Exact() {
				prior = DefaultPrior
			}
			fit, err := FitNewton(tt.n, tt.pairs, FitOptions{Prior: prior})
			if err != nil {
				t.Fatalf("FitNewton: %v", err)
			}
			for i, b := range fit.Beta {
				if math.IsNaN(b) || math.IsInf(b, 0) {
					t.Errorf("beta[%d] = %v", i, b)
				}
			}
		})
	}
}

// TestStronglyConnected compares the bootstrap's sweep check with Tarjan's
// algorithm on random sparse graphs.
func TestStronglyConnected(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 500; trial++ {
		n := 2 + rng.IntN(6)
		var pairs []Pair
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if rng.IntN(2) == 0 {
					pairs = append(pairs, Pair{I: i, J: j, WinsI: float64(rng.IntN(2)), WinsJ: float64(rng.IntN(2)), Ties: float64(rng.IntN(3) / 2)})
				}
			}
		}
		w := &roundWorker{n: n, sample: pairs}
		if got, want := w.stronglyConnected(), Diagnose(n, pairs).Exact() && len(Diagnose(n, pairs).Strong) == 1; got != want {
			t.Fatalf("stronglyConnected(%v) = %v, Diagnose says %v", pairs, got, want)
		}
	}
}

// TestDetoursKeepConnectivity checks the bootstrap's shortcut: when the
// full graph is strongly connected and every lost edge has a two-step
// detour, the resample is strongly connected.
func TestDetoursKeepConnectivity(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for trial := 0; trial < 2000; trial++ {
		n := 3 + rng.IntN(5)
		var full []Pair
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				full = append(full, Pair{I: i, J: j, WinsI: float64(1 + rng.IntN(2)), WinsJ: float64(1 + rng.IntN(2))})
			}
		}
		sample := make([]Pair, len(full))
		for k, p := range full {
			sample[k] = p
			if rng.IntN(4) == 0 {
				sample[k].WinsI = 0
			}
			if rng.IntN(4) == 0 {
				sample[k].WinsJ = 0
			}
		}
		pairIdx := make([]int32, n*n)
		for i := range pairIdx {
			pairIdx[i] = -1
		}
		for k, p := range full {
			pairIdx[p.I*n+p.J], pairIdx[p.J*n+p.I] = int32(k), int32(k)
		}
		w := &roundWorker{n: n, pairs: full, sample: sample, pairIdx: pairIdx}
		if w.lostEdge() && w.detours() && !w.stronglyConnected() {
			t.Fatalf("detours found but the resample is not strongly connected: %v", sample)
		}
		if got, want := w.stronglyConnected(), len(Diagnose(n, sample).Strong) == 1; got != want {
			t.Fatalf("stronglyConnected = %v, Tarjan %v", got, want)
		}
	}
}
