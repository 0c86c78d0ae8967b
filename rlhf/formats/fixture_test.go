package formats

import (
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// testKey is the pseudonym key of the golden files.
var testKey = []byte("golden-key")

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// rec builds a voted record. turns holds prompt, answer A, answer B triples.
func rec(id string, w rlhf.Winner, s rlhf.Strength, at time.Time, turns ...string) rlhf.Record {
	b := rlhf.Battle{
		ID: id, ContributorID: "user-" + id, ModelA: "model-x", ModelB: "model-y",
		Status: rlhf.StatusVoted, Source: rlhf.SourceArena, Language: "English",
		CreatedAt: at.Add(-time.Minute), UpdatedAt: at,
	}
	for i := 0; i+2 < len(turns); i += 3 {
		b.Turns = append(b.Turns, rlhf.Turn{
			Index: i / 3, Prompt: turns[i], At: at.Add(-time.Minute),
			A: rlhf.Answer{Content: turns[i+1], Tokens: 10 + i, FinishReason: "stop", TTFT: time.Millisecond, Duration: time.Second},
			B: rlhf.Answer{Content: turns[i+2], Tokens: 20 + i, FinishReason: "stop", TTFT: time.Millisecond, Duration: time.Second},
		})
	}
	return rlhf.Record{Battle: b, Vote: rlhf.Vote{ID: "v-" + id, BattleID: id, ContributorID: "user-" + id, Winner: w, Strength: s, CreatedAt: at}}
}

// testRecords covers every case the writers tell apart.
func testRecords() []rlhf.Record {
	single := rec("b1", rlhf.WinnerA, rlhf.StrengthClear, t0, "What colour is the sky?", "Blue.", "Green.")
	bWins := rec("b2", rlhf.WinnerB, "", t0.Add(time.Second+250*time.Millisecond),
		"Write \"hi\" in <html>\n\ttab", "# Title\n\n**bold** and __under__\n\n1. one\n2. two\n- item\n```\n# not a header\n```", "<b>hi</b> \u2028 ünïcödé 😀")
	bWins.Battle.ModelA, bWins.Battle.ModelB = "model-z", "model-x"
	bWins.Battle.Language = ""
	tie := rec("b3", rlhf.WinnerTie, "", t0.Add(2*time.Second), "Say yes.", "Yes.", "Yes!")
	bothBad := rec("b4", rlhf.WinnerBothBad, "", t0.Add(3*time.Second), "2+2?", "5", "22")
	multi := rec("b5", rlhf.WinnerA, rlhf.StrengthSignificant, t0.Add(4*time.Second),
		"Hi", "Hello!", "Hey.", "Tell a joke", "Why did the chicken…", "No.")
	sharedFirst := rec("b6", rlhf.WinnerB, rlhf.StrengthSlight, t0.Add(5*time.Second),
		"Hi", "Hello!", "Hello!", "Name a fruit", "Rock", "Apple")
	failed := rec("b7", rlhf.WinnerA, "", t0.Add(6*time.Second), "Q", "A", "")
	failed.Battle.Turns[0].B.ErrorCode, failed.Battle.Turns[0].B.Error = "upstream", "http://internal-endpoint:8000 refused"
	imported := rec("llmfao:1", rlhf.WinnerB, "", t0.Add(7*time.Second), "", "", "")
	imported.Battle.Source, imported.Battle.Language = "llmfao", ""
	imported.Battle.Turns[0].A, imported.Battle.Turns[0].B = rlhf.Answer{}, rlhf.Answer{}
	dup := single
	dup.Battle.ID, dup.Vote.ID, dup.Vote.BattleID = "b8", "v-b8", "b8"
	return []rlhf.Record{single, bWins, tie, bothBad, multi, sharedFirst, failed, imported, dup}
}
