package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// LogMigration creates the verifiable log's tables: its leaves, the tree
// hashes tlog stores for them, and the signed checkpoints. A vote's leaf
// keeps no copy of the vote: its record is rebuilt from the vote, its
// battle and turns (LeafRecords), so that a vote changed or deleted in the
// file no longer matches the tree.
const LogMigration = `CREATE TABLE log_leaves (
	idx  INTEGER PRIMARY KEY, -- the leaf's index in the tree
	kind INTEGER NOT NULL,    -- ledger.Kind: the record's first byte
	ref  TEXT NOT NULL,       -- what the leaf is about: the vote id for a vote
	data BLOB                 -- the record, for kinds with no other home; NULL for votes
);
CREATE INDEX log_leaves_ref ON log_leaves(ref);
CREATE TABLE log_hashes (
	idx  INTEGER PRIMARY KEY, -- tlog's stored hash index
	hash BLOB NOT NULL
);
CREATE TABLE log_checkpoints (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	size INTEGER NOT NULL,
	note BLOB NOT NULL,       -- the signed checkpoint, with any witnesses' cosignatures
	at   INTEGER NOT NULL
);
CREATE INDEX log_checkpoints_size ON log_checkpoints(size);`

const (
	insertLeafSQL = `INSERT INTO log_leaves (idx, kind, ref, data) VALUES (?, ?, ?, ?)`
	insertHashSQL = `INSERT OR REPLACE INTO log_hashes (idx, hash) VALUES (?, ?)`
	readHashSQL   = `SELECT hash FROM log_hashes WHERE idx = ?`
	logSizeSQL    = `SELECT coalesce(max(idx) + 1, 0) FROM log_leaves`
)

// UseLedger makes every vote saved from now on append its leaf to the log,
// in the vote's own transaction, with records written by enc. Call it
// before the first vote; nil turns the log off (benchmarks compare).
func (s *Store) UseLedger(enc *ledger.Encoder) { s.ledger.Store(enc) }

// appendLeaf appends the leaf with record to the log inside tx and returns
// its index. data is kept for kinds whose record has no other home.
// Only the writer goroutine calls it: it owns s.logSize.
func (s *Store) appendLeaf(ctx context.Context, tx *sql.Tx, kind ledger.Kind, ref string, data, record []byte) (int64, error) {
	n := s.logSize
	hashes, err := ledger.StoredHashes(n, record, func(indexes []int64) ([]ledger.Hash, error) {
		out := make([]ledger.Hash, len(indexes))
		for i, x := range indexes {
			if h, ok := s.hashes[x]; ok {
				out[i] = h
				continue
			}
			var h []byte
			if err := tx.StmtContext(ctx, s.stmts[readHashSQL]).QueryRowContext(ctx, x).Scan(&h); err != nil {
				return nil, fmt.Errorf("read tree hash %d: %w", x, err)
			}
			copy(out[i][:], h)
		}
		return out, nil
	})
	if err != nil {
		return 0, fmt.Errorf("append leaf %d: %w", n, err)
	}
	if _, err := s.exec(ctx, tx, insertLeafSQL, n, int(kind), ref, data); err != nil {
		return 0, fmt.Errorf("append leaf %d: %w", n, err)
	}
	at := ledger.StoredHashIndex(0, n)
	for i, h := range hashes {
		if _, err := s.exec(ctx, tx, insertHashSQL, at+int64(i), h[:]); err != nil {
			return 0, fmt.Errorf("append leaf %d: %w", n, err)
		}
	}
	s.cacheHashes(at, hashes)
	s.logSize = n + 1
	return n, nil
}

// cacheHashes keeps the hashes just stored from index at on: the next
// leaves read their left siblings from there, not from the file. Only the
// last few thousand are kept.
func (s *Store) cacheHashes(at int64, hashes []ledger.Hash) {
	if s.hashes == nil || len(s.hashes) > 4096 {
		old := s.hashes
		s.hashes = make(map[int64]ledger.Hash, 4096)
		for x, h := range old {
			if x >= at-1024 {
				s.hashes[x] = h
			}
		}
	}
	for i, h := range hashes {
		s.hashes[at+int64(i)] = h
	}
}

// undoLog forgets the leaves appended after the log had size leaves, when
// their transaction (or savepoint) is rolled back.
func (s *Store) undoLog(size int64) {
	if s.logSize != size {
		s.logSize, s.hashes = size, nil
	}
}

