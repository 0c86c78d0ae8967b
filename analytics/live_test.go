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
	opt.Rounds = 1000 // enough that the two Monte Carlo estimates of each interval agree within the tolerance below
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
			if g.Model != w.Model || math.Abs(g.Rating-w.Rating) > 1e-6 || math.Abs(g.Elo-w.Elo) > 1e-9 || g.Battles != w.Battles {
				t.Errorf("filter %+v row %d: live %+v, batch %+v", f, i, g, w)
			}
			// The live board updates its resamples instead of drawing
			// them afresh: the intervals agree statistically.
			half := (w.CIUpper - w.CILower) / 2
			if math.Abs(g.CILower-w.CILower) > 0.25*half || math.Abs(g.CIUpper-w.CIUpper) > 0.25*half {
				t.Errorf("filter %+v %s: live interval [%.1f, %.1f], batch [%.1f, %.1f]", f, g.Model, g.CILower, g.CIUpper, w.CILower, w.CIUpper)
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

// TestLiveResampleExact checks the incremental resampling: after votes
// arrive, every round's counts must be a Multinomial(N, c/N) draw over the
// new data (total N, Binomial means and variances per cell), whether the
// rounds are updated battle by battle or drawn afresh.
func TestLiveResampleExact(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		t.Run(fmt.Sprint("fresh=", fresh), func(t *testing.T) {
			costing(t, func(_, cells, n int) (int, bool) { return cells + n*n, fresh })
			testLiveResampleExact(t)
		})
	}
}

// costing makes the live bootstrap cost rounds by cost until the test ends.
func costing(t *testing.T, cost func(k, cells, n int) (int, bool)) {
	saved := roundCostOf
	roundCostOf = cost
	t.Cleanup(func() { roundCostOf = saved })
}

func testLiveResampleExact(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []rlhf.Record
	for i, w := range []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie, rlhf.WinnerA, rlhf.WinnerB} {
		recs = append(recs, record(i, "x", "y", w, at.Add(time.Duration(i)*time.Minute)))
	}
	recs = append(recs, record(6, "y", "z", rlhf.WinnerA, at.Add(6*time.Minute)), record(7, "z", "y", rlhf.WinnerA, at.Add(7*time.Minute)))
	ctx := context.Background()
	live, err := NewLive(ctx, memSource(recs))
	if err != nil {
		t.Fatal(err)
	}
	opt := DefaultOptions()
	opt.Rounds, opt.Matrices = 20000, false
	if _, err := live.Leaderboard(ctx, opt); err != nil {
		t.Fatal(err)
	}
	// New votes, one of them a cell never seen (z beats x).
	for i, r := range []rlhf.Record{
		record(8, "x", "y", rlhf.WinnerB, at.Add(8*time.Minute)),
		record(9, "z", "x", rlhf.WinnerA, at.Add(9*time.Minute)),
		record(10, "x", "y", rlhf.WinnerTie, at.Add(10*time.Minute)),
	} {
		if err := live.Add(r); err != nil {
			t.Fatal(err)
		}
		if i != 1 { // refresh after some votes, not all
			if _, err := live.Leaderboard(ctx, opt); err != nil {
				t.Fatal(err)
			}
		}
	}
	lb := live.boot
	if lb == nil || lb.battles != 11 {
		t.Fatalf("live bootstrap state %v, want it to cover 11 battles", lb)
	}
	want := map[cellKey]float64{}
	for i := 0; i < live.data.Len(); i++ {
		want[battleCell(live.data.a[i], live.data.b[i], live.data.w[i])]++
	}
	const n = 11.0
	for k, key := range lb.keys {
		var sum, sumSq float64
		for r := range lb.counts {
			v := float64(lb.counts[r][k])
			sum += v
			sumSq += v * v
		}
		rounds := float64(len(lb.counts))
		p := want[key] / n
		mean, variance := sum/rounds, sumSq/rounds-(sum/rounds)*(sum/rounds)
		wantVar := n * p * (1 - p)
		if math.Abs(mean-n*p) > 5*math.Sqrt(wantVar/rounds) || math.Abs(variance-wantVar) > 0.06*wantVar {
			t.Errorf("cell %+v: mean %.3f variance %.3f, want %.3f and %.3f", key, mean, variance, n*p, wantVar)
		}
	}
	for r := range lb.counts {
		var tot int32
		for _, v := range lb.counts[r] {
			tot += v
		}
		if tot != 11 {
			t.Fatalf("round %d holds %d battles, want 11", r, tot)
		}
	}
}

