package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

// checkRelease checks a release directory offline: every file against the
// SHA-256 its release record gives, the manifest against the release root,
// and with leaf >= 0 that the log's leaf is in the release (an inclusion
// proof against the root).
func checkRelease(dir string, leaf int64, out io.Writer) (*ledger.Hash, []byte, error) {
	record, err := os.ReadFile(filepath.Join(dir, ledger.ReleaseFile))
	if err != nil {
		return nil, nil, fmt.Errorf("read the release: %w", err)
	}
	root, err := ledger.ReleaseRoot(record)
	if err != nil {
		return nil, nil, err
	}
	var manifest []byte
	for _, f := range ledger.Fields(record) {
		if len(f) != 3 || f[0] != "file" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.Base(f[1])))
		if err != nil {
			return nil, nil, fmt.Errorf("release file: %w", err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != f[2] {
			return nil, nil, fmt.Errorf("release file %s: its SHA-256 is %x, the release record says %s: it was changed", f[1], sum, f[2])
		}
		if f[1] == ledger.ManifestFile {
			manifest = data
		}
	}
	fmt.Fprintf(out, "ok   release %s: every file has the SHA-256 its record gives\n", root)
	got, err := ledger.ManifestRoot(manifest)
	if err != nil {
		return nil, nil, err
	}
	if got != root {
		return nil, nil, fmt.Errorf("the manifest's root is %s, not the release root %s", got, root)
	}
	fmt.Fprintf(out, "ok   the manifest's Merkle root is the release root\n")
	if leaf >= 0 {
		p, err := ledger.ProveInRelease(manifest, leaf)
		if err != nil {
			return nil, nil, &ledger.LeafError{Index: leaf, Msg: err.Error()}
		}
		if err := ledger.CheckReleaseProof(p, root); err != nil {
			return nil, nil, &ledger.LeafError{Index: leaf, Msg: err.Error()}
		}
		fmt.Fprintf(out, "ok   leaf %d (hash %s) is in the release: entry %d of %d, inclusion proof checked\n", leaf, p.LeafHash, p.Position, p.Entries)
	}
	return &root, record, nil
}

// checkReleaseInLog checks that the release record is leaf index of the
// log in checkpoint c.
func checkReleaseInLog(ctx context.Context, a *ledger.Auditor, c *ledger.Checkpoint, record []byte, index int64, out io.Writer) error {
	if index >= c.Size {
		return &ledger.LeafError{Index: index, Msg: fmt.Sprintf("not in the checkpoint of %d leaves", c.Size)}
	}
	if err := a.CheckInclusion(ctx, c, index, ledger.RecordHash(record)); err != nil {
		return err
	}
	fmt.Fprintf(out, "ok   the release record is leaf %d of the log (inclusion proof checked)\n", index)
	return nil
}
