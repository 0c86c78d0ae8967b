package ledger

import (
	"bytes"
	"context"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/agora-rlhf/agora/rlhf"
)

// Tile returns the tile at path ("8/0/x001/234", "8/data/000.p/7": a tile
// path without its "tile/" prefix) as the Go checksum database serves it:
// hash tiles hold W hashes of 32 bytes; data tiles hold W records, each
// followed by a blank line. Only tiles of the latest checkpoint's tree are
// served.
func (l *Log) Tile(ctx context.Context, path string) ([]byte, error) {
	t, err := tlog.ParseTilePath("tile/" + path)
	if err != nil || t.H != TileHeight {
		return nil, rlhf.Errorf(rlhf.EInvalid, "%q is not a tile path of height %d", path, TileHeight)
	}
	size := int64(0)
	if c := l.Latest(); c != nil {
		size = c.Size
	}
	level := max(t.L, 0)
	if need := (t.N<<uint(t.H) + int64(t.W)) << uint(level*t.H); need > size {
		return nil, rlhf.Errorf(rlhf.ENotFound, "tile %s is beyond the published tree of %d leaves", path, size)
	}
	if t.L >= 0 {
		return tlog.ReadTileData(t, l.hashReader(ctx))
	}
	records, err := l.cfg.Store.LeafRecords(ctx, t.N<<uint(t.H), int64(t.W))
	if err != nil {
		return nil, err
	}
	var data []byte
	for i, rec := range records {
		msg, err := tlog.FormatRecord(t.N<<uint(t.H)+int64(i), rec)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", t.N<<uint(t.H)+int64(i), err)
		}
		_, msg, _ = bytes.Cut(msg, []byte{'\n'}) // data tiles leave out the record id line
		data = append(data, msg...)
	}
	return data, nil
}

// InclusionProof is the proof that a leaf is in the tree of a checkpoint.
type InclusionProof struct {
	Index    int64  `json:"leaf_index"`
	LeafHash Hash   `json:"leaf_hash"`
	Record   string `json:"record"` // the leaf's record as the store rebuilds it now
	TreeSize int64  `json:"tree_size"`
	Root     Hash   `json:"root_hash"`
	Proof    []Hash `json:"proof"`
}

// ConsistencyProof is the proof that a tree is a prefix of a larger one.
type ConsistencyProof struct {
	From     int64  `json:"from_size"`
	To       int64  `json:"to_size"`
	FromRoot Hash   `json:"from_root_hash"`
	ToRoot   Hash   `json:"to_root_hash"`
	Proof    []Hash `json:"proof"`
}

// treeSize checks size against the latest checkpoint; 0 means its size.
func (l *Log) treeSize(size int64) (int64, error) {
	c := l.Latest()
	if c == nil {
		return 0, rlhf.Errorf(rlhf.ENotFound, "the log has no checkpoint yet")
	}
	if size == 0 {
		return c.Size, nil
	}
	if size < 0 || size > c.Size {
		return 0, rlhf.Errorf(rlhf.EInvalid, "tree size %d: the latest checkpoint has %d leaves", size, c.Size)
	}
	return size, nil
}

// ProveInclusion proves leaf index in the tree of size leaves (0: the
// latest checkpoint's).
func (l *Log) ProveInclusion(ctx context.Context, index, size int64) (*InclusionProof, error) {
	size, err := l.treeSize(size)
	if err != nil {
		return nil, err
	}
	if index < 0 || index >= size {
		return nil, rlhf.Errorf(rlhf.EInvalid, "leaf %d is not in the tree of %d leaves", index, size)
	}
	// The leaf's own hash is read with the proof's, in one query.
	var leaf Hash
	r := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		hs, err := l.cfg.Store.ReadHashes(ctx, append(indexes, tlog.StoredHashIndex(0, index)))
		if err != nil {
			return nil, err
		}
		leaf = hs[len(hs)-1]
		return hs[:len(hs)-1], nil
	})
	proof, err := tlog.ProveRecord(size, index, r)
	if err != nil {
		return nil, fmt.Errorf("prove leaf %d in %d: %w", index, size, err)
	}
	root, err := l.root(ctx, size)
	if err != nil {
		return nil, err
	}
	records, err := l.cfg.Store.LeafRecords(ctx, index, 1)
	if err != nil {
		return nil, err
	}
	return &InclusionProof{Index: index, LeafHash: leaf, Record: string(records[0]), TreeSize: size, Root: root, Proof: proof}, nil
}

// root returns the root hash of the tree of size leaves: the latest
// checkpoint's when it has that size.
func (l *Log) root(ctx context.Context, size int64) (Hash, error) {
	if c := l.Latest(); c != nil && c.Size == size {
		return c.Root, nil
	}
	return tlog.TreeHash(size, l.hashReader(ctx))
}

// ProveVote is ProveInclusion for the leaf of vote id.
func (l *Log) ProveVote(ctx context.Context, voteID string, size int64) (*InclusionProof, error) {
	index, err := l.cfg.Store.LeafIndex(ctx, voteID)
	if err != nil {
		return nil, err
	}
	return l.ProveInclusion(ctx, index, size)
}

// ProveConsistency proves that the tree of from leaves is a prefix of the
// tree of to leaves (0: the latest checkpoint's).
func (l *Log) ProveConsistency(ctx context.Context, from, to int64) (*ConsistencyProof, error) {
	to, err := l.treeSize(to)
	if err != nil {
		return nil, err
	}
	if from < 1 || from > to {
		return nil, rlhf.Errorf(rlhf.EInvalid, "consistency from %d leaves to %d: want 1 ≤ from ≤ to", from, to)
	}
	r := l.hashReader(ctx)
	proof, err := tlog.ProveTree(to, from, r)
	if err != nil {
		return nil, fmt.Errorf("prove %d consistent with %d: %w", from, to, err)
	}
	p := &ConsistencyProof{From: from, To: to, Proof: proof}
	if p.FromRoot, err = tlog.TreeHash(from, r); err != nil {
		return nil, err
	}
	if p.ToRoot, err = l.root(ctx, to); err != nil {
		return nil, err
	}
	return p, nil
}
