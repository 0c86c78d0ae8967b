package store

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

func init() {
	// Each leaf's hashes become a run of their own (a run starts at its
	// first hash's stored index, 2n - popcount(n) for leaf n's), as runs
	// kept them before LeafHashesMigration.
	migrationUndo[LeafHashesMigration] = `WITH RECURSIVE bits(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM bits WHERE i < 62)
		INSERT INTO log_hash_runs (at, hashes)
			SELECT 2 * idx - (SELECT sum((idx >> i) & 1) FROM bits), hashes FROM log_leaves WHERE hashes IS NOT NULL;
		ALTER TABLE log_leaves DROP COLUMN hashes`
}

// TestLeafHashesInRows: each leaf's row keeps exactly the tree hashes its
// append stored (its own hash, then one per subtree it completes), for
// votes saved one commit each, votes committed together, a failing vote
// among them (its write undone alone, under savepoints) and a large group
// of records (several inserts); no runs are written.
func TestLeafHashesInRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agora.db")
	s := voteLogged(t, path, 1, 5)
	defer s.Close()
	errs := make(chan error, 40)
	for i := range 40 { // 40 callers at once: a few group commits
		b := testBattle(fmt.Sprint("g", i), 1)
		b.Status = rlhf.StatusVoted
		id := fmt.Sprint("gv", i)
		if i == 7 {
			b = testBattle("b3", 1) // already voted: fails alone
			b.Status = rlhf.StatusVoted
		}
		go func() { errs <- s.SaveVote(ctx, b, testVote(b, id)) }()
	}
	failed := 0
	for range 40 {
		if err := <-errs; rlhf.ErrorCode(err) == rlhf.EConflict {
			failed++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if failed != 1 {
		t.Fatalf("%d votes failed; want 1", failed)
	}
	refs, recs := make([]string, 300), make([][]byte, 300)
	for i := range recs {
		refs[i], recs[i] = "p", fmt.Appendf(nil, "policy 1\nrows %d\n", i)
	}
	if _, err := s.AppendRecords(ctx, ledger.KindPolicy, refs, recs); err != nil {
		t.Fatal(err)
	}
	const n = 5 + 39 + 300
	checkTreeHashes(t, s, n)
	var runs int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM log_hash_runs`).Scan(&runs); err != nil || runs != 0 {
		t.Fatalf("%d runs, %v; want none", runs, err)
	}
	for leaf := int64(0); leaf < n; leaf++ {
		var got []byte
		if err := s.read.QueryRowContext(ctx, `SELECT hashes FROM log_leaves WHERE idx = ?`, leaf).Scan(&got); err != nil {
			t.Fatal(err)
		}
		from, to := ledger.StoredHashIndex(0, leaf), ledger.StoredHashIndex(0, leaf+1)
		xs := make([]int64, 0, to-from)
		for x := from; x < to; x++ {
			xs = append(xs, x)
		}
		want, err := s.ReadHashes(ctx, xs)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, hashBytes(want)) {
			t.Fatalf("leaf %d's row keeps %x; want its hashes %x", leaf, got, hashBytes(want))
		}
	}
}

// TestLeafHashesMigration makes a store whose tree hashes are in runs, as
// before LeafHashesMigration: after the migration its tree reads back the
// same, new votes append to it (their left siblings read from runs) and
// keep their hashes in their rows.
func TestLeafHashesMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agora.db")
	voteLogged(t, path, 0, 13)
	undoFrom(t, path, LeafHashesMigration)
	s := voteLogged(t, path, 13, 7)
	defer s.Close()
	var runs, rows int
	err := s.read.QueryRowContext(context.Background(), `SELECT (SELECT count(*) FROM log_hash_runs),
		(SELECT count(*) FROM log_leaves WHERE hashes IS NOT NULL)`).Scan(&runs, &rows)
	if err != nil || runs != 13 || rows != 7 {
		t.Fatalf("%d runs and %d leaves' rows with hashes, %v; want 13 and 7", runs, rows, err)
	}
	checkTreeHashes(t, s, 20)
}

// hashBytes returns hs's bytes one after the other.
func hashBytes(hs []ledger.Hash) []byte {
	var out []byte
	for _, h := range hs {
		out = append(out, h[:]...)
	}
	return out
}
