package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/ship"
	"github.com/agora-rlhf/agora/ingest/sqlite"
	"github.com/agora-rlhf/agora/rlhf"
)

// admittingStore is the embedded store as the arena sees it when votes
// are also shipped to ClickHouse: a vote is refused (unavailable, 503)
// while the shipping backlog is at its cap, and the shipper is woken after
// each committed vote.
type admittingStore struct {
	*sqlite.Store
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

type cachedBoard struct {
	lb *analytics.Leaderboard
	at time.Time
}

func (c *clickhouseLeaderboards) Leaderboard(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	f := opt.Filter
	if len(f.Contributors) > 0 || len(f.ExcludeContributors) > 0 || opt.Style {
		return nil, rlhf.Errorf(rlhf.EInvalid, "with ClickHouse the leaderboard is computed from per-pair counts: contributor filters and style control are not available")
	}
	key := fmtKey(opt)
	c.mu.Lock()
	if cb, ok := c.cache[key]; ok && time.Since(cb.at) < c.refresh {
		c.mu.Unlock()
		return cb.lb, nil
	}
	c.mu.Unlock()
	var (
		pcs []clickhouse.PairCount
		err error
	)
	cf := clickhouse.Filter{Since: f.Since, Until: f.Until, Models: f.Models, Sources: f.Sources, Categories: f.Categories, Languages: f.Languages}
	if cf.Since.IsZero() && cf.Until.IsZero() && len(cf.Models)+len(cf.Sources)+len(cf.Categories)+len(cf.Languages) == 0 {
		pcs, err = c.ch.PairCounts(ctx)
	} else {
		pcs, err = c.ch.PairCountsWhere(ctx, cf)
	}
	if err != nil {
		return nil, &rlhf.Error{Code: rlhf.EUnavailable, Message: "could not read the counts from ClickHouse", Err: err}
	}
	counts := countsOf(pcs, f.ExcludeTies)
	if counts.Failed, err = c.ch.FailedVotes(ctx); err != nil {
		return nil, &rlhf.Error{Code: rlhf.EUnavailable, Message: "could not read the failed votes from ClickHouse", Err: err}
	}
	lb, err := analytics.ComputeCounts(ctx, counts, opt)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.cache == nil {
		c.cache = map[string]cachedBoard{}
	}
	c.cache[key] = cachedBoard{lb, time.Now()}
	c.mu.Unlock()
	return lb, nil
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
