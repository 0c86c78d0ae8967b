package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

const witnessUsage = `witness --log URL [--log-key VKEY] [--data DIR] [--name NAME] [--interval 1s] [--once] [--audit-all] [--print-key]

Follows another Agora server's verifiable log (docs/ledger.md). Each new
checkpoint is checked against the last one this witness cosigned (a
consistency proof read from the tiles), every new leaf's record is checked
against the tree, and then the checkpoint is cosigned with this witness's
own key and handed back to the server (POST /log/cosignature). A log that
shrank, or shows two roots for one size, or whose records no longer match
its tree, is refused: the witness says which leaf and exits with status 1.

The witness's key and state are kept in DIR (default ./agora-witness); its
verifier key, which the server lists in log.witnesses, is printed at start
(--print-key prints it and exits). The log's key is --log-key, or the one the
server gives on first contact, kept in the state after.`

func runWitness(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("witness", witnessUsage, e)
	logURL := fs.String("log", "", "base URL of the server whose log to follow, http://host:port")
	logKey := fs.String("log-key", "", "the log's verifier key (default: the server's, trusted on first use)")
	dir := fs.String("data", "./agora-witness", "directory of the witness's key and state")
	name := fs.String("name", "", "the witness's key name, when the key is made (default agora-… random)")
	interval := fs.Duration("interval", time.Second, "time between two looks at the log")
	once := fs.Bool("once", false, "check and cosign the latest checkpoint once, then exit")
	printKey := fs.Bool("print-key", false, "print the witness's verifier key and exit")
	auditAll := fs.Bool("audit-all", false, "check every leaf's record again at the first step, not only new leaves")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("witness takes no arguments; got %q", fs.Args())}
	}
	key, err := ledger.LoadKey(filepath.Join(*dir, "witness.key"), *name)
	if err != nil {
		return err
	}
	if *printKey {
		fmt.Fprintln(e.stdout, key.VerifierKey())
		return nil
	}
	if *logURL == "" {
		return usageError{"give --log URL"}
	}
	src := ledger.HTTPSource{Base: *logURL}
	if *logKey == "" {
		if *logKey, err = witnessLogKey(ctx, src, *dir); err != nil {
			return err
		}
	}
	w := &ledger.Witness{Key: key, Log: src, LogKey: *logKey, Dir: *dir, ReAudit: *auditAll,
		Report: func(c *ledger.Checkpoint, audited int64) {
			fmt.Fprintf(e.stdout, "cosigned %s at %d leaves, root %v (every record checked)\n", c.Origin, c.Size, c.Root)
		}}
	fmt.Fprintf(e.stdout, "agora: witness %s following %s (log key %s)\n", key.VerifierKey(), *logURL, *logKey)
	if *once {
		return w.Step(ctx)
	}
	err = w.Run(ctx, *interval, func(err error) { fmt.Fprintf(e.stderr, "agora: witness: %v\n", err) })
	var r *ledger.Refusal
	if errors.As(err, &r) {
		fmt.Fprintf(e.stdout, "REFUSED %v\n", r.Err)
	}
	return err
}

// witnessLogKey returns the log key kept in dir from the first contact, or
// the key the server gives now (then kept).
func witnessLogKey(ctx context.Context, src ledger.HTTPSource, dir string) (string, error) {
	file := filepath.Join(dir, "log-key")
	if data, err := os.ReadFile(file); err == nil {
		return strings.TrimSpace(string(data)), nil
	}
	data, err := src.Read(ctx, "key")
	if err != nil {
		return "", fmt.Errorf("read the log's key: %w", err)
	}
	key := strings.TrimSpace(string(data))
	if err := os.WriteFile(file, []byte(key+"\n"), 0o644); err != nil {
		return "", err
	}
	return key, nil
}
