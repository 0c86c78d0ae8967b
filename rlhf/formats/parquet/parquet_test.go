package parquet

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	pq "github.com/parquet-go/parquet-go"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
	"github.com/agora-rlhf/agora/rlhf/formats/jsread"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func record(id string, w rlhf.Winner, s rlhf.Strength, lang string, at time.Time, turns ...string) rlhf.Record {
	b := rlhf.Battle{ID: id, ContributorID: "c-" + id, ModelA: "mx", ModelB: "my", Status: rlhf.StatusVoted, Source: "arena", Language: lang, CreatedAt: at, UpdatedAt: at}
	for i := 0; i+2 < len(turns); i += 3 {
		b.Turns = append(b.Turns, rlhf.Turn{Index: i / 3, Prompt: turns[i], At: at,
			A: rlhf.Answer{Content: turns[i+1], Tokens: 3 + i}, B: rlhf.Answer{Content: turns[i+2], Tokens: 5 + i}})
	}
	return rlhf.Record{Battle: b, Vote: rlhf.Vote{ID: "v" + id, BattleID: id, ContributorID: "c-" + id, Winner: w, Strength: s, CreatedAt: at}}
}

func testRecords() []rlhf.Record {
	noText := record("imp:1", rlhf.WinnerTie, "", "", t0.Add(3*time.Second), "", "", "")
	noText.Battle.Turns[0].A.Tokens, noText.Battle.Turns[0].B.Tokens = 0, 0
	return []rlhf.Record{
		record("p1", rlhf.WinnerA, rlhf.StrengthClear, "English", t0.Add(123*time.Millisecond), "Sky?", "# Blue\n**really**", "Green"),
		record("p2", rlhf.WinnerB, "", "", t0.Add(time.Second), "Hi", "Hello", "Hey", "Joke?", "No", "Why… 😀"),
		record("p3", rlhf.WinnerBothBad, "", "Deutsch", t0.Add(2*time.Second), "2+2", "5", "22"),
		noText,
	}
}

// hyparquet reads path with the independent JavaScript reader.
func hyparquet(t *testing.T, path string) []map[string]any {
	t.Helper()
	return jsread.Hyparquet(t, path)
}

