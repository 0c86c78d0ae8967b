package analytics

import (
	"bufio"
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
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
	st, err := ReadFile(llmfaoPath(t), &d, ReadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Battles != 8931 || d.Len() != 8931 || len(d.Models()) != 59 {
		t.Fatalf("read %d battles (%d stored) among %d models, want 8931 among 59", st.Battles, d.Len(), len(d.Models()))
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

func TestReadJSONL(t *testing.T) {
	in := `{"model_a":"x","model_b":"y","winner":"model_a","tstamp":1712345678.5,"judge":"u1","language":"English"}
{"model_a":"y","model_b":"z","winner":"tie (bothbad)","conversation_a":[{"role":"user","content":"hi"}],"anony":true}

{"model_a":"x","model_b":"x","winner":"model_b"}
{"model_a":"x","winner":"model_b"}
{"model_a":"x","model_b":"z","winner":"nobody"}
not json
{"model_a":"z\u00e9","model_b":"x","winner":"tie","tstamp":1712345670}
`
	var d Dataset
	st, err := Read(strings.NewReader(in), &d, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Format != "jsonl" || st.Battles != 3 || st.Skipped != 4 {
		t.Fatalf("format %s, %d battles, %d skipped; want jsonl, 3, 4 (errors %v)", st.Format, st.Battles, st.Skipped, st.Errors)
	}
	var lines []int
	for _, e := range st.Errors {
		lines = append(lines, e.Line)
	}
	if want := []int{4, 5, 6, 7}; !equalInts(lines, want) {
		t.Errorf("bad lines %v, want %v", lines, want)
	}
	if got := d.Models(); !equalStrings(got, []string{"x", "y", "z", "zé"}) {
		t.Errorf("models %v", got)
	}
	if !d.unordered || d.order()[0] != 2 {
		t.Errorf("the last battle is earliest: order %v", d.order())
	}
	_, err = Read(strings.NewReader(in), &Dataset{}, ReadOptions{Strict: true})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 4 {
		t.Errorf("strict read: error %v, want line 4", err)
	}
}

func TestReadJSONArrayAndStyle(t *testing.T) {
	in := `[
 {"model_a": "x", "model_b": "y", "winner": "model_a",
  "conv_metadata": {"sum_assistant_a_tokens": 300, "sum_assistant_b_tokens": 100,
    "header_count_a": {"h1": 2, "h2": 1}, "header_count_b": {"h1": 0},
    "list_count_a": {"ordered": 3, "unordered": 4}, "list_count_b": {"ordered": 0, "unordered": 0},
    "bold_count_a": {"**": 1, "__": 0}, "bold_count_b": {"**": 0, "__": 0}}},
 {"model_a": "y", "model_b": "x", "winner": "model_b",
  "conversation_a": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "# Title\n- a\n- b\n**bold**"}],
  "conversation_b": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "plain"}]},
 {"model_a": "y", "winner": "model_b"}
]`
	var d Dataset
	st, err := Read(strings.NewReader(in), &d, ReadOptions{Style: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Format != "json" || st.Battles != 2 || st.Skipped != 1 || st.Errors[0].Line != 3 {
		t.Fatalf("stats %+v, want json, 2 battles, element 3 skipped", st)
	}
	if d.styled != 2 {
		t.Fatalf("%d battles with style, want 2", d.styled)
	}
	want := []float32{float32(200.0 / 401), float32(3.0 / 4), float32(7.0 / 8), float32(1.0 / 2)}
	for k, w := range want {
		if d.style[k] != w {
			t.Errorf("style[%d] = %v, want %v", k, d.style[k], w)
		}
	}
	// Second battle: A's answer has 1 header, 2 list items, 1 bold.
	if d.style[numStyle+1] != float32(1.0/2) || d.style[numStyle+2] != float32(2.0/3) {
		t.Errorf("measured style %v", d.style[numStyle:])
	}
}

func TestMeasureStyle(t *testing.T) {
	text := "# Head\n## Sub\n#nospace\n1. one\n  2. two\n- a\n* b\n+ c\n-x\n**bold** and __also__ and ** not\n```\n# not a header\n- nor a list\n```\n"
	got := MeasureStyle(text)
	if got.Headers != 2 || got.Lists != 5 || got.Bold != 2 {
		t.Errorf("MeasureStyle = %+v, want 2 headers, 5 list items, 2 bold", got)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
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
	if _, err := Read(strings.NewReader(buf.String()), &got, ReadOptions{Strict: true}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.a, want.a) || !reflect.DeepEqual(got.w, want.w) || !reflect.DeepEqual(got.t, want.t) ||
		!reflect.DeepEqual(got.contributor.sym.names, want.contributor.sym.names) {
		t.Errorf("JSONL round trip changed the battles")
	}
}
