package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/agora-rlhf/agora/ingest/ledger"
)

// LeafHashesMigration keeps the tree hashes that appending a leaf stores
// (the leaf's own hash, then one per subtree it completes: two on average)
// in the leaf's row, instead of a row of hash runs per commit: a commit's
// log is then its leaves' rows alone, one page and one statement fewer per
// commit. Hashes written before stay in log_hash_runs and log_hashes, read
// where a leaf's row has none (NULL).
const LeafHashesMigration = `ALTER TABLE log_leaves ADD COLUMN hashes BLOB;`

// readLeafHashesSQL reads the hashes kept in leaf ?'s row.
const readLeafHashesSQL = `SELECT hashes FROM log_leaves WHERE idx = ? AND hashes IS NOT NULL`

// leafHash returns the hash at stored index x from hashes, the hashes of
// the row of the leaf whose append stored it (ledger.HashLeaf), at x's
// level, and whether the row holds it.
func leafHash(hashes []byte, level int) (ledger.Hash, bool) {
	var h ledger.Hash
	off := level * len(h)
	if off+len(h) > len(hashes) {
		return h, false
	}
	copy(h[:], hashes[off:])
	return h, true
}

// readLeafTreeHash reads the tree hash at stored index x in tx from its
// leaf's row; ok is false when the row keeps no hashes (written before
// LeafHashesMigration).
func (s *Store) readLeafTreeHash(ctx context.Context, tx *sql.Tx, x int64) (h ledger.Hash, ok bool, err error) {
	leaf, level := ledger.HashLeaf(x)
	var hashes []byte
	err = s.queryRow(ctx, tx, readLeafHashesSQL, leaf).Scan(&hashes)
	if errors.Is(err, sql.ErrNoRows) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("read tree hash %d: %w", x, err)
	}
	h, ok = leafHash(hashes, level)
	return h, ok, nil
}

// leafGap is the most leaves between two whose rows readLeafHashes reads
// with one range: a tile's leaves are consecutive; the lower levels of a
// proof are a few leaves among a few hundred, which are read by index
// rather than every row between.
const leafGap = 8

// readLeafHashes reads the hashes at the indexes of pos from their
// leaves' rows, as ReadHashes wants them (see readRuns): leaves close
// together (a tile's) with one range, the others by index.
func (s *Store) readLeafHashes(ctx context.Context, pos map[int64][]int, out []ledger.Hash) error {
	byLeaf := make(map[int64][]int64, len(pos)) // leaf → the stored indexes its row holds
	for x := range pos {
		leaf, _ := ledger.HashLeaf(x)
		byLeaf[leaf] = append(byLeaf[leaf], x)
	}
	found := func(leaf int64, hashes []byte) {
		for _, x := range byLeaf[leaf] {
			if h, ok := leafHash(hashes, ledger.HashLevel(x)); ok {
				for _, i := range pos[x] {
					out[i] = h
				}
				delete(pos, x)
			}
		}
	}
	var lone []int64
	for _, c := range clusters(slices.Sorted(maps.Keys(byLeaf)), leafGap) {
		if len(c) == 1 {
			lone = append(lone, c[0])
			continue
		}
		err := s.scanHashRows(ctx, found, `SELECT idx, hashes FROM log_leaves
			WHERE idx >= ? AND idx <= ? AND hashes IS NOT NULL`, c[0], c[len(c)-1])
		if err != nil {
			return err
		}
	}
	return chunked(lone, func(part []int64) error {
		return s.scanHashRows(ctx, found, `SELECT idx, hashes FROM log_leaves
			WHERE idx IN `+placeholders(len(part))+` AND hashes IS NOT NULL`, int64Args(part)...)
	})
}

// scanHashRows runs query, whose rows are an index and a blob of hashes
// (a leaf's, or a run's), on the read pool and hands each row to found;
// the blob is valid only during the call.
func (s *Store) scanHashRows(ctx context.Context, found func(at int64, hashes []byte), query string, args ...any) error {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read tree hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var at int64
		var hashes sql.RawBytes
		if err := rows.Scan(&at, &hashes); err != nil {
			return fmt.Errorf("read tree hashes: %w", err)
		}
		found(at, hashes)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read tree hashes: %w", err)
	}
	return nil
}

// readChunk is the most indexes one query reads by value.
const readChunk = 500

// chunked calls read with xs, readChunk at a time.
func chunked(xs []int64, read func([]int64) error) error {
	for lo := 0; lo < len(xs); lo += readChunk {
		if err := read(xs[lo:min(lo+readChunk, len(xs))]); err != nil {
			return err
		}
	}
	return nil
}

// int64Args returns xs as query arguments.
func int64Args(xs []int64) []any {
	args := make([]any, len(xs))
	for i, x := range xs {
		args[i] = x
	}
	return args
}
