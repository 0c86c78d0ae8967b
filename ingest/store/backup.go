package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
)

// BackupStats describes a backup or a restored store.
type BackupStats struct {
	Bytes   int64 // size of the file
	Schema  int   // its schema version
	Battles int64
	Votes   int64
}

// Backup writes a consistent copy of the store at path to out, while the
// store may be in use: VACUUM INTO reads the store in one read transaction
// (in WAL mode writers go on meanwhile) and writes a compact copy, which
// is then synced to disk, checked and renamed into place. out must not
// exist. The copy is a complete store: restore it with Restore, or copy it
// into an empty data directory as agora.db.
func Backup(ctx context.Context, path, out string) (BackupStats, error) {
	if _, err := os.Stat(path); err != nil {
		return BackupStats{}, fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(out); err == nil {
		return BackupStats{}, fmt.Errorf("backup: %s already exists", out)
	}
	tmp := out + ".partial"
	os.Remove(tmp) // a partial file of an earlier attempt
	db, err := sql.Open("sqlite", dsn(path, "_pragma=busy_timeout(10000)"))
	if err != nil {
		return BackupStats{}, fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		os.Remove(tmp)
		return BackupStats{}, fmt.Errorf("backup %s: %w", path, err)
	}
	st, err := publish(ctx, tmp, out)
	if err != nil {
		return BackupStats{}, fmt.Errorf("backup %s: %w", path, err)
	}
	return st, nil
}

// Restore copies the backup file into dir as the store file name, after
// checking that it is an intact Agora store. It refuses a directory that
// already holds a store: restore into a fresh data directory (and move it
// into place with the server stopped).
func Restore(ctx context.Context, backup, dir, name string) (BackupStats, error) {
	dst := filepath.Join(dir, name)
	if _, err := os.Stat(dst); err == nil {
		return BackupStats{}, fmt.Errorf("restore: %s already holds a store; restore into an empty data directory", dir)
	}
	if _, err := check(ctx, backup); err != nil {
		return BackupStats{}, fmt.Errorf("restore %s: %w", backup, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return BackupStats{}, fmt.Errorf("restore: %w", err)
	}
	tmp := dst + ".partial"
	if err := copyFile(backup, tmp); err != nil {
		os.Remove(tmp)
		return BackupStats{}, fmt.Errorf("restore: %w", err)
	}
	st, err := publish(ctx, tmp, dst)
	if err != nil {
		return BackupStats{}, fmt.Errorf("restore %s: %w", backup, err)
	}
	return st, nil
}

// publish syncs tmp, checks it, and renames it to dst (syncing the
// directory, so that the name survives a crash too).
func publish(ctx context.Context, tmp, dst string) (BackupStats, error) {
	fail := func(err error) (BackupStats, error) {
		os.Remove(tmp)
		return BackupStats{}, err
	}
	if err := syncFile(tmp); err != nil {
		return fail(err)
	}
	st, err := check(ctx, tmp)
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fail(err)
	}
	if err := syncFile(filepath.Dir(dst)); err != nil {
		return BackupStats{}, err
	}
	return st, nil
}

// check opens the file read-only and reports whether it is an intact
// Agora store: SQLite's quick check passes and the schema is one this
// version knows.
func check(ctx context.Context, path string) (BackupStats, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return BackupStats{}, err
	}
	db, err := sql.Open("sqlite", dsn(path, "mode=ro&_pragma=query_only(ON)"))
	if err != nil {
		return BackupStats{}, err
	}
	defer db.Close()
	st := BackupStats{Bytes: fi.Size()}
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&result); err != nil {
		return st, fmt.Errorf("not a readable SQLite database: %w", err)
	}
	if result != "ok" {
		return st, fmt.Errorf("damaged: %s", result)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&st.Schema); err != nil {
		return st, err
	}
	if st.Schema < 1 || st.Schema > SchemaVersion {
		return st, fmt.Errorf("schema version %d is not an Agora store this version reads (1 to %d)", st.Schema, SchemaVersion)
	}
	err = db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM battles), (SELECT count(*) FROM votes)").Scan(&st.Battles, &st.Votes)
	if err != nil {
		return st, fmt.Errorf("not an Agora store: %w", err)
	}
	return st, nil
}

// dsn is the driver's name for the file at path with query parameters.
func dsn(path, query string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + query
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	return errors.Join(err, out.Close())
}
