package main

import (
	"bytes"
	"os"
	"testing"
)

// TestTempSpill checks the export's spill storage: a real file, readable
// at the offsets written, that leaves nothing in the temporary folder.
func TestTempSpill(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	s, err := tempSpill()
	if err != nil {
		t.Fatal(err)
	}
	run1, run2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 16)
	if _, err := s.Write(run1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(run2); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 16)
	if _, err := s.ReadAt(got, 32); err != nil || !bytes.Equal(got, run2) {
		t.Errorf("ReadAt(32) = %v, %v; want %v", got, err, run2)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the spill file is still named in %s: %v", dir, entries)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
