package trust

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// DetectorConfig sets the online anomaly tests. The zero value uses the
// defaults noted on each field.
type DetectorConfig struct {
	// Alpha is the sequential test's level: a contributor is flagged when
	// Π 1/(2p) over their votes exceeds 1/Alpha (FastChat
	// uses 0.05; an honest contributor is flagged with probability at most
	// Alpha, by Ville's inequality). Zero means 0.001.
	Alpha float64
	// MinVotes is the fewest votes before a contributor can be flagged;
	// zero means 5. MaxChecked caps the votes each test looks at; zero
	// means 100 (FastChat's limits).
	MinVotes, MaxChecked int
	// Replays is the number of simulated honest replays of a contributor's
	// battles the likelihood test compares against, and Level the share of
	// them the contributor must be less likely than. Zero means 1000 and
	// 0.999 (Min et al. 2025 use 100 and 0.99 once; the test runs here at
	// 25, 50 and 100 votes, so each run is stricter).
	Replays int
	Level   float64
	// MaxPerAddress flags every identity of an address (with the same user
	// agent) beyond this many voting identities; zero means 5, negative
	// means no limit.
	MaxPerAddress int
	// MinVoteShare flags a contributor who, after MinBattles battles,
	// voted on fewer than this share of them: someone who picks which
	// battles to vote on (a target-only attacker skips every battle without
	// the target). Zero means 0.3 and 40 battles; negative means off.
	MinVoteShare float64
	MinBattles   int
	Seed         uint64
}

func (c DetectorConfig) withDefaults() DetectorConfig {
	if c.Alpha == 0 {
		c.Alpha = 0.001
	}
	if c.MinVotes == 0 {
		c.MinVotes = 5
	}
	if c.MaxChecked == 0 {
		c.MaxChecked = 100
	}
	if c.Replays == 0 {
		c.Replays = 1000
	}
	if c.Level == 0 {
		c.Level = 0.999
	}
	if c.MaxPerAddress == 0 {
		c.MaxPerAddress = 5
	}
	if c.MinVoteShare == 0 {
		c.MinVoteShare = 0.3
	}
	if c.MinBattles == 0 {
		c.MinBattles = 40
	}
	return c
}

// Observation is one committed vote as the detectors see it.
type Observation struct {
	Contributor    string
	ModelA, ModelB string
	Winner         rlhf.Winner
	Address, Agent string // the client's address and user agent, when known
	At             time.Time
	// Gold marks a gold battle's vote: it counts as a vote cast and for
	// the clusters, but not in the pair tests (one side is no model).
	Gold bool
}

// Flag is a contributor the detectors found anomalous.
type Flag struct {
	Contributor string
	Reason      string
}

// Detector runs FastChat's sequential outlier test and a likelihood test
// in the style of Min et al. on every contributor as votes arrive, and
// counts identities per address. It is safe for concurrent use.
type Detector struct {
	cfg DetectorConfig

	mu      sync.Mutex            // guards the fields below
	pairs   map[[2]string]*[3]int // outcomes by ordered pair: wins of the first, of the second, ties
	users   map[string]*userState
	address map[string][]string // identities seen per address and agent
	rng     *rand.Rand
}

type userState struct {
	votes   []vote // the first MaxChecked votes, with the history's odds then
	logM    float64
	battles int // battles started
	voted   int // votes cast
	flagged bool
}

// vote is one checked vote: the probabilities, from the pair's history
// when it was cast, of a win of A, a win of B and a tie, and its outcome.
type vote struct {
	probs   [3]float64
	outcome int
}

// NewDetector returns a detector.
func NewDetector(cfg DetectorConfig) *Detector {
	cfg = cfg.withDefaults()
	return &Detector{cfg: cfg, pairs: map[[2]string]*[3]int{}, users: map[string]*userState{},
		address: map[string][]string{}, rng: rand.New(rand.NewPCG(cfg.Seed, 0x646574))}
}

// Observe takes one vote and returns the contributors it newly flags.
func (d *Detector) Observe(o Observation) []Flag {
	d.mu.Lock()
	defer d.mu.Unlock()
	var flags []Flag
	if f := d.cluster(o); f != nil {
		flags = append(flags, f...)
	}
	u, checked := d.record(o, true)
	if checked && !u.flagged && len(u.votes) >= d.cfg.MinVotes {
		if reason := d.test(u); reason != "" {
			u.flagged = true
			flags = append(flags, Flag{Contributor: o.Contributor, Reason: reason})
		}
	}
	return flags
}

// record adds o to its pair's history and, if toUser, to its
// contributor's state, and returns that state and whether o is one of the
// votes the tests check. d.mu must be held.
func (d *Detector) record(o Observation, toUser bool) (u *userState, checked bool) {
	if toUser {
		u = d.user(o.Contributor)
		u.voted++
	}
	if o.Gold {
		return u, false
	}
	key, outcome := pairKey(o)
	h := d.pairs[key]
	if h == nil {
		h = &[3]int{}
		d.pairs[key] = h
	}
	defer func() { h[outcome]++ }()
	if !toUser || len(u.votes) >= d.cfg.MaxChecked {
		return u, false
	}
	v := vote{probs: odds(h), outcome: outcome}
	u.votes = append(u.votes, v)
	if outcome < 2 { // the sequential test is on decisive votes
		p := v.probs[outcome] / (v.probs[0] + v.probs[1])
		u.logM += math.Log(1 / (2 * p))
	}
	return u, true
}

