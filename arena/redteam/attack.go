package redteam

import (
	"context"
	"slices"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
)

// minGain is the least lift (natural-log strength) an omnipresent
// attacker spends a vote on.
const minGain = 2e-4

// maxBattlesPerVote bounds the battles an attacker starts looking for one
// worth voting on.
const maxBattlesPerVote = 500

// attackVote has attacker v start battles until one gets a vote; it
// returns the votes and battles it cost and the votes the guard flagged.
func (s *sim) attackVote(attack string, v voter, i int) (votes, battles, leaks int) {
	for battles < maxBattlesPerVote {
		battles++
		s.start(v)
		b := s.battle(v, i, attack == Probing)
		w, ok := s.choose(attack, b)
		if !ok {
			continue
		}
		s.cast(v, b, w, i)
		if b.IdentityLeak != "" {
			leaks++
		}
		return 1, battles, leaks
	}
	return 0, battles, 0
}

// classify is the attackers' de-anonymising classifier: right with
// probability Accuracy, else some other model.
func (s *sim) classify(model string) string {
	if s.rng.Float64() < s.cfg.Accuracy {
		return model
	}
	others := slices.DeleteFunc(slices.Clone(s.models), func(m string) bool { return m == model })
	return others[s.rng.IntN(len(others))]
}

// choose returns the attacker's verdict on b, or false to leave it.
func (s *sim) choose(attack string, b *rlhf.Battle) (rlhf.Winner, bool) {
	a, c := s.classify(b.ModelA), s.classify(b.ModelB)
	if attack == Probing { // the answers name the models
		a, c = b.ModelA, b.ModelB
	}
	if attack == Omnipresent {
		return s.omnipresent(a, c)
	}
	switch {
	case a == s.target && c != s.target:
		return rlhf.WinnerA, true
	case c == s.target && a != s.target:
		return rlhf.WinnerB, true
	}
	return "", false
}

// omnipresent picks, among A wins, B wins, tie and no vote, the action
// that maximizes the target's rating minus that of the model just above
// it, refitting the public board for each (Min et al. 2025).
func (s *sim) omnipresent(a, c string) (rlhf.Winner, bool) {
	best, bestGap := rlhf.Winner(""), s.gap("", "", "")
	for _, w := range []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie} {
		// A vote must be worth it: the budget is votes, not battles.
		if g := s.gap(a, c, w); g > bestGap+minGain {
			best, bestGap = w, g
		}
	}
	return best, best != ""
}

// gap fits the attacker's view of the board with one more vote (none when
// w is empty) and returns rating(target) − rating(the model above it).
func (s *sim) gap(a, c string, w rlhf.Winner) float64 {
	if w != "" {
		s.count(a, c, w)
		defer s.uncount(a, c, w)
	}
	beta := s.fitView()
	idx := slices.Index(s.models, s.target)
	above := -1
	for i, m := range s.models {
		if m != s.target && beta[i] >= beta[idx] && (above < 0 || beta[i] < beta[above]) {
			above = i
		}
	}
	if above < 0 {
		return 0
	}
	return beta[idx] - beta[above]
}

func (s *sim) fitView() []float64 {
	index := map[string]int{}
	for i, m := range s.models {
		index[m] = i
	}
	var pairs []analytics.Pair
	for k, c := range s.counts {
		pairs = append(pairs, analytics.Pair{I: index[k[0]], J: index[k[1]], WinsI: c[0], WinsJ: c[1], Ties: c[2]})
	}
	slices.SortFunc(pairs, func(x, y analytics.Pair) int { return x.I*1000 + x.J - y.I*1000 - y.J })
	fit, err := analytics.FitNewton(len(s.models), pairs, analytics.FitOptions{Prior: analytics.DefaultPrior, Tol: 1e-6, Start: s.view})
	if err != nil {
		return make([]float64, len(s.models))
	}
	s.view = fit.Beta // the next fit starts here: one vote moves it little
	return fit.Beta
}

func (s *sim) count(a, c string, w rlhf.Winner)   { s.addCount(a, c, w, 1) }
func (s *sim) uncount(a, c string, w rlhf.Winner) { s.addCount(a, c, w, -1) }

func (s *sim) addCount(a, c string, w rlhf.Winner, d float64) {
	k := [2]string{a, c}
	kind := map[rlhf.Winner]int{rlhf.WinnerA: 0, rlhf.WinnerB: 1}[w]
	if w.IsTie() {
		kind = 2
	}
	if a > c {
		k = [2]string{c, a}
		if kind < 2 {
			kind = 1 - kind
		}
	}
	if s.counts[k] == nil {
		s.counts[k] = &[3]float64{}
	}
	s.counts[k][kind] += d
}

// score fits the four boards and fills res.
func (s *sim) score(ctx context.Context, res *Result) error {
	var flagged []string
	for id := range s.flags {
		flagged = append(flagged, id)
	}
	slices.Sort(flagged)
	isAttacker := func(r *rlhf.Record) bool {
		return len(r.Vote.ContributorID) > 8 && r.Vote.ContributorID[:8] == "attacker"
	}
	boards := []struct {
		rank   *int
		rating *float64
		attack bool
		on     bool
	}{
		{&res.RankBefore, &res.RatingBefore, false, false},
		{&res.RankOff, &res.RatingOff, true, false},
		{&res.RankBeforeOn, &res.RatingBeforeOn, false, true},
		{&res.RankOn, &res.RatingOn, true, true},
	}
	for _, bd := range boards {
		var d analytics.Dataset
		for i := range s.recs {
			r := &s.recs[i]
			if !bd.attack && isAttacker(r) || bd.on && !r.Counted() {
				continue
			}
			if err := d.Add(analytics.FromRecord(r)); err != nil {
				return err
			}
		}
		opt := analytics.Options{}
		if bd.on {
			opt.Filter.ExcludeContributors = flagged
		}
		lb, err := analytics.Compute(ctx, &d, opt)
		if err != nil {
			return err
		}
		for k, row := range lb.Models {
			if row.Model == s.target {
				*bd.rank, *bd.rating = k+1, row.Rating
			}
		}
	}
	for id := range s.flags {
		switch {
		case len(id) > 8 && id[:8] == "attacker":
			res.AttackersFlagged++
		case len(id) > 6 && id[:6] == "honest":
			res.HonestFlagged++
		default:
			res.ClickersFlagged++
		}
	}
	ids := max(1, s.cfg.HonestVotes/s.cfg.HonestPerID)
	clickers := int(float64(ids) * (s.cfg.RandomShare + s.cfg.LeftShare))
	res.HonestIDs, res.ClickersIDs = ids-clickers, clickers
	return nil
}
