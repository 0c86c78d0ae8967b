package analytics

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/agora-rlhf/agora/rlhf"
)

// RecordSource is where a live leaderboard loads its votes from at start:
// the store calls fn for every voted record, oldest first.
type RecordSource interface {
	Records(ctx context.Context, fn func(*rlhf.Record) error) error
}

// LoadRecords adds every record of src to d. Records that cannot be rated
// (a model battling itself, an unknown winner) are skipped and counted.
func LoadRecords(ctx context.Context, src RecordSource, d *Dataset) (skipped int, err error) {
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
type Live struct {
	refresh sync.Mutex // serializes refits, so concurrent requests share one

	mu      sync.Mutex // guards the fields below
	data    Dataset
	version uint64 // incremented by every Add
	skipped int
	// Incremental state over dataset model ids, m×m.
	m          int
	wins, ties []int64
	elo        *elo
	eloParams  EloParams
	eloStale   bool // a vote arrived out of time order: Elo needs a full pass
	cache      map[string]*Leaderboard
	cacheVer   map[string]uint64

	boot *liveBoot // guarded by refresh, not mu
}

// NewLive loads every record of src and returns a live leaderboard.
func NewLive(ctx context.Context, src RecordSource) (*Live, error) {
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
	l.cache = map[string]*Leaderboard{}
	l.cacheVer = map[string]uint64{}
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
// (rlhf.Record.Counted) is only counted apart.
func (l *Live) Add(r rlhf.Record) error {
	if !r.Counted() {
		l.mu.Lock()
		l.data.uncounted++
		l.mu.Unlock()
		return nil
	}
	b := FromRecord(&r)
	if err := b.Validate(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
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

// Leaderboard returns the leaderboard for opt, refitting only when votes
// arrived since the cached one. The result is shared: callers must not
// modify it.
func (l *Live) Leaderboard(ctx context.Context, opt Options) (*Leaderboard, error) {
	opt.fill()
	key := optionsKey(opt)
	l.mu.Lock()
	if lb, ok := l.cache[key]; ok && l.cacheVer[key] == l.version {
		l.mu.Unlock()
		return lb, nil
	}
	l.mu.Unlock()

	l.refresh.Lock()
	defer l.refresh.Unlock()
	l.mu.Lock()
	if lb, ok := l.cache[key]; ok && l.cacheVer[key] == l.version {
		l.mu.Unlock()
		return lb, nil
	}
	version, uncounted := l.version, l.data.uncounted
	sel := opt.Filter.compile(&l.data)
	var c *Counts
	var eloByID []float64
	if sel.all() && opt.Elo == l.eloParams {
		c = l.data.compact(slices.Clone(l.wins), slices.Clone(l.ties), int64(l.data.Len()))
		if l.eloStale {
			l.elo.ratings = l.data.elo(&sel, l.eloParams)
			l.eloStale = false
		}
		eloByID = slices.Clone(l.elo.ratings)
	} else {
		c = l.data.count(&sel)
		eloByID = l.data.elo(&sel, opt.Elo)
	}
	if sel.all() && !opt.Style && len(c.Models) == len(l.data.models.names) {
		// The unfiltered board: every model is present and compact ids
		// are dataset ids, so the bootstrap can be updated in place.
		t := l.data.Len()
		snap := battleSnap{a: l.data.a[:t:t], b: l.data.b[:t:t], w: l.data.w[:t:t]}
		opt.bootstrap = func(ctx context.Context, n int, pairs []Pair, fit *Fit, bo BootstrapOptions) (*Bootstrap, error) {
			return l.liveBootstrap(ctx, snap, n, pairs, fit, bo)
		}
	}
	var lb *Leaderboard
	var err error
	if opt.Style || opt.Weighting == WeightingReliability || opt.Fragility {
		// Style control, reliability weighting and the fragility audit
		// read every battle: fit under the lock.
		lb, err = computeCounts(ctx, c, func() []float64 { return eloByID }, &l.data, &sel, opt)
		l.mu.Unlock()
	} else {
		l.mu.Unlock()
		lb, err = computeCounts(ctx, c, func() []float64 { return eloByID }, nil, nil, opt)
	}
	if err != nil {
		return nil, err
	}
	lb.Uncounted = uncounted
	l.mu.Lock()
	if len(l.cache) >= maxCached {
		clear(l.cache)
		clear(l.cacheVer)
	}
	l.cache[key], l.cacheVer[key] = lb, version
	l.mu.Unlock()
	return lb, nil
}

// liveBootstrap updates the kept bootstrap when it matches, else runs a
// fresh one and keeps it. l.refresh must be held.
func (l *Live) liveBootstrap(ctx context.Context, snap battleSnap, n int, pairs []Pair, fit *Fit, bo BootstrapOptions) (*Bootstrap, error) {
	if l.boot.fits(bo, n, len(snap.a)) {
		bs, err := l.boot.update(ctx, snap, n, pairs, fit, bo)
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
	return fmt.Sprintf("%+v|%d|%d|%g|%q|%g|%v|%+v|%g|%v",
		o.Filter, o.Rounds, o.Seed, o.CI, o.Anchor, o.AnchorRating, o.Style, o.Elo, o.Tol, o.Matrices)
}
