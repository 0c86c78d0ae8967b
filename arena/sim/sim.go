// Package sim measures the arena's matchmaking policies on simulated votes:
// a population of models with known strengths, voters who follow
// Bradley–Terry with ties and some careless votes, and the real Matcher
// implementations of package arena choosing every pair. For each policy it
// reports how many votes the leaderboard needs before its intervals reach a
// target mean width, and how well it then ranks the models. Everything is
// seeded: the same Config gives the same Report.
package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/rlhf"
)

// Config describes a simulation. Zero values mean the defaults of
// DefaultConfig, except for Match, whose zero values are matchmaking's.
type Config struct {
	Models   int      // models in the population
	Policies []string // matchmaking policies to compare
	// Scenarios are run in turn, each with every policy.
	Scenarios []Scenario
	// Match holds the policies' settings (epsilon, weights, refresh);
	// Policy is set in turn to each of Policies.
	Match arena.MatchConfig
	// TargetWidth is the mean width of the leaderboard's 95% intervals,
	// in rating points, that a policy must reach.
	TargetWidth float64
	MaxVotes    int // a policy that has not reached the target by then stops
	// Check is the number of votes between checks of the width. A check
	// estimates the width from the fit's sandwich covariance (cheap); when
	// that is on target, a bootstrap of Rounds rounds confirms it.
	Check  int
	Rounds int
	Seed   uint64
	Runs   int // independent populations, seeds Seed, Seed+1, ...
	// Spread is the standard deviation of the true ratings, in rating
	// points.
	Spread float64
	// TieRate t makes a considered vote a tie with probability
	// t·2·min(p, 1−p) (see analytics.SynthConfig).
	TieRate float64
	// Noise is the share of careless votes, a coin flip between the two
	// sides whatever the models.
	Noise float64
	TopK  int // size of the top set whose recovery is reported
	// Progress, when set, is called after every check.
	Progress func(p Progress)
}

// Progress reports where a simulation is.
type Progress struct {
	Scenario, Policy string // Policy is "history" while the established models are voted on
	Run, Runs        int
	Votes, MaxVotes  int
	Width            float64 // the cheap estimate at this check
}

// Scenario says which models are new when the voting starts.
type Scenario struct {
	Name string `json:"name"`
	// NewModels is the number of models that join late: the others
	// first collect votes, uniformly paired, until their own leaderboard
	// is at the target width; then the new models join and the policies
	// take over. Zero means every model starts with no votes.
	NewModels int `json:"new_models"`
}

// DefaultConfig returns the defaults: 20 models with ratings of standard
// deviation 150, voters with tie rate 0.3 and 10% careless votes, a target
// mean interval width of 40 rating points, three runs of two scenarios:
// "cold", where every model starts new, and "join", where a quarter of the
// models join an established leaderboard. The weighted policy boosts a
// model until it has 500 votes.
func DefaultConfig() Config {
	return Config{
		Models: 20, Policies: []string{arena.PolicyUniform, arena.PolicyWeighted, arena.PolicyActive},
		Scenarios:   DefaultScenarios(20),
		Match:       arena.MatchConfig{NewModelVotes: 500},
		TargetWidth: 40, MaxVotes: 200_000, Check: 50, Rounds: 200, Seed: 1, Runs: 3,
		Spread: 150, TieRate: 0.3, Noise: 0.1, TopK: 5,
	}
}

// DefaultScenarios returns "cold" and "join" (a quarter of the models,
// at least one, join late) for a population of models.
func DefaultScenarios(models int) []Scenario {
	return []Scenario{{Name: "cold"}, {Name: "join", NewModels: max(1, models/4)}}
}

