package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture returns the path of an import fixture (rlhf/formats/testdata/import).
func fixture(name string) string {
	return filepath.Join("..", "..", "rlhf", "formats", "testdata", "import", name)
}

// TestImportDataSetsAndRate imports the shapes of the data sets people
// have, as shipped (Parquet where they ship Parquet), and rates the store
// and a Parquet file directly.
func TestImportDataSetsAndRate(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--format", "ultrafeedback", fixture("ultrafeedback_binarized.parquet")},
		{"--format", "arena", fixture("arena_140k.parquet")},
		{"--format", "csv", "--columns", "question_id=id",
			"--winner-columns", "model_a=winner_model_a,model_b=winner_model_b,tie=winner_tie", fixture("kaggle_55k.csv")},
	} {
		out, stderr, err := runAgora(t, append([]string{"import", "--data", dir, "--strict"}, args...)...)
		if err != nil || !strings.Contains(out, "imported 300 new records") {
			t.Fatalf("import %v: %v\n%s%s", args, err, out, stderr)
		}
	}
	var lb struct {
		Battles int64 `json:"battles"`
		Models  []struct {
			Model string `json:"model"`
		} `json:"models"`
		Input struct {
			Format string `json:"format"`
		} `json:"input"`
	}
	out, stderr, err := runAgora(t, "leaderboard", "--data", dir, "--json", "--rounds", "0")
	if err != nil {
		t.Fatalf("leaderboard: %v\n%s", err, stderr)
	}
	if err := json.Unmarshal([]byte(out), &lb); err != nil {
		t.Fatal(err)
	}
	if lb.Battles != 900 || len(lb.Models) != 10 { // 8 arena models, and ultrafeedback's chosen and rejected
		t.Errorf("store leaderboard: %d battles, %d models; want 900 and 10", lb.Battles, len(lb.Models))
	}
	out, stderr, err = runAgora(t, "leaderboard", "--strict", "--json", "--rounds", "0", fixture("arena_140k.parquet"))
	if err != nil {
		t.Fatalf("leaderboard of a Parquet file: %v\n%s", err, stderr)
	}
	if err := json.Unmarshal([]byte(out), &lb); err != nil {
		t.Fatal(err)
	}
	if lb.Battles != 300 || len(lb.Models) != 8 || lb.Input.Format != "parquet" {
		t.Errorf("Parquet leaderboard: %d battles, %d models, format %q; want 300, 8, parquet", lb.Battles, len(lb.Models), lb.Input.Format)
	}
}

// TestImportStrictEverywhere: one bad record in a file stops a strict
// import (nothing stored) and is skipped otherwise, for every format.
func TestImportStrictEverywhere(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(fixture("arena_140k.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(lines[0]+`{"model_a":"x","model_b":"x","winner":"model_a"}`+"\n"+lines[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runAgora(t, "import", "--format", "arena", "--strict", "--data", dir, bad); err == nil || !strings.Contains(err.Error(), ":2:") {
		t.Errorf("strict import of a bad line 2: %v, want an error naming line 2", err)
	}
	out, _, err := runAgora(t, "import", "--format", "arena", "--data", dir, bad)
	if err != nil || !strings.Contains(out, "imported 2 new records") || !strings.Contains(out, "1 bad lines skipped") {
		t.Errorf("lenient import: %v, %s", err, out)
	}
	if _, _, err := runAgora(t, "leaderboard", "--strict", bad); err == nil {
		t.Error("leaderboard --strict on a file with a bad line succeeded")
	}
}
