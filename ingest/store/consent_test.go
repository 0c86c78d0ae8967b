package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

var (
	genScopes   = []rlhf.Scope{"", rlhf.ScopeLeaderboard, rlhf.ScopeResearch, rlhf.ScopeTraining}
	genLicences = []string{"", "CC-BY-4.0", "CC0-1.0", "Apache-2.0", "CC-BY-NC-4.0"}
)

// genRecord returns a complete record whose battle did not fail, by one
// of four contributors, with a random consent.
func genRecord(rng *rand.Rand, i int) rlhf.Record {
	c := fmt.Sprintf("c%d", rng.IntN(4))
	at := t0.Add(time.Duration(i) * time.Second)
	b := rlhf.Battle{ID: fmt.Sprintf("b%04d", i), ContributorID: c, ModelA: "alpha", ModelB: "beta",
		Status: rlhf.StatusVoted, CreatedAt: at, UpdatedAt: at, Source: "arena"}
	for k := range 1 + rng.IntN(2) {
		b.Turns = append(b.Turns, rlhf.Turn{Index: k, Prompt: fmt.Sprintf("prompt %d.%d of %s", i, k, c), At: at,
			A: rlhf.Answer{Content: fmt.Sprintf("answer a %d.%d", i, k), FinishReason: "stop", Tokens: 3},
			B: rlhf.Answer{Content: fmt.Sprintf("answer b %d.%d", i, k), FinishReason: "stop", Tokens: 3}})
	}
	winners := []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie}
	v := rlhf.Vote{ID: fmt.Sprintf("v%04d", i), BattleID: b.ID, ContributorID: c, Winner: winners[rng.IntN(3)],
		Reason: fmt.Sprintf("reason %d of %s", i, c), CreatedAt: at,
		Scope: genScopes[rng.IntN(len(genScopes))], Licence: genLicences[rng.IntN(len(genLicences))]}
	return rlhf.Record{Battle: b, Vote: v}
}

// genStore fills a new store with n generated records through SaveVote.
func genStore(t *testing.T, rng *rand.Rand, n int) (*Store, map[string]*rlhf.Record) {
	t.Helper()
	s := openTest(t)
	byBattle := map[string]*rlhf.Record{}
	for i := range n {
		r := genRecord(rng, i)
		if err := s.SaveVote(context.Background(), &r.Battle, &r.Vote); err != nil {
			t.Fatal(err)
		}
		byBattle[r.Battle.ID] = &r
	}
	return s, byBattle
}

// exportIDs exports the store in arena-jsonl with scope and returns the
// battles in it and the export's stats.
func exportIDs(t *testing.T, s *Store, scope rlhf.Scope) (map[string]bool, formats.Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := formats.Export(context.Background(), &buf, "arena-jsonl", formats.Options{Scope: scope, Licence: "CC-BY-SA-4.0"}, s.ExportSource(RecordFilter{}))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row struct {
			ID string `json:"question_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		ids[row.ID] = true
	}
	return ids, st
}

// TestExportObeysConsent is a property test over generated stores: an
// export with a scope holds exactly the votes whose consent allows it,
// the card's counts per scope and licence add up to the rows and match
// the votes, and a narrowed vote leaves the next export.
func TestExportObeysConsent(t *testing.T) {
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 13))
		s, recs := genStore(t, rng, 10+rng.IntN(40))
		for _, scope := range rlhf.Scopes {
			ids, st := exportIDs(t, s, scope)
			want := map[formats.ConsentKey]int{}
			for id, r := range recs {
				allowed := r.Vote.Scope.Allows(scope)
				if ids[id] != allowed {
					t.Fatalf("seed %d: export --scope %s has battle %s = %v, but its vote's scope is %q", seed, scope, id, ids[id], r.Vote.Scope)
				}
				if allowed {
					want[formats.ConsentKey{Scope: r.Vote.Scope.Effective(), Licence: or(r.Vote.Licence, "CC-BY-SA-4.0")}]++
				}
			}
			total := 0
			for k, n := range st.Consent {
				total += n
				if want[k] != n {
					t.Errorf("seed %d scope %s: card counts %d rows for %v, want %d", seed, scope, n, k, want[k])
				}
			}
			if total != st.Rows || len(st.Consent) != len(want) {
				t.Errorf("seed %d scope %s: card counts %d rows in %d groups; the export has %d rows in %d groups", seed, scope, total, len(st.Consent), st.Rows, len(want))
			}
		}
		narrowOne(t, s, rng, recs)
	}
}

// narrowOne narrows one vote that the research export holds to the
// leaderboard scope, and checks that the next export leaves it out and
// that narrowing cannot widen it again.
func narrowOne(t *testing.T, s *Store, rng *rand.Rand, recs map[string]*rlhf.Record) {
	t.Helper()
	ctx := context.Background()
	before, _ := exportIDs(t, s, rlhf.ScopeResearch)
	var pick *rlhf.Record
	for id := range before {
		if pick == nil || id < pick.Battle.ID || rng.IntN(3) == 0 {
			pick = recs[id]
		}
	}
	if pick == nil {
		return
	}
	n, err := s.NarrowVotes(ctx, rlhf.Narrowing{Contributor: pick.Vote.ContributorID, Scope: rlhf.ScopeLeaderboard, VoteIDs: []string{pick.Vote.ID}, At: t0})
	if err != nil || n != 1 {
		t.Fatalf("NarrowVotes(%s) = %d, %v; want 1, nil", pick.Vote.ID, n, err)
	}
	after, _ := exportIDs(t, s, rlhf.ScopeResearch)
	if after[pick.Battle.ID] || len(after) != len(before)-1 {
		t.Fatalf("after narrowing %s: export has it = %v, %d battles, want absent and %d", pick.Vote.ID, after[pick.Battle.ID], len(after), len(before)-1)
	}
	if n, err := s.NarrowVotes(ctx, rlhf.Narrowing{Contributor: pick.Vote.ContributorID, Scope: rlhf.ScopeTraining, VoteIDs: []string{pick.Vote.ID}, At: t0}); err != nil || n != 0 {
		t.Fatalf("widening %s = %d, %v; want 0 votes changed", pick.Vote.ID, n, err)
	}
	if again, _ := exportIDs(t, s, rlhf.ScopeResearch); again[pick.Battle.ID] {
		t.Fatalf("a 'narrowing' to training widened vote %s back into the research export", pick.Vote.ID)
	}
	if _, err := s.NarrowVotes(ctx, rlhf.Narrowing{Contributor: "someone else", Scope: rlhf.ScopeLeaderboard, VoteIDs: []string{pick.Vote.ID}, At: t0}); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Fatalf("narrowing another contributor's vote: err = %v, want not_found", err)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
