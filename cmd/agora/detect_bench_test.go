package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/agora-rlhf/agora/arena/trust"
)

// BenchmarkDetectorsRebuild rebuilds the anomaly detectors from a store of
// a million votes by 5,000 contributors among 50 models (the store
// BenchmarkServeReady makes and keeps): what "agora serve" does at start,
// in a worker, while it already takes votes.
//
//	go test -run '^$' -bench DetectorsRebuild -benchtime 3x ./cmd/agora
func BenchmarkDetectorsRebuild(b *testing.B) {
	for _, n := range []int{1_000_000} {
		b.Run(fmt.Sprintf("votes=%d", n), func(b *testing.B) {
			s, err := openStore(benchArenaStore(b, n, false))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			for b.Loop() {
				_, got, err := trust.NewDetector(trust.DetectorConfig{}).Rebuild(ctx, s, -1, trust.Standing{})
				if err != nil || got != n {
					b.Fatalf("Rebuild = %d votes, %v; want %d", got, err, n)
				}
			}
		})
	}
}
