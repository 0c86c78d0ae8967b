package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// benchRecords returns n records with about 2 KB of text each.
func benchRecords(n int, prefix string) []rlhf.Record {
	recs := make([]rlhf.Record, n)
	text := strings.Repeat("lorem ipsum ", 85) // ~1 KB per answer
	for i := range recs {
		b := testBattle(fmt.Sprintf("%s-b%d", prefix, i), 1)
		b.Turns[0].A.Content, b.Turns[0].B.Content = text, text
		b.Turns[0].B.ErrorCode, b.Turns[0].B.Error = "", ""
		recs[i] = rlhf.Record{Battle: *b, Vote: *testVote(b, fmt.Sprintf("%s-v%d", prefix, i))}
	}
	return recs
}

// BenchmarkImportRecords measures records stored per second by
// ImportRecords in transactions of 10,000.
func BenchmarkImportRecords(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "agora.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := benchRecords(b.N, "imp")
	b.ResetTimer()
	for i := 0; i < len(recs); i += 10000 {
		if _, err := s.ImportRecords(context.Background(), recs[i:min(i+10000, len(recs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRecords measures how fast Records reads stored records back.
func BenchmarkRecords(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "agora.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const n = 20000
	if _, err := s.ImportRecords(context.Background(), benchRecords(n, "rec")); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	read := 0
	for read < b.N {
		err := s.RecordsWhere(context.Background(), RecordFilter{Limit: b.N - read}, func(int64, *rlhf.Record) error {
			read++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSaveVote measures committed votes per second from 64
// concurrent callers through group commit (synchronous=FULL).
func BenchmarkSaveVote(b *testing.B) { benchmarkSaveVote(b, false) }

// BenchmarkSaveVoteLog is BenchmarkSaveVote without and with the
// verifiable log (a leaf and its tree hashes in every vote's commit): the
// store's share of the log's cost, to compare within one run.
func BenchmarkSaveVoteLog(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("log=%v", on), func(b *testing.B) { benchmarkSaveVote(b, on) })
	}
}

func benchmarkSaveVote(b *testing.B, log bool) {
	s, recs := votableStore(b)
	if log {
		s.UseLedger(ledger.NewEncoder([]byte("bench pseudonym key")))
	}
	ctx := context.Background()
	writer := observeWriter(s)
	b.ResetTimer()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	const workers = 64
	lat := make([][]time.Duration, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(recs); i += workers {
				t0 := time.Now()
				if err := s.SaveVote(ctx, &recs[i].Battle, &recs[i].Vote); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "votes/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-us/vote")
	writer(b)
	reportLatency(b, slices.Concat(lat...))
}

// observeWriter sums the store's group commits from now on: the function
// it returns reports the writer's time per vote (its commits' elapsed time,
// the fsync included: the time every waiting caller waits for) and the
// votes per commit.
func observeWriter(s *Store) func(b *testing.B) {
	var mu sync.Mutex
	var busy time.Duration
	var commits, writes int
	s.ObserveCommits(func(d time.Duration, n int, _ bool) {
		mu.Lock()
		busy, commits, writes = busy+d, commits+1, writes+n
		mu.Unlock()
	})
	return func(b *testing.B) {
		s.ObserveCommits(nil)
		mu.Lock()
		defer mu.Unlock()
		b.ReportMetric(float64(busy.Microseconds())/float64(max(writes, 1)), "writer-us/vote")
		b.ReportMetric(float64(writes)/float64(max(commits, 1)), "votes/commit")
	}
}

// BenchmarkSaveVoteAt10k measures commit latency at a steady 10,000
// votes/s offered (an open loop): each vote is due at its own time and
// saved by its own goroutine, and latency runs from the time it was due.
// It is the store's share of the websocket benchmark of the same name.
func BenchmarkSaveVoteAt10k(b *testing.B) {
	s, recs := votableStore(b)
	ctx := context.Background()
	const rate = 10000
	lat := make([]time.Duration, len(recs))
	var wg sync.WaitGroup
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for j := 0; j < len(recs); {
		now := time.Now()
		for ; j < len(recs); j++ {
			due := start.Add(time.Duration(j) * time.Second / rate)
			if due.After(now) {
				break
			}
			k := j
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.SaveVote(ctx, &recs[k].Battle, &recs[k].Vote); err != nil {
					b.Error(err)
				}
				lat[k] = time.Since(due)
			}()
		}
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	b.ReportMetric(float64(len(recs))/time.Since(start).Seconds(), "votes/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(len(recs)), "cpu-us/vote")
	reportLatency(b, lat)
}

// votableStore opens a store in a temporary directory holding b.N battles
// ready for a vote, saved in groups (not timed), and returns the records
// whose votes the benchmark saves. The store closes when b ends.
func votableStore(b *testing.B) (*Store, []rlhf.Record) {
	s, err := Open(filepath.Join(b.TempDir(), "agora.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	recs := benchRecords(b.N, "vote")
	for i := 0; i < len(recs); i += 512 {
		var wg sync.WaitGroup
		for j := i; j < min(i+512, len(recs)); j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.SaveBattle(context.Background(), &recs[j].Battle); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
	if b.Failed() {
		b.FailNow()
	}
	return s, recs
}

// reportLatency reports the median, 99th percentile and largest of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
}
