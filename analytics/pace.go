package analytics

import (
	"context"
	"sync"
	"time"
)

// Paced returns a context for a fit that may use only share (0 < share
// ≤ 1) of one processor: a fit run on one worker (Options.Workers = 1)
// under it works, then sleeps, so that its work is at most share of the
// elapsed time. Fits check their context between steps (bootstrap
// rounds, Newton iterations, each a few milliseconds of work or less); a
// paced context's Err is that checkpoint: once the fit has worked for
// pacedSlice since it last slept, Err sleeps (1-share)/share times as
// long before it answers. Elapsed time, not processor time, counts as
// work, so a fit slowed by other work only sleeps longer. The sleep ends
// early when ctx ends. A share of 1 or more returns ctx itself.
func Paced(ctx context.Context, share float64) context.Context {
	if share >= 1 || share <= 0 {
		return ctx
	}
	p := &paced{Context: ctx, share: share, now: time.Now}
	p.sleep = p.sleepCtx
	p.since = p.now()
	return p
}

// pacedSlice is the work a paced fit does between two sleeps: short
// enough that a vote arriving meanwhile finds the other processor free
// most of the time, long enough that the sleeps cost little.
const pacedSlice = 2 * time.Millisecond

// paced is the context Paced returns.
type paced struct {
	context.Context
	share float64
	now   func() time.Time
	sleep func(time.Duration)

	mu    sync.Mutex // serialises checkpoints of the fit's workers
	since time.Time  // when the fit last woke
	slept time.Duration
}

// Err is the fit's checkpoint: it sleeps when the fit has worked its
// slice, then reports the parent's error.
func (p *paced) Err() error {
	p.mu.Lock()
	worked := p.now().Sub(p.since)
	if worked >= pacedSlice {
		d := time.Duration(float64(worked) * (1 - p.share) / p.share)
		p.sleep(d)
		p.slept += d
		p.since = p.now()
	}
	p.mu.Unlock()
	return p.Context.Err()
}

// sleepCtx sleeps for d or until the parent ends.
func (p *paced) sleepCtx(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.Done():
	}
}
