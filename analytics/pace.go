package analytics

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Paced returns a context for fits that may use only share (0 < share
// ≤ 1) of one processor: a fit run on one worker (Options.Workers = 1)
// under it works, then sleeps, so that its work is at most share of the
// elapsed time. Fits pass checkpoints between steps (bootstrap rounds,
// Newton iterations, each a few milliseconds of work or less); at a
// checkpoint of a paced fit that has worked for pacedSlice since it last
// slept, the fit sleeps (1-share)/share times as long. Elapsed time, not
// processor time, counts as work, so a fit slowed by other work only
// sleeps longer. The sleep ends early when ctx ends. Only the fits of
// this package are paced: reading votes (from ClickHouse, say) is not.
// A share of 1 or more returns ctx itself.
func Paced(ctx context.Context, share float64) context.Context {
	if share >= 1 || share <= 0 {
		return ctx
	}
	p := &pacer{share: share, now: time.Now, done: ctx.Done()}
	p.sleep = p.sleepCtx
	p.since = p.now()
	return context.WithValue(ctx, pacerKey{}, p)
}

// pacedSlice is the work a paced fit does between two sleeps: short
// enough that a vote arriving meanwhile finds the other processor free
// most of the time, long enough that the sleeps cost little.
const pacedSlice = 2 * time.Millisecond

type pacerKey struct{}

// pacer is the state of a paced context.
type pacer struct {
	share float64
	now   func() time.Time
	sleep func(time.Duration)
	done  <-chan struct{}

	mu    sync.Mutex // serialises checkpoints of the fit's workers
	since time.Time  // when the fit last woke
	slept time.Duration
}

// checkpoint is where a fit may pause or stop: it sleeps when the fit is
// paced and has worked its slice, then returns ctx's error.
func checkpoint(ctx context.Context) error {
	if p, ok := ctx.Value(pacerKey{}).(*pacer); ok {
		p.pace()
	}
	return ctx.Err()
}

// pace sleeps if the fit has worked its slice, else yields the processor
// to any goroutine waiting for it (a vote, say), so that the fit holds a
// processor another goroutine wants for a checkpoint's work at most
// (about a millisecond), not a whole slice.
func (p *pacer) pace() {
	p.mu.Lock()
	defer p.mu.Unlock()
	worked := p.now().Sub(p.since)
	if worked < pacedSlice {
		p.mu.Unlock()
		runtime.Gosched()
		p.mu.Lock()
		return
	}
	d := time.Duration(float64(worked) * (1 - p.share) / p.share)
	p.sleep(d)
	p.slept += d
	p.since = p.now()
}

// sleepCtx sleeps for d or until the context ends.
func (p *pacer) sleepCtx(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.done:
	}
}
