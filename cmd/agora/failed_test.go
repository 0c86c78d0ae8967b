package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// seedFailedStore writes three voted battles; in "battle-failed" side b
// (the winner by the vote) broke off mid-answer.
func seedFailedStore(t *testing.T) string {
	t.Helper()
	at := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	var recs []rlhf.Record
	for i, id := range []string{"battle-ok1", "battle-failed", "battle-ok2"} {
		b := rlhf.Battle{ID: id, ContributorID: "p" + id, ModelA: "alpha", ModelB: "broken", Status: rlhf.StatusVoted,
			Source: rlhf.SourceArena, CreatedAt: at, UpdatedAt: at,
			Turns: []rlhf.Turn{{Prompt: "Tell me about rivers " + id, At: at,
				A: rlhf.Answer{Content: "Rivers flow to the sea.", Tokens: 6, FinishReason: "stop"},
				B: rlhf.Answer{Content: "Rivers are", Tokens: 2, FinishReason: "stop"}}}}
		w := rlhf.WinnerA
		if id == "battle-failed" {
			b.Turns[0].B.ErrorCode, b.Turns[0].B.Error, b.Turns[0].B.FinishReason = "upstream_error", "stream broke off", ""
			w = rlhf.WinnerB
		}
		recs = append(recs, rlhf.Record{Battle: b, Vote: rlhf.Vote{ID: "vote-" + id, BattleID: id, ContributorID: b.ContributorID, Winner: w, CreatedAt: at.Add(time.Duration(i) * time.Second)}})
	}
	return storeWith(t, recs)
}

// TestFailedBattleCountedApart: a vote on a battle where a side failed is
// in no leaderboard and no export, and both report it as failed.
func TestFailedBattleCountedApart(t *testing.T) {
	dir := seedFailedStore(t)
	out, stderr, err := runAgora(t, "leaderboard", "--data", dir, "--json", "--rounds", "0")
	if err != nil {
		t.Fatalf("leaderboard: %v\n%s", err, stderr)
	}
	var lb struct {
		Battles int64 `json:"battles"`
		Failed  int64 `json:"failed"`
		Models  []struct {
			Model string `json:"model"`
			Wins  int64  `json:"wins"`
		} `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &lb); err != nil {
		t.Fatal(err)
	}
	if lb.Battles != 2 || lb.Failed != 1 {
		t.Errorf("leaderboard battles %d, failed %d; want 2 and 1", lb.Battles, lb.Failed)
	}
	for _, m := range lb.Models {
		if m.Model == "broken" && m.Wins != 0 {
			t.Errorf("the model that failed has %d wins, want 0", m.Wins)
		}
	}

	path := filepath.Join(t.TempDir(), "battles.jsonl")
	if _, stderr, err := runAgora(t, "export", "--data", dir, "--format", "arena-jsonl", "--output", path); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	data := readFile(t, path)
	if strings.Contains(data, "battle-failed") || strings.Count(data, "\n") != 2 {
		t.Errorf("export holds the failed battle or not the other two:\n%s", data)
	}
	card := readFile(t, filepath.Join(filepath.Dir(path), "README.md"))
	if !strings.Contains(card, "never counted as votes) | 1 |") {
		t.Errorf("data card does not count the failed battle:\n%s", card)
	}
}

// TestBadOnlyInputExitsNonZero: a file in which nothing is valid is an
// error for import and leaderboard, strict or not.
func TestBadOnlyInputExitsNonZero(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.jsonl")
	if err := os.WriteFile(junk, []byte("{\"foo\":1}\n{\"bar\":2}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"leaderboard", junk},
		{"leaderboard", "--strict", junk},
		{"import", "--format", "arena", "--data", dir, junk},
		{"import", "--format", "arena", "--strict", "--data", dir, junk},
		{"import", "--format", "arena", "--dry-run", junk},
		{"import", "--format", "trl", "--data", dir, junk},
	} {
		if _, _, err := runAgora(t, args...); err == nil {
			t.Errorf("agora %s: no error on a file with no valid record", strings.Join(args, " "))
		}
	}
}
