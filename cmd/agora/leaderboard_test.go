package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/analytics"
)

// runAgora runs the program with args and returns stdout, stderr and the
// error.
func runAgora(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	err := run(context.Background(), args, e)
	return out.String(), errb.String(), err
}

func llmfaoFile(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"../../../shared/datasets/llmfao/crowd-comparisons.csv", "/work/shared/datasets/llmfao/crowd-comparisons.csv"} {
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

// jsonLeaderboard is the documented --json shape, decoded strictly.
type jsonLeaderboard struct {
	Method  string `json:"method"`
	Rounds  int    `json:"rounds"`
	Seed    uint64 `json:"seed"`
	Battles int64  `json:"battles"`
	Models  []struct {
		Model   string  `json:"model"`
		Rating  float64 `json:"rating"`
		CILower float64 `json:"ci_lower"`
		CIUpper float64 `json:"ci_upper"`
		Rank    int     `json:"rank"`
		Elo     float64 `json:"elo"`
		Battles int64   `json:"battles"`
		Wins    int64   `json:"wins"`
		Losses  int64   `json:"losses"`
		Ties    int64   `json:"ties"`
	} `json:"models"`
	Matrices struct {
		Models      []string     `json:"models"`
		Battles     [][]int64    `json:"battles"`
		WinFraction [][]*float64 `json:"win_fraction"`
		Predicted   [][]*float64 `json:"predicted"`
	} `json:"matrices"`
	Warnings []string `json:"warnings"`
	Input    struct {
		Skipped int `json:"skipped"`
	} `json:"input"`
}

func TestLeaderboardLLMFAO(t *testing.T) {
	file := llmfaoFile(t)
	out, _, err := runAgora(t, "leaderboard", "--json", "--rounds", "100", "--seed", "7", file)
	if err != nil {
		t.Fatal(err)
	}
	var lb jsonLeaderboard
	if err := json.Unmarshal([]byte(out), &lb); err != nil {
		t.Fatalf("--json output is not the documented document: %v", err)
	}
	if lb.Method != "bradley-terry" || lb.Rounds != 100 || lb.Seed != 7 || lb.Battles != 8931 || len(lb.Models) != 59 {
		t.Fatalf("method %q rounds %d seed %d battles %d models %d", lb.Method, lb.Rounds, lb.Seed, lb.Battles, len(lb.Models))
	}
	if top := lb.Models[0]; top.Model != "GPT 4" || top.Rank != 1 || top.Wins+top.Losses+top.Ties != top.Battles {
		t.Errorf("top row %+v, want GPT 4 ranked 1", top)
	}
	if len(lb.Matrices.Models) != 59 || lb.Matrices.Predicted[0][1] == nil || lb.Matrices.Predicted[0][0] != nil {
		t.Errorf("matrices missing or malformed")
	}
	if p, q := *lb.Matrices.Predicted[0][1], *lb.Matrices.Predicted[1][0]; math.Abs(p+q-1) > 1e-12 {
		t.Errorf("predicted win probabilities %v and %v do not sum to 1", p, q)
	}
	// The same seed gives the same document (apart from timings).
	again, _, _ := runAgora(t, "leaderboard", "--json", "--rounds", "100", "--seed", "7", file)
	var lb2 jsonLeaderboard
	json.Unmarshal([]byte(again), &lb2)
	if lb2.Models[3] != lb.Models[3] {
		t.Errorf("same seed, different rows: %+v vs %+v", lb.Models[3], lb2.Models[3])
	}
	table, _, err := runAgora(t, "leaderboard", "--rounds", "50", "--ties", "exclude", "--anchor", "GPT 4=1250", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, "ties excluded") || !strings.Contains(table, "GPT 4 = 1250") || !strings.Contains(table, "1250.0") {
		t.Errorf("table output:\n%s", table)
	}
}

func TestLeaderboardBadInput(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "battles.jsonl")
	os.WriteFile(file, []byte(`{"model_a":"x","model_b":"y","winner":"model_a"}
{"model_a":"x","model_b":"y","winner":"maybe"}
{"model_a":"y","model_b":"x","winner":"model_a"}
`), 0o644)
	out, stderr, err := runAgora(t, "leaderboard", "--rounds", "10", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "line 2:") || !strings.Contains(stderr, "skipped 1 bad lines") {
		t.Errorf("stderr does not report the bad line:\n%s", stderr)
	}
	if !strings.Contains(out, "2 battles, 2 models") {
		t.Errorf("table:\n%s", out)
	}
	_, _, err = runAgora(t, "leaderboard", "--strict", file)
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("--strict: error %v, want one naming line 2", err)
	}
	for _, args := range [][]string{
		{"leaderboard", "--ci", "1.5", file},
		{"leaderboard", "--anchor", "nomodel", file},
		{"leaderboard", "--ties", "maybe", file},
		{"leaderboard", "--since", "yesterday", file},
		{"leaderboard", "a", "b"},
	} {
		_, _, err := runAgora(t, args...)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%v: error %v, want a usage error", args, err)
		}
	}
	if _, _, err := runAgora(t, "leaderboard", "--help"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

func TestGenBattlesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	file, truth := filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "truth.csv")
	if _, _, err := runAgora(t, "gen-battles", "--models", "6", "--battles", "20000", "--seed", "3", "-o", file, "--truth", truth); err != nil {
		t.Fatal(err)
	}
	out, _, err := runAgora(t, "leaderboard", "--json", "--rounds", "100", file)
	if err != nil {
		t.Fatal(err)
	}
	var lb jsonLeaderboard
	if err := json.Unmarshal([]byte(out), &lb); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(truth)
	want := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
		var r float64
		name, v, _ := strings.Cut(line, ",")
		json.Unmarshal([]byte(v), &r)
		want[name] = r
	}
	for _, m := range lb.Models {
		if math.Abs(m.Rating-want[m.Model]) > 25 {
			t.Errorf("%s: rating %.1f, truth %.1f", m.Model, m.Rating, want[m.Model])
		}
	}
}

