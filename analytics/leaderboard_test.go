package analytics

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestRecoversTruth checks that ratings from synthetic battles are close to
// the true ratings, and that the 95% intervals cover the truth between 90%
// and 99% of the time over many seeds.
func TestRecoversTruth(t *testing.T) {
	const seeds, models = 40, 12
	var covered, total int
	var worst float64
	for seed := uint64(1); seed <= seeds; seed++ {
		s, err := NewSynth(SynthConfig{Models: models, Battles: 3000, Seed: seed, TieRate: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		opt := DefaultOptions()
		opt.Rounds, opt.Seed = 300, seed
		lb, err := Compute(context.Background(), s.Dataset(), opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range lb.Models {
			truth := s.Truth[modelIndex(s.Models, row.Model)]
			worst = max(worst, math.Abs(row.Rating-truth))
			if row.CILower <= truth && truth <= row.CIUpper {
				covered++
			}
			total++
		}
	}
	rate := float64(covered) / float64(total)
	t.Logf("coverage %.3f over %d intervals, worst error %.1f points", rate, total, worst)
	if rate < 0.90 || rate > 0.99 {
		t.Errorf("95%% intervals cover the truth %.3f of the time, want 0.90–0.99", rate)
	}
	if worst > 60 {
		t.Errorf("worst rating error %.1f points, want ≤ 60 with 3000 battles among %d models", worst, models)
	}
}

func modelIndex(models []string, m string) int {
	for i, x := range models {
		if x == m {
			return i
		}
	}
	return -1
}

func TestBootstrapReproducible(t *testing.T) {
	s, _ := NewSynth(SynthConfig{Models: 8, Battles: 2000, Seed: 3})
	d := s.Dataset()
	run := func(workers int) *Leaderboard {
		opt := DefaultOptions()
		opt.Rounds, opt.Seed, opt.Workers = 200, 99, workers
		lb, err := Compute(context.Background(), d, opt)
		if err != nil {
			t.Fatal(err)
		}
		return lb
	}
	a, b := run(1), run(2)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("same seed, 1 and 2 workers: leaderboards differ")
	}
}

func TestRankRule(t *testing.T) {
	var d Dataset
	add := func(a, b string, w rlhf.Winner, k int) {
		for i := 0; i < k; i++ {
			if err := d.Add(Battle{ModelA: a, ModelB: b, Winner: w}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// strong ≫ mid ≈ mid2 ≫ weak.
	add("strong", "mid", rlhf.WinnerA, 300)
	add("strong", "mid", rlhf.WinnerB, 30)
	add("mid", "mid2", rlhf.WinnerA, 100)
	add("mid", "mid2", rlhf.WinnerB, 100)
	add("mid2", "weak", rlhf.WinnerA, 300)
	add("mid2", "weak", rlhf.WinnerB, 30)
	opt := DefaultOptions()
	opt.Rounds = 200
	lb, err := Compute(context.Background(), &d, opt)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range lb.Models {
		got[r.Model] = r.Rank
	}
	want := map[string]int{"strong": 1, "mid": 2, "mid2": 2, "weak": 4}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ranks = %v, want %v", got, want)
	}
	if m := lb.Matrices; m == nil || m.Battles[0][1]+m.Battles[1][0] == 0 {
		t.Errorf("matrices missing or empty: %+v", m)
	}
}

func TestAnchorAndFilters(t *testing.T) {
	s, _ := NewSynth(SynthConfig{Models: 6, Battles: 3000, Seed: 5, TieRate: 0.5})
	d := s.Dataset()
	opt := DefaultOptions()
	opt.Rounds = 0
	opt.Anchor, opt.AnchorRating = "model-002", 1114
	lb, err := Compute(context.Background(), d, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range lb.Models {
		if r.Model == "model-002" && math.Abs(r.Rating-1114) > 1e-9 {
			t.Errorf("anchor rating = %v, want 1114", r.Rating)
		}
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    Filter
		want int64
	}{
		{"all", Filter{}, 3000},
		{"window", Filter{Since: start.Add(100 * time.Second), Until: start.Add(200 * time.Second)}, 100},
		{"no ties", Filter{ExcludeTies: true}, -1},
		{"models", Filter{Models: []string{"model-000", "model-001"}}, -1},
		{"unknown category", Filter{Categories: []string{"coding"}}, 0},
	}
	for _, tt := range tests {
		c := d.Count(tt.f)
		if tt.want >= 0 && c.Battles != tt.want {
			t.Errorf("%s: %d battles, want %d", tt.name, c.Battles, tt.want)
		}
		if tt.name == "no ties" {
			for _, v := range c.Ties {
				if v != 0 {
					t.Fatalf("no ties: found a tie count %d", v)
				}
			}
		}
		if tt.name == "models" && c.N() != 2 {
			t.Errorf("models: %d models, want 2", c.N())
		}
	}
}

// TestHardCasesLeaderboard: an undefeated model, a disconnected graph and a
// model with one battle give finite ratings, JSON that encodes, and warnings.
func TestHardCasesLeaderboard(t *testing.T) {
	var d Dataset
	add := func(a, b string, w rlhf.Winner, k int) {
		for i := 0; i < k; i++ {
			d.Add(Battle{ModelA: a, ModelB: b, Winner: w})
		}
	}
	add("champ", "p", rlhf.WinnerA, 5) // champ never loses
	add("p", "q", rlhf.WinnerA, 3)
	add("q", "p", rlhf.WinnerA, 2)
	add("island1", "island2", rlhf.WinnerA, 2) // a second component
	add("island2", "island1", rlhf.WinnerA, 1)
	add("lonely", "q", rlhf.WinnerTie, 1) // one battle
	lb, err := Compute(context.Background(), &d, Options{Rounds: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(lb); err != nil {
		t.Fatalf("leaderboard does not encode: %v", err)
	}
	for _, r := range lb.Models {
		for _, v := range []float64{r.Rating, r.CILower, r.CIUpper, r.Elo} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: non-finite value in %+v", r.Model, r)
			}
		}
	}
	all := strings.Join(lb.Warnings, "\n")
	for _, want := range []string{"never lost nor tied: champ", "2 disconnected parts", "lonely has a single battle", "prior"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if lb.Solver.Prior != DefaultPrior {
		t.Errorf("prior = %v, want %v", lb.Solver.Prior, DefaultPrior)
	}
}

// TestStyleMissingFeatures: battles without style features enter at the
// mean and are counted in a warning; the length effect is still found.
func TestStyleMissingFeatures(t *testing.T) {
	s, _ := NewSynth(SynthConfig{Models: 5, Battles: 4000, Seed: 21, TieRate: 0.2})
	var d Dataset
	i := 0
	s.Generate(func(b *Battle) error {
		i++
		if i%4 != 0 { // three battles in four have style
			b.HasStyle = true
			b.StyleA.Tokens, b.StyleB.Tokens = 100+i%50, 100+(i*7)%50
			if b.Winner == rlhf.WinnerA { // the winner tends to be longer
				b.StyleA.Tokens += 60
			} else if b.Winner == rlhf.WinnerB {
				b.StyleB.Tokens += 60
			}
		}
		return d.Add(*b)
	})
	opt := DefaultOptions()
	opt.Style = true
	lb, err := Compute(context.Background(), &d, opt)
	if err != nil {
		t.Fatal(err)
	}
	if lb.Style.Battles != 3000 {
		t.Errorf("%d battles with style, want 3000", lb.Style.Battles)
	}
	if !strings.Contains(strings.Join(lb.Warnings, "\n"), "1000 of 4000 battles lack style features") {
		t.Errorf("warnings %q", lb.Warnings)
	}
	tok := lb.Style.Coefficients[0]
	if tok.Coefficient < 5*tok.StdErr {
		t.Errorf("length coefficient %+v, want clearly positive", tok)
	}
	for _, c := range lb.Style.Coefficients[1:] {
		if c.Coefficient != 0 || c.StdErr != 0 {
			t.Errorf("constant feature %s got coefficient %+v, want 0", c.Feature, c)
		}
	}
}
