package analytics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// A CountsSource reads the per-pair vote counts a filter selects, counted
// outside this process, with the votes kept but not counted (not
// anonymous, gold). Its errors reach the client as they are. ClickHouse, which holds the votes of every Agora
// server that ships there, is one (cmd/agora adapts *clickhouse.Client).
type CountsSource interface {
	Counts(ctx context.Context, f Filter) (c *Counts, uncounted int64, err error)
}

// CountsBoard computes leaderboards from a CountsSource: the counting is
// done by the source, the fit here. A board is kept for Refresh after it
// is fitted, and requests for the same options that miss at the same time
// wait for one read and one fit, so that a burst of requests costs the
// source one query. Style control is not available: it needs each
// battle's answers.
type CountsBoard struct {
	src     CountsSource
	refresh time.Duration
	now     func() time.Time

	mu     sync.Mutex            // guards boards
	boards map[string]*boardCall // by options: fitted, or being fitted
}

// boardCall is one read and fit, shared by the requests that wait for it.
type boardCall struct {
	done chan struct{} // closed once lb, err and at are set
	lb   *Leaderboard
	err  error
	at   time.Time // when the fit ended
}

// NewCountsBoard returns a board over src that keeps each fit for refresh.
func NewCountsBoard(src CountsSource, refresh time.Duration) *CountsBoard {
	return &CountsBoard{src: src, refresh: refresh, now: time.Now}
}

// Forget drops the kept boards, so that the next request reads the source
// again (after an erasure). A fit under way is still given to the
// requests waiting for it, but not kept.
func (b *CountsBoard) Forget() {
	b.mu.Lock()
	b.boards = nil
	b.mu.Unlock()
}

// Leaderboard returns the leaderboard opt asks for: the kept one while it
// is younger than the refresh interval, else a new read and fit shared
// with every request that arrives while it runs.
func (b *CountsBoard) Leaderboard(ctx context.Context, opt Options) (*Leaderboard, error) {
	if opt.Style {
		return nil, rlhf.Errorf(rlhf.EInvalid, "with ClickHouse the leaderboard is computed from per-pair counts: style control is not available")
	}
	key := fmt.Sprintf("%+v", opt)
	for {
		call, lead := b.join(key)
		if lead {
			b.fit(ctx, key, call, opt)
		}
		select {
		case <-call.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		// A leader whose own request ended leaves the others to try again.
		if call.err != nil && !lead && isContextError(call.err) && ctx.Err() == nil {
			continue
		}
		return call.lb, call.err
	}
}

// join returns the call for key that a request should wait for, and
// whether the caller must run it (lead).
func (b *CountsBoard) join(key string) (call *boardCall, lead bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c, ok := b.boards[key]; ok {
		select {
		case <-c.done:
			if c.err == nil && b.now().Sub(c.at) < b.refresh {
				return c, false
			}
		default:
			return c, false // under way
		}
	}
	if b.boards == nil {
		b.boards = map[string]*boardCall{}
	}
	b.dropExpired()
	c := &boardCall{done: make(chan struct{})}
	b.boards[key] = c
	return c, true
}

// dropExpired forgets the finished fits older than the refresh interval,
// so that the boards of options asked for once (a researcher's filter, an
// old quarantine set) are not kept for good. It runs with b.mu held, on a
// miss, which costs a read and a fit anyway.
func (b *CountsBoard) dropExpired() {
	now := b.now()
	for k, c := range b.boards {
		select {
		case <-c.done:
			if now.Sub(c.at) >= b.refresh {
				delete(b.boards, k)
			}
		default: // under way
		}
	}
}

// fit reads the counts and fits them, and gives the result to call's
// waiters. A failed fit is not kept: the next request tries again.
func (b *CountsBoard) fit(ctx context.Context, key string, call *boardCall, opt Options) {
	call.lb, call.err = b.compute(ctx, opt)
	b.mu.Lock()
	call.at = b.now()
	if call.err != nil && b.boards[key] == call {
		delete(b.boards, key)
	}
	b.mu.Unlock()
	close(call.done)
}

func (b *CountsBoard) compute(ctx context.Context, opt Options) (*Leaderboard, error) {
	counts, uncounted, err := b.src.Counts(ctx, opt.Filter)
	if err != nil {
		return nil, err
	}
	lb, err := ComputeCounts(ctx, counts, opt)
	if err != nil {
		return nil, err
	}
	lb.Uncounted = uncounted
	return lb, nil
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
