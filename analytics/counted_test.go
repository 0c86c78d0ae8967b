package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestUncountedLeftOut feeds a live leaderboard and a store-style load the
// same votes, some of them on battles that were not anonymous: those are
// counted apart and change no rating.
func TestUncountedLeftOut(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var honest, all []rlhf.Record
	for i := range 60 {
		w := rlhf.WinnerA
		if i%3 == 0 {
			w = rlhf.WinnerB
		}
		r := record(i, []string{"x", "y", "z"}[i%3], []string{"y", "z", "x"}[i%3], w, t0.Add(time.Duration(i)*time.Second))
		honest = append(honest, r)
		all = append(all, r)
	}
	for i := range 40 { // a flood of leaked votes for z
		r := record(100+i, "z", "x", rlhf.WinnerA, t0.Add(time.Hour))
		r.Battle.IdentityLeak = "turn 0: the prompt asks who the model is"
		all = append(all, r)
	}
	ctx := context.Background()
	opt := Options{Rounds: 0}
	want, err := Compute(ctx, mustLoad(t, honest), opt)
	if err != nil {
		t.Fatal(err)
	}
	d := mustLoad(t, all)
	got, err := Compute(ctx, d, opt)
	if err != nil {
		t.Fatal(err)
	}
	live := &Live{}
	live.rebuild()
	for _, r := range all {
		if err := live.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	liveLB, err := live.Leaderboard(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	for name, lb := range map[string]*Leaderboard{"loaded": got, "live": liveLB} {
		if lb.Uncounted != 40 || lb.Battles != want.Battles {
			t.Errorf("%s: %d battles, %d uncounted; want %d and 40", name, lb.Battles, lb.Uncounted, want.Battles)
		}
		for i, row := range lb.Models {
			if row.Model != want.Models[i].Model || row.Rating != want.Models[i].Rating {
				t.Errorf("%s: row %d = %s %.6f, want %s %.6f", name, i, row.Model, row.Rating, want.Models[i].Model, want.Models[i].Rating)
			}
		}
	}
}

func mustLoad(t *testing.T, recs []rlhf.Record) *Dataset {
	t.Helper()
	var d Dataset
	if _, err := LoadRecords(context.Background(), memSource(recs), &d); err != nil {
		t.Fatal(err)
	}
	return &d
}