// noteLeaf remembers the leaf index of vote id, just appended, for
// LeafIndex to answer without a query. A vote whose transaction fails is
// never asked for; the map is cleared if it grows large.
func (s *Store) noteLeaf(id string, n int64) {
	s.leavesMu.Lock()
	defer s.leavesMu.Unlock()
	if s.leaves == nil || len(s.leaves) > 65536 {
		s.leaves = map[string]int64{}
	}
	s.leaves[id] = n
}

// loadLogSize reads the log's size for the writer, at open.
func (s *Store) loadLogSize(ctx context.Context) error {
	if err := s.write.QueryRowContext(ctx, logSizeSQL).Scan(&s.logSize); err != nil {
		return fmt.Errorf("read the log's size: %w", err)
	}
	return nil
}

// LogSize returns the number of leaves committed to the log.
func (s *Store) LogSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.read.QueryRowContext(ctx, logSizeSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("read the log's size: %w", err)
	}
	return n, nil
}

// ReadHashes returns the tree hashes stored at indexes, in their order.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]ledger.Hash, error) {
	out := make([]ledger.Hash, len(indexes))
	pos := make(map[int64][]int, len(indexes))
	for i, x := range indexes {
		pos[x] = append(pos[x], i)
	}
	const chunk = 500
	for lo := 0; lo < len(indexes); lo += chunk {
		part := indexes[lo:min(lo+chunk, len(indexes))]
		args := make([]any, len(part))
		for i, x := range part {
			args[i] = x
		}
		rows, err := s.read.QueryContext(ctx, `SELECT idx, hash FROM log_hashes WHERE idx IN `+placeholders(len(part)), args...)
		if err != nil {
			return nil, fmt.Errorf("read tree hashes: %w", err)
		}
		for rows.Next() {
			var x int64
			var h []byte
			if err := rows.Scan(&x, &h); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read tree hashes: %w", err)
			}
			for _, i := range pos[x] {
				copy(out[i][:], h)
			}
			delete(pos, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read tree hashes: %w", err)
		}
	}
	for x := range pos {
		return nil, rlhf.Errorf(rlhf.ENotFound, "tree hash %d is not stored", x)
	}
	return out, nil
}

// LeafIndex returns the index of the first leaf about ref (a vote id).
func (s *Store) LeafIndex(ctx context.Context, ref string) (int64, error) {
	s.leavesMu.Lock()
	n, ok := s.leaves[ref]
	delete(s.leaves, ref)
	s.leavesMu.Unlock()
	if ok {
		return n, nil
	}
	err := s.read.QueryRowContext(ctx, `SELECT idx FROM log_leaves WHERE ref = ? ORDER BY idx LIMIT 1`, ref).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, rlhf.Errorf(rlhf.ENotFound, "no leaf for %s", ref)
	}
	if err != nil {
		return 0, fmt.Errorf("find the leaf of %s: %w", ref, err)
	}
	return n, nil
}

// AppendRecords appends one leaf of kind for each record, about refs[i],
// in one transaction, and keeps the records: for kinds whose record has no
// other home (not votes). It returns the first leaf's index.
func (s *Store) AppendRecords(ctx context.Context, kind ledger.Kind, refs []string, records [][]byte) (int64, error) {
	if kind == ledger.KindVote || len(refs) != len(records) {
		return 0, rlhf.Errorf(rlhf.EInvalid, "append %d records of kind %q with %d refs", len(records), kind, len(refs))
	}
	var first int64
	err := s.do(ctx, func(tx *sql.Tx) error {
		for i, rec := range records {
			if len(rec) == 0 || rec[0] != byte(kind) {
				return rlhf.Errorf(rlhf.EInvalid, "record %d is not of kind %q", i, kind)
			}
			n, err := s.appendLeaf(ctx, tx, kind, refs[i], rec, rec)
			if err != nil {
				return err
			}
			if i == 0 {
				first = n
			}
		}
		return nil
	})
	return first, err
}

// appendQuarantineLeaf appends the leaf of a quarantine decision inside
// its transaction, when the store has a ledger: the decision is in the log
// as soon as it is made, so that releases can explain the votes they leave
// out.
func (s *Store) appendQuarantineLeaf(ctx context.Context, tx *sql.Tx, ev rlhf.QuarantineEvent) error {
	enc := s.ledger.Load()
	if enc == nil {
		return nil
	}
	rec := enc.Quarantine(ev)
	_, err := s.appendLeaf(ctx, tx, ledger.KindQuarantine, enc.Pseudonym(ev.Contributor), rec, rec)
	return err
}
