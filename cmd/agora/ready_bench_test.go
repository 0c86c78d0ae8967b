package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/analytics"
	"github.com/agora-rlhf/agora/ingest/store"
	"github.com/agora-rlhf/agora/rlhf"
)

// BenchmarkServeReady starts "agora serve" (a real process) on a stored
// arena and reports the seconds from the process's start to /readyz
// answering 200 (s/ready) and the processor time the server had used by
// then (cpu-s/ready), which a loaded machine inflates less. Stores are made
// once per shape under $AGORA_BENCH_DIR (default the system's temporary
// directory) and kept: text=2KB are single-turn pairs with about 2 KB of
// text, text=none battles with one-word answers. With a fixed
// AGORA_BENCH_DIR a second run starts measuring at once.
//
// With AGORA_BENCH_BOARD=1 it also waits for the first leaderboard
// (s/board), which the server fits from the vote summaries in a paced
// worker after /readyz (minutes at a million battles, longer than the
// wait allows at ten million), and reports the seconds to load the votes
// from the records with their text and from the summaries (s/load-records,
// s/load-summaries: what the server read at start before summaries, and
// what it reads now).
//
// The sub-benchmarks' names hold a slash, so run one shape a command:
//
//	go test -run '^$' -bench 'ServeReady/battles=1000000/text=2KB$' -benchtime 3x -timeout 60m ./cmd/agora
//	go test -run '^$' -bench 'ServeReady/battles=10000000/text=none$' -benchtime 3x -timeout 180m ./cmd/agora
func BenchmarkServeReady(b *testing.B) {
	full := os.Getenv("AGORA_BENCH_BOARD") == "1"
	for _, tc := range []struct {
		battles int
		text    bool
	}{
		{100_000, true}, {1_000_000, true},
		{1_000_000, false}, {2_000_000, false}, {5_000_000, false}, {10_000_000, false},
	} {
		name := map[bool]string{true: "2KB", false: "none"}[tc.text]
		b.Run(fmt.Sprintf("battles=%d/text=%s", tc.battles, name), func(b *testing.B) {
			dir := benchArenaStore(b, tc.battles, tc.text)
			var records, summaries float64
			if full {
				records, summaries = loadSeconds(b, dir)
			}
			var ready, board, cpu float64
			for b.Loop() {
				r, l, c := startAndWait(b, dir, full)
				ready, board, cpu = ready+r, board+l, cpu+c
			}
			b.ReportMetric(ready/float64(b.N), "s/ready")
			b.ReportMetric(cpu/float64(b.N), "cpu-s/ready")
			if full {
				b.ReportMetric(board/float64(b.N), "s/board")
				b.ReportMetric(records, "s/load-records")
				b.ReportMetric(summaries, "s/load-summaries")
			}
		})
	}
}

// loadSeconds returns the seconds to load the store's votes into a
// leaderboard's dataset from the records with their text (what the server
// did at start before vote summaries) and from the summaries, in this run.
func loadSeconds(b *testing.B, dir string) (records, summaries float64) {
	s, err := openStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	start := time.Now()
	var d analytics.Dataset
	if _, err := analytics.LoadRecords(ctx, s, &d); err != nil {
		b.Fatal(err)
	}
	records = time.Since(start).Seconds()
	start = time.Now()
	var e analytics.Dataset
	if _, err := analytics.LoadSummaries(ctx, s, -1, &e, nil); err != nil {
		b.Fatal(err)
	}
	summaries = time.Since(start).Seconds()
	if d.Len() != e.Len() {
		b.Fatalf("%d battles from the records, %d from the summaries", d.Len(), e.Len())
	}
	return records, summaries
}

