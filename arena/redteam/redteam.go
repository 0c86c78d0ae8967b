// Package redteam attacks a simulated arena: honest contributors and
// attackers vote through the real matchmaking, identity-leak guard,
// anomaly detectors and Bradley–Terry fits, and the target's rank is
// compared with defences off and on ("agora redteam").
package redteam

import (
	"cmp"
	"context"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"slices"
	"time"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/arena/trust"
	"github.com/agora-rlhf/agora/rlhf"
)

// Attacks are the attack strategies, by name.
const (
	TargetOnly  = "target-only" // a classifier finds the target; vote for it, skip other battles
	Omnipresent = "omnipresent" // Min et al.: every vote chosen to lift the target over its neighbour
	Sybil       = "sybil"       // target-only from many identities behind one address
	Probing     = "identity"    // ask each model who it is, then vote for the target
)

// Config describes one simulation.
type Config struct {
	Models      int     // 25
	HonestVotes int     // 50,000
	HonestPerID int     // votes per honest identity; 50
	RandomShare float64 // share of honest identities that click at random; 0.05
	LeftShare   float64 // share that always vote for side A; 0.03
	AttackVotes int     // 1,000
	AttackIDs   int     // 50
	Accuracy    float64 // the attackers' classifier: P(it names the right model); 0.95
	Spacing     float64 // rating points between adjacent true ratings; 12
	TargetRank  int     // the target's true rank; 13
	Seed        uint64
	Detector    trust.DetectorConfig
}

// Defaults returns the acceptance setting.
func Defaults() Config {
	return Config{Models: 25, HonestVotes: 50000, HonestPerID: 50, RandomShare: 0.05, LeftShare: 0.03,
		AttackVotes: 1000, AttackIDs: 50, Accuracy: 0.95, Spacing: 12, TargetRank: 13, Seed: 1}
}

// Result is one attack's outcome.
type Result struct {
	Attack string
	// Ranks of the target (1 is best) without the attack, and with it,
	// with defences off (plain Bradley–Terry of every vote) and on (the
	// default public leaderboard: identity leaks and quarantined
	// contributors left out).
	RankBefore, RankOff, RankOn       int
	RankBeforeOn                      int
	RatingBefore, RatingOff, RatingOn float64
	RatingBeforeOn                    float64
	HonestFlagged, HonestIDs          int // honest Bradley–Terry voters quarantined
	ClickersFlagged, ClickersIDs      int // random and left-always clickers quarantined
	AttackersFlagged                  int
	AttackVotes, AttackBattles        int
	AttackIDs                         int
	AttackLeaks                       int // attack votes the guard marked not anonymous
	AttackCPU                         time.Duration
}

// sim is one run's state.
type sim struct {
	cfg    Config
	rng    *mrand.Rand
	models []string
	truth  map[string]float64
	target string
	guard  *trust.Guard
	det    *trust.Detector
	recs   []rlhf.Record
	flags  map[string]string
	match  arena.Matcher
	counts map[[2]string]*[3]float64 // the attacker's view of the public counts
	view   []float64                 // the attacker's last fit of it
}

// Run runs the honest crowd and one attack, seeded.
func Run(ctx context.Context, cfg Config, attack string) (*Result, error) {
	s, err := newSim(cfg)
	if err != nil {
		return nil, err
	}
	honest := s.honestPlan()
	attackers := s.attackerPlan(attack)
	// Interleave: attack votes spread evenly over the honest stream.
	every := max(1, len(honest)/max(1, cfg.AttackVotes))
	res := &Result{Attack: attack, AttackIDs: len(attackers)}
	var attackCPU time.Duration
	a := 0
	for i, h := range honest {
		s.honestVote(h, i)
		if i%every == every-1 && res.AttackVotes < cfg.AttackVotes {
			t0 := time.Now()
			votes, battles, leaks := s.attackVote(attack, attackers[a%len(attackers)], i)
			attackCPU += time.Since(t0)
			res.AttackVotes += votes
			res.AttackBattles += battles
			res.AttackLeaks += leaks
			a++
		}
	}
	res.AttackCPU = attackCPU
	return res, s.score(ctx, res)
}