// fill gives zero fields their defaults.
func (c *Config) fill() {
	d := DefaultConfig()
	if c.Models == 0 {
		c.Models = d.Models
	}
	if len(c.Policies) == 0 {
		c.Policies = d.Policies
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = DefaultScenarios(c.Models)
	}
	if c.TargetWidth == 0 {
		c.TargetWidth = d.TargetWidth
	}
	if c.MaxVotes == 0 {
		c.MaxVotes = d.MaxVotes
	}
	if c.Check == 0 {
		c.Check = d.Check
	}
	if c.Rounds == 0 {
		c.Rounds = d.Rounds
	}
	if c.Runs == 0 {
		c.Runs = d.Runs
	}
	if c.Spread == 0 {
		c.Spread = d.Spread
	}
	if c.TopK == 0 {
		c.TopK = min(d.TopK, c.Models)
	}
}

// Validate checks c after filling in the defaults.
func (c *Config) Validate() error {
	c.fill()
	switch {
	case c.Models < 2:
		return fmt.Errorf("simulate: need at least 2 models, got %d", c.Models)
	case c.Models > 1000:
		return fmt.Errorf("simulate: %d models is more than the 1000 a simulation handles", c.Models)
	case !(c.TargetWidth > 0):
		return fmt.Errorf("simulate: target width %g must be positive", c.TargetWidth)
	case c.MaxVotes < 1 || c.Check < 1 || c.Rounds < 10 || c.Runs < 1:
		return fmt.Errorf("simulate: max votes, check interval and runs must be positive and bootstrap rounds at least 10")
	case c.Spread < 0 || c.TieRate < 0 || c.TieRate > 1 || c.Noise < 0 || c.Noise > 1:
		return fmt.Errorf("simulate: spread must be ≥ 0 and tie rate and noise in [0, 1]")
	case c.TopK < 1 || c.TopK > c.Models:
		return fmt.Errorf("simulate: top-k %d must be between 1 and the number of models", c.TopK)
	}
	names := map[string]bool{}
	for _, sc := range c.Scenarios {
		switch {
		case sc.Name == "" || names[sc.Name]:
			return fmt.Errorf("simulate: scenario names must be present and distinct (%q)", sc.Name)
		case sc.NewModels < 0 || sc.NewModels > c.Models-2:
			return fmt.Errorf("simulate: scenario %s: %d new models of %d leaves fewer than 2 established ones", sc.Name, sc.NewModels, c.Models)
		}
		names[sc.Name] = true
	}
	seen := map[string]bool{}
	for _, p := range c.Policies {
		m := c.Match
		m.Policy = p
		if p == "" {
			return errors.New("simulate: empty policy name")
		}
		if err := m.Validate(); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		if seen[p] {
			return fmt.Errorf("simulate: policy %q named twice", p)
		}
		seen[p] = true
	}
	return nil
}

// Report is the outcome of a simulation; its JSON form is the output of
// "agora simulate --json".
type Report struct {
	Config    ReportConfig     `json:"config"`
	Scenarios []ScenarioReport `json:"scenarios"`
}

// ScenarioReport holds one scenario's outcome.
type ScenarioReport struct {
	Scenario
	Summary []Summary `json:"summary"` // one per policy, in Config.Policies order
	Results []Result  `json:"results"` // one per run and policy
}

// ReportConfig echoes the settings of a report.
type ReportConfig struct {
	Models      int               `json:"models"`
	Policies    []string          `json:"policies"`
	Match       arena.MatchConfig `json:"matchmaking"`
	TargetWidth float64           `json:"target_width"`
	CI          float64           `json:"ci"`
	MaxVotes    int               `json:"max_votes"`
	Check       int               `json:"check"`
	Rounds      int               `json:"rounds"`
	Seed        uint64            `json:"seed"`
	Runs        int               `json:"runs"`
	Spread      float64           `json:"spread"`
	TieRate     float64           `json:"tie_rate"`
	Noise       float64           `json:"noise"`
	TopK        int               `json:"top_k"`
}

