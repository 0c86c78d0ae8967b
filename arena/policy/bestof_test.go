package policy

import (
	"context"
	"testing"
)

// TestBestOfTenInflation reproduces the "best of 10 identical variants"
// inflation of the Leaderboard Illusion, and its shrinking under the
// provisional rule (fresh votes after listing). The figures are in
// docs/policy.md: go test -run TestBestOfTenInflation -v ./arena/policy
func TestBestOfTenInflation(t *testing.T) {
	ctx := context.Background()
	cfg := BestOfConfig{Variants: 10, PrivateVotes: 200, FreshVotes: 2000, RefVotes: 2000, Runs: 60, Seed: 1}
	ten, err := BestOf(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Variants = 1
	one, err := BestOf(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("best of 10, at listing (no rule):       %v", ten.Without)
	t.Logf("best of 10, after %d fresh votes (rule): %v", cfg.FreshVotes, ten.With)
	t.Logf("one variant, at listing:                %v", one.Without)
	t.Logf("one variant, after %d fresh votes:      %v", cfg.FreshVotes, one.With)
	if ten.Without.Mean < 20 {
		t.Errorf("best of 10 inflates by %.1f points on average, want a clear inflation (≥ 20)", ten.Without.Mean)
	}
	if ten.With.Mean > ten.Without.Mean/3 {
		t.Errorf("with the rule the inflation is %.1f, want under a third of %.1f", ten.With.Mean, ten.Without.Mean)
	}
	if abs(one.Without.Mean) > 8 {
		t.Errorf("a single variant inflates by %.1f, want about 0", one.Without.Mean)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