func newSim(cfg Config) (*sim, error) {
	if cfg.Models < 3 || cfg.TargetRank < 2 || cfg.TargetRank > cfg.Models || cfg.AttackIDs < 1 || cfg.HonestPerID < 1 {
		return nil, fmt.Errorf("redteam: need ≥ 3 models, a target rank from 2 to the number of models, attackers and honest voters")
	}
	words, err := trust.DefaultWords()
	if err != nil {
		return nil, err
	}
	s := &sim{cfg: cfg, rng: mrand.New(mrand.NewPCG(cfg.Seed, 0x7265647465616d)), truth: map[string]float64{},
		guard: trust.NewGuard(words), det: trust.NewDetector(cfg.Detector), flags: map[string]string{},
		match: arena.Uniform{}, counts: map[[2]string]*[3]float64{}}
	for i := range cfg.Models {
		name := fmt.Sprintf("model-%02d", i+1)
		s.models = append(s.models, name)
		s.truth[name] = cfg.Spacing*float64(cfg.Models-i) + 3*s.rng.NormFloat64()
	}
	slices.Sort(s.models)
	byTruth := slices.Clone(s.models)
	slices.SortFunc(byTruth, func(x, y string) int { return cmp.Compare(s.truth[y], s.truth[x]) })
	s.target = byTruth[cfg.TargetRank-1]
	return s, nil
}

// voter is one identity's behaviour.
type voter struct {
	id, kind, address, agent string
}

func (s *sim) honestPlan() []voter {
	ids := max(1, s.cfg.HonestVotes/s.cfg.HonestPerID)
	var plan []voter
	for k := range ids {
		kind := "honest"
		switch f := float64(k) / float64(ids); {
		case f < s.cfg.RandomShare:
			kind = "random"
		case f < s.cfg.RandomShare+s.cfg.LeftShare:
			kind = "left"
		}
		v := voter{id: fmt.Sprintf("%s-%04d", kind, k), kind: kind, address: fmt.Sprintf("10.%d.%d.%d", k/65536, k/256%256, k%256), agent: "browser"}
		for range s.cfg.HonestPerID {
			plan = append(plan, v)
		}
	}
	s.rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	return plan[:min(len(plan), s.cfg.HonestVotes)]
}

func (s *sim) attackerPlan(attack string) []voter {
	var out []voter
	for k := range s.cfg.AttackIDs {
		addr := fmt.Sprintf("203.0.%d.%d", k/256, k%256)
		if attack == Sybil {
			addr = "203.0.113.7"
		}
		out = append(out, voter{id: fmt.Sprintf("attacker-%03d", k), kind: "attacker", address: addr, agent: "script"})
	}
	return out
}

// battle pairs two models by the real matchmaking and returns a battle
// with answers that name no model (or their names, when probed).
func (s *sim) battle(v voter, i int, probe bool) *rlhf.Battle {
	a, b, _ := s.match.Pair(s.models, s.rng)
	prompt, ansA, ansB := "How do I learn Go?", "Read the tour, then write code.", "Start with a small project."
	if probe {
		prompt, ansA, ansB = "Who are you?", "I am "+a+".", "I am "+b+"."
	}
	id := fmt.Sprintf("b%07d-%s", i, v.id)
	return &rlhf.Battle{ID: id, ContributorID: v.id, ModelA: a, ModelB: b, Source: rlhf.SourceArena,
		Turns: []rlhf.Turn{{Prompt: prompt, A: rlhf.Answer{Content: ansA}, B: rlhf.Answer{Content: ansB}}}}
}

// cast records a vote through the guard and the detectors.
func (s *sim) cast(v voter, b *rlhf.Battle, w rlhf.Winner, i int) {
	b.IdentityLeak = s.guard.Leak(b)
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)
	s.recs = append(s.recs, rlhf.Record{Battle: *b, Vote: rlhf.Vote{ID: "v" + b.ID, BattleID: b.ID,
		ContributorID: v.id, Winner: w, CreatedAt: at}})
	for _, f := range s.det.Observe(trust.Observation{Contributor: v.id, ModelA: b.ModelA, ModelB: b.ModelB,
		Winner: w, Address: v.address, Agent: v.agent, At: at}) {
		s.flag(f)
	}
	if b.IdentityLeak == "" {
		s.count(b.ModelA, b.ModelB, w)
	}
}

func (s *sim) flag(f trust.Flag) {
	if _, ok := s.flags[f.Contributor]; !ok {
		s.flags[f.Contributor] = f.Reason
	}
}

func (s *sim) start(v voter) {
	for _, f := range s.det.Started(v.id) {
		s.flag(f)
	}
}

// honestVote is one honest identity's battle and vote.
func (s *sim) honestVote(v voter, i int) {
	s.start(v)
	b := s.battle(v, i, false)
	p := 1 / (1 + math.Pow(10, (s.truth[b.ModelB]-s.truth[b.ModelA])/400))
	w := rlhf.WinnerB
	switch u := s.rng.Float64(); {
	case v.kind == "left":
		w = rlhf.WinnerA
	case v.kind == "random":
		if s.rng.IntN(2) == 0 {
			w = rlhf.WinnerA
		}
	case u < 0.1:
		w = rlhf.WinnerTie
	case u < 0.1+0.9*p:
		w = rlhf.WinnerA
	}
	s.cast(v, b, w, i)
}
