package analytics

import (
	"context"
	"math"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestComputeCountsMatchesCompute rates the same battles once from the
// battles and once from per-pair tallies: the ratings and intervals agree.
func TestComputeCountsMatchesCompute(t *testing.T) {
	var d Dataset
	winners := []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie, rlhf.WinnerA, rlhf.WinnerBothBad}
	models := []string{"a", "b", "c", "d"}
	tally := map[[2]string]*[3]int64{}
	k := 0
	for i, x := range models {
		for j, y := range models {
			if i == j {
				continue
			}
			for r := 0; r < 3+i; r++ {
				w := winners[k%len(winners)]
				k++
				if err := d.Add(Battle{ModelA: x, ModelB: y, Winner: w}); err != nil {
					t.Fatal(err)
				}
				c := tally[[2]string{x, y}]
				if c == nil {
					c = new([3]int64)
					tally[[2]string{x, y}] = c
				}
				switch {
				case w == rlhf.WinnerA:
					c[0]++
				case w == rlhf.WinnerB:
					c[1]++
				default:
					c[2]++
				}
			}
		}
	}
	opt := DefaultOptions()
	opt.Rounds, opt.Seed = 200, 7
	want, err := Compute(context.Background(), &d, opt)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCounts(models)
	for p, v := range tally {
		if err := c.Add(p[0], p[1], v[0], v[1], v[2]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ComputeCounts(context.Background(), c, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got.Battles != want.Battles || len(got.Models) != len(want.Models) {
		t.Fatalf("ComputeCounts: %d battles, %d models; want %d, %d", got.Battles, len(got.Models), want.Battles, len(want.Models))
	}
	for i := range want.Models {
		g, w := got.Models[i], want.Models[i]
		if g.Model != w.Model || math.Abs(g.Rating-w.Rating) > 1e-9 || g.Wins != w.Wins || g.Ties != w.Ties {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
	if err := c.Add("a", "a", 1, 0, 0); err == nil {
		t.Error("Add accepted a model against itself")
	}
	if err := c.Add("a", "zz", 1, 0, 0); err == nil {
		t.Error("Add accepted an unknown model")
	}
}
