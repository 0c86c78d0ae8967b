package analytics

import (
	"context"
	"sync"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestLiveReloadDropsErased checks that Reload drops the votes that left
// the store, and counts every other vote once: votes added while it reads,
// and votes it read that reach Add afterwards (still in the feed's queue).
func TestLiveReloadDropsErased(t *testing.T) {
	s, _ := NewSynth(SynthConfig{Models: 5, Battles: 1170, Seed: 3, TieRate: 0.2})
	var all []rlhf.Record
	s.Generate(func(b *Battle) error {
		all = append(all, record(len(all), b.ModelA, b.ModelB, b.Winner, b.Time))
		return nil
	})
	base, late, fresh := all[:1000], all[1000:1100], all[1100:]
	ctx := context.Background()
	live, err := NewLive(ctx, memSource(base))
	if err != nil {
		t.Fatal(err)
	}
	// The store after contributor u3's erasure, with 100 more votes
	// committed that the leaderboard has not taken yet.
	var store memSource
	for _, r := range base {
		if r.Vote.ContributorID != "u3" {
			store = append(store, r)
		}
	}
	store = append(store, late...)
	erased := len(base) + len(late) - len(store)
	if erased == 0 {
		t.Fatal("no votes of u3 to erase")
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, r := range late[:50] { // some may arrive during the reload
			live.Add(r)
		}
	})
	if err := live.Reload(ctx, store); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, r := range late[50:] { // read by the reload, then taken from the queue
		live.Add(r)
	}
	for _, r := range fresh { // committed after the reload
		live.Add(r)
	}
	if got, want := live.Len(), len(store)+len(fresh); got != want {
		t.Fatalf("after erasing %d votes: leaderboard holds %d battles, want %d", erased, got, want)
	}
	lb, err := live.Leaderboard(ctx, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	want, err := NewLive(ctx, append(store[:len(store):len(store)], fresh...))
	if err != nil {
		t.Fatal(err)
	}
	wlb, err := want.Leaderboard(ctx, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(lb.Models) != len(wlb.Models) {
		t.Fatalf("reloaded leaderboard has %d models, want %d", len(lb.Models), len(wlb.Models))
	}
	for i := range lb.Models {
		if lb.Models[i].Model != wlb.Models[i].Model || lb.Models[i].Battles != wlb.Models[i].Battles {
			t.Errorf("model %d = %s with %d battles, want %s with %d", i, lb.Models[i].Model, lb.Models[i].Battles, wlb.Models[i].Model, wlb.Models[i].Battles)
		}
	}
}
