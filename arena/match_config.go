package arena

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// MatchConfig is the "matchmaking:" section of the configuration file:
//
//	matchmaking:
//	  policy: active        # uniform (default) | weighted | active
//	  weights:              # weighted: relative share of battles per model (default 1)
//	    gpt-4o: 2
//	    old-model: 0.5
//	  new_model_votes: 300  # weighted: boost a model until it has this many votes
//	  new_model_boost: 5    # weighted: the boost, a weight multiplier (default 5)
//	  epsilon: 0.1          # active: share of battles paired uniformly (default 0.1)
//	  refresh:              # active: rescore after this many votes or this long, whichever first
//	    votes: 20
//	    interval: 30s
//
// Settings that the chosen policy does not read are allowed (switching
// policies back and forth is common) and ignored.
type MatchConfig struct {
	Policy        string             `yaml:"policy" json:"policy,omitempty"`
	Weights       map[string]float64 `yaml:"weights" json:"weights,omitempty"`
	NewModelVotes int                `yaml:"new_model_votes" json:"new_model_votes"`
	NewModelBoost float64            `yaml:"new_model_boost" json:"new_model_boost"`
	Epsilon       float64            `yaml:"epsilon" json:"epsilon"`
	Refresh       MatchRefresh       `yaml:"refresh" json:"refresh"`
}

// MatchRefresh says how often the active policy recomputes its scores.
type MatchRefresh struct {
	Votes    int           `yaml:"votes" json:"votes"`
	Interval time.Duration `yaml:"interval" json:"interval"`
}

// The matchmaking policies.
const (
	PolicyUniform  = "uniform"
	PolicyWeighted = "weighted"
	PolicyActive   = "active"
)

// Defaults for the zero values of MatchConfig.
const (
	DefaultNewModelBoost   = 5 // Chatbot Arena's boost of new models
	DefaultEpsilon         = 0.1
	DefaultRefreshVotes    = 20
	DefaultRefreshInterval = 30 * time.Second
)

// Validate checks c.
func (c *MatchConfig) Validate() error {
	switch c.Policy {
	case "", PolicyUniform, PolicyWeighted, PolicyActive:
	default:
		return fmt.Errorf("matchmaking: unknown policy %q (want uniform, weighted or active)", c.Policy)
	}
	for name, w := range c.Weights {
		if name == "" {
			return fmt.Errorf("matchmaking: a weight has an empty model name")
		}
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("matchmaking: weight of %q is %g; want a finite number ≥ 0", name, w)
		}
	}
	switch {
	case c.NewModelVotes < 0:
		return fmt.Errorf("matchmaking: new_model_votes is %d; want ≥ 0", c.NewModelVotes)
	case c.NewModelBoost < 0 || math.IsNaN(c.NewModelBoost) || math.IsInf(c.NewModelBoost, 0):
		return fmt.Errorf("matchmaking: new_model_boost is %g; want a finite number ≥ 1", c.NewModelBoost)
	case c.NewModelBoost > 0 && c.NewModelBoost < 1:
		return fmt.Errorf("matchmaking: new_model_boost is %g; a boost below 1 would hold new models back, want ≥ 1", c.NewModelBoost)
	case c.NewModelBoost > 0 && c.NewModelVotes == 0:
		return fmt.Errorf("matchmaking: new_model_boost is set but new_model_votes is not: say until how many votes a model is boosted")
	case c.Epsilon < 0 || c.Epsilon > 1 || math.IsNaN(c.Epsilon):
		return fmt.Errorf("matchmaking: epsilon is %g; want a share in (0, 1] (0 means the default %g)", c.Epsilon, DefaultEpsilon)
	case c.Refresh.Votes < 0:
		return fmt.Errorf("matchmaking: refresh.votes is %d; want ≥ 0 (0 means the default %d)", c.Refresh.Votes, DefaultRefreshVotes)
	case c.Refresh.Interval < 0:
		return fmt.Errorf("matchmaking: refresh.interval is %v; want ≥ 0 (0 means the default %v)", c.Refresh.Interval, DefaultRefreshInterval)
	}
	return nil
}

// NewMatcher returns the Matcher c describes: Uniform, a *Weighted or an
// *Active. The last two learn from votes (see Learner). now is the clock
// of the active policy's refresh interval; nil means time.Now.
func NewMatcher(c MatchConfig, now func() time.Time) (Matcher, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	switch c.Policy {
	case PolicyWeighted:
		boost := c.NewModelBoost
		if boost == 0 {
			boost = DefaultNewModelBoost
		}
		return NewWeighted(c.Weights, boost, c.NewModelVotes), nil
	case PolicyActive:
		return NewActive(ActiveConfig{
			Epsilon:         c.Epsilon,
			RefreshVotes:    c.Refresh.Votes,
			RefreshInterval: c.Refresh.Interval,
			Now:             now,
		}), nil
	}
	return Uniform{}, nil
}

// Learner is a Matcher that learns from votes. Whoever runs the arena passes
// it every committed vote (from Config.OnVote) and, at start, the stored
// ones (see Teach).
type Learner interface {
	Matcher
	// Observe counts one vote. It fails for a record that cannot be
	// counted (a model against itself, no verdict); the vote is then
	// ignored.
	Observe(r *rlhf.Record) error
}

// Teach returns a RecordSource that passes every record of src to l before
// handing it on, so that one pass over the store at start loads both the
// leaderboard and the matchmaking policy:
//
//	live, err := analytics.NewLive(ctx, arena.Teach(src, learner))
//
// Records l cannot count are handed on all the same; the consumer decides
// what to do with them.
func Teach(src rlhf.RecordSource, l Learner) rlhf.RecordSource {
	return teach{src, l}
}

type teach struct {
	src rlhf.RecordSource
	l   Learner
}

func (t teach) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	return t.src.Records(ctx, func(r *rlhf.Record) error {
		_ = t.l.Observe(r) // the consumer sees the same record and reports it
		return fn(r)
	})
}

// votePair returns the models and outcome of a record for counting.
func votePair(r *rlhf.Record) (a, b string, w rlhf.Winner, err error) {
	a, b, w = r.Battle.ModelA, r.Battle.ModelB, r.Vote.Winner
	switch {
	case a == "" || b == "":
		return "", "", "", rlhf.Errorf(rlhf.EInvalid, "vote %s: battle %s lacks a model", r.Vote.ID, r.Battle.ID)
	case a == b:
		return "", "", "", rlhf.Errorf(rlhf.EInvalid, "vote %s: %s against itself cannot be counted", r.Vote.ID, a)
	case !w.Valid():
		return "", "", "", rlhf.Errorf(rlhf.EInvalid, "vote %s: unknown verdict %q", r.Vote.ID, w)
	case r.Battle.IsGold():
		return "", "", "", rlhf.Errorf(rlhf.EInvalid, "vote %s: a gold battle has one model only", r.Vote.ID)
	}
	return a, b, w, nil
}
