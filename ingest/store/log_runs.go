package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// LogRunsMigration kept the log's tree hashes in runs: one row holds the
// hashes a commit added, consecutive in tlog's stored-hash order, instead of
// a row per hash. A vote's commit writes one row (and one page) for them
// instead of two rows per vote. Hashes written before stay in log_hashes,
// read where no run has them.
const LogRunsMigration = `CREATE TABLE log_hash_runs (
	at     INTEGER PRIMARY KEY, -- tlog's stored-hash index of the first hash
	hashes BLOB NOT NULL        -- the hashes from at on, 32 bytes each
);`

const (
	readRunSQL     = `SELECT at, hashes FROM log_hash_runs WHERE at <= ? ORDER BY at DESC LIMIT 1`
	readOldHashSQL = `SELECT hash FROM log_hashes WHERE idx = ?`
)

// maxRun is the most hashes one run held (4 KiB, inside a page): a large
// write (an import, a release) was cut into runs that each read back
// quickly. (Since LeafHashesMigration no runs are written.)
const maxRun = 128

// runHash returns the hash at stored index x from the run that starts at
// at, and whether the run holds it.
func runHash(at int64, run []byte, x int64) (ledger.Hash, bool) {
	var h ledger.Hash
	off := (x - at) * int64(len(h))
	if x < at || off+int64(len(h)) > int64(len(run)) {
		return h, false
	}
	copy(h[:], run[off:])
	return h, true
}

// readTreeHash reads the tree hash at stored index x in tx: from its
// leaf's row, or where it was written before those kept hashes: its run,
// or log_hashes before runs.
func (s *Store) readTreeHash(ctx context.Context, tx *sql.Tx, x int64) (ledger.Hash, error) {
	if h, ok, err := s.readLeafTreeHash(ctx, tx, x); err != nil || ok {
		return h, err
	}
	var at int64
	var run []byte
	err := s.queryRow(ctx, tx, readRunSQL, x).Scan(&at, &run)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ledger.Hash{}, fmt.Errorf("read tree hash %d: %w", x, err)
	}
	if h, ok := runHash(at, run, x); err == nil && ok {
		return h, nil
	}
	var old []byte
	if err := s.queryRow(ctx, tx, readOldHashSQL, x).Scan(&old); err != nil {
		return ledger.Hash{}, fmt.Errorf("read tree hash %d: %w", x, err)
	}
	var h ledger.Hash
	copy(h[:], old)
	return h, nil
}

// ReadHashes returns the tree hashes stored at indexes, in their order:
// the upper ones kept in memory once read (treeTop), the others from the
// store: from their leaves' rows, or where they were written before those
// kept hashes (runs, then log_hashes).
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]ledger.Hash, error) {
	out := make([]ledger.Hash, len(indexes))
	pos := s.top.fill(indexes, out)
	if len(pos) == 0 {
		return out, nil
	}
	read := slices.Sorted(maps.Keys(pos))
	where := maps.Clone(pos) // pos loses each index as it is found
	if err := s.readLeafHashes(ctx, pos, out); err != nil {
		return nil, err
	}
	if err := s.readOlderHashes(ctx, pos, out); err != nil {
		return nil, err
	}
	for x := range pos {
		return nil, rlhf.Errorf(rlhf.ENotFound, "tree hash %d is not stored", x)
	}
	s.top.keep(read, where, out)
	return out, nil
}

// readOlderHashes reads the indexes left in pos from where hashes were
// written before leaves' rows kept them: runs, then log_hashes.
func (s *Store) readOlderHashes(ctx context.Context, pos map[int64][]int, out []ledger.Hash) error {
	if len(pos) == 0 {
		return nil
	}
	var lone []int64
	for _, c := range clusters(slices.Sorted(maps.Keys(pos)), maxRun) {
		if len(c) == 1 {
			lone = append(lone, c[0])
		} else if err := s.readRange(ctx, c, out, pos); err != nil {
			return err
		}
	}
	err := chunked(lone, func(part []int64) error { return s.readRuns(ctx, part, out, pos) })
	if err != nil {
		return err
	}
	return chunked(slices.Collect(maps.Keys(pos)), func(part []int64) error { return s.readOldHashes(ctx, part, out, pos) })
}

// clusters cuts sorted indexes where two are more than gap apart: the
// rows that hold a cluster's indexes are read with one range (readRange,
// readLeafHashes) with few rows between that hold none of them. A level's
// hashes for a tile, or an inclusion proof's lower levels, are a cluster.
func clusters(sorted []int64, gap int64) [][]int64 {
	var out [][]int64
	start := 0
	for i := 1; i <= len(sorted); i++ {
		if i == len(sorted) || sorted[i]-sorted[i-1] > gap {
			out = append(out, sorted[start:i])
			start = i
		}
	}
	return out
}

// readRangeSQL reads the runs from the one that holds stored index ?1 (the
// last to start at or before it) to the last that starts at or before ?2.
const readRangeSQL = `SELECT at, hashes FROM log_hash_runs
	WHERE at >= coalesce((SELECT max(at) FROM log_hash_runs WHERE at <= ?1), 0) AND at <= ?2 ORDER BY at`

// readRange reads the runs that hold the sorted indexes of a cluster, in
// one range, as readRuns does.
func (s *Store) readRange(ctx context.Context, indexes []int64, out []ledger.Hash, pos map[int64][]int) error {
	return s.scanHashRows(ctx, func(at int64, run []byte) {
		for len(indexes) > 0 && indexes[0] < at { // in no run: log_hashes has it
			indexes = indexes[1:]
		}
		for len(indexes) > 0 {
			h, ok := runHash(at, run, indexes[0])
			if !ok {
				break
			}
			for _, i := range pos[indexes[0]] {
				out[i] = h
			}
			delete(pos, indexes[0])
			indexes = indexes[1:]
		}
	}, readRangeSQL, indexes[0], indexes[len(indexes)-1])
}

// readRuns reads the runs that hold indexes, with one query: each index's
// run is the one that starts last at or before it. It sets out[i] for
// each position i of pos[x] of every index x a run holds, and deletes x
// from pos.
func (s *Store) readRuns(ctx context.Context, indexes []int64, out []ledger.Hash, pos map[int64][]int) error {
	// The indexes drive the join (CROSS JOIN keeps them outside): each
	// finds its run's start with one seek, and its run with another.
	return s.scanHashRows(ctx, func(at int64, run []byte) {
		for _, x := range indexes {
			if h, ok := runHash(at, run, x); ok {
				for _, i := range pos[x] {
					out[i] = h
				}
				delete(pos, x)
			}
		}
	}, `SELECT r.at, r.hashes FROM
		(SELECT DISTINCT (SELECT max(at) FROM log_hash_runs WHERE at <= column1) AS start FROM (VALUES `+rowsSQL("(?)", len(indexes))+`)) q
		CROSS JOIN log_hash_runs r ON r.at = q.start`, int64Args(indexes)...)
}

// readOldHashes reads indexes from log_hashes, where hashes were written
// one per row before runs, as readRuns does from runs.
func (s *Store) readOldHashes(ctx context.Context, indexes []int64, out []ledger.Hash, pos map[int64][]int) error {
	return s.scanHashRows(ctx, func(x int64, h []byte) {
		for _, i := range pos[x] {
			copy(out[i][:], h)
		}
		delete(pos, x)
	}, `SELECT idx, hash FROM log_hashes WHERE idx IN `+placeholders(len(indexes)), int64Args(indexes)...)
}
