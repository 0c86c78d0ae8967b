package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// TestLogRunsMigration makes a store whose tree hashes are one per row in
// log_hashes, as before LogRunsMigration: after the migration its tree
// reads back the same, new votes append to it (their left siblings read
// from the old rows), and every stored hash is the one the records give.
func TestLogRunsMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agora.db")
	voteLogged(t, path, 0, 13)
	unrunHashes(t, path)
	s := voteLogged(t, path, 13, 7)
	defer s.Close()
	ctx := context.Background()
	var old, runs int
	if err := s.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM log_hashes), (SELECT count(*) FROM log_hash_runs)`).Scan(&old, &runs); err != nil {
		t.Fatal(err)
	}
	if want := int(ledger.StoredHashIndex(0, 13)); old != want || runs != 0 {
		t.Fatalf("%d old hash rows and %d runs; want %d and none (new leaves keep theirs)", old, runs, want)
	}
	checkTreeHashes(t, s, 20)
}

// checkTreeHashes checks that the first n leaves of s's log are its
// whole log and that every tree hash stored for them is the one their
// records give, read one at a time and all at once.
func checkTreeHashes(t *testing.T, s *Store, n int64) {
	t.Helper()
	ctx := context.Background()
	if size, err := s.LogSize(ctx); err != nil || size != n {
		t.Fatalf("log size %d, %v; want %d", size, err, n)
	}
	records, err := s.LeafRecords(ctx, 0, n)
	if err != nil {
		t.Fatal(err)
	}
	var want []ledger.Hash
	for i, r := range records {
		hs, err := ledger.StoredHashes(int64(i), r, func(xs []int64) ([]ledger.Hash, error) {
			out := make([]ledger.Hash, len(xs))
			for j, x := range xs {
				out[j] = want[x]
			}
			return out, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, hs...)
	}
	indexes := make([]int64, len(want))
	for i := range indexes {
		indexes[i] = int64(i)
	}
	got, err := s.ReadHashes(ctx, indexes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("stored hash %d = %v; the records give %v", i, got[i], want[i])
		}
		if one, err := s.ReadHashes(ctx, []int64{int64(i)}); err != nil || one[0] != want[i] {
			t.Errorf("stored hash %d read alone = %v, %v; the records give %v", i, one, err, want[i])
		}
	}
	if _, err := s.ReadHashes(ctx, []int64{int64(len(want))}); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("ReadHashes past the tree: %v; want not found", err)
	}
}

// voteLogged opens the store at path with a log and saves n votes from
// battle first on, one commit each.
func voteLogged(t *testing.T, path string, first, n int) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.UseLedger(ledger.NewEncoder([]byte("test key")))
	for i := first; i < first+n; i++ {
		b := testBattle(fmt.Sprint("b", i), 1)
		b.Status = rlhf.StatusVoted
		if err := s.SaveVote(context.Background(), b, testVote(b, fmt.Sprint("v", i))); err != nil {
			t.Fatal(err)
		}
	}
	if first == 0 {
		s.Close()
	}
	return s
}

// unrunHashes turns the closed store at path back into one of the schema
// before LogRunsMigration: every hash in a row of its own in log_hashes.
func unrunHashes(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	undoMigrations(t, db, LogRunsMigration)
	version := slices.Index(migrations, LogRunsMigration)
	for _, q := range []string{
		`WITH RECURSIVE k(at, i, hashes) AS (
			SELECT at, 0, hashes FROM log_hash_runs
			UNION ALL SELECT at, i + 1, hashes FROM k WHERE (i + 1) * 32 < length(hashes))
		INSERT INTO log_hashes (idx, hash) SELECT at + i, substr(hashes, i * 32 + 1, 32) FROM k`,
		`DROP TABLE log_hash_runs`,
		fmt.Sprintf(`PRAGMA user_version = %d`, version),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// undoFrom turns the closed store at path back into one of the schema
// before migration m, with undoMigrations.
func undoFrom(t *testing.T, path, m string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	undoMigrations(t, db, migrations[slices.Index(migrations, m)-1])
}

// undoMigrations undoes the migrations after m (newest first, with
// migrationUndo) in db, a closed store's file, and sets its schema version
// to m's: opening it runs them again.
func undoMigrations(t *testing.T, db *sql.DB, m string) {
	t.Helper()
	version := slices.Index(migrations, m)
	for i := len(migrations) - 1; i > version; i-- {
		undo, ok := migrationUndo[migrations[i]]
		if !ok {
			t.Fatalf("no undo for migration %d:\n%s", i+1, migrations[i])
		}
		if _, err := db.Exec(undo); err != nil {
			t.Fatalf("%s: %v", undo, err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, version+1)); err != nil {
		t.Fatal(err)
	}
}
