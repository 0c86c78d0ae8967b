package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
CREATE INDEX log_leaves_ref ON log_leaves(ref); -- dropped by VoteLeafMigration
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

const logSizeSQL = `SELECT coalesce(max(idx) + 1, 0) FROM log_leaves`

// logRows are the sizes of the multi-row inserts that write a group's
// leaves, largest first, each prepared at Open: a group of n leaves is
// written with one statement per 1 bit of n (a group of 512, two).
var logRows = []int{256, 128, 64, 32, 16, 8, 4, 2, 1}

// leafInserts[i] inserts logRows[i] leaves (insertLeavesSQL), built once:
// the writer looks its prepared statement up by its text.
var leafInserts = func() []string {
	q := make([]string, len(logRows))
	for i, n := range logRows {
		q[i] = insertLeavesSQL(n)
	}
	return q
}()

// insertLeavesSQL inserts n leaves of consecutive indexes, the first ?1,
// each with its tree hashes: ?1, then kind, ref, data and hashes a leaf.
//
// OR FAIL, not the default ABORT: a failing insert leaves the rows it
// wrote before the failure, which costs SQLite no statement journal (a
// copy of every page the statement changes, the log's last page each
// time). Nothing is left half done: an insert that fails fails its write,
// whose transaction or savepoint is rolled back (runGroup).
func insertLeavesSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR FAIL INTO log_leaves (idx, kind, ref, data, hashes) VALUES (?1, ?, ?, ?, ?)`)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, `, (?1 + %d, ?, ?, ?, ?)`, i)
	}
	return b.String()
}

func rowsSQL(row string, n int) string { return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") }

// logQueries are the log's statements prepared at Open.
func logQueries() []string {
	return append([]string{readLeafHashesSQL, readRunSQL, readOldHashSQL}, leafInserts...)
}

// logWriter is the writer goroutine's view of the log: its size with the
// open transaction's leaves, the tree's right edge, and the leaves appended
// in the open transaction but not yet written. Leaves are written in one
// go (flush) at the end of the group, before its commit: a vote's leaf is
// in the vote's commit, with a few statements for the whole group instead
// of several per vote. Only the writer goroutine uses it.
type logWriter struct {
	size int64 // leaves in the log, the open transaction's included
	// edge[i] is the hash of the newest complete subtree of 2^i leaves:
	// the left siblings the next leaves need, so that appending reads
	// nothing. It is the edge of a log of edgeN leaves, read again when
	// that is not size (at open, after a rollback).
	edge    []ledger.Hash
	edgeN   int64
	pending []pendingLeaf          // appended, not yet written, in index order
	pendAt  int64                  // stored-hash index of the first pending hash
	pendH   []ledger.Hash          // their tree hashes, from pendAt on
	blob    []byte                 // pendH's bytes, as flushLog writes them
	args    []any                  // flushLog's arguments, kept for the next
	votes   []ledger.CommittedVote // votes' leaves appended in the open transaction, for their receipts
}

// A pendingLeaf is a leaf appended in the open transaction, to be written.
type pendingLeaf struct {
	idx  int64
	kind ledger.Kind
	ref  string
	data []byte
}

// UseLedger makes every vote saved from now on append its leaf to the log,
// in the vote's own transaction, with records written by enc. Call it
// before the first vote; nil turns the log off (benchmarks compare).
func (s *Store) UseLedger(enc *ledger.Encoder) { s.ledger.Store(enc) }

// appendLeaf appends the leaf with record to the log of the open
// transaction (see appendLeafHash); data is kept for kinds whose record
// has no other home.
func (s *Store) appendLeaf(ctx context.Context, tx *sql.Tx, kind ledger.Kind, ref string, data, record []byte) (int64, error) {
	return s.appendLeafHash(ctx, tx, kind, ref, data, ledger.RecordHash(record))
}

// appendLeafHash appends the leaf whose hash is leaf (its record's hash,
// made by the caller) and returns its index: its tree hashes are computed
// now, from the tree's right edge, and its rows written by flushLog before
// the transaction commits. Only the writer goroutine calls it.
func (s *Store) appendLeafHash(ctx context.Context, tx *sql.Tx, kind ledger.Kind, ref string, data []byte, leaf ledger.Hash) (int64, error) {
	w := &s.log
	n := w.size
	if w.edgeN != n {
		if err := s.loadEdge(ctx, tx); err != nil {
			return 0, fmt.Errorf("append leaf %d: %w", n, err)
		}
	}
	if len(w.pending) == 0 {
		w.pendAt = ledger.StoredHashIndex(0, n)
	}
	// Leaf n completes one subtree per trailing 1 bit of n, each with the
	// edge's subtree of its size on its left; they are the new edge.
	at := len(w.pendH)
	h := leaf
	w.pendH = append(w.pendH, h)
	for level := 0; n>>level&1 == 1; level++ {
		h = ledger.NodeHash(w.edge[level], h)
		w.pendH = append(w.pendH, h)
	}
	for i, h := range w.pendH[at:] {
		if i < len(w.edge) {
			w.edge[i] = h
		} else {
			w.edge = append(w.edge, h)
		}
	}
	w.pending = append(w.pending, pendingLeaf{idx: n, kind: kind, ref: ref, data: data})
	w.size, w.edgeN = n+1, n+1
	return n, nil
}

// loadEdge reads the tree's right edge for a log of s.log.size leaves:
// for each size 2^i of subtree, the newest complete one.
func (s *Store) loadEdge(ctx context.Context, tx *sql.Tx) error {
	w := &s.log
	n := w.size
	w.edge = w.edge[:0]
	for level := 0; n>>level > 0; level++ {
		h, err := s.treeHash(ctx, tx, ledger.StoredHashIndex(level, n>>level-1))
		if err != nil {
			return err
		}
		w.edge = append(w.edge, h)
	}
	w.edgeN = n
	return nil
}

// treeHash returns the tree hash at stored index x: pending, or read in
// tx.
func (s *Store) treeHash(ctx context.Context, tx *sql.Tx, x int64) (ledger.Hash, error) {
	w := &s.log
	if p := x - w.pendAt; len(w.pendH) > 0 && p >= 0 && p < int64(len(w.pendH)) {
		return w.pendH[p], nil
	}
	return s.readTreeHash(ctx, tx, x)
}

// flushLog writes the pending leaves in tx, each row with the tree hashes
// its append stored (log_leaf_hashes.go), with a few multi-row inserts: the
// log adds one page to a commit, its last leaves'. The writer calls it
// before each commit (and, under savepoints, at the end of each write); a
// write that reads log_leaves in its transaction calls it first.
func (s *Store) flushLog(ctx context.Context, tx *sql.Tx) error {
	w := &s.log
	if len(w.pending) == 0 {
		return nil
	}
	first := w.pending[0].idx
	w.blob = w.blob[:0]
	for i := range w.pendH {
		w.blob = append(w.blob, w.pendH[i][:]...)
	}
	for i, k := 0, 0; i < len(w.pending); i += logRows[k] {
		for logRows[k] > len(w.pending)-i {
			k++
		}
		if err := s.insertLeaves(ctx, tx, w.pending[i:i+logRows[k]], leafInserts[k]); err != nil {
			return fmt.Errorf("append leaves %d to %d: %w", first, w.size-1, err)
		}
	}
	w.pending, w.pendH = w.pending[:0], w.pendH[:0]
	return nil
}

// insertLeaves inserts leaves, pending and consecutive, with their tree
// hashes from s.log.blob, with query (insertLeavesSQL of len(leaves)).
func (s *Store) insertLeaves(ctx context.Context, tx *sql.Tx, leaves []pendingLeaf, query string) error {
	w := &s.log
	const size = int64(len(ledger.Hash{}))
	args := append(w.args[:0], leaves[0].idx)
	for i := range leaves {
		l := &leaves[i]
		from := ledger.StoredHashIndex(0, l.idx) - w.pendAt
		to := ledger.StoredHashIndex(0, l.idx+1) - w.pendAt
		args = append(args, int(l.kind), l.ref, l.data, w.blob[from*size:to*size])
	}
	_, err := s.exec(ctx, tx, query, args...)
	clear(args) // keeps no leaf's strings for the next
	w.args = args
	return err
}

// undoLog forgets the leaves appended after the log had size leaves, when
// their transaction (or savepoint) is rolled back.
func (s *Store) undoLog(size int64) {
	w := &s.log
	if w.size == size {
		return
	}
	w.size = size // and the edge is read again
	for len(w.votes) > 0 && w.votes[len(w.votes)-1].Index >= size {
		w.votes = w.votes[:len(w.votes)-1]
	}
	keep := 0
	for keep < len(w.pending) && w.pending[keep].idx < size {
		keep++
	}
	w.pending = w.pending[:keep]
	if keep == 0 {
		w.pendH = w.pendH[:0]
	} else {
		w.pendH = w.pendH[:ledger.StoredHashIndex(0, size)-w.pendAt]
	}
}

// runWrite runs req's write and then writes its leaves: under a
// savepoint, each write's leaves are written with it, so that a failing
// write (or a failing insert of its leaves) undoes only itself.
func (s *Store) runWrite(ctx context.Context, tx *sql.Tx, req *writeReq) error {
	if err := req.fn(tx); err != nil {
		return err
	}
	return s.flushLog(ctx, tx)
}

// appendVoteLeaf appends the leaf of vote id, whose record hashes to
// leaf, notes it for the vote's receipt (logCommitted) and returns its
// index, which the vote's row keeps.
func (s *Store) appendVoteLeaf(ctx context.Context, tx *sql.Tx, id string, leaf ledger.Hash) (int64, error) {
	n, err := s.appendLeafHash(ctx, tx, ledger.KindVote, id, nil, leaf)
	if err != nil {
		return 0, err
	}
	s.log.votes = append(s.log.votes, ledger.CommittedVote{ID: id, Index: n, Hash: leaf})
	return n, nil
}

// logCommitted tells the ledger which votes' leaves the transaction just
// committed, so that their receipts are signed together.
func (s *Store) logCommitted() {
	w := &s.log
	if enc := s.ledger.Load(); enc != nil {
		enc.Committed(w.votes)
	}
	w.votes = w.votes[:0]
}

// loadLogSize reads the log's size for the writer, at open.
func (s *Store) loadLogSize(ctx context.Context) error {
	if err := s.write.QueryRowContext(ctx, logSizeSQL).Scan(&s.log.size); err != nil {
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

// LeafIndex returns the index of the leaf of vote id, which its row
// keeps. A vote with no leaf (imported), or whose row is gone (erased), has
// none.
func (s *Store) LeafIndex(ctx context.Context, id string) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT leaf FROM votes WHERE id = ? AND leaf IS NOT NULL`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, rlhf.Errorf(rlhf.ENotFound, "no leaf for %s", id)
	}
	if err != nil {
		return 0, fmt.Errorf("find the leaf of %s: %w", id, err)
	}
	return n, nil
}

// VoteLeaf returns the index and leaf hash of vote id's leaf, from the
// tree's stored hashes. (A vote's receipt right after its commit needs
// neither: the store hands its leaf to the log with the commit.)
func (s *Store) VoteLeaf(ctx context.Context, id string) (int64, ledger.Hash, error) {
	n, err := s.LeafIndex(ctx, id)
	if err != nil {
		return 0, ledger.Hash{}, err
	}
	h, err := s.ReadHashes(ctx, []int64{ledger.StoredHashIndex(0, n)})
	if err != nil {
		return 0, ledger.Hash{}, fmt.Errorf("the leaf of %s: %w", id, err)
	}
	return n, h[0], nil
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
