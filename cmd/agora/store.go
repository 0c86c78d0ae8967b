package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/agora-rlhf/agora/ingest/sqlite"
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
