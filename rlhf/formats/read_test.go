package formats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/agora-rlhf/agora/rlhf"
)

// readAll reads input and returns the records and the stats.
func readAll(t *testing.T, input string, f ImportFormat, opts ReadOptions) ([]rlhf.Record, ReadStats, error) {
	t.Helper()
	if opts.Source == "" {
		opts.Source = "test"
	}
	var recs []rlhf.Record
	st, err := Read(strings.NewReader(input), f, opts, func(r *rlhf.Record) error {
		c := *r
		c.Battle.Turns = append([]rlhf.Turn(nil), r.Battle.Turns...)
		recs = append(recs, c)
		return nil
	})
	return recs, st, err
}

func TestArenaRoundTrip(t *testing.T) {
	for _, f := range []Format{ArenaJSONL, ArenaJSON} {
		t.Run(string(f), func(t *testing.T) {
			opts := Options{Contributors: ContributorsOmit}
			var first bytes.Buffer
			if _, err := Export(context.Background(), &first, string(f), opts, SliceSource(testRecords())); err != nil {
				t.Fatal(err)
			}
			recs, st, err := readAll(t, first.String(), ImportArena, ReadOptions{Source: "again"})
			if err != nil || st.Bad != 0 {
				t.Fatalf("Read: %v, %+v", err, st)
			}
			var want []rlhf.Record
			for _, r := range testRecords() {
				if r.Battle.ID != "b7" {
					want = append(want, r)
				}
			}
			if len(recs) != len(want) {
				t.Fatalf("read %d records, want %d", len(recs), len(want))
			}
			for i := range want {
				g, w := &recs[i], &want[i]
				if g.Battle.ID != w.Battle.ID || g.Vote.ID != w.Battle.ID || g.Battle.ModelA != w.Battle.ModelA || g.Battle.ModelB != w.Battle.ModelB ||
					g.Vote.Winner != w.Vote.Winner || g.Battle.Language != w.Battle.Language || !g.Vote.CreatedAt.Equal(w.Vote.CreatedAt) ||
					g.Battle.Source != "again" || g.Vote.ContributorID != "" || len(g.Battle.Turns) != len(w.Battle.Turns) {
					t.Errorf("record %d = %+v, want the fields of %+v", i, g, w)
					continue
				}
				for j := range w.Battle.Turns {
					gt, wt := g.Battle.Turns[j], w.Battle.Turns[j]
					if gt.Prompt != wt.Prompt || gt.A.Content != wt.A.Content || gt.B.Content != wt.B.Content || gt.A.Tokens != wt.A.Tokens || gt.B.Tokens != wt.B.Tokens {
						t.Errorf("record %d turn %d = %+v, want %+v", i, j, gt, wt)
					}
				}
			}
			var second bytes.Buffer
			if _, err := Export(context.Background(), &second, string(f), opts, SliceSource(recs)); err != nil {
				t.Fatal(err)
			}
			if first.String() != second.String() {
				t.Errorf("export after import differs:\nfirst:\n%s\nsecond:\n%s", first.String(), second.String())
			}
		})
	}
}

func TestPairRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		export Format
		read   ImportFormat
	}{{TRL, ImportTRL}, {TRLConversational, ImportTRL}, {HHRLHF, ImportHH}} {
		t.Run(string(tc.export), func(t *testing.T) {
			var out bytes.Buffer
			if _, err := Export(context.Background(), &out, string(tc.export), Options{Margin: true}, SliceSource(testRecords())); err != nil {
				t.Fatal(err)
			}
			recs, st, err := readAll(t, out.String(), tc.read, ReadOptions{ChosenModel: "good", RejectedModel: "bad"})
			if err != nil || st.Bad != 0 {
				t.Fatalf("Read: %v, %+v", err, st)
			}
			// Exporting what was read gives the same rows back.
			var again bytes.Buffer
			if _, err := Export(context.Background(), &again, string(tc.export), Options{Margin: true}, SliceSource(recs)); err != nil {
				t.Fatal(err)
			}
			if out.String() != again.String() {
				t.Errorf("rows differ after import:\nfirst:\n%s\nagain:\n%s", out.String(), again.String())
			}
			sides := map[rlhf.Winner]int{}
			for _, r := range recs {
				sides[r.Vote.Winner]++
				if r.Battle.Model(winnerSide(r.Vote.Winner)) != "good" {
					t.Errorf("record %s: winner %s is %q, want the chosen model", r.Battle.ID, r.Vote.Winner, r.Battle.Model(winnerSide(r.Vote.Winner)))
				}
			}
			if len(recs) > 0 && sides[rlhf.WinnerA]+sides[rlhf.WinnerB] != len(recs) {
				t.Errorf("winners = %v, want only a and b", sides)
			}
		})
	}
}

func winnerSide(w rlhf.Winner) rlhf.Side {
	if w == rlhf.WinnerB {
		return rlhf.SideB
	}
	return rlhf.SideA
}

func TestReadIDsAreStable(t *testing.T) {
	input := `{"model_a":"x","model_b":"y","winner":"model_a"}` + "\n" + `{"model_a":"x","model_b":"y","winner":"model_a"}` + "\n"
	r1, _, err := readAll(t, input, ImportArena, ReadOptions{Source: "s"})
	if err != nil {
		t.Fatal(err)
	}
	r2, _, _ := readAll(t, input, ImportArena, ReadOptions{Source: "s"})
	r3, _, _ := readAll(t, input, ImportArena, ReadOptions{Source: "other"})
	if len(r1) != 2 || r1[0].Battle.ID == r1[1].Battle.ID {
		t.Fatalf("ids %v: want two different ids for two identical lines", ids(r1))
	}
	if !reflect.DeepEqual(ids(r1), ids(r2)) {
		t.Errorf("ids differ between reads: %v and %v", ids(r1), ids(r2))
	}
	if r1[0].Battle.ID == r3[0].Battle.ID {
		t.Errorf("two sources gave the same id %s", r1[0].Battle.ID)
	}
}

func ids(recs []rlhf.Record) []string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Battle.ID)
	}
	return s
}

