package redteam

import (
	"context"
	"testing"
)

// TestAcceptance runs the setting: 25 models, 50,000 honest votes,
// 1,000 attack votes from 50 identities.
func TestAcceptance(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("the full-scale simulation is too slow for -short and the race detector; TestSmallRun runs every attack small")
	}
	for _, attack := range []string{Omnipresent, TargetOnly} {
		r, err := Run(context.Background(), Defaults(), attack)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", *r)
		if r.AttackVotes < 950 || r.AttackIDs != 50 {
			t.Errorf("%s: %d attack votes from %d identities, want about 1000 from 50", attack, r.AttackVotes, r.AttackIDs)
		}
		if up := r.RankBefore - r.RankOff; up < 3 {
			t.Errorf("%s without defences: target %d → %d, want up ≥ 3 ranks", attack, r.RankBefore, r.RankOff)
		}
		if up := r.RankBeforeOn - r.RankOn; up > 1 {
			t.Errorf("%s with defences: target %d → %d, want up ≤ 1 rank", attack, r.RankBeforeOn, r.RankOn)
		}
		if r.HonestFlagged*100 > r.HonestIDs {
			t.Errorf("%s: %d of %d honest contributors flagged, want ≤ 1%%", attack, r.HonestFlagged, r.HonestIDs)
		}
	}
}

// TestSmallRun runs every attack at a tenth of the scale: each casts its
// votes, and the guard marks every identity probe.
func TestSmallRun(t *testing.T) {
	cfg := Defaults()
	cfg.HonestVotes, cfg.AttackVotes, cfg.AttackIDs = 5000, 100, 10
	for _, attack := range []string{Omnipresent, TargetOnly, Sybil, Probing} {
		r, err := Run(context.Background(), cfg, attack)
		if err != nil {
			t.Fatal(err)
		}
		if r.AttackVotes < 90 || r.AttackBattles < r.AttackVotes || r.HonestIDs != 92 {
			t.Errorf("%s: %+v", attack, *r)
		}
		if attack == Probing && r.AttackLeaks != r.AttackVotes {
			t.Errorf("identity probing: %d of %d votes marked not anonymous", r.AttackLeaks, r.AttackVotes)
		}
	}
	if _, err := Run(context.Background(), Config{Models: 2}, TargetOnly); err == nil {
		t.Error("a bad configuration ran")
	}
}
