package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// TestImportLLMFAO imports the LLMFAO crowd comparisons with column and
// winner mapping and checks that the store gives the same leaderboard as
// rating the file directly.
func TestImportLLMFAO(t *testing.T) {
	csv := llmfaoFile(t)
	dir := t.TempDir()
	args := []string{"import", "--data", dir, "--format", "csv", "--source", "llmfao",
		"--columns", "model_a=left,model_b=right,judge=worker,prompt=", "--winner-map", "left=model_a,right=model_b,tie=tie", csv}
	stdout, stderr, err := runAgora(t, args...)
	if err != nil || !strings.Contains(stdout, "imported 8931 new records") {
		t.Fatalf("import: %v\n%s%s", err, stdout, stderr)
	}
	if stdout, _, err := runAgora(t, args...); err != nil || !strings.Contains(stdout, "imported 0 new records") {
		t.Errorf("re-import: %v, %s", err, stdout)
	}

	var direct analytics.Dataset
	if _, _, err := readBattleFile(csv, "", formats.ReadOptions{Strict: true}, &direct); err != nil {
		t.Fatal(err)
	}
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var stored analytics.Dataset
	// In vote order, as the leaderboard reads them (online Elo depends on
	// the order; exports come in battle id order).
	src := formats.RecordsFunc(func(ctx context.Context, fn func(*rlhf.Record) error) error {
		return s.RecordsWhere(ctx, store.RecordFilter{Sources: []string{"llmfao"}}, func(_ int64, r *rlhf.Record) error { return fn(r) })
	})
	skipped, err := analytics.LoadRecords(context.Background(), src, &stored)
	if err != nil || skipped != 0 {
		t.Fatalf("LoadRecords: %d skipped, %v", skipped, err)
	}
	opt := analytics.DefaultOptions()
	opt.Rounds = 0
	want, err := analytics.Compute(context.Background(), &direct, opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := analytics.Compute(context.Background(), &stored, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got.Battles != 8931 || len(got.Models) != len(want.Models) || len(want.Models) != 59 {
		t.Fatalf("stored leaderboard: %d battles, %d models; direct: %d models (want 8931 battles, 59 models)", got.Battles, len(got.Models), len(want.Models))
	}
	for i := range want.Models {
		g, w := got.Models[i], want.Models[i]
		if g.Model != w.Model || math.Abs(g.Rating-w.Rating) > 1e-6 || math.Abs(g.Elo-w.Elo) > 1e-6 || g.Wins != w.Wins || g.Battles != w.Battles {
			t.Errorf("row %d: stored %+v, direct %+v", i, g, w)
		}
	}
}

func TestImportHostileNothingWritten(t *testing.T) {
	good := `{"question_id":"q%d","model_a":"x","model_b":"y","winner":"model_a","tstamp":1712345678}`
	lines := func(bad string) string {
		return strings.ReplaceAll(good, "%d", "1") + "\n" + strings.ReplaceAll(good, "%d", "2") + "\n" + bad + "\n"
	}
	for _, tc := range []struct {
		name, input string
		args        []string
		wantErr     string // empty: the import succeeds
		added       int
	}{
		{"strict unknown winner", lines(`{"model_a":"x","model_b":"y","winner":"left"}`), []string{"--strict"}, ":3: unknown winner", 0},
		{"strict invalid utf-8", lines("{\"model_a\":\"\xff\",\"model_b\":\"y\",\"winner\":\"tie\"}"), []string{"--strict"}, ":3: not valid UTF-8", 0},
		{"truncated array", "[\n" + strings.ReplaceAll(good, "%d", "1") + ",\n" + good[:25], nil, ":3:", 0},
		{"wrong type skipped", lines(`{"model_a":"x","model_b":"y","winner":7}`), nil, "", 2},
		{"long line skipped", lines(`{"model_a":"` + strings.Repeat("x", 2000) + `","model_b":"y","winner":"tie"}`), []string{"--max-line-bytes", "1000"}, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(t.TempDir(), "in.jsonl")
			if err := os.WriteFile(file, []byte(tc.input), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"import", "--data", dir, "--format", "arena"}, tc.args...)
			_, stderr, err := runAgora(t, append(args, file)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "nothing was imported") {
					t.Errorf("err = %v, want %q and nothing imported", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("import: %v", err)
			} else if !strings.Contains(stderr, "in.jsonl:3:") {
				t.Errorf("stderr does not name line 3:\n%s", stderr)
			}
			s, err := openStore(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, votes, err := s.Counts(context.Background())
			if err != nil || int(votes) != tc.added {
				t.Errorf("store has %d votes (%v), want %d", votes, err, tc.added)
			}
		})
	}
}

func TestImportUsage(t *testing.T) {
	for _, args := range [][]string{
		{"import"},
		{"import", "--format", "xml", "f"},
		{"import", "--format", "csv", "--source", "arena", "f.csv"},
		{"import", "--format", "csv", "-"},
		{"import", "--format", "csv", "--winner-map", "left=somebody", "f.csv"},
		{"import", "--format", "csv", "--columns", "model_a", "f.csv"},
	} {
		_, _, err := runAgora(t, args...)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%q: err = %v, want a usage error", args, err)
		}
	}
}

func TestImportProgress(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader(strings.Repeat("x", 3<<20))
	r := &progressReader{r: in, total: int64(in.Len()), prog: &progress{w: &out, on: true}}
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.HasSuffix(got, "\rimporting: MiB read 3/3 ") {
		t.Errorf("progress shown: %q, want it to end at 3/3 MiB", got)
	}
}
