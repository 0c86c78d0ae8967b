package ship_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/ingest/ship"
)

// benchShip ships n stored battles of about textBytes of text each from a
// real SQLite store and reports battles per second, end to end.
func benchShip(b *testing.B, n, textBytes, batch int) {
	b.Run("server=default", func(b *testing.B) { benchShipTo(b, chtest.Start(b), n, textBytes, batch) })
	b.Run("server=thp", func(b *testing.B) { benchShipTo(b, chtest.StartEnv(b, chtest.MallocTHP), n, textBytes, batch) })
}

func benchShipTo(b *testing.B, srv *chtest.Server, n, textBytes, batch int) {
	cfg := srv.NewConfig(b)
	cfg.ReadTimeout = 120 * time.Second
	c := openClient(b, cfg)
	if err := c.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	st := newStore(b)
	gen := chtest.NewRecords(41)
	gen.TextBytes = textBytes
	importVotes(b, st, gen, n)
	b.ResetTimer()
	shipped := 0
	client0 := chtest.SelfCPU()
	server0, _ := srv.CPU()
	for i := 0; b.Loop(); i++ {
		// A new cursor name ships everything again, into new rows.
		r := startShipper(b, st, c, ship.Options{Name: fmt.Sprintf("bench-%d", i), BatchSize: batch, FlushInterval: time.Millisecond})
		waitDrained(b, r.Shipper, st, 10*time.Minute)
		r.stop(b)
		shipped += n
	}
	if server, err := srv.CPU(); err == nil {
		b.ReportMetric(float64((chtest.SelfCPU()-client0).Microseconds())/float64(shipped), "agora-cpu-us/rec")
		b.ReportMetric(float64((server-server0).Microseconds())/float64(shipped), "server-cpu-us/rec")
	}
	b.ReportMetric(float64(shipped)/b.Elapsed().Seconds(), "battles/s")
}

// BenchmarkShipBattles2KB: store to ClickHouse, battles with about 2 KB of
// text (goal: 50,000 battles/s).
func BenchmarkShipBattles2KB(b *testing.B) { benchShip(b, 60_000, 2048, 20_000) }

// BenchmarkShipVotes: store to ClickHouse, votes on short battles (goal:
// 200,000 votes/s).
func BenchmarkShipVotes(b *testing.B) { benchShip(b, 150_000, 30, 50_000) }

// BenchmarkShipLag votes at a steady 2,000 votes/s through SaveVote for 10
// seconds and reports the shipping lag: from a vote's creation to
// ClickHouse's acknowledgement. p99 is an upper bound: every vote is
// charged its batch's oldest vote's lag. Goal: p99 at most 2 s.
func BenchmarkShipLag(b *testing.B) {
	const rate, dur = 2000, 10 * time.Second
	srv := chtest.Start(b)
	cfg := srv.NewConfig(b)
	c := openClient(b, cfg)
	st := newStore(b)
	var (
		mu   sync.Mutex
		lags []time.Duration // one per vote
	)
	for b.Loop() {
		lags = lags[:0]
		r := startShipper(b, st, c, ship.Options{
			FlushInterval: clickhouse.DefaultFlushInterval,
			PollInterval:  250 * time.Millisecond,
			Shipped: func(s ship.Shipment) {
				mu.Lock()
				for range s.Votes {
					lags = append(lags, s.At.Sub(s.Oldest))
				}
				mu.Unlock()
			},
		})
		// 8 voters at rate/8 each, a vote every 4ms per voter.
		v := startVoting(b, st, r.Shipper, chtest.NewRecords(42), 8, 8*time.Second/rate)
		time.Sleep(dur)
		v.stop()
		waitDrained(b, r.Shipper, st, time.Minute)
		r.stop(b)
		if got := v.acked.Load(); got < rate*int64(dur/time.Second)*8/10 {
			b.Logf("only %d votes in %v (wanted about %d)", got, dur, rate*int64(dur/time.Second))
		}
		b.ReportMetric(float64(v.acked.Load())/dur.Seconds(), "votes/s")
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lags)
	if len(lags) == 0 {
		b.Fatal("nothing shipped")
	}
	q := func(p float64) float64 { return lags[int(p*float64(len(lags)-1))].Seconds() }
	b.ReportMetric(q(0.5), "p50-lag-s")
	b.ReportMetric(q(0.99), "p99-lag-s")
	b.ReportMetric(lags[len(lags)-1].Seconds(), "max-lag-s")
}
