package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// seedStore writes voted battles into a real store in a new data directory.
func seedStore(t *testing.T) string {
	t.Helper()
	at := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	winners := []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie, rlhf.WinnerBothBad, rlhf.WinnerA}
	var recs []rlhf.Record
	for i, w := range winners {
		id := "battle-" + string(rune('a'+i))
		when := at.Add(time.Duration(i) * 1500 * time.Millisecond)
		b := rlhf.Battle{
			ID: id, ContributorID: "person-" + id, ModelA: "alpha", ModelB: "beta", Status: rlhf.StatusVoted,
			Source: rlhf.SourceArena, Language: "English", CreatedAt: when, UpdatedAt: when,
		}
		if i%2 == 1 {
			b.ModelA, b.ModelB, b.Language = "gamma", "alpha", ""
		}
		for k := 0; k <= i%3; k++ {
			b.Turns = append(b.Turns, rlhf.Turn{Index: k, Prompt: "prompt " + id + " #" + string(rune('0'+k)), At: when,
				A: rlhf.Answer{Content: "## A says\n- **yes** " + id, Tokens: 7 + k, FinishReason: "stop"},
				B: rlhf.Answer{Content: "B says 1. no " + id, Tokens: 9 + k, FinishReason: "stop"}})
		}
		recs = append(recs, rlhf.Record{Battle: b, Vote: rlhf.Vote{ID: "vote-" + id, BattleID: id, ContributorID: b.ContributorID, Winner: w, Strength: rlhf.StrengthSlight, CreatedAt: when}})
	}
	return storeWith(t, recs)
}

// storeWith saves recs, in order, into a real store in a new data
// directory.
func storeWith(t *testing.T, recs []rlhf.Record) string {
	t.Helper()
	dir := t.TempDir()
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range recs {
		if err := s.SaveVote(context.Background(), &recs[i].Battle, &recs[i].Vote); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestArenaExportImportExport exports Arena battles, imports them into an
// empty store and exports again: the two exports are identical.
func TestArenaExportImportExport(t *testing.T) {
	for _, tc := range []struct{ format, ext string }{{"arena-jsonl", ".jsonl"}, {"arena-json", ".json"}} {
		t.Run(tc.format, func(t *testing.T) {
			src := seedStore(t)
			out := t.TempDir()
			first := filepath.Join(out, "first"+tc.ext)
			if _, stderr, err := runAgora(t, "export", "--data", src, "--format", tc.format, "--output", first, "--contributors", "omit"); err != nil {
				t.Fatalf("export: %v\n%s", err, stderr)
			}
			empty := t.TempDir()
			stdout, stderr, err := runAgora(t, "import", "--data", empty, "--format", "arena", "--source", "reimport", first)
			if err != nil || !strings.Contains(stdout, "imported 5 new records") {
				t.Fatalf("import: %v\n%s%s", err, stdout, stderr)
			}
			second := filepath.Join(out, "second"+tc.ext)
			if _, stderr, err := runAgora(t, "export", "--data", empty, "--format", tc.format, "--output", second, "--contributors", "omit"); err != nil {
				t.Fatalf("second export: %v\n%s", err, stderr)
			}
			a, b := readFile(t, first), readFile(t, second)
			if a != b {
				t.Errorf("exports differ:\nfirst:\n%s\nsecond:\n%s", a, b)
			}
			if strings.Count(a, `"question_id"`) != 5 {
				t.Errorf("first export has %d battles, want 5:\n%s", strings.Count(a, `"question_id"`), a)
			}
			// Importing the same file again adds nothing.
			stdout, _, err = runAgora(t, "import", "--data", empty, "--format", "arena", "--source", "reimport", first)
			if err != nil || !strings.Contains(stdout, "imported 0 new records") {
				t.Errorf("second import: %v, %s", err, stdout)
			}
		})
	}
}

func TestExportCardAndOutput(t *testing.T) {
	src := seedStore(t)
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "README.md"), []byte("my own notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(out, "train.jsonl")
	_, stderr, err := runAgora(t, "export", "--data", src, "--format", "trl-conversational", "--output", path, "--margin", "--licence", "CC-BY-4.0")
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	if got := readFile(t, filepath.Join(out, "README.md")); got != "my own notes\n" {
		t.Errorf("the user's README.md was replaced: %q", got)
	}
	card := readFile(t, path+".README.md")
	for _, want := range []string{"license: cc-by-4.0", "| rows | 3 |", "| model_a | 2 |", "| tie | 0 |", "alpha", "gamma",
		"agora export --data", "--format trl-conversational", "`margin`", "2026-02-01T09:00:00Z", "tie (no pair) | 1"} {
		if !strings.Contains(card, want) {
			t.Errorf("data card lacks %q:\n%s", want, card)
		}
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
	rows := strings.Count(readFile(t, path), "\n")
	if rows != 3 {
		t.Errorf("%d rows, want 3 (three decisive votes)", rows)
	}
}

func TestExportParquetAndStdout(t *testing.T) {
	src := seedStore(t)
	path := filepath.Join(t.TempDir(), "battles.parquet")
	if _, stderr, err := runAgora(t, "export", "--data", src, "--format", "arena-jsonl", "--parquet", "--output", path); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	if data := readFile(t, path); !strings.HasPrefix(data, "PAR1") || !strings.HasSuffix(data, "PAR1") {
		t.Errorf("%s is not a Parquet file", path)
	}
	stdout, _, err := runAgora(t, "export", "--data", src, "--format", "trl-conversational", "--output", "-", "--source", "arena", "--since", "2026-02-01T09:00:01Z")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stdout, "\n"); n != 2 {
		t.Errorf("trl-conversational since 09:00:01 gave %d rows, want 2 (battles b and e):\n%s", n, stdout)
	}
	// b and e are two-turn battles whose sides differ from the first turn:
	// HH-RLHF cannot keep its shared prefix for them and leaves them out.
	stdout, stderr, err := runAgora(t, "export", "--data", src, "--format", "hh-rlhf", "--output", "-", "--since", "2026-02-01T09:00:01Z")
	if err != nil || stdout != "" || !strings.Contains(stderr, "2 multi-turn with different earlier answers") {
		t.Errorf("hh-rlhf since 09:00:01: %v, rows %q, stderr %q; want none, the two left out", err, stdout, stderr)
	}
}

func TestExportUsage(t *testing.T) {
	src := seedStore(t)
	for _, args := range [][]string{
		{"export"},
		{"export", "--format", "nope", "--output", "x"},
		{"export", "--format", "trl", "--parquet", "--output", "x"},
		{"export", "--format", "trl", "--ties", "unpaired", "--output", "x", "--data", src},
		{"export", "--format", "trl", "--since", "yesterday", "--output", "x", "--data", src},
	} {
		_, _, err := runAgora(t, args...)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
	if _, _, err := runAgora(t, "export", "--format", "trl", "--output", "-", "--data", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no store") {
		t.Errorf("export from an empty directory: err = %v, want no store", err)
	}
}
