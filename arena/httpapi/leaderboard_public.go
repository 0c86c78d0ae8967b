package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
)

// The published leaderboards: every variant of the public parameters
// (publicParams) is fitted by one worker, publicBoards.run, started by
// main (Server.RunLeaderboards), never by a request. Requests do not set
// the pace of the refits either: a variant asked for in the last
// publicKeep is wanted, and the worker refits every wanted variant on its
// own schedule, once it is publicMaxAge old (and publicRest times as old
// as its fit took), checked every publicTick. A request for a wanted
// variant is served its last fit at once, however many come; a request
// for a variant nobody wanted (fitted at start, or last asked for long
// ago) that is older than that queues its refit and waits up to
// publicWait for it, else is served the old one; a variant never fitted
// yet (or forgotten after an erasure) answers rate_limited with a
// Retry-After once publicWait has passed. So a flood of requests for the
// published variants costs the worker at most one refit per variant per
// publicKeep beyond the schedule its visitors set anyway. The worker
// fits one variant at a time, on one goroutine, paced to publicShare of
// one processor (analytics.Paced): however many clients ask for however
// many variants, the published leaderboards take at most that share of
// the processors from the vote path. Variants are few and known (the
// public parameters' values are checked), at most maxPublicBoards.
const (
	publicShare = 0.25
	publicWait  = 3 * time.Second
	publicKeep  = time.Minute
	publicTick  = time.Second
)

const (
	// maxPublicBoards bounds the published variants kept.
	maxPublicBoards = 256
	// publicRest: a board stays fresh for at least publicRest times as
	// long as its fit took, so that a slow variant asked for all the time
	// is refitted at most a fraction of the time.
	publicRest = 4
)

// publicBoards keeps the published leaderboards and fits them.
type publicBoards struct {
	lbs    Leaderboards
	share  float64       // of one processor, for the worker's fits
	maxAge time.Duration // an older wanted board is refitted
	wait   time.Duration // how long a request waits for a refit
	keep   time.Duration // a board asked for this long ago is still wanted
	tick   time.Duration // how often the worker looks for boards to refit
	now    func() time.Time

	mu     sync.Mutex // guards the fields below and every board's
	boards map[string]*publicBoard
	queue  []*publicBoard // boards to fit, oldest request first
	wake   chan struct{}  // holds a token when queue may be non-empty
	busy   bool           // the worker is fitting
	gen    int            // incremented by forget
	fits   int            // fits made (benchmarks)
}

// publicBoard is one published variant and its last fit.
type publicBoard struct {
	opt    analytics.Options
	lb     *analytics.Leaderboard
	err    error         // the last fit's error (unfittable votes, say)
	at     time.Time     // when the last fit started; zero: never
	took   time.Duration // how long the last fit took
	queued bool          // a fit is queued, not started yet
	asked  time.Time     // when a request last asked for it; zero: never
	done   chan struct{} // closed when the queued fit ends
}

// newPublicBoards returns the published leaderboards of lbs, with the
// standard variants (the default options, with and without style
// control) queued, so that the worker fits them as soon as it runs: the
// first visitors then wait for a refit of a warm live leaderboard (its
// bootstrap kept) if these are older than publicMaxAge, or are served
// these fits if the refit is slow.
func newPublicBoards(lbs Leaderboards) *publicBoards {
	p := &publicBoards{lbs: lbs, share: publicShare, maxAge: publicMaxAge, wait: publicWait, keep: publicKeep, tick: publicTick, now: time.Now,
		boards: map[string]*publicBoard{}, wake: make(chan struct{}, 1)}
	for _, q := range []url.Values{{}, {"style": {"true"}}} {
		opt, err := leaderboardOptions(q)
		if err != nil {
			panic(err) // the standard variants are constants
		}
		p.mu.Lock()
		b, _ := p.board(opt)
		p.enqueue(b)
		p.mu.Unlock()
	}
	return p
}

// publicKey identifies a published variant: everything the public
// parameters can change (analytics.Options holds no maps, so the printed
// form is stable).
func publicKey(opt analytics.Options) string {
	return fmt.Sprintf("%v|%+v", opt.Style, opt.Filter)
}

// board returns the board of opt, made if new; p.mu must be held.
func (p *publicBoards) board(opt analytics.Options) (*publicBoard, error) {
	opt.Matrices = true // one fit serves both: the handler cuts them
	key := publicKey(opt)
	if b := p.boards[key]; b != nil {
		return b, nil
	}
	if len(p.boards) >= maxPublicBoards {
		return nil, rlhf.Errorf(rlhf.EUnavailable, "too many published leaderboard variants")
	}
	b := &publicBoard{opt: opt, done: make(chan struct{})}
	p.boards[key] = b
	return b, nil
}

