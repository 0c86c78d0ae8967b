package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// FileStats describes a database file.
type FileStats struct {
	PageSize int   // bytes per page
	Bytes    int64 // size of the file (without its write-ahead log)
}

// Vacuum rewrites the database file at path with pages of pageSize bytes
// (0 keeps the file's page size), leaving out free pages, and returns the
// file's stats before and after. Stores made before new stores had 16 KiB
// pages export at half speed until they are rewritten so.
//
// It needs the file to itself: while another connection has it open (an
// agora serve, an export) it fails and changes nothing. It needs free disk
// space about the size of the file, and takes about as long as reading and
// writing it.
func Vacuum(ctx context.Context, path string, pageSize int) (before, after FileStats, err error) {
	if pageSize != 0 && (pageSize < 512 || pageSize > 65536 || pageSize&(pageSize-1) != 0) {
		return before, after, fmt.Errorf("page size %d: it must be a power of two from 512 to 65536", pageSize)
	}
	if _, err := os.Stat(path); err != nil {
		return before, after, fmt.Errorf("vacuum: %w", err)
	}
	// No busy timeout: a store in use is an error, not a wait.
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?_pragma=busy_timeout(0)")
	if err != nil {
		return before, after, fmt.Errorf("vacuum: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if before, err = fileStats(ctx, db, path); err != nil {
		return before, after, fmt.Errorf("vacuum %s: %w", path, err)
	}
	if pageSize == 0 {
		pageSize = before.PageSize
	}
	// The page size of a file in WAL mode cannot change: leave WAL mode
	// (which needs every other connection gone), vacuum, and go back.
	if err := journalMode(ctx, db, "delete"); err != nil {
		return before, after, fmt.Errorf("vacuum %s: the store is in use (stop agora serve first): %w", path, err)
	}
	_, err = db.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize))
	if err == nil {
		_, err = db.ExecContext(ctx, "VACUUM")
	}
	if werr := journalMode(context.WithoutCancel(ctx), db, "wal"); werr != nil {
		err = errors.Join(err, werr)
	}
	if err != nil {
		return before, after, fmt.Errorf("vacuum %s: %w", path, err)
	}
	if after, err = fileStats(ctx, db, path); err != nil {
		return before, after, fmt.Errorf("vacuum %s: %w", path, err)
	}
	return before, after, nil
}

// journalMode sets the journal mode of db's connection to mode. SQLite
// reports a mode it could not set by answering with the old one.
func journalMode(ctx context.Context, db *sql.DB, mode string) error {
	var got string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = "+mode).Scan(&got); err != nil {
		return err
	}
	if !strings.EqualFold(got, mode) {
		return fmt.Errorf("journal mode is still %s", got)
	}
	return nil
}

func fileStats(ctx context.Context, db *sql.DB, path string) (FileStats, error) {
	var st FileStats
	if err := db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&st.PageSize); err != nil {
		return st, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return st, err
	}
	st.Bytes = fi.Size()
	return st, nil
}
