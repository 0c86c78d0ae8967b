package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

const verifyUsage = `verify (--server URL | --tiles DIR) [--key VKEY] [--trusted FILE] [--receipt FILE | --vote ID] [--all] [--save DIR]
       [--release DIR [--leaf N] [--release-leaf N]]

Checks an Agora server's verifiable log (docs/ledger.md) from its signed
checkpoint and tiles alone, and prints each check. It exits 1 at the first
mismatch, naming the leaf.

  - the checkpoint's signature, by the log's key (--key; else the key the
    server or DIR gives, trusted on first use);
  - with --trusted, that the log extends a checkpoint you already trust:
    nothing it held was changed or removed;
  - with --receipt (the receipt of a voted frame, or the whole frame, as
    JSON), the receipt's signature and that its leaf is in the tree, with
    the record served for it; --vote ID does the same for a vote id (online);
  - with --all, that every leaf's record as the server serves it hashes to
    the tree: no stored vote was changed or lost.

--release DIR checks a release (agora release) offline: its files against
its record, its manifest against its root, and with --leaf N that the log's
leaf N is in it. With --server or --tiles and --release-leaf N (printed by
agora release) it also checks that the release is that leaf of the log.

--save DIR keeps the checkpoint, key and every tile checked, so that a later
run with --tiles DIR works offline.`

type verifyFlags struct {
	server, tiles, key, trusted, receipt, vote, save string
	release                                          string
	leaf, releaseLeaf                                int64
	all                                              bool
}

func runVerify(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("verify", verifyUsage, e)
	var f verifyFlags
	fs.StringVar(&f.server, "server", "", "base URL of the server, http://host:port")
	fs.StringVar(&f.tiles, "tiles", "", "a saved copy of the log (see --save), to verify offline")
	fs.StringVar(&f.key, "key", "", "the log's verifier key, name+hash+base64 (default: the server's, trusted on first use)")
	fs.StringVar(&f.trusted, "trusted", "", "a checkpoint you trust (a file): the log must extend it")
	fs.StringVar(&f.receipt, "receipt", "", "a receipt (JSON file) to check")
	fs.StringVar(&f.vote, "vote", "", "a vote id to check (needs --server)")
	fs.BoolVar(&f.all, "all", false, "check every leaf's record against the tree")
	fs.StringVar(&f.save, "save", "", "save the checkpoint and the tiles checked in this directory")
	fs.StringVar(&f.release, "release", "", "a release directory to check")
	fs.Int64Var(&f.leaf, "leaf", -1, "with --release: the log's leaf (a vote) to prove in the release")
	fs.Int64Var(&f.releaseLeaf, "release-leaf", -1, "with --release and --server or --tiles: the release's leaf in the log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("verify takes no arguments; got %q", fs.Args())}
	case f.release == "" && (f.server == "") == (f.tiles == ""), f.server != "" && f.tiles != "":
		return usageError{"give --server URL or --tiles DIR"}
	case f.release == "" && (f.leaf >= 0 || f.releaseLeaf >= 0):
		return usageError{"--leaf and --release-leaf need --release"}
	case f.vote != "" && f.server == "":
		return usageError{"--vote needs --server"}
	case f.vote != "" && f.receipt != "":
		return usageError{"give --receipt or --vote, not both"}
	}
	err := verify(ctx, f, e.stdout)
	if err != nil {
		fmt.Fprintf(e.stdout, "FAIL %v\n", err)
	}
	return err
}

