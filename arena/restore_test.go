package arena_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// echoModel answers every prompt with one fixed token.
type echoModel struct{}

func (echoModel) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, error) {
	onText("ok")
	return "stop", 1, nil
}

func TestRestore(t *testing.T) {
	store, err := store.Open(filepath.Join(t.TempDir(), "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a, err := arena.New(arena.Config{
		Models: map[string]arena.Model{"alpha": echoModel{}, "beta": echoModel{}}, Store: store,
		MaxTurns: 3, MaxPromptBytes: 100, MaxBattlesPerContributor: 2, VoteWindow: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	now := time.Now()
	battle := func(id, modelB string) *rlhf.Battle {
		b := &rlhf.Battle{ID: id, ContributorID: "c1", ModelA: "alpha", ModelB: modelB,
			Status: rlhf.StatusReady, CreatedAt: now, UpdatedAt: now,
			Turns: []rlhf.Turn{{Prompt: "p", At: now, A: rlhf.Answer{Content: "x"}, B: rlhf.Answer{Content: "y"}}}}
		if err := store.SaveBattle(ctx, b); err != nil {
			t.Fatal(err)
		}
		return b
	}

	kept, gone := battle("kept", "beta"), battle("gone", "retired")
	for _, b := range []*rlhf.Battle{kept, gone} {
		if err := a.Restore(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Restore(ctx, kept); err == nil {
		t.Error("restoring a battle twice: no error")
	}
	streaming := *battle("streaming", "beta")
	streaming.Status = rlhf.StatusStreaming
	if err := a.Restore(ctx, &streaming); err == nil {
		t.Error("restoring a streaming battle: no error")
	}

	// A battle whose model is no longer served can be voted on, not continued.
	err = a.Continue(ctx, "c1", "gone", "more", func(arena.Frame) {})
	if rlhf.ErrorCode(err) != rlhf.EUnavailable {
		t.Errorf("continue with a retired model: %v, want %s", err, rlhf.EUnavailable)
	}
	if _, err := a.Vote(ctx, "c2", arena.Request{BattleID: "kept", Winner: rlhf.WinnerA}); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("another contributor's vote: %v, want %s", err, rlhf.ENotFound)
	}
	for _, id := range []string{"kept", "gone"} {
		res, err := a.Vote(ctx, "c1", arena.Request{BattleID: id, Winner: rlhf.WinnerB})
		if err != nil {
			t.Fatalf("vote on restored battle %s: %v", id, err)
		}
		stored, err := store.VoteForBattle(ctx, id)
		if err != nil || stored.ID != res.Vote.ID || res.ModelA != "alpha" {
			t.Errorf("vote on %s: stored %v, %v; reveal %s vs %s", id, stored, err, res.ModelA, res.ModelB)
		}
	}
}

// TestRetriedVoteAfterRestart votes, then asks a new arena on the same
// store (a restart: the battle is no longer in memory) for the same vote:
// the answer is the original vote, found in the store.
func TestRetriedVoteAfterRestart(t *testing.T) {
	store, err := store.Open(filepath.Join(t.TempDir(), "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	newArena := func() *arena.Arena {
		a, err := arena.New(arena.Config{
			Models: map[string]arena.Model{"alpha": echoModel{}, "beta": echoModel{}}, Store: store, Votes: store,
			MaxTurns: 3, MaxPromptBytes: 100, MaxBattlesPerContributor: 2, VoteWindow: time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.Close)
		return a
	}
	ctx := context.Background()
	now := time.Now()
	b := &rlhf.Battle{ID: "b1", ContributorID: "c1", ModelA: "alpha", ModelB: "beta", Status: rlhf.StatusReady,
		CreatedAt: now, UpdatedAt: now, Turns: []rlhf.Turn{{Prompt: "p", At: now, A: rlhf.Answer{Content: "x"}, B: rlhf.Answer{Content: "y"}}}}
	if err := store.SaveBattle(ctx, b); err != nil {
		t.Fatal(err)
	}
	first := newArena()
	if err := first.Restore(ctx, b); err != nil {
		t.Fatal(err)
	}
	vote := arena.Request{BattleID: "b1", Winner: rlhf.WinnerA, Strength: rlhf.StrengthClear, Reason: "r"}
	orig, err := first.Vote(ctx, "c1", vote)
	if err != nil {
		t.Fatal(err)
	}

	again := newArena() // nothing restored: the battle has its vote
	res, err := again.Vote(ctx, "c1", vote)
	if err != nil || res.Vote.ID != orig.Vote.ID || res.ModelA != "alpha" || res.ModelB != "beta" {
		t.Errorf("retried vote after restart = %+v, %v; want vote %s revealing alpha vs beta", res, err, orig.Vote.ID)
	}
	other := vote
	other.Winner = rlhf.WinnerB
	if _, err := again.Vote(ctx, "c1", other); rlhf.ErrorCode(err) != rlhf.EConflict {
		t.Errorf("a different vote after restart: %v, want %s", err, rlhf.EConflict)
	}
	if _, err := again.Vote(ctx, "c2", vote); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("the same vote from another contributor: %v, want %s", err, rlhf.ENotFound)
	}
	if _, err := again.Vote(ctx, "c1", arena.Request{BattleID: "nope", Winner: rlhf.WinnerA}); rlhf.ErrorCode(err) != rlhf.ENotFound {
		t.Errorf("a vote on an unknown battle: %v, want %s", err, rlhf.ENotFound)
	}
}
