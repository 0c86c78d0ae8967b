package main

import (
	"context"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/arena/trust"
)

// BenchmarkDetectorsRebuild rebuilds the anomaly detectors from a store of
// a million votes by 5,000 contributors among 50 models (the store
// BenchmarkServeReady makes and keeps), what "agora serve" does at start
// in a worker while it already takes votes, beside the live leaderboard's
// load from the same store (another start-up worker), for the ratio.
//
//	go test -run '^$' -bench DetectorsRebuild -benchtime 1x -count 3 ./cmd/agora
func BenchmarkDetectorsRebuild(b *testing.B) {
	const n = 1_000_000
	s, err := openStore(benchArenaStore(b, n, false))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	b.Run("rebuild", func(b *testing.B) {
		for b.Loop() {
			_, got, err := trust.NewDetector(trust.DetectorConfig{}).Rebuild(ctx, s, -1, trust.Standing{Started: time.Now()})
			if err != nil || got != n {
				b.Fatalf("Rebuild = %d votes, %v; want %d", got, err, n)
			}
		}
	})
	b.Run("leaderboard-load", func(b *testing.B) {
		for b.Loop() {
			var d analytics.Dataset
			if _, err := analytics.LoadSummaries(ctx, s, -1, &d, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
