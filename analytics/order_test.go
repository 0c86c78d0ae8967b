package analytics

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sortedByTime is the reference for inOrder: a stable sort of every
// battle by its time, a battle without one taking the time before it.
func sortedByTime(d *Dataset) []int {
	idx := make([]int, len(d.a))
	keys := make([]int64, len(d.a))
	last := int64(noTime)
	for i := range idx {
		idx[i] = i
		if d.t[i] != noTime {
			last = d.t[i]
		}
		keys[i] = last
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		switch {
		case keys[x] < keys[y]:
			return -1
		case keys[x] > keys[y]:
			return 1
		}
		return 0
	})
	return idx
}

// TestInOrder compares inOrder with a stable sort of every battle, on
// times in order but for a tail of late votes (the live case), on times
// in any order, and with battles lacking a time.
func TestInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name          string
		n, tail, span int
		missing       float64
	}{
		{"ordered", 500, 0, 1000, 0},
		{"late tail", 2000, 40, 30, 0},
		{"late tail, untimed", 2000, 40, 30, 0.1},
		{"shuffled", 1000, 1000, 50, 0.2},
		{"ties", 1000, 300, 3, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &Dataset{}
			for i := range tc.n {
				tm := int64(i * 10)
				if i >= tc.n-tc.tail {
					tm = int64((tc.n - tc.tail - rng.IntN(tc.span)) * 10)
				}
				if rng.Float64() < tc.missing && i > 0 {
					tm = noTime
				}
				d.addCore(0, 1, outA, tm, nil)
			}
			var got []int
			d.inOrder(func(i int) { got = append(got, i) })
			if want := sortedByTime(d); !slices.Equal(got, want) {
				t.Fatalf("inOrder visits %v…, want %v…", got[:min(20, len(got))], want[:min(20, len(want))])
			}
		})
	}
}
