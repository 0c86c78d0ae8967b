package formats

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// readCounts reads in with ReadCounts and returns the summaries it gave.
func readCounts(t *testing.T, in string, f ImportFormat, opts ReadOptions) ([]rlhf.Summary, ReadStats, error) {
	t.Helper()
	var got summaries
	st, err := ReadCounts(strings.NewReader(in), f, opts, &got)
	return got, st, err
}

// summaries is a CountSink that keeps what it is given.
type summaries []rlhf.Summary

func (ss *summaries) AddSummary(s *rlhf.Summary) error {
	*ss = append(*ss, *s)
	return nil
}

func lineNumbers(st ReadStats) []int {
	var lines []int
	for _, e := range st.Errors {
		lines = append(lines, e.Line)
	}
	return lines
}

func TestReadCountsJSONL(t *testing.T) {
	in := `{"model_a":"x","model_b":"y","winner":"model_a","tstamp":1712345678.5,"judge":"u1","language":"English"}
{"model_a":"y","model_b":"z","winner":"tie (bothbad)","conversation_a":[{"role":"user","content":"hi"}],"anony":true}

{"model_a":"x","model_b":"x","winner":"model_b"}
{"model_a":"x","winner":"model_b"}
{"model_a":"x","model_b":"z","winner":"nobody"}
not json
{"model_a":"z\u00e9","model_b":"x","winner":"tie","tstamp":1712345670,"failed":true}
`
	got, st, err := readCounts(t, in, ImportArena, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 7 || st.Records != 3 || st.Bad != 4 {
		t.Fatalf("%d lines, %d records, %d bad; want 7, 3, 4 (errors %v)", st.Lines, st.Records, st.Bad, st.Errors)
	}
	if lines, want := lineNumbers(st), []int{4, 5, 6, 7}; !slices.Equal(lines, want) {
		t.Errorf("bad lines %v, want %v", lines, want)
	}
	want := []rlhf.Summary{
		{ModelA: "x", ModelB: "y", Winner: rlhf.WinnerA, Anonymous: true, Time: time.Unix(1712345678, 5e8).UTC(), Contributor: "u1", Language: "English"},
		{ModelA: "y", ModelB: "z", Winner: rlhf.WinnerBothBad, Anonymous: true},
		{ModelA: "zé", ModelB: "x", Winner: rlhf.WinnerTie, Anonymous: true, Failed: true, Time: time.Unix(1712345670, 0).UTC()},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadCounts = %+v, want %+v", got, want)
	}
	_, _, err = readCounts(t, in, ImportArena, ReadOptions{Strict: true})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 4 {
		t.Errorf("strict read: error %v, want line 4", err)
	}
}

func TestReadCountsJSONArrayAndStyle(t *testing.T) {
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
	got, st, err := readCounts(t, in, ImportArena, ReadOptions{Style: true})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 2 || st.Bad != 1 || st.Errors[0].Line != 10 {
		t.Fatalf("stats %+v, want 2 records, the battle on line 10 bad", st)
	}
	wantA := rlhf.Style{Tokens: 300, Headers: 3, Lists: 7, Bold: 1}
	wantB := rlhf.Style{Tokens: 100}
	if !got[0].HasStyle || got[0].StyleA != wantA || got[0].StyleB != wantB {
		t.Errorf("style from conv_metadata: %+v / %+v, want %+v / %+v", got[0].StyleA, got[0].StyleB, wantA, wantB)
	}
	measured := rlhf.MeasureStyle("# Title\n- a\n- b\n**bold**")
	if !got[1].HasStyle || got[1].StyleA != measured || got[1].StyleA.Headers != 1 || got[1].StyleA.Lists != 2 {
		t.Errorf("style measured from the conversation: %+v, want %+v", got[1].StyleA, measured)
	}
	got, _, _ = readCounts(t, in, ImportArena, ReadOptions{})
	if got[0].HasStyle {
		t.Errorf("style read without ReadOptions.Style")
	}
}

func TestReadCountsCSV(t *testing.T) {
	in := "left,right,winner,worker,failed\n" +
		"a,b,left,w1,\n" +
		"b,c,right,w2,false\n" +
		"a,c,nobody,w3,\n" +
		"c,a,tie,w4,true\n"
	got, st, err := readCounts(t, in, ImportCSV, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Lines != 4 || st.Records != 3 || st.Bad != 1 || st.Errors[0].Line != 4 {
		t.Fatalf("stats %+v, want 4 lines, 3 records, line 4 bad", st)
	}
	want := []rlhf.Summary{
		{ModelA: "a", ModelB: "b", Winner: rlhf.WinnerA, Anonymous: true, Contributor: "w1"},
		{ModelA: "b", ModelB: "c", Winner: rlhf.WinnerB, Anonymous: true, Contributor: "w2"},
		{ModelA: "c", ModelB: "a", Winner: rlhf.WinnerTie, Anonymous: true, Contributor: "w4", Failed: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadCounts = %+v, want %+v", got, want)
	}
	if _, _, err := readCounts(t, "model_a,winner\nx,model_a\n", ImportCSV, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "no model_b column") {
		t.Errorf("a header without model_b: error %v", err)
	}
}

// TestReadCountsAgreesWithRead reads the same Arena file both ways: every
// record's summary is what the columnar reader gives.
func TestReadCountsAgreesWithRead(t *testing.T) {
	in := `{"question_id":"q1","model_a":"x","model_b":"y","winner":"model_b","tstamp":1712345678,"judge":"u","language":"German",` +
		`"conversation_a":[{"role":"user","content":"hi"},{"role":"assistant","content":"# A\n- one"}],` +
		`"conversation_b":[{"role":"user","content":"hi"},{"role":"assistant","content":"**b**"}]}
{"question_id":"q2","model_a":"y","model_b":"z","winner":"tie"}
`
	var fromRecords []rlhf.Summary
	_, err := Read(strings.NewReader(in), ImportArena, ReadOptions{Source: "s", Strict: true}, func(r *rlhf.Record) error {
		s := r.Summary()
		s.Source = ""
		fromRecords = append(fromRecords, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := readCounts(t, in, ImportArena, ReadOptions{Strict: true, Style: true})
	if err != nil {
		t.Fatal(err)
	}
	fromRecords[1].Time, fromRecords[1].StyleA, fromRecords[1].StyleB, fromRecords[1].HasStyle = time.Time{}, rlhf.Style{}, rlhf.Style{}, false
	if !slices.Equal(got, fromRecords) {
		t.Errorf("ReadCounts = %+v\nRead's summaries = %+v", got, fromRecords)
	}
}

// TestReadCountsArrayElementChecks refuses an array element that is too
// long or not UTF-8 as a bad line, as Read does.
func TestReadCountsArrayElementChecks(t *testing.T) {
	long := `{"model_a":"x","model_b":"y","winner":"tie","judge":"` + strings.Repeat("j", 300) + `"}`
	in := "[\n" + long + ",\n{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"tie\",\"judge\":\"\xff\"},\n{\"model_a\":\"x\",\"model_b\":\"y\",\"winner\":\"tie\"}\n]"
	opts := ReadOptions{MaxLineBytes: 200}
	_, st, err := readCounts(t, in, ImportArena, opts)
	if err != nil || st.Records != 1 || st.Bad != 2 {
		t.Errorf("ReadCounts: %d good, %d bad, %v; want 1 good and 2 bad", st.Records, st.Bad, err)
	}
	opts.Source = "s"
	rst, err := Read(strings.NewReader(in), ImportArena, opts, func(*rlhf.Record) error { return nil })
	if err != nil || rst.Records != st.Records || rst.Bad != st.Bad {
		t.Errorf("Read: %d good, %d bad, %v; want what ReadCounts found", rst.Records, rst.Bad, err)
	}
}
