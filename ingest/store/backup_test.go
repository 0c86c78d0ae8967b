package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupWhileWriting backs up a store while votes are being
// committed: the backup succeeds without stopping the writes, is an
// intact store, and holds a consistent snapshot (every battle with its
// vote, as each pair commits together) of at least the votes committed
// before it started.
func TestBackupWhileWriting(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	save := func(i int) error {
		b := testBattle(fmt.Sprintf("b%d", i), 1)
		return s.SaveVote(ctx, b, testVote(b, fmt.Sprintf("v%d", i)))
	}
	const before = 50
	for i := range before {
		if err := save(i); err != nil {
			t.Fatal(err)
		}
	}
	var (
		stop    atomic.Bool
		written atomic.Int64
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		for i := before; !stop.Load(); i++ {
			if err := save(i); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	})
	for written.Load() < 5 {
		time.Sleep(time.Millisecond)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	st, err := Backup(ctx, s.Path(), out)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if st.Votes < before || st.Votes != st.Battles || st.Schema != SchemaVersion {
		t.Errorf("backup has %d battles, %d votes, schema %d; want as many battles as votes, at least %d, schema %d",
			st.Battles, st.Votes, st.Schema, before, SchemaVersion)
	}
	if _, err := os.Stat(out + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the partial file is left: %v", err)
	}
	if _, err := Backup(ctx, s.Path(), out); err == nil {
		t.Error("a backup over an existing file succeeded")
	}

	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := Restore(ctx, out, dir, "agora.db"); err != nil {
		t.Fatal(err)
	}
	r, err := Open(filepath.Join(dir, "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	battles, votes, err := r.Counts(ctx)
	if err != nil || battles != st.Battles || votes != st.Votes {
		t.Errorf("restored store counts %d battles, %d votes (%v); the backup said %d, %d", battles, votes, err, st.Battles, st.Votes)
	}
	if err := r.SaveVote(ctx, testBattle("after", 1), testVote(testBattle("after", 1), "after-v")); err != nil {
		t.Errorf("the restored store takes no writes: %v", err)
	}
}

// TestRestoreRefuses checks what restore refuses: a damaged or foreign
// file, and a directory that already has a store.
func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	os.WriteFile(junk, []byte("SQLite format 3\x00 but not really, and long enough to look like a header"), 0o644)
	if _, err := Restore(ctx, junk, filepath.Join(dir, "a"), "agora.db"); err == nil {
		t.Error("Restore(junk) succeeded")
	}
	s := openTest(t)
	out := filepath.Join(dir, "ok.db")
	if _, err := Backup(ctx, s.Path(), out); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, out, filepath.Dir(s.Path()), "agora.db"); err == nil {
		t.Error("Restore over a store succeeded")
	}
	if _, err := Backup(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")); err == nil {
		t.Error("Backup of a missing store succeeded")
	}
}

// TestObserveCommits checks that every group commit is reported, with
// its writes, and that a failing write does not count as a failed commit.
func TestObserveCommits(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	var mu sync.Mutex
	var commits, writes int
	var failed bool
	s.ObserveCommits(func(d time.Duration, n int, f bool) {
		mu.Lock()
		defer mu.Unlock()
		commits++
		writes += n
		failed = failed || f || d <= 0
	})
	b := testBattle("o1", 1)
	if err := s.SaveVote(ctx, b, testVote(b, "ov1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveVote(ctx, b, testVote(b, "ov2")); err == nil {
		t.Fatal("a second vote on a battle was saved")
	}
	s.ObserveCommits(nil)
	if err := s.SaveBattle(ctx, testBattle("o2", 1)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if commits != 2 || writes != 2 || failed {
		t.Errorf("observed %d commits of %d writes (a failure or no duration: %v), want 2 of 2, none failed", commits, writes, failed)
	}
}
