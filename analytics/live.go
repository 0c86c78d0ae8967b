package analytics

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// LoadRecords adds every record of src to d. Records that cannot be rated
// (a model battling itself, an unknown winner) are skipped and counted.
func LoadRecords(ctx context.Context, src rlhf.RecordSource, d *Dataset) (skipped int, err error) {
	err = src.Records(ctx, func(r *rlhf.Record) error {
		if err := d.AddRecord(r); err != nil {
			skipped++
		}
		return nil
	})
	if err != nil {
		return skipped, fmt.Errorf("loading records: %w", err)
	}
	return skipped, nil
}

// Live is a leaderboard kept up to date as votes arrive. It is safe for
// concurrent use. Add keeps the pair counts and the online Elo of the
// unfiltered board incrementally (O(1) per vote); Leaderboard refits only
// when votes arrived since the cached result for the same options, and warm
// starts every bootstrap round from its previous solution, so a refresh
// after one vote costs the counting-free fit plus the resampling.
//
// No lock is held across a fit: Leaderboard copies what the fit needs under
// mu (the pair counts, O(models²), and a view of the append-only battle
// columns, O(1)) and fits outside it, so Add waits at most for that copy.
// Fits run one at a time (fits), each with at most FitWorkers goroutines,
// so leaderboards never take more than that share of the processors from
// the vote path.
type Live struct {
	fits chan struct{} // a semaphore of one: held by the fit in progress

	mu      sync.Mutex // guards the fields below; never held across a fit
	data    Dataset
	version uint64 // incremented by every Add
	skipped int
	// Incremental state over dataset model ids, m×m.
	m          int
	wins, ties []int64
	elo        *elo
	eloParams  EloParams
	eloStale   bool              // a vote arrived out of time order: Elo needs a full pass
	cache      map[string]cached // by optionsKey
	now        func() time.Time

	boot      *liveBoot // guarded by fits, not mu
	roundWork int       // the bootstrap's work per refresh: liveRoundWork but in benchmarks

	reload *reloadState // set while Reload reads the store (live_reload.go)
	recent *recentVotes // the last votes Reload read, which Add must not count again

	// With NewLiveLoading: closed when Load is done; until then Add keeps
	// votes in pending (under mu), and loadErr is Load's error.
	loaded  chan struct{}
	pending []rlhf.Summary
	loadErr error
}

// FitWorkers returns the goroutines a live leaderboard's fit uses: half
// the processors Go may use, at least one, so that a fit leaves the other
// half to the vote path.
func FitWorkers() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// NewLive loads every record of src and returns a live leaderboard.
func NewLive(ctx context.Context, src rlhf.RecordSource) (*Live, error) {
	l := &Live{}
	skipped, err := LoadRecords(ctx, src, &l.data)
	if err != nil {
		return nil, err
	}
	l.skipped = skipped
	l.rebuild()
	return l, nil
}

// newLiveDataset wraps an existing dataset (tests and benchmarks).
func newLiveDataset(d *Dataset) *Live {
	l := &Live{data: *d}
	l.rebuild()
	return l
}

// rebuild recomputes the incremental state from the dataset. l.mu must be
// held or l not yet shared.
func (l *Live) rebuild() {
	l.m = len(l.data.models.names)
	l.wins = make([]int64, l.m*l.m)
	l.ties = make([]int64, l.m*l.m)
	for i := range l.data.a {
		l.count(int(l.data.a[i]), int(l.data.b[i]), l.data.w[i])
	}
	l.eloParams = ArenaElo()
	all := selector{}
	l.elo = newEloFrom(l.eloParams, l.data.elo(&all, l.eloParams))
	l.eloStale = false
	l.cache = map[string]cached{}
	if l.fits == nil {
		l.fits = make(chan struct{}, 1)
	}
	if l.now == nil {
		l.now = time.Now
	}
}

func newEloFrom(p EloParams, ratings []float64) *elo {
	e := newElo(p, 0)
	e.ratings = ratings
	return e
}

func (l *Live) count(a, b int, w uint8) {
	switch w {
	case outA:
		l.wins[a*l.m+b]++
	case outB:
		l.wins[b*l.m+a]++
	default:
		l.ties[a*l.m+b]++
	}
}