func TestHostileInput(t *testing.T) {
	good := `{"question_id":"q1","model_a":"x","model_b":"y","winner":"model_a","tstamp":1712345678.5}`
	huge := `{"model_a":"x","model_b":"y","winner":"tie","conversation_a":[{"role":"user","content":"` + strings.Repeat("a", 5<<20) +
		`"},{"role":"assistant","content":"b"}],"conversation_b":[{"role":"user","content":"` + strings.Repeat("a", 5<<20) + `"},{"role":"assistant","content":"c"}]}`
	for _, tc := range []struct {
		name    string
		format  ImportFormat
		input   string
		opts    ReadOptions
		records int
		line    int    // line of the first error
		msg     string // in the first error
	}{
		{"truncated jsonl", ImportArena, good + "\n" + good[:40], ReadOptions{}, 1, 2, "truncated JSON"},
		{"truncated array", ImportArena, "[\n" + good + ",\n" + good[:30], ReadOptions{}, 1, 3, "array element 2"},
		{"array without end", ImportArena, "[\n" + good + "\n", ReadOptions{}, 1, 3, "after element 1"},
		{"invalid utf-8", ImportArena, good + "\n" + `{"model_a":"x` + "\xff" + `","model_b":"y","winner":"tie"}`, ReadOptions{}, 1, 2, "not valid UTF-8"},
		{"wrong type", ImportArena, `{"model_a":5,"model_b":"y","winner":"tie"}`, ReadOptions{}, 0, 1, "field model_a: got JSON number, want a string"},
		{"wrong list type", ImportArena, `{"model_a":"x","model_b":"y","winner":"tie","conversation_a":"hi"}`, ReadOptions{}, 0, 1, "field conversation_a: got JSON string, want a list"},
		{"unknown winner", ImportArena, good + "\n\n" + `{"model_a":"x","model_b":"y","winner":"left"}`, ReadOptions{}, 1, 3, `unknown winner "left"`},
		{"same model", ImportArena, `{"model_a":"x","model_b":"x","winner":"tie"}`, ReadOptions{}, 0, 1, "cannot battle itself"},
		{"repeated id", ImportArena, good + "\n" + good, ReadOptions{}, 1, 2, `battle id "q1" repeats line 1`},
		{"bad tstamp", ImportArena, `{"model_a":"x","model_b":"y","winner":"tie","tstamp":-5}`, ReadOptions{}, 0, 1, "tstamp"},
		{"sides differ", ImportArena, `{"model_a":"x","model_b":"y","winner":"tie","conversation_a":[{"role":"user","content":"p"},{"role":"assistant","content":"a"}],"conversation_b":[{"role":"user","content":"q"},{"role":"assistant","content":"b"}]}`, ReadOptions{}, 0, 1, "different user messages"},
		{"10 MB line accepted", ImportArena, huge + "\n" + good, ReadOptions{}, 2, 0, ""},
		{"10 MB line over limit", ImportArena, huge + "\n" + good, ReadOptions{MaxLineBytes: 1 << 20}, 1, 1, "longer than 1048576 bytes"},
		{"10 MB garbage", ImportTRL, strings.Repeat("x", 10<<20) + "\n" + `{"prompt":"p","chosen":"a","rejected":"b"}`, ReadOptions{}, 1, 1, "invalid JSON"},
		{"trl unpaired", ImportTRL, `{"prompt":"p","completion":"a","label":true}`, ReadOptions{}, 0, 1, "unpaired (KTO)"},
		{"trl mixed", ImportTRL, `{"prompt":"p","chosen":[{"role":"assistant","content":"a"}],"rejected":"b"}`, ReadOptions{}, 0, 1, "all be strings or all be lists"},
		{"trl system", ImportTRL, `{"prompt":[{"role":"system","content":"s"},{"role":"user","content":"p"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]}`, ReadOptions{}, 0, 1, "system message"},
		{"trl wrong type", ImportTRL, `{"prompt":"p","chosen":1,"rejected":"b"}`, ReadOptions{}, 0, 1, "chosen: field record: got JSON number, want a string"},
		{"hh no human", ImportHH, `{"chosen":"Assistant: hi","rejected":"\n\nHuman: a\n\nAssistant: b"}`, ReadOptions{}, 0, 1, "does not start with"},
		{"hh lengths", ImportHH, `{"chosen":"\n\nHuman: a\n\nAssistant: b","rejected":"\n\nHuman: a"}`, ReadOptions{}, 0, 1, "chosen has 2 messages, rejected 1"},
		{"csv unknown winner", ImportCSV, "model_a,model_b,winner\nx,y,model_a\nx,y,maybe\n", ReadOptions{}, 1, 3, `unknown winner "maybe"`},
		{"csv field count", ImportCSV, "model_a,model_b,winner\nx,y\nx,y,tie\n", ReadOptions{}, 1, 2, "2 fields, want 3"},
		{"csv missing column", ImportCSV, "left,right,winner\nx,y,tie\n", ReadOptions{}, 0, 1, "no model_a column"},
		{"csv broken quote", ImportCSV, "model_a,model_b,winner\nx,y,tie\n\"x,y,tie\n", ReadOptions{}, 1, 3, "broken CSV"},
		{"csv invalid utf-8", ImportCSV, "model_a,model_b,winner\nx\xff,y,tie\n", ReadOptions{}, 0, 2, "not valid UTF-8"},
		{"csv long line", ImportCSV, "model_a,model_b,winner\n" + strings.Repeat("x", 2<<20) + ",y,tie\n", ReadOptions{MaxLineBytes: 1 << 20}, 0, 2, "line is too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, st, err := readAll(t, tc.input, tc.format, tc.opts)
			if len(recs) != tc.records {
				t.Errorf("read %d records, want %d", len(recs), tc.records)
			}
			var first *LineError
			if len(st.Errors) > 0 {
				first = st.Errors[0]
			} else if !errors.As(err, &first) && err != nil {
				t.Fatalf("error %v is not a *LineError", err)
			}
			if tc.msg == "" {
				if first != nil || err != nil {
					t.Errorf("unexpected error %v (stats %+v)", err, st)
				}
				return
			}
			if first == nil {
				t.Fatalf("no error, want line %d: %s", tc.line, tc.msg)
			}
			if first.Line != tc.line || !strings.Contains(first.Error(), tc.msg) {
				t.Errorf("first error = %q, want line %d containing %q", first.Error(), tc.line, tc.msg)
			}
			// Strict mode stops at the same error and passes on nothing after it.
			opts := tc.opts
			opts.Strict = true
			srecs, _, serr := readAll(t, tc.input, tc.format, opts)
			var le *LineError
			if !errors.As(serr, &le) || le.Line != tc.line {
				t.Errorf("strict read error = %v, want one at line %d", serr, tc.line)
			}
			if len(srecs) > tc.records {
				t.Errorf("strict read passed on %d records, more than %d", len(srecs), tc.records)
			}
		})
	}
}

