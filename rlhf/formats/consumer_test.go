package formats

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf/formats/jsread"
	"github.com/agora-rlhf/agora/rlhf/formats/langdetect"
)

// TestJSONFormatsByDuckDB loads every JSON export with DuckDB's own JSON
// reader and checks the types it infers, then the rows as a trainer would
// take them: no null margin, HH's shared prefix on every row, float
// tstamp and a language on every Arena row.
func TestJSONFormatsByDuckDB(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Margin: true, Key: testKey, Detector: langdetect.New()}
	want := map[Format]map[string]string{
		TRL:               {"prompt": "VARCHAR", "chosen": "VARCHAR", "rejected": "VARCHAR", "margin": "DOUBLE"},
		TRLConversational: {"prompt": "STRUCT(", "chosen": "STRUCT(", "rejected": "STRUCT(", "margin": "DOUBLE"},
		TRLUnpaired:       {"prompt": "VARCHAR", "completion": "VARCHAR", "label": "BOOLEAN"},
		OpenAIPreference:  {"input": "STRUCT(", "preferred_output": "STRUCT(", "non_preferred_output": "STRUCT("},
		HHRLHF:            {"chosen": "VARCHAR", "rejected": "VARCHAR"},
		ArenaJSON: {"question_id": "VARCHAR", "model_a": "VARCHAR", "winner": "VARCHAR", "judge": "VARCHAR", "turn": "BIGINT",
			"anony": "BOOLEAN", "language": "VARCHAR", "language_confidence": "DOUBLE", "tstamp": "DOUBLE", "is_code": "BOOLEAN",
			"conversation_a": "STRUCT(", "conv_metadata": "STRUCT("},
	}
	want[ArenaJSONL] = want[ArenaJSON]
	var paths []string
	rows := map[Format]int{}
	for _, f := range Formats {
		path := filepath.Join(dir, string(f)+f.Ext())
		fh, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		o := opts
		if f.Shape() != ShapePair || f == OpenAIPreference || f == HHRLHF {
			o.Margin = false
		}
		st, err := Export(context.Background(), fh, string(f), o, SliceSource(testRecords()))
		if err != nil {
			t.Fatalf("Export(%s): %v", f, err)
		}
		fh.Close()
		paths, rows[f] = append(paths, path), st.Rows
	}
	tabs := jsread.DuckDB(t, paths...)
	for i, f := range Formats {
		tab := tabs[i]
		if len(tab.Rows) != rows[f] {
			t.Errorf("%s: DuckDB read %d rows, the export wrote %d", f, len(tab.Rows), rows[f])
		}
		for col, typ := range want[f] {
			if got := tab.Type(col); got != typ && !(strings.HasSuffix(typ, "(") && strings.HasPrefix(got, typ)) {
				t.Errorf("%s: column %s is %q, want %s", f, col, got, typ)
			}
		}
		for j, row := range tab.Rows {
			checkTrainable(t, f, j, row)
		}
	}
}

// checkTrainable checks one row as TRL's collator, HH's preprocessing and
// Arena tooling read it.
func checkTrainable(t *testing.T, f Format, i int, row map[string]any) {
	t.Helper()
	switch f {
	case TRL, TRLConversational:
		if _, ok := row["margin"].(float64); !ok {
			t.Errorf("%s row %d: margin %#v is not a number", f, i, row["margin"])
		}
	case HHRLHF:
		c, _ := row["chosen"].(string)
		r, _ := row["rejected"].(string)
		if err := CheckHHSharedPrefix(c, r); err != nil {
			t.Errorf("row %d: %v", i, err)
		}
	case ArenaJSON, ArenaJSONL:
		if _, ok := row["tstamp"].(float64); !ok {
			t.Errorf("%s row %d: tstamp %#v is not a number", f, i, row["tstamp"])
		}
		if l, _ := row["language"].(string); l == "" {
			t.Errorf("%s row %d: no language", f, i)
		}
	}
}
