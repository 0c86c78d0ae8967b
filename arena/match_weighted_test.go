package arena

import (
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

func names(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("m%02d", i)
	}
	return out
}

func record(a, b string, w rlhf.Winner) *rlhf.Record {
	return &rlhf.Record{Battle: rlhf.Battle{ID: "b", ModelA: a, ModelB: b}, Vote: rlhf.Vote{ID: "v", Winner: w}}
}

// TestPoliciesPairFairly checks every policy: never a model against
// itself, only offered models, and both sides of each pair equally often.
func TestPoliciesPairFairly(t *testing.T) {
	models := names(6)
	policies := map[string]func() Matcher{
		"uniform":  func() Matcher { return Uniform{} },
		"weighted": func() Matcher { return NewWeighted(map[string]float64{"m00": 3, "m01": 0.5}, 5, 10) },
		"active": func() Matcher {
			a := NewActive(ActiveConfig{})
			// Skewed history: m00 and m01 have played a lot, m05 never.
			for k := 0; k < 300; k++ {
				w := rlhf.WinnerA
				if k%3 == 0 {
					w = rlhf.WinnerB
				}
				a.Observe(record("m00", "m01", w))
				a.Observe(record("m01", "m02", w))
				a.Observe(record("m02", "m03", rlhf.WinnerTie))
				a.Observe(record("m03", "m04", w))
			}
			return a
		},
	}
	for name, mk := range policies {
		t.Run(name, func(t *testing.T) {
			m := mk()
			rng := mrand.New(mrand.NewPCG(1, 2))
			offered := models[:5] // m05 is paused
			const draws = 40000
			order := map[[2]string]int{}
			for k := 0; k < draws; k++ {
				a, b, err := m.Pair(offered, rng)
				if err != nil {
					t.Fatal(err)
				}
				if a == b {
					t.Fatalf("Pair = %s, %s: a model against itself", a, b)
				}
				if a == "m05" || b == "m05" {
					t.Fatalf("Pair = %s, %s: m05 was not offered", a, b)
				}
				order[[2]string{a, b}]++
				if l, ok := m.(Learner); ok && k%10 == 0 {
					if err := l.Observe(record(a, b, rlhf.WinnerA)); err != nil {
						t.Fatal(err)
					}
				}
			}
			for p, ab := range order {
				if p[0] > p[1] {
					continue
				}
				ba := order[[2]string{p[1], p[0]}]
				n := float64(ab + ba)
				// Sides are a fair coin: allow 5 standard deviations.
				if d := math.Abs(float64(ab) - n/2); d > 5*math.Sqrt(n)/2+1 {
					t.Errorf("%s-%s: %d times in this order, %d in the other", p[0], p[1], ab, ba)
				}
			}
		})
	}
}

func TestUnavailable(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	for name, m := range map[string]Matcher{
		"uniform": Uniform{}, "weighted": NewWeighted(nil, 1, 0), "active": NewActive(ActiveConfig{}),
		"weighted zero": NewWeighted(map[string]float64{"m01": 0}, 1, 0),
	} {
		models := []string{"m00"}
		if name == "weighted zero" {
			models = []string{"m00", "m01"}
		}
		if _, _, err := m.Pair(models, rng); rlhfCode(err) != rlhf.EUnavailable {
			t.Errorf("%s: Pair(%v) error = %v, want code %s", name, models, err, rlhf.EUnavailable)
		}
	}
}

func rlhfCode(err error) string {
	var e *rlhf.Error
	if !errors.As(err, &e) {
		return ""
	}
	return e.Code
}

// share returns the fraction of draws in which model takes part.
func share(t *testing.T, m Matcher, models []string, model string, draws int, rng *mrand.Rand) float64 {
	t.Helper()
	in := 0
	for k := 0; k < draws; k++ {
		a, b, err := m.Pair(models, rng)
		if err != nil {
			t.Fatal(err)
		}
		if a == model || b == model {
			in++
		}
	}
	return float64(in) / float64(draws)
}

func TestWeightedBoostAndWeights(t *testing.T) {
	models := names(5)
	w := NewWeighted(map[string]float64{"m04": 0}, 5, 100)
	rng := mrand.New(mrand.NewPCG(3, 4))
	// Every model is new and boosted alike, m04 weighs 0: uniform among
	// the other four, so each takes part in half the battles.
	if got := share(t, w, models, "m04", 10000, rng); got != 0 {
		t.Errorf("share of m04 with weight 0 = %v, want 0", got)
	}
	for _, m := range models[:4] {
		for k := 0; k < 100; k++ {
			w.Observe(record(m, "m04", rlhf.WinnerTie))
		}
	}
	if got := w.Votes("m00"); got != 100 {
		t.Errorf("Votes(m00) = %d, want 100", got)
	}
	// m00–m03 have their 100 votes; a new model m09 keeps the boost of 5:
	// it is first with probability 5/9 and second with 4/9·5/8, so it
	// takes part in 5/6 of the battles.
	models = []string{"m00", "m01", "m02", "m03", "m09"}
	if got, want := share(t, w, models, "m09", 40000, rng), 5.0/6; math.Abs(got-want) > 0.01 {
		t.Errorf("share of boosted new model = %.4f, want %.4f", got, want)
	}
	for k := 0; k < 100; k++ {
		w.Observe(record("m09", "m00", rlhf.WinnerA))
	}
	// Boost over: uniform, 2/5.
	if got, want := share(t, w, models, "m09", 40000, rng), 2.0/5; math.Abs(got-want) > 0.01 {
		t.Errorf("share after the boost = %.4f, want %.4f", got, want)
	}
}

func TestObserveRejects(t *testing.T) {
	for name, l := range map[string]Learner{"weighted": NewWeighted(nil, 1, 0), "active": NewActive(ActiveConfig{})} {
		for _, r := range []*rlhf.Record{
			record("m00", "m00", rlhf.WinnerA),
			record("m00", "", rlhf.WinnerA),
			record("m00", "m01", "maybe"),
		} {
			if err := l.Observe(r); rlhfCode(err) != rlhf.EInvalid {
				t.Errorf("%s: Observe(%s vs %s, %q) error = %v, want code %s", name, r.Battle.ModelA, r.Battle.ModelB, r.Vote.Winner, err, rlhf.EInvalid)
			}
		}
	}
}
