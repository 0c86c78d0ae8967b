package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// oldStore makes a store as stores were made before they had 16 KiB
// pages, with recs in it, and returns its path.
func oldStore(t *testing.T, recs []rlhf.Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agora.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=page_size(4096)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE scratch (x); DROP TABLE scratch"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(context.Background(), feed(recs, nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// allRecords returns every record of the store at path, formatted.
func allRecords(t *testing.T, path string) []string {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	err = s.RecordsWhere(context.Background(), RecordFilter{}, func(seq int64, r *rlhf.Record) error {
		got = append(got, fmt.Sprintf("%d %+v", seq, *r))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestVacuum(t *testing.T) {
	path := oldStore(t, importRecs("v", 500))
	want := allRecords(t, path)
	before, after, err := Vacuum(context.Background(), path, 16384)
	if err != nil {
		t.Fatal(err)
	}
	if before.PageSize != 4096 || after.PageSize != 16384 || after.Bytes == 0 {
		t.Errorf("before %+v, after %+v; want 4096-byte pages, then 16384", before, after)
	}
	if got := allRecords(t, path); !slices.Equal(got, want) || len(got) != 500 {
		t.Errorf("after the vacuum the store has %d records, differing from the %d before", len(got), len(want))
	}
	// Still a store in WAL mode that takes writes.
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	if err := s.read.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q, %v; want wal", mode, err)
	}
	if err := s.SaveBattle(context.Background(), testBattle("after", 1)); err != nil {
		t.Fatal(err)
	}
}

func TestVacuumInUse(t *testing.T) {
	path := oldStore(t, importRecs("u", 20))
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Battle(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	_, _, err = Vacuum(context.Background(), path, 16384)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("vacuum of a store in use: %v, want an error saying it is in use", err)
	}
	var size int
	if err := s.read.QueryRow("PRAGMA page_size").Scan(&size); err != nil || size != 4096 {
		t.Errorf("page size %d, %v after a refused vacuum; want 4096", size, err)
	}
	if err := s.SaveBattle(context.Background(), testBattle("still", 1)); err != nil {
		t.Errorf("the store no longer takes writes: %v", err)
	}
}

func TestVacuumBadInput(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path     string
		pageSize int
		want     string
	}{
		{filepath.Join(dir, "missing.db"), 16384, "no such file"},
		{junk, 16384, "not a database"},
		{junk, 3000, "power of two"},
	} {
		if _, _, err := Vacuum(context.Background(), tc.path, tc.pageSize); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Vacuum(%s, %d) = %v, want an error with %q", filepath.Base(tc.path), tc.pageSize, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Errorf("vacuum of a missing file made one: %v", err)
	}
}