// TestLiveRefreshesStalestRounds checks the bounded refresh: with work for
// a quarter of the rounds, each refresh brings the quarter that covers the
// fewest battles up to date, so that no round falls more than four
// refreshes behind and every round stays a resample of exactly the
// battles it covers.
func TestLiveRefreshesStalestRounds(t *testing.T) {
	costing(t, func(_, cells, n int) (int, bool) { return cells + n*n, false })
	s, live, opt := liveFitted(t, 5, 400, 8)
	ctx := context.Background()
	cells := len(live.boot.keys)
	live.roundWork = 50 * (cells + 25) // 50 rounds of 200 per refresh
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		if err := live.Add(record(1000+i, s.Models[i%5], s.Models[(i+2)%5], rlhf.WinnerA, at.Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
		if _, err := live.Leaderboard(ctx, opt); err != nil {
			t.Fatal(err)
		}
		lb, total := live.boot, 401+i
		fresh := 0
		for r, c := range lb.covered {
			var held int32
			for _, v := range lb.counts[r] {
				held += v
			}
			if int(held) != c {
				t.Fatalf("after vote %d: round %d covers %d battles but holds %d", i, r, c, held)
			}
			if c < total-4 {
				t.Errorf("after vote %d: round %d covers %d of %d battles: more than 4 refreshes behind", i, r, c, total)
			}
			if c == total {
				fresh++
			}
		}
		if len(lb.keys) == cells && fresh != 50 {
			t.Errorf("after vote %d: %d rounds cover every battle, want the 50 refreshed", i, fresh)
		}
	}
}

// TestLiveRefreshWithinWork checks the refresh's work model (roundCost):
// after a burst of votes a refresh brings up to date only the stalest
// rounds its work allows, drawn afresh, and every round stays a resample
// of exactly the battles it covers; after a few more, those rounds are
// updated battle by battle and the rest drawn afresh.
func TestLiveRefreshWithinWork(t *testing.T) {
	s, live, opt := liveFitted(t, 10, 2000, 3)
	ctx := context.Background()
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	votes := 0
	vote := func(n int) {
		for range n {
			votes++
			if err := live.Add(record(5000+votes, s.Models[votes%10], s.Models[(votes+3)%10], rlhf.WinnerB, at.Add(time.Duration(votes)*time.Second))); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(step string, total, wantFresh int) {
		t.Helper()
		if _, err := live.Leaderboard(ctx, opt); err != nil {
			t.Fatal(err)
		}
		fresh := 0
		for r, c := range live.boot.covered {
			var held int32
			for _, v := range live.boot.counts[r] {
				held += v
			}
			if int(held) != c {
				t.Fatalf("%s: round %d covers %d battles but holds %d", step, r, c, held)
			}
			if c == total {
				fresh++
			}
		}
		if fresh != wantFresh {
			t.Errorf("%s: %d rounds cover all %d battles, want %d", step, fresh, total, wantFresh)
		}
	}
	vote(500)
	cells := len(live.boot.keys)
	burst, drawn := roundCost(500, cells, 10)
	if !drawn {
		t.Fatalf("a round 500 battles behind over %d cells is not drawn afresh", cells)
	}
	live.roundWork = 40 * burst
	check("after 500 votes", 2500, 40)
	vote(2)
	if _, drawn := roundCost(2, cells, 10); drawn {
		t.Fatalf("a round 2 battles behind is drawn afresh")
	}
	live.roundWork = math.MaxInt
	check("after 2 more", 2502, 200)
}

// liveFitted returns a live leaderboard over synthetic battles, fitted
// once with 200 bootstrap rounds, and those options.
func liveFitted(t *testing.T, models, battles int, seed uint64) (*Synth, *Live, Options) {
	t.Helper()
	s, _ := NewSynth(SynthConfig{Models: models, Battles: battles, Seed: seed, TieRate: 0.3})
	live := newLiveDataset(s.Dataset())
	opt := DefaultOptions()
	opt.Rounds = 200
	if _, err := live.Leaderboard(context.Background(), opt); err != nil {
		t.Fatal(err)
	}
	return s, live, opt
}
