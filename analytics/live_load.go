package analytics

import (
	"context"
	"fmt"

	"github.com/agora-rlhf/agora/rlhf"
)

// LoadSummaries adds the votes of src with seq in (0, upTo] (every one
// when upTo < 0) to d, as AddRecord would add their records, and passes
// each summary to observe, if set, first. Summaries that cannot be rated
// (a model battling itself, an unknown winner) are skipped and counted.
func LoadSummaries(ctx context.Context, src rlhf.SummarySource, upTo int64, d *Dataset, observe func(*rlhf.Summary)) (skipped int, err error) {
	err = src.Summaries(ctx, 0, upTo, func(s *rlhf.Summary) error {
		if observe != nil {
			observe(s)
		}
		if d.AddSummary(s) != nil {
			skipped++
		}
		return nil
	})
	if err != nil {
		return skipped, fmt.Errorf("loading vote summaries: %w", err)
	}
	return skipped, nil
}

// AddSummary appends the battle of a vote's summary, unless the vote is
// not counted (rlhf.Summary.Counted): a battle where a side failed is
// counted in Failed, any other uncounted vote in Uncounted.
func (d *Dataset) AddSummary(s *rlhf.Summary) error {
	switch {
	case s.Failed:
		d.failed++
		return nil
	case !s.Counted():
		d.uncounted++
		return nil
	}
	return d.Add(FromSummary(s))
}

// NewLiveLoading returns a live leaderboard that is empty until Load has
// loaded it: the server can take votes at once, whatever the size of its
// store. Votes added meanwhile are kept and counted after the loaded ones;
// leaderboards wait for the load (or their context).
func NewLiveLoading() *Live {
	l := &Live{loaded: make(chan struct{})}
	l.rebuild()
	return l
}

// Load loads the votes of src up to seq upTo into a live leaderboard made
// by NewLiveLoading, passing each summary to observe (matchmaking learns
// from them) if set; votes with larger seqs must come through Add. Load
// must be called once. It builds the board outside l's lock, then takes
// the lock to swap it in and count the votes added while it loaded. A
// failed load is the error of every leaderboard after.
func (l *Live) Load(ctx context.Context, src rlhf.SummarySource, upTo int64, observe func(*rlhf.Summary)) error {
	var d Dataset
	skipped, err := LoadSummaries(ctx, src, upTo, &d, observe)
	var loaded *Live
	if err == nil {
		loaded = newLiveDataset(&d)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	defer close(l.loaded)
	if err != nil {
		l.loadErr = err
		return err
	}
	l.data, l.skipped = loaded.data, skipped
	l.m, l.wins, l.ties, l.elo, l.eloStale = loaded.m, loaded.wins, loaded.ties, loaded.elo, loaded.eloStale
	l.cache = map[string]cached{}
	for i := range l.pending {
		if err := l.add(&l.pending[i]); err != nil {
			l.skipped++
		}
	}
	l.pending = nil
	return nil
}

// waitLoaded waits for Load, if l was made by NewLiveLoading, and returns
// its error.
func (l *Live) waitLoaded(ctx context.Context) error {
	if l.loaded == nil {
		return nil
	}
	select {
	case <-l.loaded:
	case <-ctx.Done():
		return ctx.Err()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loadErr != nil {
		return fmt.Errorf("the leaderboard did not load: %w", l.loadErr)
	}
	return nil
}

// isLoading reports whether Load has yet to swap the loaded votes in.
// l.mu must be held.
func (l *Live) isLoading() bool {
	if l.loaded == nil {
		return false
	}
	select {
	case <-l.loaded:
		return false
	default:
		return true
	}
}