// Result is one policy's run on one population.
type Result struct {
	Policy  string `json:"policy"`
	Run     int    `json:"run"`
	Seed    uint64 `json:"seed"`
	Votes   int    `json:"votes"`   // votes cast (after the history) when the target was confirmed, or MaxVotes
	Reached bool   `json:"reached"` // whether the target was reached
	// Width is the mean bootstrap interval width at the end; CheapWidth
	// the sandwich-covariance estimate the checks use.
	Width      float64 `json:"width"`
	CheapWidth float64 `json:"cheap_width"`
	Spearman   float64 `json:"spearman"` // rank correlation of the ratings with the truth
	Kendall    float64 `json:"kendall"`
	TopK       int     `json:"top_k"` // true top-k models among the fitted top k
	RMSE       float64 `json:"rmse"`  // of the ratings against the truth, rating points
	// MinPair and MaxPair are the votes of the least- and most-played
	// pairs; EffectivePairs is how many equally likely pairs would be as
	// unpredictable as the policy's choices (all of them for uniform).
	MinPair        int     `json:"min_pair"`
	MaxPair        int     `json:"max_pair"`
	EffectivePairs float64 `json:"effective_pairs"`
	Bootstraps     int     `json:"bootstraps"` // confirmations run
	Seconds        float64 `json:"seconds"`
}

// Summary averages a policy's runs.
type Summary struct {
	Policy    string  `json:"policy"`
	Votes     float64 `json:"votes"` // mean over runs
	VotesSD   float64 `json:"votes_sd"`
	Reached   int     `json:"reached"` // runs that reached the target
	Runs      int     `json:"runs"`
	VsUniform float64 `json:"vs_uniform,omitempty"` // votes saved relative to uniform: 1 − votes/uniform votes; set when uniform ran
	Width     float64 `json:"width"`
	Spearman  float64 `json:"spearman"`
	Kendall   float64 `json:"kendall"`
	TopK      float64 `json:"top_k"`
	RMSE      float64 `json:"rmse"`
	MinPair   float64 `json:"min_pair"`
	Effective float64 `json:"effective_pairs"`
	Seconds   float64 `json:"seconds"`
}

// ci is the coverage of the leaderboard's intervals.
const ci = 0.95

// ratingScale turns natural-log strengths into rating points.
var ratingScale = 400 / math.Ln10

// Run runs the simulation.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rep := &Report{Config: ReportConfig{
		Models: cfg.Models, Policies: cfg.Policies, Match: cfg.Match, TargetWidth: cfg.TargetWidth, CI: ci,
		MaxVotes: cfg.MaxVotes, Check: cfg.Check, Rounds: cfg.Rounds, Seed: cfg.Seed, Runs: cfg.Runs,
		Spread: cfg.Spread, TieRate: cfg.TieRate, Noise: cfg.Noise, TopK: cfg.TopK,
	}}
	// Echo the settings in effect, not their zero values.
	m := &rep.Config.Match
	m.Policy = ""
	if m.NewModelBoost == 0 && m.NewModelVotes > 0 {
		m.NewModelBoost = arena.DefaultNewModelBoost
	}
	if m.Epsilon == 0 {
		m.Epsilon = arena.DefaultEpsilon
	}
	if m.Refresh.Votes == 0 {
		m.Refresh.Votes = arena.DefaultRefreshVotes
	}
	for _, sc := range cfg.Scenarios {
		out := ScenarioReport{Scenario: sc}
		for run := 0; run < cfg.Runs; run++ {
			seed := cfg.Seed + uint64(run)
			pop, err := analytics.NewSynth(analytics.SynthConfig{Models: cfg.Models, Seed: seed, Spread: cfg.Spread})
			if err != nil {
				return nil, err
			}
			hist, err := history(ctx, &cfg, sc, run, seed, pop)
			if err != nil {
				return nil, fmt.Errorf("simulate %s, run %d, the established models: %w", sc.Name, run+1, err)
			}
			for _, policy := range cfg.Policies {
				res, err := runPolicy(ctx, &cfg, sc, policy, run, seed, pop, hist)
				if err != nil {
					return nil, fmt.Errorf("simulate %s, %s, run %d: %w", sc.Name, policy, run+1, err)
				}
				out.Results = append(out.Results, *res)
			}
		}
		out.Summary = summarize(cfg.Policies, out.Results)
		rep.Scenarios = append(rep.Scenarios, out)
	}
	return rep, nil
}

