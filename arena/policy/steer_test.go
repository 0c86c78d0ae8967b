package policy

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"testing"

	"github.com/agora-rlhf/agora/arena"
)

// simulateShares pairs n times among models (lab by labOf) with uniform
// matchmaking, steered or not, and returns each lab's share of the sides
// of the last half of the pairings and of all of them.
func simulateShares(labOf map[string]string, sampling Sampling, steered bool, n int, seed uint64) (last, all map[string]float64) {
	rng := mrand.New(mrand.NewPCG(seed, seed+1))
	models := make([]string, 0, len(labOf))
	active := map[string]bool{}
	for m, lab := range labOf {
		models = append(models, m)
		active[lab] = true
	}
	slices.Sort(models)
	targets := sampling.targets(active)
	st := newSteering(nil)
	lastSides, allSides := map[string]float64{}, map[string]float64{}
	for i := range n {
		var w map[string]float64
		if steered {
			w = st.weights(labOf, targets)
		}
		a, b, err := st.pair(arena.Uniform{}, models, rng, labOf, w)
		if err != nil {
			panic(err)
		}
		for _, m := range []string{a, b} {
			allSides[labOf[m]] += 1 / float64(2*n)
			if i >= n/2 {
				lastSides[labOf[m]] += 1 / float64(n)
			}
		}
	}
	return lastSides, allSides
}

// TestSteeringConverges is the seeded simulation of docs/policy.md: a lab
// with 6 models, one with 2 and the operator with 2, under uniform
// matchmaking. Unsteered, the big lab gets 60% of the sides; steered, every
// lab's share of the second half of 20,000 pairings is within 0.01 of its
// target (equal thirds, then 50/25/25 by the policy's shares), over 5
// seeds. go test -run TestSteeringConverges -v ./arena/policy
func TestSteeringConverges(t *testing.T) {
	labOf := map[string]string{"op-1": OperatorLab, "op-2": OperatorLab, "small-1": "small", "small-2": "small"}
	for i := range 6 {
		labOf[fmt.Sprintf("big-%d", i)] = "big"
	}
	const n, tolerance = 20000, 0.01
	cases := []struct {
		name     string
		sampling Sampling
		want     map[string]float64
	}{
		{"equal", Sampling{Target: "equal"}, map[string]float64{"big": 1. / 3, "small": 1. / 3, OperatorLab: 1. / 3}},
		{"shares", Sampling{Target: "shares", Shares: map[string]float64{"small": 0.5}}, map[string]float64{"big": 0.25, "small": 0.5, OperatorLab: 0.25}},
	}
	for _, c := range cases {
		_, plain := simulateShares(labOf, c.sampling, false, n, 1)
		if math.Abs(plain["big"]-0.6) > 0.03 {
			t.Errorf("%s: unsteered, the big lab has %.3f of the sides, want about 0.6", c.name, plain["big"])
		}
		for seed := uint64(1); seed <= 5; seed++ {
			last, all := simulateShares(labOf, c.sampling, true, n, seed)
			for lab, want := range c.want {
				if math.Abs(last[lab]-want) > tolerance {
					t.Errorf("%s, seed %d: %s has %.3f of the last half's sides, want %.3f ± %.2f", c.name, seed, lab, last[lab], want, tolerance)
				}
			}
			t.Logf("%s, seed %d: last half %v, all %v (unsteered %v)", c.name, seed, fmtShares(last), fmtShares(all), fmtShares(plain))
		}
	}
}

func fmtShares(m map[string]float64) string {
	return fmt.Sprintf("big %.3f small %.3f operator %.3f", m["big"], m["small"], m[OperatorLab])
}
