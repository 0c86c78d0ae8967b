package arena_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/arena"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// pendingArena is an arena on a real store with the given pending caps.
func pendingArena(t *testing.T, maxBattles int, maxBytes int64) (*arena.Arena, *store.Store) {
	t.Helper()
	store, err := store.Open(filepath.Join(t.TempDir(), "agora.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	a, err := arena.New(arena.Config{
		Models: map[string]arena.Model{"alpha": echoModel{}, "beta": echoModel{}}, Store: store,
		MaxTurns: 3, MaxPromptBytes: 1 << 10, MaxBattlesPerContributor: 2, VoteWindow: time.Hour,
		MaxPendingBattles: maxBattles, MaxPendingBytes: maxBytes,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return a, store
}

// startReady starts a battle and waits until it is ready for a vote.
func startReady(t *testing.T, a *arena.Arena, contributor, prompt string) string {
	t.Helper()
	ready := make(chan struct{}, 1)
	id, err := a.Start(context.Background(), contributor, arena.Request{Prompt: prompt}, func(f arena.Frame) {
		if f.Type == arena.FrameReady {
			ready <- struct{}{}
		}
	})
	if err != nil {
		t.Fatalf("start %q: %v", prompt, err)
	}
	<-ready
	return id
}

// checkKept checks which of ids can still be voted on (kept) and that the
// others are abandoned in the store.
func checkKept(t *testing.T, a *arena.Arena, store *store.Store, contributor string, ids []string, kept int) {
	t.Helper()
	ctx := context.Background()
	for i, id := range ids {
		wantKept := i >= len(ids)-kept
		_, err := a.Vote(ctx, contributor, arena.Request{BattleID: id, Winner: rlhf.WinnerTie})
		if wantKept && err != nil {
			t.Errorf("battle %d of %d: vote %v, want it kept", i, len(ids), err)
		}
		if !wantKept {
			if rlhf.ErrorCode(err) != rlhf.ENotFound {
				t.Errorf("battle %d of %d: vote %v, want not_found (abandoned, oldest first)", i, len(ids), err)
			}
			if b, err := store.Battle(ctx, id); err != nil || b.Status != rlhf.StatusAbandoned {
				t.Errorf("battle %d of %d in the store: %v, %v; want abandoned", i, len(ids), b, err)
			}
		}
	}
}

func TestPendingBattlesCap(t *testing.T) {
	a, store := pendingArena(t, 3, 0)
	var ids []string
	for i := range 7 {
		ids = append(ids, startReady(t, a, "c1", fmt.Sprintf("prompt %d", i)))
	}
	other := startReady(t, a, "c2", "someone else")
	checkKept(t, a, store, "c1", ids, 3)
	if _, err := a.Vote(context.Background(), "c2", arena.Request{BattleID: other, Winner: rlhf.WinnerA}); err != nil {
		t.Errorf("another contributor's battle: %v", err)
	}
}

func TestPendingBytesCap(t *testing.T) {
	// Each battle holds a 40-byte prompt and two answers of 2 bytes: 44.
	a, store := pendingArena(t, 0, 100)
	var ids []string
	for i := range 5 {
		ids = append(ids, startReady(t, a, "c1", fmt.Sprintf("%-40d", i)))
	}
	checkKept(t, a, store, "c1", ids, 2)
	if _, err := a.Start(context.Background(), "c1", arena.Request{Prompt: strings.Repeat("x", 101)}, func(arena.Frame) {}); rlhf.ErrorCode(err) != rlhf.ELimit {
		t.Errorf("a prompt larger than the bytes cap: %v, want %s", err, rlhf.ELimit)
	}
}

// TestRestoreUnderPendingCap restores more battles than the cap allows, as
// a restart does: the oldest are abandoned.
func TestRestoreUnderPendingCap(t *testing.T) {
	a, store := pendingArena(t, 2, 0)
	ctx := context.Background()
	now := time.Now()
	var ids []string
	for i := range 5 {
		b := &rlhf.Battle{ID: fmt.Sprintf("b%d", i), ContributorID: "c1", ModelA: "alpha", ModelB: "beta",
			Status: rlhf.StatusReady, CreatedAt: now, UpdatedAt: now.Add(time.Duration(i) * time.Second),
			Turns: []rlhf.Turn{{Prompt: "p", At: now, A: rlhf.Answer{Content: "x"}, B: rlhf.Answer{Content: "y"}}}}
		if err := store.SaveBattle(ctx, b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	ready, err := store.ReadyBattles(ctx, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range ready {
		if err := a.Restore(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	checkKept(t, a, store, "c1", ids, 2)
}
