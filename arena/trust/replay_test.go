package trust

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// history is a store's votes and battles in memory, for Rebuild.
type history struct {
	votes   []rlhf.Summary
	battles map[string][]time.Time // started, by contributor
}

func (h *history) Summaries(ctx context.Context, after, upTo int64, fn func(*rlhf.Summary) error) error {
	for i := range h.votes {
		if s := &h.votes[i]; s.Seq > after && s.Seq <= upTo {
			if err := fn(s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *history) BattlesStarted(ctx context.Context, since map[string]time.Time, until time.Time) (map[string]int, error) {
	out := map[string]int{}
	for id, ts := range h.battles {
		for _, t := range ts {
			if s, ok := since[id]; (!ok || t.After(s)) && t.Before(until) {
				out[id]++
			}
		}
	}
	return out, nil
}

// restartHistory returns 20 votes "x beats y" for each pair of four
// models, then four votes of "attacker" against that history, then a vote
// of "lifted" before their quarantine was lifted at the returned time; an
// imported contrary vote is left out of the detectors. "skipper" started
// 50 battles and voted on none.
func restartHistory() (*history, time.Time) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	h := &history{battles: map[string][]time.Time{}}
	models := []string{"m0", "m1", "m2", "m3"}
	add := func(who, a, b string, w rlhf.Winner, source string) {
		at := t0.Add(time.Duration(len(h.votes)) * time.Second)
		h.votes = append(h.votes, rlhf.Summary{Seq: int64(len(h.votes) + 1), ModelA: a, ModelB: b, Winner: w,
			Contributor: who, Source: source, Time: at})
		h.battles[who] = append(h.battles[who], at)
	}
	for i := range models {
		for j := i + 1; j < len(models); j++ {
			for k := range 20 {
				add(fmt.Sprint("honest-", k), models[i], models[j], rlhf.WinnerA, rlhf.SourceArena)
			}
		}
	}
	for range 4 {
		add("attacker", "m0", "m1", rlhf.WinnerB, rlhf.SourceArena)
	}
	for range 4 {
		add("lifted", "m0", "m2", rlhf.WinnerB, rlhf.SourceArena)
	}
	for range 30 {
		add("imported", "m0", "m3", rlhf.WinnerB, "file.jsonl")
	}
	for range 50 {
		h.battles["skipper"] = append(h.battles["skipper"], t0)
	}
	return h, t0.Add(time.Hour)
}

// TestRebuildResetsNothing: after a restart, a detector rebuilt from the
// stored votes flags the next suspicious vote as one that never stopped
// would; a fresh one does not.
func TestRebuildResetsNothing(t *testing.T) {
	h, liftedAt := restartHistory()
	ctx := context.Background()
	upTo := int64(len(h.votes))
	next := func(d *Detector, who, a string) []Flag {
		return d.Observe(Observation{Contributor: who, ModelA: a, ModelB: "m1", Winner: rlhf.WinnerB, At: liftedAt.Add(time.Hour)})
	}
	// Without a restart: every arena vote observed live.
	live := NewDetector(DetectorConfig{Seed: 1})
	for _, s := range h.votes {
		if s.Source == rlhf.SourceArena {
			live.Observe(Observation{Contributor: s.Contributor, ModelA: s.ModelA, ModelB: s.ModelB, Winner: s.Winner, At: s.Time})
		}
	}
	want := next(live, "attacker", "m0")

	rebuilt := NewDetector(DetectorConfig{Seed: 1})
	flags, n, err := rebuilt.Rebuild(ctx, h, upTo, Standing{Quarantined: []string{"quarantined"}, Lifted: map[string]time.Time{"lifted": liftedAt}, Started: liftedAt})
	if err != nil || len(flags) != 0 || int64(n) != upTo-30 {
		t.Fatalf("Rebuild = %v, %d, %v; want no flag, %d votes", flags, n, err, upTo-30)
	}
	got := next(rebuilt, "attacker", "m0")
	if len(want) != 1 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the rebuild the attacker's 5th vote flags %v; without a restart %v", got, want)
	}
	if fresh := next(NewDetector(DetectorConfig{Seed: 1}), "attacker", "m0"); len(fresh) != 0 {
		t.Errorf("a fresh detector flags %v on one vote", fresh)
	}
	// The lifted contributor starts afresh from the lift: their fifth vote
	// is their first since.
	if got := next(rebuilt, "lifted", "m0"); len(got) != 0 {
		t.Errorf("a vote of a contributor whose quarantine was lifted flags %v", got)
	}
	if got := rebuilt.Started("skipper"); len(got) != 1 || !strings.Contains(got[0].Reason, "0 of 51 battles") {
		t.Errorf("the skipper's 51st battle flags %v", got)
	}
	for range 5 {
		if got := next(rebuilt, "quarantined", "m0"); len(got) != 0 {
			t.Errorf("a quarantined contributor flagged again: %v", got)
		}
	}
}

// TestRebuildFlagsAFailedTest: a contributor whose stored votes already
// fail the sequential test, but who is not quarantined, is flagged by the
// rebuild itself.
func TestRebuildFlagsAFailedTest(t *testing.T) {
	h, _ := restartHistory()
	for i := range 3 {
		h.votes = append(h.votes, rlhf.Summary{Seq: int64(len(h.votes) + 1), ModelA: "m0", ModelB: "m1", Winner: rlhf.WinnerB,
			Contributor: "attacker", Source: rlhf.SourceArena, Time: time.Date(2026, 12, 2, 0, 0, i, 0, time.UTC)})
	}
	flags, _, err := NewDetector(DetectorConfig{}).Rebuild(context.Background(), h, int64(len(h.votes)), Standing{Started: time.Now()})
	if err != nil || len(flags) != 1 || flags[0].Contributor != "attacker" || !strings.Contains(flags[0].Reason, "sequential test") {
		t.Errorf("Rebuild flags %v, %v; want the attacker, by the sequential test", flags, err)
	}
}
