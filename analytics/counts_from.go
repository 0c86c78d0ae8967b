package analytics

import (
	"context"
	"errors"
	"fmt"
)

// NewCounts returns empty counts over models, to be filled with Add: the
// way per-pair tallies from a database (ClickHouse) become a leaderboard.
func NewCounts(models []string) *Counts {
	n := len(models)
	return &Counts{Models: append([]string(nil), models...), Wins: make([]int64, n*n), Ties: make([]int64, n*n)}
}

// Add adds the tallies of one ordered pair: winsA battles won by a,
// winsB won by b, and ties (ties and both-bad together).
func (c *Counts) Add(a, b string, winsA, winsB, ties int64) error {
	i, j := c.Index(a), c.Index(b)
	switch {
	case i < 0 || j < 0:
		return fmt.Errorf("counts: unknown model in pair %q, %q", a, b)
	case i == j:
		return fmt.Errorf("counts: model %q against itself", a)
	case winsA < 0 || winsB < 0 || ties < 0:
		return fmt.Errorf("counts: negative tally for %q vs %q", a, b)
	}
	n := len(c.Models)
	c.Wins[i*n+j] += winsA
	c.Wins[j*n+i] += winsB
	c.Ties[i*n+j] += ties
	c.Ties[j*n+i] += ties
	c.Battles += winsA + winsB + ties
	return nil
}

// ComputeCounts computes the Bradley–Terry leaderboard, with bootstrap
// intervals, from per-pair counts alone. Online Elo needs the votes in time
// order and style control needs every battle's answers, so neither comes
// from counts: each row's elo is the initial rating, and a warning says so.
func ComputeCounts(ctx context.Context, c *Counts, opt Options) (*Leaderboard, error) {
	opt.fill()
	if opt.Style {
		return nil, errors.New("style control needs each battle's answers, not only counts")
	}
	lb, err := computeCounts(ctx, c, func() []float64 { return nil }, nil, nil, opt, RunBootstrap)
	if err != nil {
		return nil, err
	}
	lb.Warnings = append(lb.Warnings, "computed from per-pair counts: online Elo is not available (it needs the votes in time order)")
	return lb, nil
}
