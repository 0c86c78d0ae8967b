package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/agora-rlhf/agora/ingest/store"
)

const backupUsage = `backup [--data DIR] OUT

Writes a consistent copy of the store to OUT while agora serve keeps
serving (SQLite's VACUUM INTO in one read transaction; votes go on being
committed meanwhile). When OUT is a directory, the copy is named
agora-YYYYMMDDTHHMMSSZ.db inside it. The copy is synced to disk and
checked before it takes its name, so a file named OUT is a whole store.

The copy holds battles, votes, accounts, registered models (their API keys
sealed with AGORA_SECRETS_KEY) and campaigns. It does not hold DATA/secret.key,
which signs contributor tokens and keys export pseudonyms, nor DATA/log.key,
which signs the vote log (a restored store starts only with the key that
signed its checkpoints): keep a copy of both once (they do not change), or
set AGORA_SECRET for the first. Restore with 'agora restore'.`

func runBackup(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("backup", backupUsage, e)
	data := fs.String("data", e.getenv("AGORA_DATA"), "data directory of the store (default from the configuration: ./agora-data)")
	config := fs.String("config", e.getenv("AGORA_CONFIG"), "configuration file (default: the embedded configs/agora.yaml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"backup takes one argument, the file or directory to write"}
	}
	dir, err := dataDir(*data, *config)
	if err != nil {
		return err
	}
	out := fs.Arg(0)
	if fi, err := os.Stat(out); err == nil && fi.IsDir() {
		out = filepath.Join(out, "agora-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	}
	st, err := store.Backup(ctx, filepath.Join(dir, storeFile), out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d battles, %d votes, %s (schema %d)\n", out, st.Battles, st.Votes, mib(st.Bytes), st.Schema)
	return nil
}

const restoreUsage = `restore [--data DIR] BACKUP

Checks that BACKUP (a file 'agora backup' wrote) is an intact store and
copies it into DIR, which must not hold a store yet: restore into a fresh
data directory, then start agora serve on it (or, with the server stopped,
move it into place). Put the secret.key and log.key you kept beside it (or
set AGORA_SECRET for the first), so that contributors' tokens, export
pseudonyms and the vote log's signatures stay the same.`

func runRestore(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("restore", restoreUsage, e)
	data := fs.String("data", e.getenv("AGORA_DATA"), "data directory to restore into (default from the configuration: ./agora-data)")
	config := fs.String("config", e.getenv("AGORA_CONFIG"), "configuration file (default: the embedded configs/agora.yaml)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"restore takes one argument, the backup file"}
	}
	dir, err := dataDir(*data, *config)
	if err != nil {
		return err
	}
	st, err := store.Restore(ctx, fs.Arg(0), dir, storeFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: restored %d battles, %d votes (schema %d)\n", filepath.Join(dir, storeFile), st.Battles, st.Votes, st.Schema)
	return nil
}

// dataDir is the data directory named by the flag, else by the
// configuration, else the default.
func dataDir(flagValue, config string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	cfg, err := loadConfig(config)
	if err != nil {
		return "", err
	}
	return or(cfg.Server.Data, "./agora-data"), nil
}
