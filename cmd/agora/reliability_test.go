package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/rlhf"
)

// storedVote is a vote to put in a test store.
type storedVote struct {
	contributor    string
	modelA, modelB string
	winner         rlhf.Winner
	gold           rlhf.Side // the right side of a gold battle, "" for an ordinary one
}

// storeVotes writes votes, one battle each, a second apart from at, into
// the store in data.
func storeVotes(t *testing.T, data string, at time.Time, votes []storedVote) {
	t.Helper()
	store, err := openStore(data)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	recs := make([]rlhf.Record, len(votes))
	for i, v := range votes {
		id := fmt.Sprintf("%s-%d-%d", v.contributor, at.UnixMilli(), i)
		when := at.Add(time.Duration(i) * time.Second)
		b := rlhf.Battle{ID: "b-" + id, ContributorID: v.contributor, ModelA: v.modelA, ModelB: v.modelB,
			Status: rlhf.StatusVoted, CreatedAt: when, UpdatedAt: when,
			Turns: []rlhf.Turn{{Prompt: "hello", At: when, A: rlhf.Answer{Content: "one", FinishReason: "stop"},
				B: rlhf.Answer{Content: "two", FinishReason: "stop"}}}}
		if v.gold != "" {
			b.Gold, b.GoldWinner = rlhf.GoldTruncated, v.gold
		}
		recs[i] = rlhf.Record{Battle: b, Vote: rlhf.Vote{ID: "v-" + id, BattleID: b.ID, ContributorID: v.contributor,
			Winner: v.winner, Strength: rlhf.StrengthClear, CreatedAt: when}}
	}
	if n, err := store.ImportRecords(context.Background(), recs); err != nil || n != len(recs) {
		t.Fatalf("ImportRecords = %d, %v; want %d", n, err, len(recs))
	}
}

// goldFailerVotes are 30 honest contributors' votes among five models
// (mK is 100·K points below m0), two gold battles each judged right, and
// "gold-failer": four votes as an honest voter would cast them, and 20
// gold battles all judged wrong.
func goldFailerVotes() []storedVote {
	rng := rand.New(rand.NewPCG(11, 12))
	var out []storedVote
	vote := func(who string, a, b int, aWins bool) {
		w := rlhf.WinnerB
		if aWins {
			w = rlhf.WinnerA
		}
		out = append(out, storedVote{contributor: who, modelA: fmt.Sprintf("m%d", a), modelB: fmt.Sprintf("m%d", b), winner: w})
	}
	for k := range 30 {
		who := fmt.Sprintf("honest-%d", k)
		for range 20 {
			a, b := rng.IntN(5), rng.IntN(4)
			if b >= a {
				b++
			}
			vote(who, a, b, rng.Float64() < 1/(1+math.Pow(10, float64(a-b)/4)))
		}
		for range 2 {
			out = append(out, storedVote{contributor: who, modelA: "m0", modelB: "m1", winner: rlhf.WinnerA, gold: rlhf.SideA})
		}
	}
	for i := range 4 {
		vote("gold-failer", i, i+1, true)
	}
	for range 20 {
		out = append(out, storedVote{contributor: "gold-failer", modelA: "m0", modelB: "m1", winner: rlhf.WinnerB, gold: rlhf.SideA})
	}
	return out
}

// TestReliabilityGoldPrior: the store's gold results are the prior for η
// in "agora leaderboard --weighting reliability" and in the API's
// ?weighting=reliability: a contributor who failed 20 of 20 gold battles
// gets a low η from four ordinary votes, and no one else is unreliable.
func TestReliabilityGoldPrior(t *testing.T) {
	const researcher = "reliability-test-researcher"
	data := t.TempDir()
	storeVotes(t, data, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), goldFailerVotes())
	check := func(how string, lb *analytics.Leaderboard) {
		t.Helper()
		if lb.Reliability == nil || lb.Reliability.Unreliable != 1 || lb.Reliability.Worst[0].Contributor != "gold-failer" ||
			lb.Reliability.Worst[0].Eta > 0.25 {
			t.Errorf("%s: reliability %+v; want gold-failer alone unreliable, η ≤ 0.25", how, lb.Reliability)
			return
		}
		t.Logf("%s: η of gold-failer %.3f", how, lb.Reliability.Worst[0].Eta)
	}
	out, errOut, err := runAgora(t, "leaderboard", "--data", data, "--weighting", "reliability", "--rounds", "0", "--json")
	if err != nil {
		t.Fatalf("agora leaderboard: %v: %s", err, errOut)
	}
	var cli analytics.Leaderboard
	if err := json.Unmarshal([]byte(out), &cli); err != nil {
		t.Fatal(err)
	}
	check("agora leaderboard", &cli)

	base := serveInProcessEnv(t, map[string]string{"AGORA_RESEARCHER_TOKEN": researcher}, "--data", data)
	var api analytics.Leaderboard
	getJSON(t, base+"/api/v1/leaderboard?weighting=reliability&rounds=0", researcher, &api)
	check("GET /api/v1/leaderboard", &api)
}