// startAndWait starts agora serve on dir and returns the seconds to
// /readyz and, when board, to the first leaderboard, then stops it; cpu is the
// processor time the server had used when /readyz answered, which a
// loaded machine does not inflate as it does the seconds.
func startAndWait(b *testing.B, dir string, board bool) (ready, boardAt, cpu float64) {
	start := time.Now()
	p := startSubprocess(b, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	defer func() {
		p.cmd.Process.Signal(os.Interrupt)
		p.cmd.Wait()
	}()
	wait := func(path string) float64 {
		for {
			resp, err := http.Get(p.url + path)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return time.Since(start).Seconds()
				}
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatalf("%s did not answer 200: %v %v", path, resp, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	ready = wait("/readyz")
	cpu = processCPU(b, p.cmd.Process.Pid)
	if board {
		boardAt = wait("/api/v1/leaderboard")
	}
	return ready, boardAt, cpu
}

// processCPU returns the seconds of processor time, user and system,
// process pid has used (/proc/pid/stat counts them in 1/100 s).
func processCPU(b *testing.B, pid int) float64 {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's name, which is in parentheses.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %v %v", pid, err1, err2)
	}
	return (utime + stime) / 100
}

// benchArenaStore returns a data directory holding a store of n voted
// battles among 50 models, made once and kept (the version in the name
// changes when stores made by branches whose migrations were numbered
// otherwise are about).
func benchArenaStore(b *testing.B, n int, text bool) string {
	b.Helper()
	root := os.Getenv("AGORA_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("agora-bench-arena-v3-%d-%v", n, text))
	if _, err := os.Stat(filepath.Join(dir, storeFile)); err == nil {
		// A store kept from an older schema is migrated here, once,
		// not in the server's measured start.
		s, err := openStore(dir)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		return dir
	}
	tmp := dir + ".making"
	os.RemoveAll(tmp)
	s, err := openStore(tmp)
	if err != nil {
		b.Fatal(err)
	}
	// Past a million battles without text, a million are imported and
	// copied in the store (Replicate) as often as it takes: importing ten
	// million takes half an hour on this machine.
	base := n
	if !text && n > 1_000_000 && n%1_000_000 == 0 {
		base = 1_000_000
	}
	if err := fillArena(s, base, text); err != nil {
		b.Fatal(err)
	}
	if err := s.Replicate(context.Background(), n/base-1); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	return dir
}

// fillArena imports n voted single-turn battles among 50 models, with
// about 2 KB of text each or one word per answer, in vote order.
func fillArena(s *store.Store, n int, text bool) error {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	prompt := strings.Repeat("Explain the difference between a list and a tuple. ", 4)[:200]
	answer := strings.Repeat("## Lists\n\nA **list** is mutable; a tuple is not.\n1. one\n- two \"quoted\"\n", 14)[:900]
	if !text {
		prompt, answer = "q", "a"
	}
	winners := []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie, rlhf.WinnerA, rlhf.WinnerB}
	_, err := s.Import(context.Background(), func(put func(*rlhf.Record) error) error {
		r := rlhf.Record{
			Battle: rlhf.Battle{Status: rlhf.StatusVoted, Source: "arena", Language: "English", Turns: []rlhf.Turn{{Index: 0}}},
			Vote:   rlhf.Vote{Strength: rlhf.StrengthClear},
		}
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("%016x", i)
			a, c := i%50, (i/50+i)%49
			if c >= a {
				c++
			}
			r.Battle.ID, r.Vote.ID, r.Vote.BattleID = id, "v"+id, id
			r.Battle.ModelA, r.Battle.ModelB = "model-"+strconv.Itoa(a), "model-"+strconv.Itoa(c)
			r.Battle.ContributorID, r.Vote.ContributorID = "c"+strconv.Itoa(i%5000), "c"+strconv.Itoa(i%5000)
			r.Battle.CreatedAt = at.Add(time.Duration(i) * time.Second)
			r.Battle.UpdatedAt, r.Vote.CreatedAt = r.Battle.CreatedAt, r.Battle.CreatedAt
			r.Vote.Winner = winners[(uint64(i)*0x9e3779b97f4a7c15>>40)%uint64(len(winners))]
			t := &r.Battle.Turns[0]
			t.At = r.Battle.CreatedAt
			t.Prompt = strconv.Itoa(i) + prompt
			t.A = rlhf.Answer{Content: answer, FinishReason: "stop", Tokens: 200}
			t.B = rlhf.Answer{Content: strconv.Itoa(i) + answer, FinishReason: "stop", Tokens: 210}
			if err := put(&r); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}
