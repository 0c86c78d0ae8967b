package analytics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// BenchmarkPublicRefit refits the published leaderboards' variants (the
// default options with and without style control, for all battles or one
// language) of a live leaderboard over 1,000,000 battles after a vote, on
// one worker as the published leaderboards' worker fits them, with votes
// arriving a little out of time order as a live feed passes them (which
// makes the live Elo stale, so that every refit runs Elo over every
// battle). B/op is what a refit gives the garbage collector to do.
//
//	go test -run XXX -bench PublicRefit -benchmem ./analytics
func BenchmarkPublicRefit(b *testing.B) {
	s, _ := NewSynth(SynthConfig{Models: 50, Battles: 1_000_000, Seed: 4, TieRate: 0.3})
	for _, v := range []struct {
		name  string
		style bool
		lang  string
	}{{"plain", false, ""}, {"style", true, ""}, {"style/language", true, "English"}} {
		b.Run(v.name, func(b *testing.B) {
			live := newLiveDataset(s.Dataset())
			opt := DefaultOptions()
			opt.Style, opt.Workers, opt.Matrices = v.style, 1, true
			if v.lang != "" {
				opt.Filter.Languages = []string{v.lang}
			}
			at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			i := 0
			vote := func() {
				i++
				r := record(i, s.Models[i%50], s.Models[(i+1)%50], rlhf.WinnerA, at.Add(time.Duration(i%2)*-time.Millisecond))
				if err := live.Add(r); err != nil {
					b.Fatal(err)
				}
			}
			vote()
			if _, err := live.Leaderboard(context.Background(), opt); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				vote()
				if _, err := live.Leaderboard(context.Background(), opt); err != nil {
					b.Fatal(fmt.Errorf("%s: %w", v.name, err))
				}
			}
		})
	}
}