func TestReadStopsOnCallbackError(t *testing.T) {
	input := "model_a,model_b,winner\nx,y,tie\nx,y,tie\n"
	stop := errors.New("stop here")
	n := 0
	_, err := Read(strings.NewReader(input), ImportCSV, ReadOptions{Source: "s"}, func(*rlhf.Record) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Read = %v after %d records, want the callback's error after 1", err, n)
	}
}

func TestReadCSVMapping(t *testing.T) {
	input := "id,prompt,worker,winner,left,right,when\n" +
		"0,8,58,tie,Model One,Model Two,2024-01-02T03:04:05Z\n" +
		"0,8,83,left,Model One,Model Two,1712345678.25\n" +
		"1,9,14,right,Model Three,Model One,\n"
	opts := ReadOptions{
		Columns: map[string]string{"model_a": "left", "model_b": "right", "judge": "worker", "tstamp": "when", "prompt": ""},
		Winners: map[string]rlhf.Winner{"left": rlhf.WinnerA, "right": rlhf.WinnerB},
		Now:     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	recs, st, err := readAll(t, input, ImportCSV, opts)
	if err != nil || st.Bad != 0 || len(recs) != 3 {
		t.Fatalf("Read = %d records, %+v, %v", len(recs), st, err)
	}
	type got struct {
		a, b, judge string
		w           rlhf.Winner
		at          time.Time
		prompt      string
	}
	want := []got{
		{"Model One", "Model Two", "58", rlhf.WinnerTie, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{"Model One", "Model Two", "83", rlhf.WinnerA, time.Unix(1712345678, 250_000_000).UTC(), ""},
		{"Model Three", "Model One", "14", rlhf.WinnerB, opts.Now, ""},
	}
	for i, r := range recs {
		g := got{r.Battle.ModelA, r.Battle.ModelB, r.Vote.ContributorID, r.Vote.Winner, r.Vote.CreatedAt, r.Battle.Turns[0].Prompt}
		if g != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, g, want[i])
		}
	}
	if _, _, err := readAll(t, input, ImportCSV, ReadOptions{Columns: map[string]string{"modela": "left"}}); err == nil || !strings.Contains(err.Error(), `unknown column "modela"`) {
		t.Errorf("unknown column in map: err = %v", err)
	}
}

