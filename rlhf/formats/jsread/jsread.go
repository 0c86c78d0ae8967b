// Package jsread loads Agora's exports in the tests with readers that
// share no code with Agora's writers: DuckDB (from npm, @duckdb/node-api)
// and hyparquet. Both run under node from rlhf/formats/parquet/testdata/js,
// installed with npm ci (.ci/run does it). Without node or the packages a
// check fails when CI=true and is skipped loudly otherwise.
package jsread

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir returns the directory of the node scripts and their packages.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "parquet", "testdata", "js")
}

// Column is a column as DuckDB typed it, e.g. {"margin", "DOUBLE"}.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Table is a file as DuckDB loaded it.
type Table struct {
	Columns []Column         `json:"columns"`
	Rows    []map[string]any `json:"rows"`
}

// Type returns the DuckDB type of column name, or "" when there is none.
func (t *Table) Type(name string) string {
	for _, c := range t.Columns {
		if c.Name == name {
			return c.Type
		}
	}
	return ""
}

// DuckDB loads each path (JSON, JSONL, or Parquet by its .parquet
// extension) with DuckDB's own readers and type inference, in one process.
func DuckDB(t testing.TB, paths ...string) []*Table {
	t.Helper()
	var tabs []*Table
	if err := json.Unmarshal(run(t, "@duckdb/node-api", "duckdb.mjs", paths...), &tabs); err != nil {
		t.Fatalf("duckdb output: %v", err)
	}
	if len(tabs) != len(paths) {
		t.Fatalf("duckdb loaded %d files of %d", len(tabs), len(paths))
	}
	return tabs
}

// Hyparquet reads a Parquet file with hyparquet: BigInt values become
// numbers and timestamps ISO 8601 strings.
func Hyparquet(t testing.TB, path string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	if err := json.Unmarshal(run(t, "hyparquet", "read.mjs", path), &rows); err != nil {
		t.Fatalf("hyparquet output: %v", err)
	}
	return rows
}

func run(t testing.TB, pkg, script string, paths ...string) []byte {
	t.Helper()
	dir := Dir()
	node, err := exec.LookPath("node")
	missing := ""
	switch {
	case err != nil:
		missing = "node is not installed"
	case !exists(filepath.Join(dir, "node_modules", filepath.FromSlash(pkg))):
		missing = pkg + " is not installed (run: npm ci --prefix rlhf/formats/parquet/testdata/js)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("independent reader unavailable in CI: %s", missing)
		}
		t.Skipf("SKIPPED: the independent reader check: %s", missing)
	}
	args := []string{filepath.Join(dir, script)}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, abs)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", script, paths, err, stderr.String())
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
