package analytics

import (
	"context"

	"github.com/agora-rlhf/agora/rlhf"
)

// reloadState collects the votes Add takes while Reload reads the store,
// so that none is lost or counted twice when the new dataset replaces the
// old one. It is guarded by Live.mu.
type reloadState struct {
	added []rlhf.Record   // votes added since the reload began
	ids   map[string]bool // their vote ids
	seen  map[string]bool // those of them the reload's read saw
}

// recentVotes are the ids of the last votes a reload read from the store.
// Votes reach Add through a queue (Feed) after they are committed, so the
// reload may have read a vote that Add has yet to take: Add skips those.
// Only a queue's worth of votes can be in that state; after that many
// Adds the set is dropped.
type recentVotes struct {
	ids  map[string]bool
	left int // Adds until the set is dropped
}

// ReloadWindow is how many of the last votes read by Reload are remembered
// so that Add does not count them twice: more than a Feed holds.
const ReloadWindow = 2 * DefaultFeedSize

// Reload replaces the leaderboard's votes by those src holds now, so that
// votes deleted from the store (a contributor's erasure) leave it. src must
// yield votes in commit order (the store does). No vote is lost or counted
// twice: votes added while it reads are kept once, and votes it read that
// are still on their way to Add (at most ReloadWindow) are not added again.
func (l *Live) Reload(ctx context.Context, src rlhf.RecordSource) error {
	if err := l.waitLoaded(ctx); err != nil { // a reload replaces what Load loads
		return err
	}
	select {
	case l.fits <- struct{}{}: // no fit runs, so the bootstrap can be reset
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.fits }()
	rs := &reloadState{ids: map[string]bool{}, seen: map[string]bool{}}
	l.mu.Lock()
	l.reload = rs
	l.mu.Unlock()
	var d Dataset
	var skipped, n int
	last := make([]string, ReloadWindow) // a ring of the last ids read
	err := src.Records(ctx, func(r *rlhf.Record) error {
		last[n%ReloadWindow] = r.Vote.ID
		n++
		l.mu.Lock()
		if rs.ids[r.Vote.ID] {
			rs.seen[r.Vote.ID] = true
		}
		l.mu.Unlock()
		if err := d.AddRecord(r); err != nil {
			skipped++
		}
		return nil
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reload = nil
	if err != nil {
		return err
	}
	for i := range rs.added {
		if r := &rs.added[i]; !rs.seen[r.Vote.ID] {
			if err := d.AddRecord(r); err != nil {
				skipped++
			}
		}
	}
	recent := &recentVotes{ids: make(map[string]bool, min(n, ReloadWindow)), left: ReloadWindow}
	for _, id := range last[:min(n, ReloadWindow)] {
		if !rs.ids[id] { // added during the read: taken care of above
			recent.ids[id] = true
		}
	}
	l.data, l.skipped, l.boot, l.recent = d, skipped, nil, recent
	l.rebuild()
	l.version++
	return nil
}

// reloaded keeps r for a reload in progress, and reports whether a reload
// already counted it. l.mu must be held.
func (l *Live) reloaded(r *rlhf.Record) bool {
	if l.reload != nil {
		l.reload.added = append(l.reload.added, *r)
		l.reload.ids[r.Vote.ID] = true
	}
	if rv := l.recent; rv != nil {
		if rv.left--; rv.left <= 0 {
			l.recent = nil
		}
		if rv.ids[r.Vote.ID] {
			delete(rv.ids, r.Vote.ID)
			return true
		}
	}
	return false
}
