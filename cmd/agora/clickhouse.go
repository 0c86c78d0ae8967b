package main

import (
	"context"
	"errors"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// admittingStore is the embedded store as the arena sees it when votes
// are also shipped to ClickHouse: a vote is refused (unavailable, 503)
// while the shipping backlog is at its cap, and the shipper is woken after
// each committed vote.
type admittingStore struct {
	*store.Store
	shipper *ship.Shipper
}

func (s admittingStore) SaveVote(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) error {
	if err := s.shipper.Admit(); err != nil {
		return err
	}
	if err := s.Store.SaveVote(ctx, b, v); err != nil {
		return err
	}
	s.shipper.Notify()
	return nil
}

// clickhouseCounts is ClickHouse as a source of pair counts for an
// analytics.CountsBoard: one global view of every Agora server that ships
// there, counted by ClickHouse.
type clickhouseCounts struct{ ch *clickhouse.Client }

func (c clickhouseCounts) Counts(ctx context.Context, f analytics.Filter) (*analytics.Counts, int64, error) {
	pcs, err := c.ch.SelectedPairCounts(ctx, clickhouse.Filter{Since: f.Since, Until: f.Until, Models: f.Models, Sources: f.Sources,
		Categories: f.Categories, Languages: f.Languages, Contributors: f.Contributors, ExcludeContributors: f.ExcludeContributors})
	if err != nil {
		return nil, 0, unavailable("could not read the counts from ClickHouse", err)
	}
	counts := countsOf(pcs, f.ExcludeTies)
	if counts.Failed, err = c.ch.FailedVotes(ctx); err != nil {
		return nil, 0, unavailable("could not read the failed votes from ClickHouse", err)
	}
	uncounted, err := c.ch.UncountedVotes(ctx)
	if err != nil {
		return nil, 0, unavailable("could not read the uncounted votes from ClickHouse", err)
	}
	return counts, uncounted, nil
}

// unavailable is ClickHouse's error as the client sees it (503), unless
// the request itself ended.
func unavailable(msg string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &rlhf.Error{Code: rlhf.EUnavailable, Message: msg, Err: err}
}

// countsOf turns ClickHouse's per-pair tallies into analytics counts.
func countsOf(pcs []clickhouse.PairCount, excludeTies bool) *analytics.Counts {
	seen := map[string]bool{}
	var models []string
	for _, p := range pcs {
		for _, m := range []string{p.ModelA, p.ModelB} {
			if !seen[m] {
				seen[m] = true
				models = append(models, m)
			}
		}
	}
	c := analytics.NewCounts(models)
	for _, p := range pcs {
		ties := p.Ties + p.BothBad
		if excludeTies {
			ties = 0
		}
		c.Add(p.ModelA, p.ModelB, p.WinsA, p.WinsB, ties) // names come from pcs: cannot fail
	}
	return c
}
