package formats

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// These tests decode every format with encoding/json, independently of the
// hand-written encoders, and check every field.

const (
	b2Prompt = "Write \"hi\" in <html>\n\ttab"
	b2A      = "# Title\n\n**bold** and __under__\n\n1. one\n2. two\n- item\n```\n# not a header\n```"
	b2B      = "<b>hi</b> \u2028 ünïcödé 😀"
)

func exportLines[T any](t *testing.T, f Format, opts Options) ([]T, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Export(context.Background(), &buf, string(f), opts, SliceSource(testRecords()))
	if err != nil {
		t.Fatalf("Export(%s): %v", f, err)
	}
	var rows []T
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var row T
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("%s row %d: %v\n%s", f, len(rows)+1, err, sc.Text())
		}
		rows = append(rows, row)
	}
	if st.Rows != len(rows) {
		t.Errorf("Stats.Rows = %d, want %d lines", st.Rows, len(rows))
	}
	return rows, st
}

func ptr[T any](v T) *T { return &v }

func msgs(roleContent ...string) []rlhf.Message {
	var m []rlhf.Message
	for i := 0; i+1 < len(roleContent); i += 2 {
		m = append(m, rlhf.Message{Role: roleContent[i], Content: roleContent[i+1]})
	}
	return m
}

func TestReadBackTRL(t *testing.T) {
	type row struct {
		Prompt   string   `json:"prompt"`
		Chosen   string   `json:"chosen"`
		Rejected string   `json:"rejected"`
		Margin   *float64 `json:"margin"`
	}
	got, st := exportLines[row](t, TRL, Options{Margin: true})
	want := []row{
		{"What colour is the sky?", "Blue.", "Green.", ptr(2.0 / 3)},
		{b2Prompt, b2B, b2A, ptr(0.0)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %+v, want %+v", got, want)
	}
	wantSkipped := map[string]int{skipTie: 1, skipBothBad: 1, skipMultiTurn: 2, skipNoText: 1}
	if !reflect.DeepEqual(st.Skipped, wantSkipped) || st.Failed != 1 || st.Duplicates != 1 || st.Records != 9 || st.Written != 2 {
		t.Errorf("stats = %+v, want skipped %v, 1 failed, 1 duplicate, 9 records, 2 written", st, wantSkipped)
	}
}

func TestReadBackTRLConversational(t *testing.T) {
	type row struct {
		Prompt   []rlhf.Message `json:"prompt"`
		Chosen   []rlhf.Message `json:"chosen"`
		Rejected []rlhf.Message `json:"rejected"`
		Margin   *float64       `json:"margin"`
	}
	got, _ := exportLines[row](t, TRLConversational, Options{Margin: true})
	want := []row{
		{msgs("user", "What colour is the sky?"), msgs("assistant", "Blue."), msgs("assistant", "Green."), ptr(2.0 / 3)},
		{msgs("user", b2Prompt), msgs("assistant", b2B), msgs("assistant", b2A), ptr(0.0)},
		{msgs("user", "Hi"), msgs("assistant", "Hello!", "user", "Tell a joke", "assistant", "Why did the chicken…"),
			msgs("assistant", "Hey.", "user", "Tell a joke", "assistant", "No."), ptr(1.0)},
		{msgs("user", "Hi", "assistant", "Hello!", "user", "Name a fruit"), msgs("assistant", "Apple"), msgs("assistant", "Rock"), ptr(1.0 / 3)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %+v, want %+v", got, want)
	}
	// Without --margin there is no margin column.
	got, _ = exportLines[row](t, TRLConversational, Options{})
	for i, r := range got {
		if r.Margin != nil {
			t.Errorf("row %d has margin %v without Options.Margin", i, *r.Margin)
		}
	}
}

func TestReadBackTRLUnpaired(t *testing.T) {
	type row struct {
		Prompt     string `json:"prompt"`
		Completion string `json:"completion"`
		Label      bool   `json:"label"`
	}
	decisive := []row{
		{"What colour is the sky?", "Blue.", true}, {"What colour is the sky?", "Green.", false},
		{b2Prompt, b2A, false}, {b2Prompt, b2B, true},
	}
	got, st := exportLines[row](t, TRLUnpaired, Options{})
	if !reflect.DeepEqual(got, decisive) {
		t.Errorf("default rows = %+v, want %+v", got, decisive)
	}
	if st.Skipped[skipTie] != 1 || st.Skipped[skipBothBad] != 1 {
		t.Errorf("skipped = %v, want one tie and one both-bad", st.Skipped)
	}
	got, _ = exportLines[row](t, TRLUnpaired, Options{Ties: TiesUnpaired})
	want := append(decisive, row{"Say yes.", "Yes.", true}, row{"Say yes.", "Yes!", true}, row{"2+2?", "5", false}, row{"2+2?", "22", false})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows with ties = %+v, want %+v", got, want)
	}
}

func TestReadBackOpenAI(t *testing.T) {
	type input struct {
		Messages          []rlhf.Message `json:"messages"`
		Tools             []any          `json:"tools"`
		ParallelToolCalls bool           `json:"parallel_tool_calls"`
	}
	type row struct {
		Input              input          `json:"input"`
		PreferredOutput    []rlhf.Message `json:"preferred_output"`
		NonPreferredOutput []rlhf.Message `json:"non_preferred_output"`
	}
	got, _ := exportLines[row](t, OpenAIPreference, Options{})
	want := []row{
		{input{msgs("user", "What colour is the sky?"), []any{}, true}, msgs("assistant", "Blue."), msgs("assistant", "Green.")},
		{input{msgs("user", b2Prompt), []any{}, true}, msgs("assistant", b2B), msgs("assistant", b2A)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %+v, want %+v", got, want)
	}
}

func TestReadBackHH(t *testing.T) {
	type row struct {
		Chosen   string `json:"chosen"`
		Rejected string `json:"rejected"`
	}
	got, st := exportLines[row](t, HHRLHF, Options{})
	// The battle whose sides differ in the first of two turns cannot keep
	// HH's shared prefix: it is left out and counted.
	want := []row{
		{"\n\nHuman: What colour is the sky?\n\nAssistant: Blue.", "\n\nHuman: What colour is the sky?\n\nAssistant: Green."},
		{"\n\nHuman: " + b2Prompt + "\n\nAssistant: " + b2B, "\n\nHuman: " + b2Prompt + "\n\nAssistant: " + b2A},
		{"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Name a fruit\n\nAssistant: Apple",
			"\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Name a fruit\n\nAssistant: Rock"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %+v, want %+v", got, want)
	}
	if st.Skipped[skipHHPrefix] != 1 {
		t.Errorf("Skipped[%q] = %d, want 1", skipHHPrefix, st.Skipped[skipHHPrefix])
	}
	for i, r := range got {
		if err := CheckHHSharedPrefix(r.Chosen, r.Rejected); err != nil {
			t.Errorf("row %d: %v", i, err)
		}
	}
}

type arenaMsgOut struct {
	Role      string `json:"role"`
	Content   string `json:"content"`
	NumTokens *int   `json:"num_tokens"`
}

type arenaRowOut struct {
	QuestionID    string         `json:"question_id"`
	ModelA        string         `json:"model_a"`
	ModelB        string         `json:"model_b"`
	Winner        string         `json:"winner"`
	Judge         *string        `json:"judge"`
	Turn          int            `json:"turn"`
	Anony         bool           `json:"anony"`
	Language      string         `json:"language"`
	LanguageConf  *float64       `json:"language_confidence"`
	Tstamp        json.Number    `json:"tstamp"`
	IsCode        bool           `json:"is_code"`
	ConversationA []arenaMsgOut  `json:"conversation_a"`
	ConversationB []arenaMsgOut  `json:"conversation_b"`
	ConvMetadata  map[string]any `json:"conv_metadata"`
}

// wantArena builds the expected Arena row of r by the documented rules.
func wantArena(r *rlhf.Record, judge *string) arenaRowOut {
	b := &r.Battle
	row := arenaRowOut{
		QuestionID: b.ID, ModelA: b.ModelA, ModelB: b.ModelB, Winner: r.Vote.Winner.ArenaWinner(),
		Judge: judge, Turn: len(b.Turns), Anony: true,
		Tstamp: json.Number(strconv.FormatFloat(float64(r.Vote.CreatedAt.UnixMicro())/1e6, 'f', -1, 64)),
	}
	if !strings.Contains(string(row.Tstamp), ".") {
		row.Tstamp += ".0" // always a float
	}
	row.Language = "unknown"
	if b.Language != "" {
		row.Language = b.Language
	}
	for _, t := range b.Turns {
		row.IsCode = row.IsCode || strings.Contains(t.Prompt+t.A.Content+t.B.Content, "```")
	}
	if !HasText(b) {
		return row
	}
	meta := map[string]any{"turns": float64(len(b.Turns))}
	for _, s := range []rlhf.Side{rlhf.SideA, rlhf.SideB} {
		var conv []arenaMsgOut
		tokens := 0
		var texts []string
		for _, t := range b.Turns {
			a := t.Answer(s)
			conv = append(conv, arenaMsgOut{Role: "user", Content: t.Prompt}, arenaMsgOut{Role: "assistant", Content: a.Content, NumTokens: ptr(a.Tokens)})
			tokens += a.Tokens
			texts = append(texts, a.Content)
		}
		c := CountStyle(strings.Join(texts, "\n"))
		x := string(s)
		meta["sum_assistant_"+x+"_tokens"] = float64(tokens)
		h := map[string]any{}
		for i, n := range c.Headers {
			h["h"+string(rune('1'+i))] = float64(n)
		}
		meta["header_count_"+x] = h
		meta["list_count_"+x] = map[string]any{"ordered": float64(c.Ordered), "unordered": float64(c.Unordered)}
		meta["bold_count_"+x] = map[string]any{"**": float64(c.BoldStars), "__": float64(c.BoldUnder)}
		if s == rlhf.SideA {
			row.ConversationA = conv
		} else {
			row.ConversationB = conv
		}
	}
	row.ConvMetadata = meta
	return row
}

func TestReadBackArena(t *testing.T) {
	for _, f := range []Format{ArenaJSON, ArenaJSONL} {
		for _, mode := range []ContributorMode{ContributorsPseudonym, ContributorsOmit} {
			t.Run(string(f)+"/"+string(mode), func(t *testing.T) {
				opts := Options{Key: testKey, Contributors: mode}
				var buf bytes.Buffer
				if _, err := Export(context.Background(), &buf, string(f), opts, SliceSource(testRecords())); err != nil {
					t.Fatal(err)
				}
				var got []arenaRowOut
				if f == ArenaJSON {
					dec := json.NewDecoder(&buf)
					dec.DisallowUnknownFields()
					if err := dec.Decode(&got); err != nil {
						t.Fatalf("decode array: %v", err)
					}
				} else {
					sc := bufio.NewScanner(&buf)
					sc.Buffer(nil, 1<<20)
					for sc.Scan() {
						var row arenaRowOut
						dec := json.NewDecoder(strings.NewReader(sc.Text()))
						dec.DisallowUnknownFields()
						if err := dec.Decode(&row); err != nil {
							t.Fatalf("decode line: %v", err)
						}
						got = append(got, row)
					}
				}
				var want []arenaRowOut
				for _, r := range testRecords() {
					if r.Battle.ID == "b7" { // an answer failed
						continue
					}
					var judge *string
					if mode == ContributorsPseudonym {
						judge = ptr(Pseudonym(testKey, r.Vote.ContributorID))
					}
					want = append(want, wantArena(&r, judge))
				}
				if len(got) != len(want) {
					t.Fatalf("got %d rows, want %d", len(got), len(want))
				}
				for i := range want {
					if !reflect.DeepEqual(got[i], want[i]) {
						t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
					}
				}
			})
		}
	}
}

// TestNoInternalFields checks that no export carries error text, error
// codes, finish reasons, timings or raw contributor ids.
func TestNoInternalFields(t *testing.T) {
	for _, f := range Formats {
		var buf bytes.Buffer
		recs := testRecords()
		for i := range recs {
			recs[i].Battle.Turns[0].A.Error = "secret-endpoint-detail"
			recs[i].Vote.Reason = "private reason"
		}
		if _, err := Export(context.Background(), &buf, string(f), Options{Ties: tiesFor(f)}, SliceSource(recs)); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"secret-endpoint-detail", "internal-endpoint", "upstream", "user-b", "private reason", "finish", "ttft", "duration", "stop"} {
			if strings.Contains(buf.String(), bad) {
				t.Errorf("%s output contains %q", f, bad)
			}
		}
	}
}

func tiesFor(f Format) TieMode {
	if f == TRLUnpaired {
		return TiesUnpaired
	}
	return ""
}
