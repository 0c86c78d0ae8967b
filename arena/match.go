package arena

import (
	mrand "math/rand/v2"
	"sort"

	"github.com/agora-rlhf/agora/rlhf"
)

// Matcher chooses the two models of a new battle, in side order.
type Matcher interface {
	Pair(models []string, rng *mrand.Rand) (a, b string, err error)
}

// Uniform pairs two different models chosen uniformly at random, on random
// sides.
type Uniform struct{}

// Pair returns two different models from models.
func (Uniform) Pair(models []string, rng *mrand.Rand) (string, string, error) {
	if len(models) < 2 {
		return "", "", rlhf.Errorf(rlhf.EUnavailable, "fewer than two models are available")
	}
	i := rng.IntN(len(models))
	j := rng.IntN(len(models) - 1)
	if j >= i {
		j++
	}
	return models[i], models[j], nil
}

func sortedNames(names []string) []string {
	sort.Strings(names)
	return names
}
