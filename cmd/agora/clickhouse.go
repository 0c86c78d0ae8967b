package main

import (
	"context"
	"fmt"
	"sync"
	"time"

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

// clickhouseLeaderboards computes leaderboards from the per-pair counts in
// ClickHouse: one global view of every Agora server that ships there. The
// counting is pushed down to ClickHouse; the fit runs here. A board is
// reused for refresh, so that a burst of requests costs one query.
type clickhouseLeaderboards struct {
	ch      *clickhouse.Client
	refresh time.Duration

	mu    sync.Mutex // guards cache
	cache map[string]cachedBoard
}

// forget drops the cached boards, so that the next read asks ClickHouse
// (after an erasure).
func (c *clickhouseLeaderboards) forget() {
	c.mu.Lock()
	c.cache = nil
	c.mu.Unlock()
}

type cachedBoard struct {
	lb *analytics.Leaderboard
	at time.Time
}

func (c *clickhouseLeaderboards) Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	if opt.Style {
		return nil, rlhf.Errorf(rlhf.EInvalid, "with ClickHouse the leaderboard is computed from per-pair counts: style control is not available")
	}
	key := fmtKey(opt)
	c.mu.Lock()
	if cb, ok := c.cache[key]; ok && time.Since(cb.at) < c.refresh {
		c.mu.Unlock()
		return cb.lb, nil
	}
	c.mu.Unlock()
	pcs, err := c.pairCounts(ctx, opt.Filter)
	if err != nil {
		return nil, &rlhf.Error{Code: rlhf.EUnavailable, Message: "could not read the counts from ClickHouse", Err: err}
	}
	counts := countsOf(pcs, opt.Filter.ExcludeTies)
	if counts.Failed, err = c.ch.FailedVotes(ctx); err != nil {
		return nil, &rlhf.Error{Code: rlhf.EUnavailable, Message: "could not read the failed votes from ClickHouse", Err: err}
	}
	uncounted, err := c.ch.UncountedVotes(ctx)
	if err != nil {
		return nil, &rlhf.Error{Code: rlhf.EUnavailable, Message: "could not read the uncounted votes from ClickHouse", Err: err}
	}
	lb, err := analytics.ComputeCounts(ctx, counts, opt)
	if err != nil {
		return nil, err
	}
	lb.Uncounted = uncounted
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]cachedBoard{}
	}
	c.cache[key] = cachedBoard{lb, time.Now()}
	c.mu.Unlock()
	return lb, nil
}

// pairCounts reads the counts f selects. Unfiltered, they come from the
// small pair_counts table, less the votes of excluded (quarantined)
// contributors, counted from the votes table; any other filter reads the
// votes table.
func (c *clickhouseLeaderboards) pairCounts(ctx context.Context, f analytics.Filter) ([]clickhouse.PairCount, error) {
	cf := clickhouse.Filter{Since: f.Since, Until: f.Until, Models: f.Models, Sources: f.Sources, Categories: f.Categories,
		Languages: f.Languages, Contributors: f.Contributors, ExcludeContributors: f.ExcludeContributors}
	if !cf.Since.IsZero() || !cf.Until.IsZero() || len(cf.Models)+len(cf.Sources)+len(cf.Categories)+len(cf.Languages)+len(cf.Contributors) > 0 {
		return c.ch.PairCountsWhere(ctx, cf)
	}
	pcs, err := c.ch.PairCounts(ctx)
	if err != nil || len(cf.ExcludeContributors) == 0 {
		return pcs, err
	}
	ex, err := c.ch.PairCountsWhere(ctx, clickhouse.Filter{Contributors: cf.ExcludeContributors})
	if err != nil {
		return nil, err
	}
	return subtractCounts(pcs, ex), nil
}

// subtractCounts returns pcs less ex, pair by pair, never below zero (the
// two are read one after the other while votes arrive).
func subtractCounts(pcs, ex []clickhouse.PairCount) []clickhouse.PairCount {
	less := map[[2]string]clickhouse.PairCount{}
	for _, p := range ex {
		less[[2]string{p.ModelA, p.ModelB}] = p
	}
	out := make([]clickhouse.PairCount, 0, len(pcs))
	for _, p := range pcs {
		e := less[[2]string{p.ModelA, p.ModelB}]
		p.WinsA, p.WinsB = max(p.WinsA-e.WinsA, 0), max(p.WinsB-e.WinsB, 0)
		p.Ties, p.BothBad = max(p.Ties-e.Ties, 0), max(p.BothBad-e.BothBad, 0)
		if p.Total() > 0 {
			out = append(out, p)
		}
	}
	return out
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

func fmtKey(opt analytics.Options) string {
	return fmt.Sprintf("%+v", opt)
}