// Add records one committed vote. A vote that is not counted
// (rlhf.Record.Counted) is only counted apart: as failed when a side of
// its battle failed (rlhf.Record.Failed), else as uncounted.
func (l *Live) Add(r rlhf.Record) error {
	s := r.Summary()
	if s.Counted() {
		b := FromSummary(&s)
		if err := b.Validate(); err != nil {
			return err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reloaded(&r) {
		return nil
	}
	if l.isLoading() {
		l.pending = append(l.pending, s)
		return nil
	}
	return l.add(&s)
}

// add counts s, whose battle is valid when counted. l.mu must be held.
func (l *Live) add(s *rlhf.Summary) error {
	if s.Failed {
		l.data.failed++
		l.version++
		return nil
	}
	if !s.Counted() {
		l.data.uncounted++
		l.version++ // the board reports them
		return nil
	}
	b := FromSummary(s)
	ordered := l.data.timed == 0 || b.Time.IsZero() || b.Time.UnixNano() >= l.data.lastTime
	if err := l.data.Add(b); err != nil {
		return err
	}
	if m := len(l.data.models.names); m != l.m {
		l.grow(m)
	}
	i := l.data.Len() - 1
	a, c, w := int(l.data.a[i]), int(l.data.b[i]), l.data.w[i]
	l.count(a, c, w)
	if ordered && !l.eloStale {
		l.elo.update(a, c, eloScore[w])
	} else {
		l.eloStale = true
	}
	l.version++
	return nil
}

// grow re-lays the count matrices out for m models.
func (l *Live) grow(m int) {
	wins, ties := make([]int64, m*m), make([]int64, m*m)
	for a := 0; a < l.m; a++ {
		copy(wins[a*m:a*m+l.m], l.wins[a*l.m:(a+1)*l.m])
		copy(ties[a*m:a*m+l.m], l.ties[a*l.m:(a+1)*l.m])
	}
	l.wins, l.ties, l.m = wins, ties, m
	l.elo.grow(m)
}

// Len returns the number of battles held.
func (l *Live) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.data.Len()
}

// Skipped returns the number of records that could not be rated at load.
func (l *Live) Skipped() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.skipped
}

// cached is a fit kept for its options: the leaderboard or the error
// that made it impossible, the votes it covers and when it was made.
type cached struct {
	lb      *Leaderboard
	err     error
	version uint64
	at      time.Time
}

// Leaderboard returns the leaderboard for opt, refitting only when votes
// arrived since the cached one (or, with opt.MaxAge, when the cached one
// is older than that). The result is shared: callers must not modify it.
// A caller waiting for another fit gives up when ctx ends. Votes that
// cannot be fitted (style control on collinear features) give an
// rlhf.EInvalid error with the reason, kept like a leaderboard, so that
// asking again does not fit again.
func (l *Live) Leaderboard(ctx context.Context, opt Options) (*Leaderboard, error) {
	opt.fill()
	if err := l.waitLoaded(ctx); err != nil {
		return nil, err
	}
	key := optionsKey(opt)
	if c, ok := l.fresh(key, opt.MaxAge); ok {
		return c.lb, c.err
	}
	select {
	case l.fits <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.fits }()
	if c, ok := l.fresh(key, opt.MaxAge); ok {
		return c.lb, c.err // fitted while this call waited
	}
	job := l.prepare(opt)
	lb, err := l.fit(ctx, job)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		err = &rlhf.Error{Code: rlhf.EInvalid, Message: "the leaderboard cannot be fitted on these votes: " + err.Error(), Err: err}
	}
	l.mu.Lock()
	if len(l.cache) >= maxCached {
		clear(l.cache)
	}
	l.cache[key] = cached{lb: lb, err: err, version: job.version, at: l.now()}
	l.mu.Unlock()
	return lb, err
}

// fresh returns the fit cached for key if no vote arrived since, or if it
// is younger than maxAge.
func (l *Live) fresh(key string, maxAge time.Duration) (cached, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.cache[key]
	if !ok || c.version != l.version && l.now().Sub(c.at) >= maxAge {
		return cached{}, false
	}
	return c, true
}

// fitJob is what a fit needs, copied under l.mu: a view of the battles
// held when it was made and, for the unfiltered board, the incremental
// counts and Elo.
type fitJob struct {
	opt     Options
	version uint64
	data    Dataset // a snapshot: never changes
	sel     selector
	// wins and ties are the live pair counts when sel keeps everything;
	// nil means count the snapshot.
	wins, ties []int64
	elo        []float64 // the live Elo; nil means run Elo over the snapshot
	keepElo    bool      // store the Elo run over the snapshot as the live one
}

