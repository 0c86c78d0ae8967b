package arena

import (
	mrand "math/rand/v2"
	"sync"

	"github.com/agora-rlhf/agora/rlhf"
)

// Weighted pairs models in proportion to weights, as Chatbot Arena does: the
// first model is drawn with probability proportional to its weight, its
// rival likewise among the others, and the sides are then drawn at random.
// A model's weight is its configured weight (1 when not listed; 0 never
// pairs it), multiplied by the boost while it has fewer than boostVotes
// votes, so that a new model's rating settles quickly. It is safe for
// concurrent use.
type Weighted struct {
	weights    map[string]float64
	boost      float64
	boostVotes int

	mu    sync.Mutex     // guards votes
	votes map[string]int // votes counted per model
}

// NewWeighted returns a Weighted policy. weights is copied.
func NewWeighted(weights map[string]float64, boost float64, boostVotes int) *Weighted {
	w := &Weighted{weights: map[string]float64{}, boost: boost, boostVotes: boostVotes, votes: map[string]int{}}
	for k, v := range weights {
		w.weights[k] = v
	}
	return w
}

// Observe counts a vote for both models of r.
func (w *Weighted) Observe(r *rlhf.Record) error {
	a, b, _, err := votePair(r)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.votes[a]++
	w.votes[b]++
	w.mu.Unlock()
	return nil
}

// Votes returns the number of votes counted for model.
func (w *Weighted) Votes(model string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.votes[model]
}

// weight returns model's current weight. w.mu must be held.
func (w *Weighted) weight(model string) float64 {
	x, ok := w.weights[model]
	if !ok {
		x = 1
	}
	if w.votes[model] < w.boostVotes {
		x *= w.boost
	}
	return x
}

// Pair draws two different models by weight, on random sides.
func (w *Weighted) Pair(models []string, rng *mrand.Rand) (string, string, error) {
	weights := make([]float64, len(models))
	var total float64
	positive := 0
	w.mu.Lock()
	for i, m := range models {
		weights[i] = w.weight(m)
		total += weights[i]
		if weights[i] > 0 {
			positive++
		}
	}
	w.mu.Unlock()
	if positive < 2 {
		return "", "", rlhf.Errorf(rlhf.EUnavailable, "fewer than two models with a positive weight are available")
	}
	i := drawIndex(weights, total, rng)
	total -= weights[i]
	first := weights[i]
	weights[i] = 0
	j := drawIndex(weights, total, rng)
	weights[i] = first
	if rng.IntN(2) == 0 {
		return models[i], models[j], nil
	}
	return models[j], models[i], nil
}

// drawIndex returns i with probability weights[i]/total; total must be
// their positive sum.
func drawIndex(weights []float64, total float64, rng *mrand.Rand) int {
	u := rng.Float64() * total
	last := -1
	for i, x := range weights {
		if x <= 0 {
			continue
		}
		last = i
		if u < x {
			return i
		}
		u -= x
	}
	return last // rounding left u ≥ the last weight
}
