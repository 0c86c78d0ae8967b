package analytics

import (
	"bufio"
	"context"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf/formats"
)

const llmfao = "../../shared/datasets/llmfao/crowd-comparisons.csv"

// llmfaoPath returns the path of the LLMFAO crowd comparisons, skipping the
// test when the shared data set is not there.
func llmfaoPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{llmfao, "/work/shared/datasets/llmfao/crowd-comparisons.csv"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the LLMFAO data set is missing: CI must have shared/ beside the repository")
	}
	t.Skip("SKIPPED: LLMFAO data set not found (../shared/datasets/llmfao)")
	return ""
}

func TestLLMFAO(t *testing.T) {
	var d Dataset
	f, err := os.Open(llmfaoPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := formats.ReadCounts(f, formats.ImportCSV, formats.ReadOptions{Strict: true}, &d)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 8931 || d.Len() != 8931 || len(d.Models()) != 59 {
		t.Fatalf("read %d battles (%d stored) among %d models, want 8931 among 59", st.Records, d.Len(), len(d.Models()))
	}
	c := d.Count(Filter{})
	var ties int64
	for i := 0; i < c.N(); i++ {
		_, _, t := c.Record(i)
		ties += t
	}
	if ties/2 != 3471 {
		t.Errorf("ties = %d, want 3471", ties/2)
	}
	assertSolversAgree(t, c)
	opt := DefaultOptions()
	opt.Rounds = 200
	lb, err := Compute(context.Background(), &d, opt)
	if err != nil {
		t.Fatal(err)
	}
	if top := lb.Models[0].Model; top != "GPT 4" {
		t.Errorf("top model = %q, want GPT 4", top)
	}
	var mean float64
	for _, r := range lb.Models {
		mean += r.Rating
		if !(r.CILower <= r.Rating && r.Rating <= r.CIUpper) {
			t.Errorf("%s: rating %.1f outside its interval [%.1f, %.1f]", r.Model, r.Rating, r.CILower, r.CIUpper)
		}
	}
	if mean /= float64(len(lb.Models)); math.Abs(mean-1000) > 1e-9 {
		t.Errorf("mean rating %v, want 1000", mean)
	}
	t.Logf("top: %s %.1f [%.1f, %.1f], Elo %.1f", lb.Models[0].Model, lb.Models[0].Rating, lb.Models[0].CILower, lb.Models[0].CIUpper, lb.Models[0].Elo)
}

func TestMeasureStyle(t *testing.T) {
	text := "# Head\n## Sub\n#nospace\n1. one\n  2. two\n- a\n* b\n+ c\n-x\n**bold** and __also__ and ** not\n```\n# not a header\n- nor a list\n```\n"
	got := MeasureStyle(text)
	if got.Headers != 2 || got.Lists != 5 || got.Bold != 2 {
		t.Errorf("MeasureStyle = %+v, want 2 headers, 5 list items, 2 bold", got)
	}
}

func TestWriteJSONLRoundTrip(t *testing.T) {
	s, _ := NewSynth(SynthConfig{Models: 5, Battles: 500, Seed: 9, TieRate: 0.5})
	var buf strings.Builder
	w := bufio.NewWriter(&buf)
	var want Dataset
	err := s.Generate(func(b *Battle) error {
		b.Contributor, b.Language = "ü\"ser", "English"
		if err := want.Add(*b); err != nil {
			return err
		}
		return WriteJSONL(w, b)
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Flush()
	var got Dataset
	if _, err := formats.ReadCounts(strings.NewReader(buf.String()), formats.ImportArena, formats.ReadOptions{Strict: true}, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.a, want.a) || !reflect.DeepEqual(got.w, want.w) || !reflect.DeepEqual(got.t, want.t) ||
		!reflect.DeepEqual(got.contributor.sym.names, want.contributor.sym.names) {
		t.Errorf("JSONL round trip changed the battles")
	}
}