// prepare copies what a fit of opt needs. It takes l.mu for O(models²).
func (l *Live) prepare(opt Options) *fitJob {
	if opt.Workers == 0 {
		opt.Workers = FitWorkers()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	job := &fitJob{opt: opt, version: l.version, data: l.data.snapshot(), sel: opt.Filter.compile(&l.data)}
	if job.sel.all() && opt.Elo == l.eloParams {
		job.wins, job.ties = slices.Clone(l.wins), slices.Clone(l.ties)
		if l.eloStale {
			job.keepElo = true
		} else {
			job.elo = slices.Clone(l.elo.ratings)
		}
	}
	return job
}

// fit computes the leaderboard of job, outside l.mu; l.fits must be held.
func (l *Live) fit(ctx context.Context, job *fitJob) (*Leaderboard, error) {
	progress(job.opt, "fit", 0, 1)
	d, sel, opt := &job.data, &job.sel, job.opt
	eloByID := job.elo
	if eloByID == nil {
		eloByID = d.eloPaced(ctx, sel, opt.Elo)
		if job.keepElo {
			l.mu.Lock()
			if l.version == job.version {
				l.elo.ratings, l.eloStale = slices.Clone(eloByID), false
			}
			l.mu.Unlock()
		}
	}
	var c *Counts
	if job.wins != nil {
		c = d.compact(job.wins, job.ties, int64(d.Len()))
	} else {
		c = d.count(sel)
	}
	boot := bootstrapFunc(RunBootstrap)
	if sel.all() && !opt.Style && len(c.Models) == len(d.models.names) {
		// The unfiltered board: every model is present and compact ids
		// are dataset ids, so the bootstrap can be updated in place.
		snap := battleSnap{a: d.a, b: d.b, w: d.w}
		boot = func(ctx context.Context, n int, pairs []Pair, fit *Fit, bo BootstrapOptions) (*Bootstrap, error) {
			return l.liveBootstrap(ctx, snap, n, pairs, fit, bo)
		}
	}
	lb, err := computeCounts(ctx, c, func() []float64 { return eloByID }, d, sel, opt, boot)
	progress(job.opt, "fit", 1, 1)
	if err != nil {
		return nil, err
	}
	lb.Uncounted = d.uncounted
	return lb, nil
}

// liveBootstrap updates the kept bootstrap when it matches, else runs a
// fresh one and keeps it. l.fits must be held.
func (l *Live) liveBootstrap(ctx context.Context, snap battleSnap, n int, pairs []Pair, fit *Fit, bo BootstrapOptions) (*Bootstrap, error) {
	if l.boot.fits(bo, n, len(snap.a)) {
		work := l.roundWork
		if work == 0 {
			work = liveRoundWork
		}
		bs, err := l.boot.update(ctx, snap, n, pairs, fit, bo, work)
		if err != nil {
			l.boot = nil
		}
		return bs, err
	}
	keep := int64(bo.Rounds)*int64(len(pairCells(pairs))) <= maxLiveCells
	bs, err := runBootstrap(ctx, n, pairs, fit, bo, keep)
	l.boot = nil
	if err == nil && keep {
		l.boot = newLiveBoot(bs, pairs, bo, n, len(snap.a))
	}
	return bs, err
}

// maxCached bounds the cached leaderboards (one per distinct options).
const maxCached = 64

// optionsKey identifies the options that change a leaderboard.
func optionsKey(o Options) string {
	return fmt.Sprintf("%+v|%d|%d|%g|%q|%g|%v|%+v|%g|%v|%q|%+v|%v",
		o.Filter, o.Rounds, o.Seed, o.CI, o.Anchor, o.AnchorRating, o.Style, o.Elo, o.Tol, o.Matrices,
		o.Weighting, o.Reliability, o.Fragility)
}

// snapshot returns a view of d's battles as they are now. Datasets only
// append, and appending never writes an element a shorter view can read,
// so the view stays valid, unchanged, while d grows. The view has no name
// lookups: compile filters against d itself, before taking the view.
func (d *Dataset) snapshot() Dataset {
	s := *d
	n := len(d.a)
	s.a, s.b, s.w = d.a[:n:n], d.b[:n:n], d.w[:n:n]
	if d.t != nil {
		s.t = d.t[:n:n]
	}
	if d.style != nil {
		s.style = d.style[: numStyle*n : numStyle*n]
	}
	s.models = d.models.snapshot()
	for _, c := range []*column{&s.category, &s.language, &s.contributor, &s.source} {
		c.sym = c.sym.snapshot()
		if c.ids != nil {
			c.ids = c.ids[:n:n]
		}
	}
	return s
}

// snapshot returns the names known now, without the lookup map.
func (s symbols) snapshot() symbols {
	return symbols{names: s.names[:len(s.names):len(s.names)]}
}