func verify(ctx context.Context, f verifyFlags, out io.Writer) error {
	var release []byte
	if f.release != "" {
		_, rec, err := checkRelease(f.release, f.leaf, out)
		if err != nil || f.server == "" && f.tiles == "" {
			return err
		}
		release = rec
	}
	var src ledger.Source = ledger.DirSource(f.tiles)
	if f.server != "" {
		src = ledger.HTTPSource{Base: f.server}
	}
	a := &ledger.Auditor{Src: src, Key: f.key, Save: f.save}
	if a.Key == "" {
		key, err := src.Read(ctx, "key")
		if err != nil {
			return fmt.Errorf("read the log's key: %w", err)
		}
		a.Key = strings.TrimSpace(string(key))
		fmt.Fprintf(out, "note the log's key is the one it gives, trusted on first use: %s\n", a.Key)
	}
	c, err := a.Checkpoint(ctx, "checkpoint")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ok   checkpoint of log %s: %d leaves, root %v, signed by its key\n", c.Origin, c.Size, c.Root)
	if f.trusted != "" {
		if err := checkTrusted(ctx, a, c, f.trusted, out); err != nil {
			return err
		}
	}
	switch {
	case f.receipt != "":
		if err := checkReceipt(ctx, a, c, f.receipt, out); err != nil {
			return err
		}
	case f.vote != "":
		if err := checkVote(ctx, a, c, f.server, f.vote, out); err != nil {
			return err
		}
	}
	if release != nil && f.releaseLeaf >= 0 {
		if err := checkReleaseInLog(ctx, a, c, release, f.releaseLeaf, out); err != nil {
			return err
		}
	}
	if f.all {
		if err := a.CheckRecords(ctx, c, 0, c.Size, nil); err != nil {
			return err
		}
		fmt.Fprintf(out, "ok   all %d leaves: each record served hashes to its leaf in the tree\n", c.Size)
	}
	if f.save != "" {
		fmt.Fprintf(out, "ok   saved the checkpoint and the tiles checked in %s (verify offline with --tiles %s)\n", f.save, f.save)
	}
	return nil
}

func checkTrusted(ctx context.Context, a *ledger.Auditor, c *ledger.Checkpoint, file string, out io.Writer) error {
	msg, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read the trusted checkpoint: %w", err)
	}
	old, _, err := ledger.OpenCheckpoint(msg, a.Key)
	if err != nil {
		return fmt.Errorf("trusted checkpoint %s: %w", file, err)
	}
	if err := a.CheckConsistent(ctx, old, c); err != nil {
		return err
	}
	fmt.Fprintf(out, "ok   consistent with the trusted checkpoint of %d leaves: the log only grew\n", old.Size)
	return nil
}

func checkReceipt(ctx context.Context, a *ledger.Auditor, c *ledger.Checkpoint, file string, out io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read the receipt: %w", err)
	}
	var r struct {
		rlhf.Receipt
		Frame *rlhf.Receipt `json:"receipt"` // a whole voted frame
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("receipt %s is not JSON: %w", file, err)
	}
	if r.Frame != nil {
		r.Receipt = *r.Frame
	}
	index, hash, err := ledger.OpenReceipt(&r.Receipt, a.Key)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "ok   receipt signed by the log's key: leaf %d, hash %v\n", index, hash)
	return checkLeaf(ctx, a, c, index, &hash, out)
}

func checkVote(ctx context.Context, a *ledger.Auditor, c *ledger.Checkpoint, server, vote string, out io.Writer) error {
	var p ledger.InclusionProof
	body, err := (ledger.HTTPSource{Base: server}).Get(ctx, "/api/v1/log/proof?vote="+vote)
	if err != nil {
		return fmt.Errorf("find the leaf of vote %s: %w", vote, err)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return fmt.Errorf("find the leaf of vote %s: %w", vote, err)
	}
	if !strings.Contains(p.Record, "\nid "+vote+"\n") {
		return &ledger.LeafError{Index: p.Index, Msg: fmt.Sprintf("the server names this leaf for vote %s, but its record is another's", vote)}
	}
	fmt.Fprintf(out, "ok   vote %s is leaf %d\n", vote, p.Index)
	return checkLeaf(ctx, a, c, p.Index, nil, out)
}

// checkLeaf checks leaf index in c's tree (with hash want, when known) and
// the record served for it.
func checkLeaf(ctx context.Context, a *ledger.Auditor, c *ledger.Checkpoint, index int64, want *ledger.Hash, out io.Writer) error {
	if index >= c.Size {
		return &ledger.LeafError{Index: index, Msg: fmt.Sprintf("not yet in the checkpoint of %d leaves (checkpoints follow within seconds; try again)", c.Size)}
	}
	if want != nil {
		if err := a.CheckInclusion(ctx, c, index, *want); err != nil {
			return err
		}
		fmt.Fprintf(out, "ok   leaf %d is in the tree of %d leaves with that hash (inclusion proof checked)\n", index, c.Size)
	}
	if err := a.CheckRecords(ctx, c, index, index+1, nil); err != nil {
		return err
	}
	fmt.Fprintf(out, "ok   leaf %d's record, as the server serves it now, hashes to the leaf in the tree\n", index)
	return nil
}
