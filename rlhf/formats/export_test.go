package formats

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenOptions are the options of each golden file.
var goldenOptions = map[Format]Options{
	TRL:               {Key: testKey, Margin: true},
	TRLConversational: {Key: testKey, Margin: true},
	TRLUnpaired:       {Key: testKey, Ties: TiesUnpaired},
	OpenAIPreference:  {Key: testKey},
	HHRLHF:            {Key: testKey},
	ArenaJSON:         {Key: testKey},
	ArenaJSONL:        {Key: testKey},
}

func TestGolden(t *testing.T) {
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := Export(context.Background(), &buf, string(f), goldenOptions[f], SliceSource(testRecords())); err != nil {
				t.Fatalf("Export: %v", err)
			}
			checkGolden(t, filepath.Join("testdata", "golden", string(f)+f.Ext()), buf.Bytes())
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
