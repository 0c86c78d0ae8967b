package arena

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
)

// castVotes feeds a votes per pair of models among ratings (rating points),
// drawn by Bradley–Terry with ties.
func castVotes(t testing.TB, l Learner, models []string, ratings []float64, votes func(i, j int) int, seed uint64) {
	t.Helper()
	rng := mrand.New(mrand.NewPCG(seed, 9))
	for i := range models {
		for j := i + 1; j < len(models); j++ {
			p := 1 / (1 + math.Pow(10, (ratings[j]-ratings[i])/400))
			for k := 0; k < votes(i, j); k++ {
				w := rlhf.WinnerB
				switch u := rng.Float64(); {
				case u < p-0.1:
					w = rlhf.WinnerA
				case u < p+0.1:
					w = rlhf.WinnerTie
				}
				if err := l.Observe(record(models[i], models[j], w)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func spreadRatings(n int) []float64 {
	r := make([]float64, n)
	for i := range r {
		r[i] = 1000 + 40*float64(i)
	}
	return r
}

// TestActiveScoresMatchExact checks the first-order Sherman–Morrison score
// of every pair against the exact drop in the sum of standard deviations
// after one more battle, computed by refitting the covariance.
func TestActiveScoresMatchExact(t *testing.T) {
	n := 8
	models := names(n)
	a := NewActive(ActiveConfig{})
	castVotes(t, a, models, spreadRatings(n), func(i, j int) int { return 20 + 15*((i+j)%3) }, 1)
	a.mu.Lock()
	var pairs []analytics.Pair
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			pairs = append(pairs, analytics.Pair{I: i, J: j, WinsI: float64(a.wins[i*n+j]), WinsJ: float64(a.wins[j*n+i]), Ties: float64(a.ties[i*n+j])})
		}
	}
	a.mu.Unlock()
	s, err := scorePairs(n, pairs, make([]float64, n))
	if err != nil {
		t.Fatal(err)
	}
	fit := &analytics.Fit{Beta: s.beta, Prior: analytics.DefaultPrior}
	sumSD := func(ps []analytics.Pair) float64 {
		cov, err := analytics.Covariance(n, ps, fit)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for k := 0; k < n; k++ {
			sum += math.Sqrt(cov[k*n+k])
		}
		return sum
	}
	before := sumSD(pairs)
	bestExact, bestScore := -1, -1
	var maxExact, maxScore float64
	for k, p := range pairs {
		more := append([]analytics.Pair(nil), pairs...)
		more[k].Ties++ // the information does not depend on the outcome
		exact := before - sumSD(more)
		score := math.Sqrt(math.Sqrt(s.weight[p.I*n+p.J]))
		if rel := math.Abs(score-exact) / exact; rel > 0.02 {
			t.Errorf("pair %d-%d: score %.6g, exact shrink %.6g (off by %.1f%%)", p.I, p.J, score, exact, 100*rel)
		}
		if exact > maxExact {
			maxExact, bestExact = exact, k
		}
		if score > maxScore {
			maxScore, bestScore = score, k
		}
	}
	if bestExact != bestScore {
		t.Errorf("best pair by score = %+v, by exact shrink = %+v", pairs[bestScore], pairs[bestExact])
	}
}

// TestActiveNoPairStarves skews the counts so that the scores are very
// unequal and checks that every pair is still drawn at least about as
// often as the uniform floor promises.
func TestActiveNoPairStarves(t *testing.T) {
	n := 10
	models := names(n)
	a := NewActive(ActiveConfig{Epsilon: 0.1})
	// m00 and m01 nearly unknown, m02–m09 well measured.
	castVotes(t, a, models, spreadRatings(n), func(i, j int) int {
		if i < 2 {
			return 1
		}
		return 200
	}, 2)
	rng := mrand.New(mrand.NewPCG(5, 6))
	counts := map[[2]string]int{}
	const draws = 100000
	for k := 0; k < draws; k++ {
		x, y, err := a.Pair(models, rng)
		if err != nil {
			t.Fatal(err)
		}
		if x > y {
			x, y = y, x
		}
		counts[[2]string{x, y}]++
	}
	pairs := n * (n - 1) / 2
	if len(counts) != pairs {
		t.Fatalf("%d of %d pairs drawn in %d draws", len(counts), pairs, draws)
	}
	floor := 0.1 * draws / float64(pairs)
	for p, c := range counts {
		if float64(c) < 0.8*floor {
			t.Errorf("pair %s-%s drawn %d times, under the uniform floor %.0f", p[0], p[1], c, floor)
		}
	}
	// The unknown models draw most battles.
	var withNew int
	for p, c := range counts {
		if p[0] == "m00" || p[0] == "m01" {
			withNew += c
		}
	}
	if share := float64(withNew) / draws; share < 0.6 {
		t.Errorf("battles with the two barely measured models: %.2f, want most of them (uniform: %.2f)", share, 17.0/45)
	}
}

func TestActiveNewModelJoins(t *testing.T) {
	models := names(9)
	a := NewActive(ActiveConfig{})
	castVotes(t, a, models, spreadRatings(9), func(i, j int) int { return 50 }, 3)
	rng := mrand.New(mrand.NewPCG(7, 8))
	if _, _, err := a.Pair(models, rng); err != nil {
		t.Fatal(err)
	}
	joined := append(names(9), "new")
	// Uniform would put the new model in 2/10 of the battles.
	if got := share(t, a, joined, "new", 2000, rng); got < 0.7 {
		t.Errorf("share of battles with the new model = %.2f, want most", got)
	}
}

func TestActiveRefresh(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewActive(ActiveConfig{RefreshVotes: 5, RefreshInterval: time.Minute, Now: func() time.Time { return now }})
	models := names(3)
	rng := mrand.New(mrand.NewPCG(1, 1))
	scores := func() *activeScores {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.scores
	}
	for k := 0; k < 50; k++ {
		a.Observe(record("m00", "m01", rlhf.WinnerA))
	}
	if scores() != nil {
		t.Fatal("votes before any pairing computed scores; loading at start must stay O(1) a vote")
	}
	if _, _, err := a.Pair(models, rng); err != nil {
		t.Fatal(err)
	}
	first := scores()
	if first == nil || first.n != 3 {
		t.Fatalf("scores after the first Pair = %+v, want 3 models", first)
	}
	a.Pair(models, rng) // in use: votes now lead to rescoring
	for k := 0; k < 4; k++ {
		a.Observe(record("m01", "m02", rlhf.WinnerB))
	}
	if scores() != first {
		t.Error("rescored after 4 votes, want after 5")
	}
	a.Observe(record("m01", "m02", rlhf.WinnerB))
	second := scores()
	if second == first {
		t.Fatal("not rescored after 5 votes")
	}
	a.Pair(models, rng)
	now = now.Add(2 * time.Minute)
	a.Observe(record("m00", "m02", rlhf.WinnerTie))
	if scores() == second {
		t.Error("not rescored at the first vote after the refresh interval")
	}
}

// TestActiveConcurrent runs pairings (under a lock, as the arena does)
// and votes at once; run with -race.
func TestActiveConcurrent(t *testing.T) {
	a := NewActive(ActiveConfig{RefreshVotes: 3})
	models := names(6)
	var mu sync.Mutex
	rng := mrand.New(mrand.NewPCG(1, 2))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 300; k++ {
				mu.Lock()
				x, y, err := a.Pair(models[:4+k%3], rng)
				mu.Unlock()
				if err != nil {
					t.Error(err)
					return
				}
				if err := a.Observe(record(x, y, rlhf.WinnerA)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func benchmarkActive(b *testing.B, n int, fn func(a *Active, models []string, rng *mrand.Rand)) {
	models := names(n)
	a := NewActive(ActiveConfig{RefreshVotes: math.MaxInt, RefreshInterval: time.Duration(math.MaxInt64)})
	castVotes(b, a, models, spreadRatings(n), func(i, j int) int { return 3 }, 1)
	rng := mrand.New(mrand.NewPCG(1, 2))
	if _, _, err := a.Pair(models, rng); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		fn(a, models, rng)
	}
}

// BenchmarkActivePair is the cost of one pairing (under the arena's lock).
func BenchmarkActivePair(b *testing.B) {
	for _, n := range []int{20, 200} {
		b.Run(fmt.Sprint("models=", n), func(b *testing.B) {
			benchmarkActive(b, n, func(a *Active, models []string, rng *mrand.Rand) { a.Pair(models, rng) })
		})
	}
}

// BenchmarkActiveRescore is the cost of recomputing the scores (every
// RefreshVotes votes, on the voting request, never under the arena's lock).
func BenchmarkActiveRescore(b *testing.B) {
	for _, n := range []int{20, 200} {
		b.Run(fmt.Sprint("models=", n), func(b *testing.B) {
			benchmarkActive(b, n, func(a *Active, models []string, rng *mrand.Rand) {
				a.refresh.Lock()
				defer a.refresh.Unlock()
				if err := a.rescore(); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
