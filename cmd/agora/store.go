package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// storeFile is the embedded store's file name inside the data directory.
const storeFile = "agora.db"

// openStore opens (creating if needed) the embedded store in dir.
func openStore(dir string) (*store.Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	s, err := store.Open(filepath.Join(dir, storeFile))
	if err != nil {
		return nil, fmt.Errorf("open the store: %w", err)
	}
	return s, nil
}

// openLiveRecords opens the embedded store in dir for rating its votes.
func openLiveRecords(dir string) (rlhf.SummarySource, io.Closer, error) {
	if _, err := os.Stat(filepath.Join(dir, storeFile)); err != nil {
		return nil, nil, fmt.Errorf("no store in %s (run 'agora serve --data %s' first, or give a FILE of battles): %w", dir, dir, err)
	}
	s, err := openStore(dir)
	if err != nil {
		return nil, nil, err
	}
	return s, s, nil
}
