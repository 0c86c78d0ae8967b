package clickhouse_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
)

// benchServers runs bench against a server as Debian starts it and
// against one whose allocator uses transparent huge pages
// (chtest.MallocTHP).
func benchServers(b *testing.B, bench func(b *testing.B, srv *chtest.Server)) {
	b.Run("server=default", func(b *testing.B) { bench(b, chtest.Start(b)) })
	b.Run("server=thp", func(b *testing.B) { bench(b, chtest.StartEnv(b, chtest.MallocTHP)) })
}

// benchInsert inserts batches of n records of about textBytes of text each
// and reports records per second, and the processor time client and server
// spent per record.
func benchInsert(b *testing.B, srv *chtest.Server, n, textBytes int) {
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
	cpu := startCPU(b, srv)
	ev0 := serverEvents(b, c)
	for i := 0; b.Loop(); i++ {
		if _, err := c.Insert(ctx, batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
		rows += n
	}
	cpu.report(b, rows)
	ev := serverEvents(b, c)
	b.ReportMetric(float64(ev["MergedUncompressedBytes"]-ev0["MergedUncompressedBytes"])/float64(rows), "merged-B/rec")
	b.ReportMetric(float64(ev["InsertedBytes"]-ev0["InsertedBytes"])/float64(rows), "inserted-B/rec")
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "records/s")
}

// serverEvents returns the server's cumulative event counters: how much
// it inserted and merged.
func serverEvents(b *testing.B, c *clickhouse.Client) map[string]int64 {
	rows, err := c.QueryStrings(context.Background(), "SELECT event, toString(value) FROM system.events")
	if err != nil {
		b.Fatal(err)
	}
	m := map[string]int64{}
	for _, r := range rows {
		var v int64
		fmt.Sscan(r[1], &v)
		m[r[0]] = v
	}
	return m
}

// cpuUse measures the processor time of the benchmark process (the client)
// and of the server while a benchmark runs, to show where the time goes on
// a machine where both share the cores.
type cpuUse struct {
	srv              *chtest.Server
	client0, server0 time.Duration
}

func startCPU(b *testing.B, srv *chtest.Server) cpuUse {
	s, err := srv.CPU()
	if err != nil {
		b.Logf("no server CPU time: %v", err)
	}
	return cpuUse{srv: srv, client0: chtest.SelfCPU(), server0: s}
}

// report adds client and server CPU microseconds per record.
func (u cpuUse) report(b *testing.B, records int) {
	s, err := u.srv.CPU()
	if err != nil || records == 0 {
		return
	}
	b.ReportMetric(float64((chtest.SelfCPU()-u.client0).Microseconds())/float64(records), "client-cpu-us/rec")
	b.ReportMetric(float64((s-u.server0).Microseconds())/float64(records), "server-cpu-us/rec")
}

// BenchmarkInsertBattles2KB: battles with one turn of about 2 KB of prompt
// and answers, 20,000 per insert (goal: 50,000 battles/s).
func BenchmarkInsertBattles2KB(b *testing.B) {
	benchServers(b, func(b *testing.B, srv *chtest.Server) { benchInsert(b, srv, 20000, 2048) })
}

// BenchmarkInsertVotes: votes with short battles, 50,000 per insert (goal:
// 200,000 votes/s).
func BenchmarkInsertVotes(b *testing.B) {
	benchServers(b, func(b *testing.B, srv *chtest.Server) { benchInsert(b, srv, 50000, 30) })
}

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