func fuzzRead(f *testing.F, format ImportFormat, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, strict := range []bool{false, true} {
			_, err := Read(bytes.NewReader(data), format, ReadOptions{Source: "fuzz", Strict: strict, MaxLineBytes: 4096}, func(r *rlhf.Record) error {
				if err := r.Validate(); err != nil {
					return fmt.Errorf("invalid record passed on: %v", err)
				}
				return nil
			})
			if err != nil && strings.Contains(err.Error(), "invalid record passed on") {
				t.Fatal(err)
			}
		}
	})
}

func FuzzReadArena(f *testing.F) {
	fuzzRead(f, ImportArena,
		`{"question_id":"q","model_a":"x","model_b":"y","winner":"model_a","tstamp":1.5,"turn":1}`,
		`[{"model_a":"x","model_b":"y","winner":"tie","conversation_a":[{"role":"user","content":"p"},{"role":"assistant","content":"a"}],"conversation_b":[{"role":"user","content":"p"},{"role":"assistant","content":"b"}]}]`,
		"[\n{\"model_a\":\"x\"},\n")
}

func FuzzReadTRL(f *testing.F) {
	fuzzRead(f, ImportTRL,
		`{"prompt":"p","chosen":"a","rejected":"b","margin":1}`,
		`{"chosen":[{"role":"user","content":"p"},{"role":"assistant","content":"a"}],"rejected":[{"role":"user","content":"p"},{"role":"assistant","content":"b"}]}`)
}

func FuzzReadHH(f *testing.F) {
	fuzzRead(f, ImportHH, `{"chosen":"\n\nHuman: a\n\nAssistant: b","rejected":"\n\nHuman: a\n\nAssistant: c"}`)
}

func FuzzReadCSV(f *testing.F) {
	fuzzRead(f, ImportCSV, "model_a,model_b,winner,tstamp\nx,y,model_a,1.5\n\"q\"\"\",y,tie,\n", "a,b\n1,2\n")
}

// TestReadArenaStopsCleanly checks that the parallel reader leaves no
// goroutine behind when the caller stops it or a strict read fails.
func TestReadArenaStopsCleanly(t *testing.T) {
	defer goleak.VerifyNone(t)
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, `{"question_id":"q%d","model_a":"x","model_b":"y","winner":"tie"}`+"\n", i)
	}
	b.WriteString(`{"model_a":"x","model_b":"y","winner":"nobody"}` + "\n")
	input := b.String()
	stop := errors.New("enough")
	n := 0
	_, err := Read(strings.NewReader(input), ImportArena, ReadOptions{Source: "s"}, func(*rlhf.Record) error {
		if n++; n == 700 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 700 {
		t.Errorf("Read = %v after %d records, want the callback's error after 700", err, n)
	}
	st, err := Read(strings.NewReader(input), ImportArena, ReadOptions{Source: "s", Strict: true}, func(*rlhf.Record) error { return nil })
	var le *LineError
	if !errors.As(err, &le) || le.Line != 5001 || st.Records != 5000 {
		t.Errorf("strict Read = %v with %d records, want line 5001 after 5000", err, st.Records)
	}
}

// TestUnquoteSimple checks that the Arena reader's fast string decoding
// gives what encoding/json gives, or declines.
func TestUnquoteSimple(t *testing.T) {
	for _, in := range []string{`""`, `"plain"`, `"a\nb\tc\"d\\e\/f\bg\fh\ri"`, `"trailing\n"`, `"\\"`,
		`"héllo wörld ✓"`, `"\u00e9"`, `"\ud83d\ude00"`, "\"bad \xff utf8\"", `"x\u0041y\n"`} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, ok := unquoteSimple([]byte(in))
		if ok && got != want {
			t.Errorf("unquoteSimple(%s) = %q, want %q", in, got, want)
		}
		if !ok && !strings.Contains(in, `\u`) && utf8.ValidString(in) {
			t.Errorf("unquoteSimple(%s) declined a string it can decode", in)
		}
	}
}
