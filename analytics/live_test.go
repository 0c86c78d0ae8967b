package analytics

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// memSource is a hand-written RecordSource over a slice.
type memSource []rlhf.Record

func (s memSource) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	for i := range s {
		if err := fn(&s[i]); err != nil {
			return err
		}
	}
	return nil
}

func record(i int, a, b string, w rlhf.Winner, at time.Time) rlhf.Record {
	id := fmt.Sprint("b", i)
	return rlhf.Record{
		Battle: rlhf.Battle{ID: id, ModelA: a, ModelB: b, Source: rlhf.SourceArena, Language: "English",
			Turns: []rlhf.Turn{{Prompt: "q", A: rlhf.Answer{Content: "a", Tokens: 40}, B: rlhf.Answer{Content: "b", Tokens: 10}}}},
		Vote: rlhf.Vote{ID: "v" + id, BattleID: id, ContributorID: fmt.Sprint("u", i%7), Winner: w, CreatedAt: at},
	}
}

// TestLiveMatchesBatch checks that a live leaderboard fed vote by vote
// equals the batch computation over the same battles, with and without
// filters, and that it refits only after new votes.
func TestLiveMatchesBatch(t *testing.T) {
	s, _ := NewSynth(SynthConfig{Models: 7, Battles: 3000, Seed: 11, TieRate: 0.3})
	var recs []rlhf.Record
	s.Generate(func(b *Battle) error {
		recs = append(recs, record(len(recs), b.ModelA, b.ModelB, b.Winner, b.Time))
		return nil
	})
	ctx := context.Background()
	live, err := NewLive(ctx, memSource(recs[:2000]))
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.Rounds = 100
	first, err := live.Leaderboard(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := live.Leaderboard(ctx, opt); again != first {
		t.Errorf("no new votes: Leaderboard refitted instead of returning the cached result")
	}
	var wg sync.WaitGroup
	for k, r := range recs[2000:] {
		if err := live.Add(r); err != nil {
			t.Fatal(err)
		}
		if k%100 == 0 {
			wg.Add(1)
			go func() { // a concurrent reader while votes arrive
				defer wg.Done()
				if _, err := live.Leaderboard(ctx, opt); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	var d Dataset
	for i := range recs {
		if err := d.AddRecord(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []Filter{{}, {ExcludeTies: true}, {Contributors: []string{"u1", "u2"}}} {
		opt.Filter = f
		got, err := live.Leaderboard(ctx, opt)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Compute(ctx, &d, opt)
		if err != nil {
			t.Fatal(err)
		}
		if got.Battles != want.Battles || len(got.Models) != len(want.Models) {
			t.Fatalf("filter %+v: live %d battles, batch %d", f, got.Battles, want.Battles)
		}
		for i := range got.Models {
			g, w := got.Models[i], want.Models[i]
			// Warm starts change the bootstrap solutions only within the
			// solver tolerance.
			if g.Model != w.Model || math.Abs(g.Rating-w.Rating) > 1e-6 || math.Abs(g.Elo-w.Elo) > 1e-9 ||
				math.Abs(g.CILower-w.CILower) > 1e-6 || math.Abs(g.CIUpper-w.CIUpper) > 1e-6 {
				t.Errorf("filter %+v row %d: live %+v, batch %+v", f, i, g, w)
			}
		}
	}
}

// TestLiveStyleFromRecords: m1 usually gives the longer answer and the
// longer answer usually wins. Plain Bradley–Terry credits m1; style control
// credits length.
func TestLiveStyleFromRecords(t *testing.T) {
	var recs []rlhf.Record
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 800; i++ {
		a, b := "m1", "m2"
		if i%2 == 1 {
			a, b = "m2", "m1"
		}
		m1Longer := (i/2)%4 != 0
		aLonger := m1Longer == (a == "m1")
		w := rlhf.WinnerA
		if !aLonger {
			w = rlhf.WinnerB
		}
		if i%5 == 0 { // the shorter answer wins one battle in five
			if w == rlhf.WinnerA {
				w = rlhf.WinnerB
			} else {
				w = rlhf.WinnerA
			}
		}
		r := record(i, a, b, w, at.Add(time.Duration(i)*time.Minute))
		long, short := 40, 10+20*(i%3)/2
		r.Battle.Turns[0].A.Tokens, r.Battle.Turns[0].B.Tokens = short, long
		if aLonger {
			r.Battle.Turns[0].A.Tokens, r.Battle.Turns[0].B.Tokens = long, short
		}
		recs = append(recs, r)
	}
	live, err := NewLive(context.Background(), memSource(recs))
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.Style = true
	lb, err := live.Leaderboard(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if lb.Style == nil || lb.Style.Battles != 800 {
		t.Fatalf("style report %+v, want 800 battles with style", lb.Style)
	}
	if tok := lb.Style.Coefficients[0]; tok.Coefficient <= 0 || tok.StdErr <= 0 {
		t.Errorf("length coefficient %+v, want > 0 with a standard error", tok)
	}
	top := lb.Models[0]
	styled := math.Abs(lb.Models[0].Rating - lb.Models[1].Rating)
	plain := math.Abs(*lb.Models[0].UnadjustedRating - *lb.Models[1].UnadjustedRating)
	if styled > plain/3 {
		t.Errorf("rating gap %.1f with style control, %.1f without; want style control to remove most of it", styled, plain)
	}
	if !(top.CILower < top.Rating && top.Rating < top.CIUpper) {
		t.Errorf("Wald interval [%.1f, %.1f] does not contain %.1f", top.CILower, top.CIUpper, top.Rating)
	}
}
