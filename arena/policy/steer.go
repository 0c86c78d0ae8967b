package policy

import (
	"math"
	mrand "math/rand/v2"
	"sync"

	"github.com/agora-rlhf/agora/arena"
)

// Steering bounds (docs/policy.md, "Sampling fairness"). A lab's deficit
// is the battle sides it lacks to be at its target share of all sides so
// far (target × total − its sides; negative when it has too many). Its
// weight is e^(deficit / SteerScale), kept within [1/MaxSteer, MaxSteer];
// a pair drawn by the matchmaker is kept with probability proportional to
// the product of its two labs' weights, drawing again at most SteerDraws
// times (the last draw is kept). Because the weight follows the deficit
// in sides, not the share, a lab whose models the matchmaker favours
// settles a bounded number of sides from its target: its share's error
// shrinks as 1/total.
const (
	SteerScale = 50.0
	MaxSteer   = 8.0
	SteerDraws = 64
)

// steering counts battle sides per model, from the store's at start and
// from every pairing since, and steers pairings towards each lab's target
// share of sides.
type steering struct {
	mu    sync.Mutex // guards sides
	sides map[string]float64
}

func newSteering(sides []Sides) *steering {
	st := &steering{sides: map[string]float64{}}
	for _, s := range sides {
		st.sides[s.Model] += float64(s.Sides)
	}
	return st
}

// weights returns the steering weight of each lab of labOf (model → lab)
// under targets; nil when no lab needs steering.
func (st *steering) weights(labOf map[string]string, targets map[string]float64) map[string]float64 {
	st.mu.Lock()
	share := map[string]float64{}
	for model, n := range st.sides {
		if lab, ok := labOf[model]; ok {
			share[lab] += n
		}
	}
	total := 0.0
	for _, n := range share {
		total += n
	}
	st.mu.Unlock()
	if total == 0 || len(targets) < 2 {
		return nil
	}
	w := map[string]float64{}
	steer := false
	for lab, t := range targets {
		deficit := t*total - share[lab]
		w[lab] = min(max(math.Exp(deficit/SteerScale), 1/MaxSteer), MaxSteer)
		steer = steer || w[lab] != 1
	}
	if !steer {
		return nil
	}
	return w
}

// pair draws a pair from inner, steered by w (nil: inner's first draw),
// and counts its sides.
func (st *steering) pair(inner arena.Matcher, models []string, rng *mrand.Rand, labOf map[string]string, w map[string]float64) (string, string, error) {
	a, b, err := inner.Pair(models, rng)
	if err != nil {
		return "", "", err
	}
	if w != nil {
		top := 0.0
		for _, v := range w {
			top = max(top, v)
		}
		for range SteerDraws - 1 {
			if rng.Float64()*top*top < w[labOf[a]]*w[labOf[b]] {
				break
			}
			if a, b, err = inner.Pair(models, rng); err != nil {
				return "", "", err
			}
		}
	}
	st.mu.Lock()
	st.sides[a]++
	st.sides[b]++
	st.mu.Unlock()
	return a, b, nil
}
