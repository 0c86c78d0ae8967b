package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/agora-rlhf/agora/ingest/store"
)

const vacuumUsage = `vacuum [--data DIR] [--page-size BYTES]

Rewrite the embedded store: free pages are left out, and the pages take the
size given (16 KiB, what new stores get). Stores made before Agora gave new
stores 16 KiB pages have 4 KiB ones, and export at half the speed until they
are rewritten. Stop agora serve first: a store in use is refused and left
as it was. It needs free disk space about the size of the store.`

func runVacuum(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("vacuum", vacuumUsage, e)
	data := fs.String("data", e.getenv("AGORA_DATA"), "data directory of the store (default from the configuration: ./agora-data)")
	config := fs.String("config", e.getenv("AGORA_CONFIG"), "configuration file (default: the embedded configs/agora.yaml)")
	pageSize := fs.Int("page-size", 16384, "page size in bytes, a power of two from 512 to 65536; 0 keeps the store's")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Sprintf("vacuum takes no arguments; got %q", fs.Args())}
	}
	cfg, err := loadConfig(*config)
	if err != nil {
		return err
	}
	path := filepath.Join(or(*data, or(cfg.Server.Data, "./agora-data")), storeFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no store to vacuum: %w", err)
	}
	fmt.Fprintf(e.stderr, "agora: vacuuming %s (this rewrites the whole file)\n", path)
	before, after, err := store.Vacuum(ctx, path, *pageSize)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d-byte pages, %s → %d-byte pages, %s\n", path,
		before.PageSize, mib(before.Bytes), after.PageSize, mib(after.Bytes))
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
