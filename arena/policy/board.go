package policy

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"slices"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena"
)

// Matcher returns inner restricted to models not deprecated (a deprecated
// model never starts another battle, whoever's it is) and steered towards
// each lab's target share of battle sides (steer.go).
func (g *Governor) Matcher(inner arena.Matcher) arena.Matcher {
	if inner == nil {
		inner = arena.Uniform{}
	}
	return matcher{g: g, inner: inner}
}

type matcher struct {
	g     *Governor
	inner arena.Matcher
}

func (m matcher) Pair(models []string, rng *mrand.Rand) (string, string, error) {
	kept := make([]string, 0, len(models))
	for _, name := range models {
		if !m.g.Deprecated(name) {
			kept = append(kept, name)
		}
	}
	labs := m.g.cfg.ModelLabs()
	labOf, active := make(map[string]string, len(kept)), map[string]bool{}
	for _, name := range kept {
		labOf[name] = m.g.labOf(labs, name)
		active[labOf[name]] = true
	}
	pol, _ := m.g.Policy()
	w := m.g.steer.weights(labOf, pol.Sampling.targets(active))
	return m.g.steer.pair(m.inner, kept, rng, labOf, w)
}

// Label returns a copy of lb as the public sees it under the policy in
// force: unlisted models left out (their pairs too), ranks recounted among
// the rest, and each row labelled provisional (with the reason) or
// deprecated.
func (g *Governor) Label(ctx context.Context, lb *analytics.Leaderboard) (*analytics.Leaderboard, error) {
	pol, _ := g.Policy()
	out := *lb
	out.Models = make([]analytics.Row, 0, len(lb.Models))
	for _, r := range lb.Models {
		if g.Hidden(r.Model) {
			continue
		}
		r.Deprecated = g.Deprecated(r.Model)
		reason, err := g.provisional(ctx, &pol, r)
		if err != nil {
			return nil, err
		}
		r.Provisional, r.ProvisionalReason = reason != "", reason
		out.Models = append(out.Models, r)
	}
	for i := range out.Models {
		out.Models[i].Rank = 1
		for _, o := range out.Models {
			if o.CILower > out.Models[i].CIUpper {
				out.Models[i].Rank++
			}
		}
	}
	out.Policy = &analytics.PolicyNote{Version: pol.Version, MinVotes: pol.MinVotes, FreshVotes: pol.Variants.FreshVotes,
		Hidden: len(lb.Models) - len(out.Models)}
	if lb.Matrices != nil {
		out.Matrices = cutMatrices(lb.Matrices, g.Hidden)
	}
	return &out, nil
}

// provisional returns why r's rating is provisional under pol, or "".
func (g *Governor) provisional(ctx context.Context, pol *Policy, r analytics.Row) (string, error) {
	if r.Battles < pol.MinVotes {
		return fmt.Sprintf("%d of the %d counted votes needed", r.Battles, pol.MinVotes), nil
	}
	g.mu.Lock()
	l, ok := g.listing(r.Model)
	g.mu.Unlock()
	if !ok || l.Variants <= pol.Variants.MoreThan || pol.Variants.FreshVotes == 0 {
		return "", nil
	}
	fresh, err := g.cfg.Store.VotesSince(ctx, r.Model, l.ListedAt)
	if err != nil {
		return "", err
	}
	if fresh >= pol.Variants.FreshVotes {
		return "", nil
	}
	return fmt.Sprintf("its lab tested %d variants (more than %d): %d of the %d fresh votes needed since listing",
		l.Variants, pol.Variants.MoreThan, fresh, pol.Variants.FreshVotes), nil
}

// cutMatrices returns m without the models hidden reports.
func cutMatrices(m *analytics.Matrices, hidden func(string) bool) *analytics.Matrices {
	var keep []int
	for i, name := range m.Models {
		if !hidden(name) {
			keep = append(keep, i)
		}
	}
	if len(keep) == len(m.Models) {
		return m
	}
	out := &analytics.Matrices{}
	for _, i := range keep {
		out.Models = append(out.Models, m.Models[i])
		out.Battles = append(out.Battles, pick(m.Battles, i, keep))
		out.WinFraction = append(out.WinFraction, pick(m.WinFraction, i, keep))
		out.Predicted = append(out.Predicted, pick(m.Predicted, i, keep))
	}
	return out
}

// pick returns the columns keep of row i of rows (nil when rows is short).
func pick[T any](rows [][]T, i int, keep []int) []T {
	if i >= len(rows) {
		return nil
	}
	out := make([]T, 0, len(keep))
	for _, j := range keep {
		out = append(out, rows[i][j])
	}
	return slices.Clip(out)
}

// Leaderboards computes leaderboards; *analytics.Live implements it.
type Leaderboards interface {
	Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error)
}

// Boards labels every leaderboard of Inner by Gov's policy in force.
type Boards struct {
	Inner Leaderboards
	Gov   *Governor
}

// Leaderboard returns Inner's leaderboard for opt, labelled.
func (b Boards) Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	lb, err := b.Inner.Leaderboard(ctx, opt)
	if err != nil {
		return nil, err
	}
	return b.Gov.Label(ctx, lb)
}
