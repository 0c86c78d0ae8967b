package analytics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

func failedRecord(id string, failed bool) rlhf.Record {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rlhf.Record{
		Battle: rlhf.Battle{ID: id, ModelA: "x", ModelB: "y", CreatedAt: at,
			Turns: []rlhf.Turn{{Prompt: "p", A: rlhf.Answer{Content: "a"}, B: rlhf.Answer{Content: "b"}}}},
		Vote: rlhf.Vote{ID: "v" + id, BattleID: id, Winner: rlhf.WinnerB, CreatedAt: at},
	}
	if failed {
		r.Battle.Turns[0].B.ErrorCode = "upstream_error"
	}
	return r
}

// TestFailedNeverRated: the live board, the store's records and battle
// files all leave failed battles out of the ratings and count them.
func TestFailedNeverRated(t *testing.T) {
	ctx := context.Background()
	recs := []rlhf.Record{failedRecord("1", false), failedRecord("2", true), failedRecord("3", false)}
	var d Dataset
	for i := range recs {
		if err := d.AddRecord(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	live := newLiveDataset(&Dataset{})
	for _, r := range recs {
		if err := live.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	var file Dataset
	_, err := formats.ReadCounts(strings.NewReader(`{"model_a":"x","model_b":"y","winner":"model_b"}
{"model_a":"x","model_b":"y","winner":"model_b","failed":true}
{"model_a":"x","model_b":"y","winner":"model_b","failed":false}
`), formats.ImportArena, formats.ReadOptions{Strict: true}, &file)
	if err != nil {
		t.Fatal(err)
	}
	if file.Len() != 2 || file.Failed() != 1 {
		t.Errorf("ReadCounts: %d battles, %d failed; want 2 and 1", file.Len(), file.Failed())
	}
	var csvData Dataset
	if _, err := formats.ReadCounts(strings.NewReader("model_a,model_b,winner,failed\nx,y,model_b,true\nx,y,model_a,\n"), formats.ImportCSV, formats.ReadOptions{Strict: true}, &csvData); err != nil || csvData.Len() != 1 || csvData.Failed() != 1 {
		t.Errorf("ReadCounts CSV: %d battles, %d failed, %v; want 1 battle and 1 failed", csvData.Len(), csvData.Failed(), err)
	}
	boards := map[string]func() (*Leaderboard, error){
		"records": func() (*Leaderboard, error) { return Compute(ctx, &d, Options{}) },
		"live":    func() (*Leaderboard, error) { return live.Leaderboard(ctx, Options{}) },
		"file":    func() (*Leaderboard, error) { return Compute(ctx, &file, Options{}) },
	}
	for name, board := range boards {
		lb, err := board()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if lb.Battles != 2 || lb.Failed != 1 {
			t.Errorf("%s: battles %d, failed %d; want 2 and 1", name, lb.Battles, lb.Failed)
		}
	}
}
