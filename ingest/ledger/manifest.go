package ledger

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// A release's manifest is one line per vote it holds, in leaf order:
//
//	<leaf index> <leaf hash, base64>
//
// Each line, newline included, is a record of the release's own Merkle
// tree (RFC 6962 hashing, as the log's), whose root is the release root.

// Manifest returns the manifest of votes.
func Manifest(votes []logVote) []byte {
	var b []byte
	for _, v := range votes {
		b = appendEntry(b, v.leaf, v.hash)
	}
	return b
}

func appendEntry(b []byte, leaf int64, hash Hash) []byte {
	b = strconv.AppendInt(b, leaf, 10)
	b = append(b, ' ')
	b = append(b, hash.String()...)
	return append(b, '\n')
}

// ManifestEntry is one parsed line of a manifest.
type ManifestEntry struct {
	Leaf int64
	Hash Hash
}

// ParseManifest reads a manifest, checking that its leaves rise.
func ParseManifest(m []byte) ([]ManifestEntry, error) {
	var out []ManifestEntry
	for i, ln := range bytes.SplitAfter(m, []byte("\n")) {
		if len(ln) == 0 {
			continue
		}
		idx, hash, ok := strings.Cut(strings.TrimSuffix(string(ln), "\n"), " ")
		n, err := strconv.ParseInt(idx, 10, 64)
		h, herr := tlog.ParseHash(hash)
		if !ok || err != nil || herr != nil || n < 0 || ln[len(ln)-1] != '\n' {
			return nil, fmt.Errorf("manifest line %d: %q is not \"<leaf index> <leaf hash>\"", i+1, ln)
		}
		if len(out) > 0 && n <= out[len(out)-1].Leaf {
			return nil, fmt.Errorf("manifest line %d: leaf %d does not follow leaf %d", i+1, n, out[len(out)-1].Leaf)
		}
		out = append(out, ManifestEntry{Leaf: n, Hash: h})
	}
	return out, nil
}

// manifestTree holds the stored hashes of a manifest's tree, in memory.
type manifestTree struct {
	entries []ManifestEntry
	hashes  []Hash
}

func newManifestTree(entries []ManifestEntry) (*manifestTree, error) {
	t := &manifestTree{entries: entries}
	r := tlog.HashReaderFunc(func(x []int64) ([]Hash, error) {
		out := make([]Hash, len(x))
		for i, j := range x {
			out[i] = t.hashes[j]
		}
		return out, nil
	})
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), appendEntry(nil, e.Leaf, e.Hash), r)
		if err != nil {
			return nil, err
		}
		t.hashes = append(t.hashes, hs...)
	}
	return t, nil
}

func (t *manifestTree) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(x []int64) ([]Hash, error) {
		out := make([]Hash, len(x))
		for i, j := range x {
			if j < 0 || j >= int64(len(t.hashes)) {
				return nil, fmt.Errorf("manifest hash %d is not stored", j)
			}
			out[i] = t.hashes[j]
		}
		return out, nil
	})
}

// ManifestRoot returns the release root of a manifest: the root of the
// tree of its lines. An empty manifest has the empty tree's root.
func ManifestRoot(m []byte) (Hash, error) {
	entries, err := ParseManifest(m)
	if err != nil {
		return Hash{}, err
	}
	t, err := newManifestTree(entries)
	if err != nil {
		return Hash{}, err
	}
	return tlog.TreeHash(int64(len(entries)), t.reader())
}

// ReleaseProof proves that a vote's leaf is in a release: its entry's
// position in the manifest and the audit path to the release root.
type ReleaseProof struct {
	Release  Hash   `json:"release_root"`
	Entries  int64  `json:"entries"`  // the manifest's length: the release tree's size
	Position int64  `json:"position"` // the entry's line, from 0
	Leaf     int64  `json:"leaf_index"`
	LeafHash Hash   `json:"leaf_hash"`
	Proof    []Hash `json:"proof"`
}

// ProveInRelease proves that log leaf is in the release of manifest m.
func ProveInRelease(m []byte, leaf int64) (*ReleaseProof, error) {
	entries, err := ParseManifest(m)
	if err != nil {
		return nil, err
	}
	lo, hi := 0, len(entries)
	for lo < hi { // the first entry at or after leaf
		mid := (lo + hi) / 2
		if entries[mid].Leaf < leaf {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(entries) || entries[lo].Leaf != leaf {
		return nil, fmt.Errorf("leaf %d is not in this release", leaf)
	}
	t, err := newManifestTree(entries)
	if err != nil {
		return nil, err
	}
	n := int64(len(entries))
	root, err := tlog.TreeHash(n, t.reader())
	if err != nil {
		return nil, err
	}
	proof, err := tlog.ProveRecord(n, int64(lo), t.reader())
	if err != nil {
		return nil, fmt.Errorf("prove leaf %d in the release: %w", leaf, err)
	}
	return &ReleaseProof{Release: root, Entries: n, Position: int64(lo), Leaf: leaf, LeafHash: entries[lo].Hash, Proof: proof}, nil
}

// CheckReleaseProof checks p against a release root the checker trusts
// (from the release leaf in the log, say).
func CheckReleaseProof(p *ReleaseProof, root Hash) error {
	if p.Release != root {
		return fmt.Errorf("the proof is for release %s, not %s", p.Release, root)
	}
	rec := appendEntry(nil, p.Leaf, p.LeafHash)
	if err := tlog.CheckRecord(tlog.RecordProof(p.Proof), p.Entries, root, p.Position, tlog.RecordHash(rec)); err != nil {
		return fmt.Errorf("leaf %d is not in release %s: %w", p.Leaf, root, err)
	}
	return nil
}

// ReleaseRoot reads the release root from a release record.
func ReleaseRoot(record []byte) (Hash, error) {
	f := recordFields(record)
	if k, _ := KindOf(record); k != KindRelease {
		return Hash{}, fmt.Errorf("not a release record")
	}
	h, err := tlog.ParseHash(f["root"])
	if err != nil {
		return Hash{}, fmt.Errorf("release record: root %q: %w", f["root"], err)
	}
	return h, nil
}