// Started counts a battle the contributor started and returns a flag when
// they vote on too few of their battles.
func (d *Detector) Started(contributor string) []Flag {
	d.mu.Lock()
	defer d.mu.Unlock()
	u := d.user(contributor)
	u.battles++
	if u.flagged || d.cfg.MinVoteShare < 0 || u.battles < d.cfg.MinBattles ||
		float64(u.voted) >= d.cfg.MinVoteShare*float64(u.battles) {
		return nil
	}
	u.flagged = true
	return []Flag{{Contributor: contributor, Reason: fmt.Sprintf("votes on %d of %d battles started", u.voted, u.battles)}}
}

// test runs both tests on u and returns why it fails, or "".
func (d *Detector) test(u *userState) string {
	if reason := d.sequential(u); reason != "" {
		return reason
	}
	switch len(u.votes) {
	case 25, 50, 100:
	default:
		return ""
	}
	obs := 0.0
	for _, v := range u.votes {
		obs -= 2 * math.Log(v.probs[v.outcome])
	}
	worse := 0
	for range d.cfg.Replays {
		sim := 0.0
		for _, v := range u.votes {
			sim -= 2 * math.Log(v.probs[draw(d.rng, v.probs)])
		}
		if sim < obs {
			worse++
		}
	}
	if float64(worse) > d.cfg.Level*float64(d.cfg.Replays) {
		return fmt.Sprintf("likelihood test: %d votes less likely than %d of %d honest replays", len(u.votes), worse, d.cfg.Replays)
	}
	return ""
}

// sequential runs FastChat's sequential test on u and returns why it
// fails, or "".
func (d *Detector) sequential(u *userState) string {
	if u.logM > math.Log(1/d.cfg.Alpha) {
		return fmt.Sprintf("sequential test: Π 1/(2p) = %.3g over %d votes exceeds %g", math.Exp(u.logM), len(u.votes), 1/d.cfg.Alpha)
	}
	return ""
}

// cluster records o's identity under its address and agent and returns
// flags for every identity beyond the limit.
func (d *Detector) cluster(o Observation) []Flag {
	if o.Address == "" || d.cfg.MaxPerAddress < 0 {
		return nil
	}
	key := o.Address + "\x00" + o.Agent
	ids := d.address[key]
	if slices.Contains(ids, o.Contributor) {
		return nil
	}
	ids = append(ids, o.Contributor)
	d.address[key] = ids
	if len(ids) <= d.cfg.MaxPerAddress {
		return nil
	}
	reason := fmt.Sprintf("cluster: %d identities vote from one address and user agent", len(ids))
	var flags []Flag
	for _, id := range ids {
		if u := d.user(id); !u.flagged {
			u.flagged = true
			flags = append(flags, Flag{Contributor: id, Reason: reason})
		}
	}
	return flags
}

// user returns the state of a contributor, made on first use; d.mu must
// be held.
func (d *Detector) user(id string) *userState {
	u := d.users[id]
	if u == nil {
		u = &userState{}
		d.users[id] = u
	}
	return u
}

// Clusters returns every address and user agent that at least min
// identities voted from, largest first: the detectors' view since the
// server started (it is kept in memory only).
func (d *Detector) Clusters(min int) []rlhf.Cluster {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []rlhf.Cluster
	for key, ids := range d.address {
		if len(ids) < max(min, 1) {
			continue
		}
		addr, agent, _ := strings.Cut(key, "\x00")
		c := rlhf.Cluster{Address: addr, Agent: agent, Contributors: slices.Clone(ids)}
		for _, id := range ids {
			if u := d.users[id]; u != nil && u.flagged {
				c.Flagged++
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b rlhf.Cluster) int {
		if n := len(b.Contributors) - len(a.Contributors); n != 0 {
			return n
		}
		return strings.Compare(a.Address+a.Agent, b.Address+b.Agent)
	})
	return out
}

// Forget clears a contributor's flag and test state (their quarantine was
// lifted): they start afresh.
func (d *Detector) Forget(contributor string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.users, contributor)
}

// pairKey orders the pair by name and returns the outcome in that order:
// 0 a win of the first, 1 of the second, 2 a tie.
func pairKey(o Observation) ([2]string, int) {
	outcome := 2
	switch o.Winner {
	case rlhf.WinnerA:
		outcome = 0
	case rlhf.WinnerB:
		outcome = 1
	}
	if o.ModelA > o.ModelB {
		if outcome < 2 {
			outcome = 1 - outcome
		}
		return [2]string{o.ModelB, o.ModelA}, outcome
	}
	return [2]string{o.ModelA, o.ModelB}, outcome
}

// odds returns the history's outcome probabilities, smoothed by one
// pseudo-vote per outcome.
func odds(h *[3]int) [3]float64 {
	n := float64(h[0] + h[1] + h[2] + 3)
	return [3]float64{float64(h[0]+1) / n, float64(h[1]+1) / n, float64(h[2]+1) / n}
}

func draw(rng *rand.Rand, p [3]float64) int {
	u := rng.Float64()
	if u < p[0] {
		return 0
	}
	if u < p[0]+p[1] {
		return 1
	}
	return 2
}
