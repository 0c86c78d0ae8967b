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
// language) of a live leaderboard over 1,000,000 battles after votes=1
// or 2,500 new votes (5 s of votes at 500/s: what a refit of a board
// refitted every 5 s sees), on one worker as the published leaderboards'
// worker fits them, with votes arriving a little out of time order as a
// live feed passes them (which makes the live Elo stale, so that every
// refit runs Elo over every battle). B/op is what a refit gives the
// garbage collector to do; cpu-ms/op the processor time of a refit (all
// goroutines), which a loaded machine does not inflate as it does ns/op.
//
//	go test -run XXX -bench PublicRefit -benchmem ./analytics
func BenchmarkPublicRefit(b *testing.B) {
	s, _ := NewSynth(SynthConfig{Models: 50, Battles: 1_000_000, Seed: 4, TieRate: 0.3})
	for _, v := range []struct {
		name  string
		style bool
		lang  string
	}{{"plain", false, ""}, {"style", true, ""}, {"style/language", true, "English"}} {
		for _, votes := range []int{1, 2500} {
			b.Run(fmt.Sprintf("%s/votes=%d", v.name, votes), func(b *testing.B) {
				benchPublicRefit(b, s, v.style, v.lang, votes)
			})
		}
	}
}

func benchPublicRefit(b *testing.B, s *Synth, style bool, lang string, votes int) {
	live := newLiveDataset(s.Dataset())
	opt := DefaultOptions()
	opt.Style, opt.Workers, opt.Matrices = style, 1, true
	if lang != "" {
		opt.Filter.Languages = []string{lang}
	}
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	vote := func() {
		i++
		r := record(i, s.Models[i%50], s.Models[(i+1+(i/50)%49)%50], []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie}[i%3],
			at.Add(time.Duration(i-2*(i%2))*time.Millisecond)) // every other vote out of order
		r.Battle.Turns[0].A.Tokens, r.Battle.Turns[0].B.Tokens = 20+i%61, 20+i%37 // style varies
		if err := live.Add(r); err != nil {
			b.Fatal(err)
		}
	}
	vote()
	if _, err := live.Leaderboard(context.Background(), opt); err != nil {
		b.Fatal(err)
	}
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		for range votes {
			vote()
		}
		b.StartTimer()
		cpu0 := cpuTime()
		lb, err := live.Leaderboard(context.Background(), opt)
		if err != nil {
			b.Fatal(fmt.Errorf("%+v: %w", opt.Filter, err))
		}
		cpu += cpuTime() - cpu0
		b.ReportMetric(float64(lb.Solver.Iterations), "iterations")
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