// population is the models and their true ratings.
type population = analytics.Synth

// simulation is one stretch of voting: a matcher pairing models, voters
// voting, and checks of the leaderboard's interval width.
type simulation struct {
	cfg     *Config
	truth   []float64
	models  []string // offered to the matcher
	n       int
	wins    []int64 // n×n: wins[i*n+j] counts i beating j
	ties    []int64 // n×n, symmetric
	votes   int     // cast in this stretch
	voters  *rand.Rand
	matcher arena.Matcher
	learner arena.Learner // nil for policies that do not learn
	mrng    *rand.Rand
	index   map[string]int
	// Progress labels.
	scenario, policy string
	run              int
}

func newSimulation(cfg *Config, pop *population, n int, m arena.Matcher, voterSeed, matchSeed [2]uint64) *simulation {
	s := &simulation{
		cfg: cfg, truth: pop.Truth[:n], models: pop.Models[:n], n: n, wins: make([]int64, n*n), ties: make([]int64, n*n),
		voters: rand.New(rand.NewPCG(voterSeed[0], voterSeed[1])), mrng: rand.New(rand.NewPCG(matchSeed[0], matchSeed[1])),
		matcher: m, index: map[string]int{},
	}
	s.learner, _ = m.(arena.Learner)
	for i, name := range s.models {
		s.index[name] = i
	}
	return s
}

// history returns the votes among the established models of sc, cast with
// uniform pairing until their own leaderboard reached the target width: the
// arena as it stood when the new models joined. It is nil when every
// model starts new.
func history(ctx context.Context, cfg *Config, sc Scenario, run int, seed uint64, pop *population) (*simulation, error) {
	if sc.NewModels == 0 {
		return nil, nil
	}
	s := newSimulation(cfg, pop, cfg.Models-sc.NewModels, arena.Uniform{}, [2]uint64{seed, 0x68697374}, [2]uint64{seed, 0x6f6c64})
	s.scenario, s.policy, s.run = sc.Name, "history", run
	res := &Result{Seed: seed}
	if _, err := s.until(ctx, res); err != nil {
		return nil, err
	}
	if !res.Reached {
		return nil, fmt.Errorf("not at the target width after %d votes", cfg.MaxVotes)
	}
	return s, nil
}

func runPolicy(ctx context.Context, cfg *Config, sc Scenario, policy string, run int, seed uint64, pop *population, hist *simulation) (*Result, error) {
	began := time.Now()
	mc := cfg.Match
	mc.Policy = policy
	// A clock that stands still: the active policy refreshes by votes
	// only, so a run does not depend on the machine's speed.
	frozen := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := arena.NewMatcher(mc, func() time.Time { return frozen })
	if err != nil {
		return nil, err
	}
	// Voters and matchmaking draw from separate streams, the same for
	// every policy.
	s := newSimulation(cfg, pop, cfg.Models, m, [2]uint64{seed, 0x766f74657273}, [2]uint64{seed, 0x6d61746368})
	s.scenario, s.policy, s.run = sc.Name, policy, run
	if hist != nil {
		if err := s.inherit(hist); err != nil {
			return nil, err
		}
	}
	res := &Result{Policy: policy, Run: run + 1, Seed: seed}
	last, err := s.until(ctx, res)
	if err != nil {
		return nil, err
	}
	res.Votes = s.votes
	res.CheapWidth = last.cheap
	res.Width = last.boot
	res.Spearman, res.Kendall, res.TopK, res.RMSE = accuracy(s.truth, last.ratings, cfg.TopK)
	res.MinPair, res.MaxPair, res.EffectivePairs = s.pairStats(hist)
	res.Seconds = time.Since(began).Seconds()
	return res, nil
}