func writeFile(t *testing.T, format formats.Format, opts formats.Options) (string, formats.Stats) {
	t.Helper()
	path := filepath.Join(t.TempDir(), string(format)+".parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Export(context.Background(), f, string(format), opts, formats.SliceSource(testRecords()))
	if err != nil {
		t.Fatalf("Export: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, st
}

func msgs(rc ...string) []any {
	out := []any{}
	for i := 0; i+1 < len(rc); i += 2 {
		out = append(out, map[string]any{"role": rc[i], "content": rc[i+1]})
	}
	return out
}

func TestTRLConversationalByHyparquet(t *testing.T) {
	path, st := writeFile(t, formats.TRLConversational, formats.Options{Margin: true})
	got := hyparquet(t, path)
	want := []map[string]any{
		{"prompt": msgs("user", "Sky?"), "chosen": msgs("assistant", "# Blue\n**really**"), "rejected": msgs("assistant", "Green"), "margin": 2.0 / 3},
		{"prompt": msgs("user", "Hi"), "chosen": msgs("assistant", "Hey", "user", "Joke?", "assistant", "Why… 😀"),
			"rejected": msgs("assistant", "Hello", "user", "Joke?", "assistant", "No"), "margin": 0.0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hyparquet rows =\n%v\nwant\n%v", got, want)
	}
	if st.Rows != 2 {
		t.Errorf("Stats.Rows = %d, want 2", st.Rows)
	}
}

func arenaMsgs(rc ...any) []any {
	out := []any{}
	for i := 0; i+2 < len(rc)+1; i += 3 {
		out = append(out, map[string]any{"role": rc[i], "content": rc[i+1], "num_tokens": rc[i+2]})
	}
	return out
}

func meta(tokA, tokB float64, h1A, boldA, turns float64) map[string]any {
	side := func(tok, h1, bold float64) (map[string]any, map[string]any, map[string]any) {
		return map[string]any{"h1": h1, "h2": 0.0, "h3": 0.0, "h4": 0.0, "h5": 0.0, "h6": 0.0},
			map[string]any{"ordered": 0.0, "unordered": 0.0}, map[string]any{"**": bold, "__": 0.0}
	}
	ha, la, ba := side(tokA, h1A, boldA)
	hb, lb, bb := side(tokB, 0, 0)
	return map[string]any{
		"sum_assistant_a_tokens": tokA, "header_count_a": ha, "list_count_a": la, "bold_count_a": ba,
		"sum_assistant_b_tokens": tokB, "header_count_b": hb, "list_count_b": lb, "bold_count_b": bb, "turns": turns,
	}
}

func secs(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

func TestArenaByHyparquet(t *testing.T) {
	key := []byte("k")
	path, _ := writeFile(t, formats.ArenaJSONL, formats.Options{Key: key})
	got := hyparquet(t, path)
	judge := func(id string) any { return formats.Pseudonym(key, "c-"+id) }
	want := []map[string]any{
		{"question_id": "p1", "model_a": "mx", "model_b": "my", "winner": "model_a", "judge": judge("p1"), "turn": 1.0, "anony": true,
			"language": "English", "language_confidence": nil, "tstamp": secs(t0.Add(123 * time.Millisecond)), "is_code": false,
			"conversation_a": arenaMsgs("user", "Sky?", nil, "assistant", "# Blue\n**really**", 3.0),
			"conversation_b": arenaMsgs("user", "Sky?", nil, "assistant", "Green", 5.0),
			"conv_metadata":  meta(3, 5, 1, 1, 1)},
		{"question_id": "p2", "model_a": "mx", "model_b": "my", "winner": "model_b", "judge": judge("p2"), "turn": 2.0, "anony": true,
			"language": "unknown", "language_confidence": nil, "tstamp": secs(t0.Add(time.Second)), "is_code": false,
			"conversation_a": arenaMsgs("user", "Hi", nil, "assistant", "Hello", 3.0, "user", "Joke?", nil, "assistant", "No", 6.0),
			"conversation_b": arenaMsgs("user", "Hi", nil, "assistant", "Hey", 5.0, "user", "Joke?", nil, "assistant", "Why… 😀", 8.0),
			"conv_metadata":  meta(9, 13, 0, 0, 2)},
		{"question_id": "p3", "model_a": "mx", "model_b": "my", "winner": "tie (bothbad)", "judge": judge("p3"), "turn": 1.0, "anony": true,
			"language": "Deutsch", "language_confidence": nil, "tstamp": secs(t0.Add(2 * time.Second)), "is_code": false,
			"conversation_a": arenaMsgs("user", "2+2", nil, "assistant", "5", 3.0),
			"conversation_b": arenaMsgs("user", "2+2", nil, "assistant", "22", 5.0),
			"conv_metadata":  meta(3, 5, 0, 0, 1)},
		{"question_id": "imp:1", "model_a": "mx", "model_b": "my", "winner": "tie", "judge": judge("imp:1"), "turn": 1.0, "anony": true,
			"language": "unknown", "language_confidence": nil, "tstamp": secs(t0.Add(3 * time.Second)), "is_code": false,
			"conversation_a": []any{}, "conversation_b": []any{}, "conv_metadata": nil},
	}
	for _, w := range want { // none of these votes is gold or quarantined
		w["gold"], w["quarantined"] = "", false
	}
	if len(got) != len(want) {
		t.Fatalf("hyparquet read %d rows, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d =\n%v\nwant\n%v", i, got[i], want[i])
		}
	}
	// Leaving contributors out gives null judges.
	path, _ = writeFile(t, formats.ArenaJSON, formats.Options{Contributors: formats.ContributorsOmit})
	for i, row := range hyparquet(t, path) {
		if row["judge"] != nil {
			t.Errorf("row %d judge = %v, want null", i, row["judge"])
		}
	}
}

// TestTimestampsMicroseconds checks that tstamp holds seconds to the
// microsecond, as a double, with the writer's library.
func TestTimestampsMicroseconds(t *testing.T) {
	path, _ := writeFile(t, formats.ArenaJSONL, formats.Options{})
	rows, err := pq.ReadFile[arenaRow](path)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range testRecords() {
		if want := float64(r.Vote.CreatedAt.UnixMicro()) / 1e6; rows[i].Tstamp != want {
			t.Errorf("row %d tstamp = %v, want %v", i, rows[i].Tstamp, want)
		}
	}
}

func TestUnsupportedFormat(t *testing.T) {
	if _, err := Export(context.Background(), &bytes.Buffer{}, "hh-rlhf", formats.Options{}, formats.SliceSource(nil)); err == nil {
		t.Error("Export(hh-rlhf) succeeded; want an error naming the Parquet formats")
	}
}

// TestParquetByDuckDB loads the Parquet files with DuckDB and checks the
// column types labs' pipelines see: float seconds, a language on every
// row, a margin column that is never null (and none without --margin).
func TestParquetByDuckDB(t *testing.T) {
	arena, _ := writeFile(t, formats.ArenaJSONL, formats.Options{Key: []byte("k")})
	withMargin, _ := writeFile(t, formats.TRLConversational, formats.Options{Margin: true})
	noMargin, _ := writeFile(t, formats.TRLConversational, formats.Options{})
	tabs := jsread.DuckDB(t, arena, withMargin, noMargin)
	tab := tabs[0]
	for col, want := range map[string]string{"question_id": "VARCHAR", "turn": "BIGINT", "anony": "BOOLEAN", "tstamp": "DOUBLE",
		"language": "VARCHAR", "language_confidence": "DOUBLE", "is_code": "BOOLEAN", "judge": "VARCHAR", "winner": "VARCHAR"} {
		if got := tab.Type(col); got != want {
			t.Errorf("arena column %s is %q, want %s", col, got, want)
		}
	}
	for i, row := range tab.Rows {
		if _, ok := row["tstamp"].(float64); !ok {
			t.Errorf("arena row %d tstamp = %#v, want a number", i, row["tstamp"])
		}
		if l, _ := row["language"].(string); l == "" {
			t.Errorf("arena row %d has no language", i)
		}
	}
	tab = tabs[1]
	if got := tab.Type("margin"); got != "DOUBLE" {
		t.Errorf("margin column is %q, want DOUBLE", got)
	}
	for i, row := range tab.Rows {
		if _, ok := row["margin"].(float64); !ok {
			t.Errorf("trl row %d margin = %#v, want a number", i, row["margin"])
		}
	}
	if tab := tabs[2]; tab.Type("margin") != "" {
		t.Errorf("margin column present without --margin: %v", tab.Columns)
	}
}
