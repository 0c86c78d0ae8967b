package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// SynthConfig describes synthetic battles drawn from known strengths.
type SynthConfig struct {
	Models  int
	Battles int
	Seed    uint64
	// Spread is the standard deviation of the true ratings in rating
	// points; zero means 150.
	Spread float64
	// TieRate t in [0, 1] makes a battle a tie with probability
	// t·2·min(p, 1−p), taken half from each side's win probability, so that
	// the expected score (win = 1, tie = ½) stays the Bradley–Terry p and the
	// ties-as-half-a-win estimate stays unbiased.
	TieRate float64
	Start   time.Time     // time of the first battle; zero means 2024-01-01 UTC
	Step    time.Duration // time between battles; zero means one second
}

// Synth generates battles among models with known true ratings.
type Synth struct {
	cfg    SynthConfig
	Models []string
	Truth  []float64 // true ratings, mean 1000, in rating points
}

// NewSynth draws the true ratings for cfg.
func NewSynth(cfg SynthConfig) (*Synth, error) {
	if cfg.Models < 2 {
		return nil, fmt.Errorf("synthetic battles need at least 2 models, got %d", cfg.Models)
	}
	if cfg.Battles < 0 || cfg.TieRate < 0 || cfg.TieRate > 1 {
		return nil, fmt.Errorf("synthetic battles: bad battles %d or tie rate %g", cfg.Battles, cfg.TieRate)
	}
	if cfg.Spread == 0 {
		cfg.Spread = 150
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.Step == 0 {
		cfg.Step = time.Second
	}
	s := &Synth{cfg: cfg}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7275746873))
	var mean float64
	for i := 0; i < cfg.Models; i++ {
		s.Models = append(s.Models, fmt.Sprintf("model-%03d", i))
		r := cfg.Spread * rng.NormFloat64()
		s.Truth = append(s.Truth, r)
		mean += r
	}
	mean /= float64(cfg.Models)
	for i := range s.Truth {
		s.Truth[i] += 1000 - mean
	}
	return s, nil
}

// Generate calls fn for each battle in time order.
func (s *Synth) Generate(fn func(b *Battle) error) error {
	rng := rand.New(rand.NewPCG(s.cfg.Seed, 0x626174746c6573))
	var b Battle
	for i := 0; i < s.cfg.Battles; i++ {
		a, c, w := s.draw(rng)
		b = Battle{
			ModelA: s.Models[a], ModelB: s.Models[c], Winner: w,
			Time: s.cfg.Start.Add(time.Duration(i) * s.cfg.Step),
		}
		if err := fn(&b); err != nil {
			return err
		}
	}
	return nil
}

// Dataset generates every battle straight into a new Dataset, without the
// per-battle strings: the fast path for benchmarks.
func (s *Synth) Dataset() *Dataset {
	d := &Dataset{}
	for _, m := range s.Models {
		d.models.id(m)
	}
	n := s.cfg.Battles
	d.a = make([]int32, 0, n)
	d.b = make([]int32, 0, n)
	d.w = make([]uint8, 0, n)
	d.t = make([]int64, 0, n)
	rng := rand.New(rand.NewPCG(s.cfg.Seed, 0x626174746c6573))
	t0, step := s.cfg.Start.UnixNano(), int64(s.cfg.Step)
	for i := 0; i < n; i++ {
		a, c, w := s.draw(rng)
		d.add(int32(a), int32(c), outcomeOf(w), t0+int64(i)*step, "", "", "", "", nil)
	}
	return d
}

func (s *Synth) draw(rng *rand.Rand) (a, b int, w rlhf.Winner) {
	m := len(s.Models)
	a = rng.IntN(m)
	b = rng.IntN(m - 1)
	if b >= a {
		b++
	}
	p := 1 / (1 + math.Pow(10, (s.Truth[b]-s.Truth[a])/400))
	tie := s.cfg.TieRate * 2 * min(p, 1-p)
	u := rng.Float64()
	switch {
	case u < p-tie/2:
		return a, b, rlhf.WinnerA
	case u < p+tie/2:
		return a, b, rlhf.WinnerTie
	}
	return a, b, rlhf.WinnerB
}