// inherit starts s from the votes of h, among s's first h.n models, and
// passes them to the policy as the server does with stored votes at start.
func (s *simulation) inherit(h *simulation) error {
	id := 0
	for i := 0; i < h.n; i++ {
		for j := 0; j < h.n; j++ {
			s.wins[i*s.n+j] = h.wins[i*h.n+j]
			s.ties[i*s.n+j] = h.ties[i*h.n+j]
			if s.learner == nil {
				continue
			}
			outcomes := []struct {
				count int64
				w     rlhf.Winner
			}{{h.wins[i*h.n+j], rlhf.WinnerA}}
			if i < j {
				outcomes = append(outcomes, struct {
					count int64
					w     rlhf.Winner
				}{h.ties[i*h.n+j], rlhf.WinnerTie})
			}
			for _, o := range outcomes {
				for k := int64(0); k < o.count; k++ {
					id++
					r := rlhf.Record{
						Battle: rlhf.Battle{ID: fmt.Sprint("h", id), ModelA: h.models[i], ModelB: h.models[j]},
						Vote:   rlhf.Vote{ID: fmt.Sprint("h", id), Winner: o.w},
					}
					if err := s.learner.Observe(&r); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// until votes until the target width is confirmed or MaxVotes votes are
// cast, and returns the last check.
func (s *simulation) until(ctx context.Context, res *Result) (*check, error) {
	var last *check
	for s.votes < s.cfg.MaxVotes {
		if err := s.vote(); err != nil {
			return nil, err
		}
		final := s.votes == s.cfg.MaxVotes
		if s.votes%s.cfg.Check != 0 && !final {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, err := s.check(ctx, res, final)
		if err != nil {
			return nil, err
		}
		if c == nil {
			continue
		}
		last = c
		if s.cfg.Progress != nil {
			s.cfg.Progress(Progress{Scenario: s.scenario, Policy: s.policy, Run: s.run + 1, Runs: s.cfg.Runs,
				Votes: s.votes, MaxVotes: s.cfg.MaxVotes, Width: c.cheap})
		}
		if res.Reached {
			break
		}
	}
	if last == nil {
		return nil, fmt.Errorf("no leaderboard after %d votes: the comparison graph never became strongly connected", s.votes)
	}
	return last, nil
}

// vote asks the matcher for a pair and casts one simulated vote on it.
func (s *simulation) vote() error {
	a, b, err := s.matcher.Pair(s.models, s.mrng)
	if err != nil {
		return err
	}
	i, ok1 := s.index[a]
	j, ok2 := s.index[b]
	if !ok1 || !ok2 || i == j {
		return fmt.Errorf("matcher chose %q and %q", a, b)
	}
	w := s.verdict(i, j)
	switch w {
	case rlhf.WinnerA:
		s.wins[i*s.n+j]++
	case rlhf.WinnerB:
		s.wins[j*s.n+i]++
	default:
		s.ties[i*s.n+j]++
		s.ties[j*s.n+i]++
	}
	s.votes++
	if s.learner != nil {
		r := rlhf.Record{
			Battle: rlhf.Battle{ID: fmt.Sprint(s.votes), ModelA: a, ModelB: b},
			Vote:   rlhf.Vote{ID: fmt.Sprint(s.votes), Winner: w},
		}
		if err := s.learner.Observe(&r); err != nil {
			return err
		}
	}
	return nil
}

// verdict draws a voter's verdict on i (side A) against j.
func (s *simulation) verdict(i, j int) rlhf.Winner {
	u := s.voters.Float64()
	if u < s.cfg.Noise {
		if u < s.cfg.Noise/2 {
			return rlhf.WinnerA
		}
		return rlhf.WinnerB
	}
	u = s.voters.Float64()
	p := 1 / (1 + math.Pow(10, (s.truth[j]-s.truth[i])/400))
	tie := s.cfg.TieRate * 2 * min(p, 1-p)
	switch {
	case u < p-tie/2:
		return rlhf.WinnerA
	case u < p+tie/2:
		return rlhf.WinnerTie
	}
	return rlhf.WinnerB
}

// check is the leaderboard at one check.
type check struct {
	cheap, boot float64   // mean interval widths; boot is NaN when not bootstrapped
	ratings     []float64 // fitted ratings, mean 1000
}

// check fits the votes so far and sets res.Reached when the target width
// is confirmed. It returns nil while the exact estimate does not exist
// (the leaderboard would fall back to a prior and report huge intervals).
// final forces a bootstrap so that the result reports a measured width.
func (s *simulation) check(ctx context.Context, res *Result, final bool) (*check, error) {
	pairs := s.pairs()
	if !analytics.Diagnose(s.n, pairs).Exact() {
		return nil, nil
	}
	fit, err := analytics.FitNewton(s.n, pairs, analytics.FitOptions{})
	if err != nil {
		return nil, err
	}
	cov, err := analytics.RobustCovariance(s.n, pairs, fit)
	if err != nil {
		return nil, err
	}
	z := math.Sqrt2 * math.Erfinv(ci)
	c := &check{boot: math.NaN(), ratings: make([]float64, s.n)}
	for k := 0; k < s.n; k++ {
		c.cheap += 2 * z * ratingScale * math.Sqrt(max(cov[k*s.n+k], 0))
		c.ratings[k] = 1000 + ratingScale*fit.Beta[k]
	}
	c.cheap /= float64(s.n)
	if c.cheap > s.cfg.TargetWidth && !final {
		return c, nil
	}
	bs, err := analytics.RunBootstrap(ctx, s.n, pairs, fit, analytics.BootstrapOptions{Rounds: s.cfg.Rounds, Seed: res.Seed})
	if err != nil {
		return nil, err
	}
	res.Bootstraps++
	c.boot = bootstrapWidth(bs.Beta, s.n)
	res.Reached = c.boot <= s.cfg.TargetWidth
	return c, nil
}

// bootstrapWidth returns the mean width of the percentile intervals of the
// centred ratings, as the leaderboard computes them.
func bootstrapWidth(rounds [][]float64, n int) float64 {
	samples := make([][]float64, n)
	for _, beta := range rounds {
		var mean float64
		for _, b := range beta {
			mean += b
		}
		mean /= float64(n)
		for k, b := range beta {
			samples[k] = append(samples[k], ratingScale*(b-mean))
		}
	}
	lo, hi := (1-ci)/2, 1-(1-ci)/2
	var sum float64
	for _, x := range samples {
		slices.Sort(x)
		sum += analytics.Quantile(x, hi) - analytics.Quantile(x, lo)
	}
	return sum / float64(n)
}

// pairs returns the counts as Bradley–Terry pairs.
func (s *simulation) pairs() []analytics.Pair {
	var ps []analytics.Pair
	n := s.n
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			p := analytics.Pair{I: i, J: j, WinsI: float64(s.wins[i*n+j]), WinsJ: float64(s.wins[j*n+i]), Ties: float64(s.ties[i*n+j])}
			if p.WinsI+p.WinsJ+p.Ties > 0 {
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// pairStats returns the fewest and most votes any pair received in this
// stretch (beyond the history h, if any), and the effective number of
// pairs, exp of the entropy of the pairs' shares of those votes: the number
// of pairs a uniform choice among which would be as hard to predict (every
// pair for Uniform).
func (s *simulation) pairStats(h *simulation) (lo, hi int, effective float64) {
	lo = math.MaxInt
	n := s.n
	var entropy float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			v := s.wins[i*n+j] + s.wins[j*n+i] + s.ties[i*n+j]
			if h != nil && j < h.n {
				v -= h.wins[i*h.n+j] + h.wins[j*h.n+i] + h.ties[i*h.n+j]
			}
			lo, hi = min(lo, int(v)), max(hi, int(v))
			if v > 0 {
				p := float64(v) / float64(s.votes)
				entropy -= p * math.Log(p)
			}
		}
	}
	return lo, hi, math.Exp(entropy)
}
