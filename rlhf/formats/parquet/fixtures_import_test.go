package parquet

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// readFixture imports a fixture file the way "agora import" does: Parquet
// row by row as JSONL (CSV for the csv format), anything else as it is.
func readFixture(t *testing.T, name string, f formats.ImportFormat, opts formats.ReadOptions) ([]rlhf.Record, formats.ReadStats) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	var in io.Reader = bytes.NewReader(data)
	if IsParquet(data) {
		var buf bytes.Buffer
		convert := WriteJSONL
		if f == formats.ImportCSV {
			convert = WriteCSV
		}
		if err := convert(&buf, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		in = &buf
	}
	opts.Source, opts.Strict = "fixture", true
	var recs []rlhf.Record
	st, err := formats.Read(in, f, opts, func(r *rlhf.Record) error {
		c := *r
		c.Battle.Turns = append([]rlhf.Turn(nil), r.Battle.Turns...)
		recs = append(recs, c)
		return nil
	})
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return recs, st
}

// TestImportFixturesAndRate imports every fixture, in each form it ships
// in, and rates what it read.
func TestImportFixturesAndRate(t *testing.T) {
	kaggle := formats.ReadOptions{Columns: map[string]string{"question_id": "id"},
		WinnerColumns: map[rlhf.Winner]string{rlhf.WinnerA: "winner_model_a", rlhf.WinnerB: "winner_model_b", rlhf.WinnerTie: "winner_tie"}}
	for _, tc := range []struct {
		file   string
		format formats.ImportFormat
		opts   formats.ReadOptions
		models int
	}{
		{"ultrafeedback_binarized.jsonl", formats.ImportUltraFeedback, formats.ReadOptions{}, 2},
		{"ultrafeedback_binarized.parquet", formats.ImportUltraFeedback, formats.ReadOptions{}, 2},
		{"arena_140k.jsonl", formats.ImportArena, formats.ReadOptions{}, len(fixtureModels)},
		{"arena_140k.parquet", formats.ImportArena, formats.ReadOptions{}, len(fixtureModels)},
		{"kaggle_55k.csv", formats.ImportCSV, kaggle, len(fixtureModels)},
	} {
		t.Run(tc.file, func(t *testing.T) {
			recs, st := readFixture(t, tc.file, tc.format, tc.opts)
			if st.Records != fixtureRows || st.Bad != 0 {
				t.Fatalf("read %d records, %d bad; want %d and 0", st.Records, st.Bad, fixtureRows)
			}
			var d analytics.Dataset
			for i := range recs {
				if err := d.AddRecord(&recs[i]); err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
			}
			lb, err := analytics.Compute(context.Background(), &d, analytics.Options{Rounds: 20})
			if err != nil {
				t.Fatal(err)
			}
			if len(lb.Models) != tc.models || lb.Battles != fixtureRows {
				t.Fatalf("rated %d models in %d battles, want %d in %d", len(lb.Models), lb.Battles, tc.models, fixtureRows)
			}
			rating := map[string]float64{}
			for _, r := range lb.Models {
				rating[r.Model] = r.Rating
			}
			best, worst := fixtureModels[0], fixtureModels[len(fixtureModels)-1]
			if tc.models == 2 {
				best, worst = "chosen", "rejected"
			}
			if rating[best] <= rating[worst] {
				t.Errorf("%s rated %.0f, not above %s at %.0f", best, rating[best], worst, rating[worst])
			}
			checkFixtureRecords(t, tc.file, recs)
		})
	}
}

// checkFixtureRecords checks what each shape must carry over.
func checkFixtureRecords(t *testing.T, file string, recs []rlhf.Record) {
	t.Helper()
	ties, multi := 0, 0
	for _, r := range recs {
		if r.Vote.Winner.IsTie() {
			ties++
		}
		if len(r.Battle.Turns) > 1 {
			multi++
		}
		for _, turn := range r.Battle.Turns {
			if turn.Prompt == "" {
				t.Fatalf("%s: battle %s has an empty prompt", file, r.Battle.ID)
			}
		}
	}
	if ties == 0 {
		t.Errorf("%s: no tie read", file)
	}
	if !strings.HasPrefix(file, "ultrafeedback") && multi == 0 {
		t.Errorf("%s: no multi-turn battle read", file)
	}
	if strings.HasPrefix(file, "arena_140k") {
		r := recs[0]
		if r.Battle.Language == "" || r.Vote.CreatedAt.Year() != 2025 || len(r.Battle.ID) != 36 {
			t.Errorf("%s: first record has language %q, time %v, id %q", file, r.Battle.Language, r.Vote.CreatedAt, r.Battle.ID)
		}
	}
}