// TestLeaderboardReliability rates a file with a contributor who flips
// every vote: the weighted board names them and keeps the plain rating
// beside each row.
func TestLeaderboardReliability(t *testing.T) {
	var b strings.Builder
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 4000 {
		a := rng.IntN(5)
		c := rng.IntN(4)
		if c >= a {
			c++
		}
		// Model mK is 100·K points below m0.
		pa := 1 / (1 + math.Pow(10, float64(a-c)*100/400))
		winner := "model_b"
		if rng.Float64() < pa {
			winner = "model_a"
		}
		judge := fmt.Sprintf("judge-%d", i%40)
		if i%40 == 0 {
			judge = "flipper"
			winner = map[string]string{"model_a": "model_b", "model_b": "model_a"}[winner]
		}
		fmt.Fprintf(&b, `{"model_a":"m%d","model_b":"m%d","winner":%q,"judge":%q}`+"\n", a, c, winner, judge)
	}
	path := filepath.Join(t.TempDir(), "battles.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runAgora(t, "leaderboard", "--weighting", "reliability", "--rounds", "20", "--json", path)
	if err != nil {
		t.Fatalf("%v: %s", err, errOut)
	}
	var lb analytics.Leaderboard
	if err := json.Unmarshal([]byte(out), &lb); err != nil {
		t.Fatal(err)
	}
	if lb.Method != "crowd-bradley-terry" || lb.Reliability == nil || lb.Reliability.Flippers != 1 ||
		lb.Reliability.Worst[0].Contributor != "flipper" || lb.Models[0].UnadjustedRating == nil {
		t.Errorf("method %q, reliability %+v", lb.Method, lb.Reliability)
	}
	out, _, err = runAgora(t, "leaderboard", "--weighting", "reliability", "--rounds", "0", "--fragility", path)
	if err != nil || !strings.Contains(out, "crowd Bradley–Terry") || !strings.Contains(out, "plain") || !strings.Contains(out, "1 flip their votes") ||
		!strings.Contains(out, "1. m0 over m1") || !strings.Contains(out, "of the leader's margin") {
		t.Errorf("table: %v\n%s", err, out)
	}
	if _, _, err := runAgora(t, "leaderboard", "--weighting", "heavy", path); err == nil {
		t.Error("--weighting heavy: no error")
	}
}