// enqueue asks the worker to fit b, once; p.mu must be held.
func (p *publicBoards) enqueue(b *publicBoard) {
	if b.queued {
		return
	}
	b.queued = true
	p.queue = append(p.queue, b)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// get returns the published leaderboard of opt (which holds only public
// parameters): the last fit of a wanted board at once; else the last fit
// if younger than maxAge and asked for before, else the next one if it
// comes within wait, else the last one; with none yet, rate_limited.
func (p *publicBoards) get(ctx context.Context, opt analytics.Options) (*analytics.Leaderboard, error) {
	p.mu.Lock()
	b, err := p.board(opt)
	if err != nil {
		p.mu.Unlock()
		return nil, err
	}
	// A fit made before anyone asked (at start) is no fresher than any:
	// the first request asks for a refit (cheap if no vote came since)
	// and gets this one only if the refit is slow.
	now := p.now()
	fresh := p.wanted(b, now) || !b.asked.IsZero() && !p.stale(b, now)
	b.asked = now
	if !b.at.IsZero() && fresh {
		defer p.mu.Unlock()
		return b.lb, b.err
	}
	p.enqueue(b)
	done, wait := b.done, p.wait
	p.mu.Unlock()

	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if b.lb == nil && b.err == nil {
		return nil, rateLimited("requests for a leaderboard not fitted yet", wait)
	}
	return b.lb, b.err
}

// wanted reports whether a request asked for b in the last p.keep; p.mu
// must be held.
func (p *publicBoards) wanted(b *publicBoard, now time.Time) bool {
	return !b.asked.IsZero() && now.Sub(b.asked) < p.keep
}

// stale reports whether b is due for a refit: never fitted, or fitted
// maxAge ago and publicRest times as long ago as its fit took; p.mu must
// be held.
func (p *publicBoards) stale(b *publicBoard, now time.Time) bool {
	return b.at.IsZero() || now.Sub(b.at) >= max(p.maxAge, publicRest*b.took)
}

// schedule queues the refits of the wanted boards that are stale, the
// worker's own schedule.
func (p *publicBoards) schedule() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for _, b := range p.boards {
		if p.wanted(b, now) && p.stale(b, now) {
			p.enqueue(b)
		}
	}
}

// forget drops every published fit, so that the next request waits for
// a new one (after an erasure: the old fits count erased votes).
func (p *publicBoards) forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gen++
	for _, b := range p.boards {
		b.lb, b.err, b.at, b.asked = nil, nil, time.Time{}, time.Time{}
	}
}

// run fits the queued boards, one at a time and paced, and every p.tick
// queues the refits schedule asks for, until ctx ends.
func (p *publicBoards) run(ctx context.Context) error {
	tick := time.NewTicker(p.tick)
	defer tick.Stop()
	for {
		select {
		case <-tick.C: // while busy too
			p.schedule()
		default:
		}
		p.mu.Lock()
		var b *publicBoard
		if len(p.queue) > 0 {
			b, p.queue = p.queue[0], p.queue[1:]
		}
		p.busy = b != nil
		p.mu.Unlock()
		if b == nil {
			select {
			case <-p.wake:
				continue
			case <-tick.C:
				p.schedule()
				continue
			case <-ctx.Done():
				return nil
			}
		}
		if !p.fit(ctx, b) {
			return nil
		}
	}
}

// fit fits b and publishes the result; it reports false when ctx ended
// first. A request that comes once the fit has started waits for the
// next one: this one's votes may predate it.
func (p *publicBoards) fit(ctx context.Context, b *publicBoard) bool {
	p.mu.Lock()
	done, gen, start := b.done, p.gen, p.now()
	b.done, b.queued = make(chan struct{}), false
	p.mu.Unlock()
	defer close(done)
	opt := b.opt
	opt.Workers = 1 // freshness is decided here: refit whenever votes arrived since
	lb, err := p.lbs.Leaderboard(analytics.Paced(ctx, p.share), opt)
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fits++
	if gen != p.gen { // forgotten meanwhile: fit again
		p.enqueue(b)
		return true
	}
	b.lb, b.err, b.at, b.took = lb, err, start, p.now().Sub(start)
	return true
}

// idle reports whether the worker has nothing to fit (benchmarks).
func (p *publicBoards) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.busy && len(p.queue) == 0
}

// A tarpit holds a refused request for the wait it is refused for, up to
// maxTarpit, before it is answered: a client that asks again as soon as
// it is answered then asks about once a second instead of thousands of
// times, and its refusals cost the server next to nothing. At most
// tarpitSlots requests are held at once; the rest are answered at once.
const (
	maxTarpit   = time.Second
	tarpitSlots = 512
)

type tarpit chan struct{}

func newTarpit() tarpit { return make(tarpit, tarpitSlots) }

// hold holds the caller for wait, up to maxTarpit and until ctx ends, if
// a slot is free, and returns the wait left.
func (t tarpit) hold(ctx context.Context, wait time.Duration) time.Duration {
	select {
	case t <- struct{}{}:
		defer func() { <-t }()
	default:
		return wait
	}
	d := min(wait, maxTarpit)
	timer := time.NewTimer(d)
	defer timer.Stop()
	start := time.Now()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	return max(wait-time.Since(start), time.Millisecond)
}

// RunLeaderboards fits the published leaderboards until ctx ends: a
// worker for main. Without Config.Leaderboards it only waits.
func (s *Server) RunLeaderboards(ctx context.Context) error {
	if s.public == nil {
		<-ctx.Done()
		return nil
	}
	return s.public.run(ctx)
}
