package analytics

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// DefaultFeedSize is the number of committed votes a Feed holds by default.
const DefaultFeedSize = 1 << 16

// Feed carries committed votes from the vote path to the live leaderboard
// (and anything else that learns from votes) through a bounded queue that
// one goroutine, Run, drains. The vote path only queues: it never takes a
// lock that a leaderboard reader can hold, and measuring a battle's style
// happens in Run, not in the vote.
//
// When the queue is full, Add waits for room: the vote is already
// committed, and its acknowledgement is held back until the leaderboard
// has taken it, so that no vote is ever dropped from the leaderboard nor
// counted twice. Run's work per vote is O(1) under a lock that readers
// hold only to copy the pair counts, never across a fit, so it takes
// millions of votes a second: a full queue means the whole process is
// starved of processor time, and slowing acknowledgements then is the
// back-pressure the store's group commit applies as well. Each episode of
// waiting is logged once, when it starts, and Waits counts the votes that
// waited.
type Feed struct {
	apply func(*rlhf.Record)
	queue chan *rlhf.Record
	done  chan struct{} // closed when Run stops taking votes
	log   *slog.Logger

	adding atomic.Int64 // Add calls in progress
	waits  atomic.Int64 // votes that found the queue full
	full   atomic.Bool  // an episode of waiting is going on (logged once)
}

// NewFeed returns a feed that passes every queued vote to apply, in the
// order the votes were queued, from Run's goroutine. size is the queue's
// capacity; zero means DefaultFeedSize.
func NewFeed(size int, apply func(*rlhf.Record), log *slog.Logger) *Feed {
	if size <= 0 {
		size = DefaultFeedSize
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{apply: apply, queue: make(chan *rlhf.Record, size), done: make(chan struct{}), log: log}
}

// Add queues a committed vote. It returns at once unless the queue is full
// (see Feed). After Run has returned, Add applies the vote itself.
func (f *Feed) Add(r *rlhf.Record) {
	f.adding.Add(1)
	defer f.adding.Add(-1)
	select {
	case <-f.done:
		f.apply(r)
		return
	default:
	}
	select {
	case f.queue <- r:
		return
	default:
	}
	f.waits.Add(1)
	if f.full.CompareAndSwap(false, true) {
		f.log.Warn("leaderboard feed is full: vote acknowledgements wait for the leaderboard", "queued", cap(f.queue))
	}
	select {
	case f.queue <- r:
	case <-f.done:
		f.apply(r)
	}
}

// Waits returns the number of votes whose Add found the queue full.
func (f *Feed) Waits() int64 { return f.waits.Load() }

// Run passes queued votes on until ctx ends, then passes on the votes
// still queued and returns nil. Run must be called once.
func (f *Feed) Run(ctx context.Context) error {
	for {
		select {
		case r := <-f.queue:
			f.apply(r)
			if len(f.queue) == 0 && f.full.CompareAndSwap(true, false) {
				f.log.Info("leaderboard feed caught up", "waited", f.waits.Load())
			}
		case <-ctx.Done():
			f.stop()
			return nil
		}
	}
}

// stop closes the feed: Add calls from now on apply their vote themselves,
// and the ones in progress either do too or queue it, and stop passes on
// the queued votes until none is left and no Add is in progress.
func (f *Feed) stop() {
	close(f.done)
	for {
		select {
		case r := <-f.queue:
			f.apply(r)
			continue
		default:
		}
		// An Add (a read-modify-write, so that an Add starting later
		// observes it and so sees done closed).
		if f.adding.Add(0) == 0 && len(f.queue) == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
