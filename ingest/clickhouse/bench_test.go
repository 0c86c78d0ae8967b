package clickhouse_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
)

// benchInsert inserts batches of n records of about textBytes of text each
// and reports records per second.
func benchInsert(b *testing.B, n, textBytes int) {
	srv := chtest.Start(b)
	cfg := srv.NewConfig(b)
	c, err := clickhouse.Open(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	gen := chtest.NewRecords(9)
	gen.TextBytes = textBytes
	counter := clickhouse.NewBlockCounter()
	// Distinct batches, so that every insert writes new rows.
	batches := make([]*clickhouse.Batch, 4)
	for i := range batches {
		batches[i], _ = batch(gen, counter, "bench", int64(i*n+1), n)
	}
	b.ResetTimer()
	rows := 0
	for i := 0; b.Loop(); i++ {
		if _, err := c.Insert(ctx, batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
		rows += n
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkInsertBattles2KB: battles with one turn of about 2 KB of prompt
// and answers, 20,000 per insert (goal: 50,000 battles/s).
func BenchmarkInsertBattles2KB(b *testing.B) { benchInsert(b, 20000, 2048) }

// BenchmarkInsertVotes: votes with short battles, 50,000 per insert (goal:
// 200,000 votes/s).
func BenchmarkInsertVotes(b *testing.B) { benchInsert(b, 50000, 30) }

// BenchmarkLeaderboard10M reads the per-pair counts of 10 million votes
// between 100 models (goal: 1 s), from pair_counts and, for comparison,
// from the votes table with FINAL.
func BenchmarkLeaderboard10M(b *testing.B) {
	const votes, models = 10_000_000, 100
	srv := chtest.Start(b)
	cfg := srv.NewConfig(b)
	cfg.ReadTimeout = 600e9
	c, err := clickhouse.Open(cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.MigrateTo(ctx, 1); err != nil {
		b.Fatal(err)
	}
	// Votes made inside ClickHouse, as an older Agora would have shipped
	// them; the upgrade to the latest schema backfills pair_counts.
	db := cfg.Database
	err = c.Exec(ctx, fmt.Sprintf(`INSERT INTO %s.votes (store_id, seq, id, battle_id, contributor_id, model_a, model_b, winner, created_at, created_at_ms, version)
SELECT 'bench', number + 1, concat('v', toString(number)), concat('b', toString(number)), concat('c', toString(number %% 5000)),
    concat('model-', toString(intHash32(number) %% %d)) AS a,
    concat('model-', toString((intHash32(number) %% %d + 1 + intHash32(number + 1) %% %d) %% %d)),
    toUInt8(1 + intHash32(number + 2) %% 4), toDateTime(1767225600 + intDiv(number, 20)), (1767225600 + intDiv(number, 20)) * 1000, number + 1
FROM system.numbers LIMIT %d`, db, models, models, models-1, models, votes))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := c.Exec(ctx, "OPTIMIZE TABLE "+db+".pair_counts FINAL"); err != nil {
		b.Fatal(err)
	}
	b.Run("pair_counts", func(b *testing.B) {
		for b.Loop() {
			p, err := c.PairCounts(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if n := total(p); n != votes {
				b.Fatalf("counted %d votes, want %d", n, votes)
			}
		}
	})
	b.Run("votes_final", func(b *testing.B) {
		for b.Loop() {
			p, err := c.PairCountsWhere(ctx, clickhouse.Filter{})
			if err != nil {
				b.Fatal(err)
			}
			if n := total(p); n != votes {
				b.Fatalf("counted %d votes, want %d", n, votes)
			}
		}
	})
}

func total(ps []clickhouse.PairCount) int64 {
	var n int64
	for _, p := range ps {
		n += p.Total()
	}
	return n
}
