package main

import (
	"context"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/httpapi"
	"github.com/agora-rlhf/agora/rlhf"
)

// goldScores is the store's gold accuracy of every contributor;
// *store.Store implements it.
type goldScores interface {
	GoldScores(ctx context.Context) ([]rlhf.GoldScore, error)
}

// withGoldPrior gives a reliability-weighted fit every contributor's gold
// results as the prior for their η (analytics.ReliabilityOptions.Gold),
// when src keeps gold results; other fits are left as they are.
func withGoldPrior(ctx context.Context, src any, opt *analytics.Options) error {
	g, ok := src.(goldScores)
	if !ok || opt.Weighting != analytics.WeightingReliability {
		return nil
	}
	scores, err := g.GoldScores(ctx)
	if err != nil {
		return err
	}
	gold := make(map[string]analytics.GoldResult, len(scores))
	for _, s := range scores {
		if s.Battles > 0 {
			gold[s.Contributor] = analytics.GoldResult{Correct: s.Correct, Total: s.Battles}
		}
	}
	opt.Reliability.Gold = gold
	return nil
}

// reliabilityBoards gives reliability-weighted leaderboards what the
// server knows of contributors: their gold results as the prior for η,
// and the detectors' clusters (identities voting from one address and
// user agent) for the cap on a cluster's weight.
type reliabilityBoards struct {
	httpapi.Leaderboards
	gold     goldScores
	clusters func(min int) []rlhf.Cluster
}

func (b reliabilityBoards) Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	if opt.Weighting == analytics.WeightingReliability {
		if err := withGoldPrior(ctx, b.gold, &opt); err != nil {
			return nil, err
		}
		opt.Reliability.Clusters = clusterOf(b.clusters(2))
	}
	return b.Leaderboards.Leaderboard(ctx, opt)
}

// clusterOf maps each identity of the clusters to its cluster's address
// and agent; an identity in several clusters is in the largest (first).
func clusterOf(cls []rlhf.Cluster) map[string]string {
	if len(cls) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, c := range cls {
		for _, id := range c.Contributors {
			if _, ok := out[id]; !ok {
				out[id] = c.Address + "\x00" + c.Agent
			}
		}
	}
	return out
}
