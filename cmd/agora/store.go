package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/sqlite"
	"github.com/agora-rlhf/agora/rlhf"
)

// storeFile is the embedded store's file name inside the data directory.
const storeFile = "agora.db"

// openStore opens (creating if needed) the embedded store in dir.
func openStore(dir string) (*sqlite.Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s, err := sqlite.Open(filepath.Join(dir, storeFile))
	if err != nil {
		return nil, fmt.Errorf("open the store: %w", err)
	}
	return s, nil
}

// liveRecords reads every voted battle of the embedded store, for the
// leaderboard.
type liveRecords struct{ s *sqlite.Store }

func (l liveRecords) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	return l.s.Records(ctx, sqlite.RecordFilter{}, func(_ int64, r *rlhf.Record) error { return fn(r) })
}

// openLiveRecords opens the embedded store in dir for rating its votes.
func openLiveRecords(dir string) (analytics.RecordSource, io.Closer, error) {
	if _, err := os.Stat(filepath.Join(dir, storeFile)); err != nil {
		return nil, nil, fmt.Errorf("no store in %s (run 'agora serve --data %s' first, or give a FILE of battles): %w", dir, dir, err)
	}
	s, err := openStore(dir)
	if err != nil {
		return nil, nil, err
	}
	return liveRecords{s}, s, nil
}
