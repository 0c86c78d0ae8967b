// Package ledger is Agora's verifiable log of contributions: an append-only
// Merkle tree (RFC 6962 hashing, through golang.org/x/mod/sumdb/tlog) with
// one leaf per accepted vote, signed checkpoints in the note format
// (golang.org/x/mod/sumdb/note, C2SP tlog-checkpoint), tiles served as the
// Go checksum database serves them, receipts, proofs, a witness and an
// auditor. docs/ledger.md describes the format.
//
// It is the only package that imports golang.org/x/mod/sumdb. The store
// (ingest/store) keeps leaves and tree hashes and calls Encoder and
// StoredHashes from inside the vote's transaction.
package ledger

import (
	"golang.org/x/mod/sumdb/tlog"
)

// Hash is a SHA-256 hash of the tree: a leaf's or an interior node's.
type Hash = tlog.Hash

// TileHeight is the height of the tiles served at /log/tile/, as on the
// Go checksum database.
const TileHeight = 8

// Kind is a leaf's kind: the first byte of its record.
type Kind byte

// Leaf kinds. Only votes are written yet; the others are reserved so that
// later records (quarantine decisions, erasure tombstones, releases, share
// tables, policy changes) fit the same log.
const (
	KindVote       Kind = 'v'
	KindQuarantine Kind = 'q'
	KindTombstone  Kind = 't'
	KindRelease    Kind = 'r'
	KindShares     Kind = 's'
	KindPolicy     Kind = 'p'
	// KindMissing marks, in served data, a leaf whose content the store
	// no longer has: its record cannot hash to the tree's leaf hash.
	KindMissing Kind = 'm'
)

// RecordHash returns the leaf hash of a record: SHA-256(0x00 ‖ record).
func RecordHash(record []byte) Hash { return tlog.RecordHash(record) }

// StoredHashIndex returns the index at which the store keeps the hash of
// the n'th node at level (0 is the leaves).
func StoredHashIndex(level int, n int64) int64 { return tlog.StoredHashIndex(level, n) }

// HashLevel returns the level of the node whose hash the store keeps at
// stored index x (0 for a leaf).
func HashLevel(x int64) int {
	level, _ := tlog.SplitStoredHashIndex(x)
	return level
}

// HashLeaf returns the leaf whose append stores the hash at stored index
// x, and x's level: appending leaf n stores the hashes of levels 0 to k
// (k the count of n's trailing 1 bits) from StoredHashIndex(0, n) on, so x
// is the level'th of them.
func HashLeaf(x int64) (leaf int64, level int) {
	level, k := tlog.SplitStoredHashIndex(x)
	return (k+1)<<level - 1, level
}

// StoredHashes returns the tree hashes that appending leaf n with record
// adds; they are stored from StoredHashIndex(0, n) on. read returns hashes
// stored earlier.
func StoredHashes(n int64, record []byte, read func(indexes []int64) ([]Hash, error)) ([]Hash, error) {
	return tlog.StoredHashes(n, record, tlog.HashReaderFunc(read))
}

// NodeHash returns the hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
func NodeHash(left, right Hash) Hash { return tlog.NodeHash(left, right) }
