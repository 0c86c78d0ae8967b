package formats

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// genSource yields n single-turn decisive records with about 2 KB of text
// each (a 200-byte prompt and two 900-byte answers), made on the fly so the
// source itself holds one record.
type genSource struct{ n int }

var (
	benchPrompt = strings.Repeat("Explain the difference between a list and a tuple. ", 4)[:200]
	benchAnswer = strings.Repeat("## Lists\n\nA **list** is mutable; a tuple is not.\n1. one\n- two \"quoted\"\n", 14)[:900]
)

func (g genSource) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rlhf.Record{
		Battle: rlhf.Battle{ModelA: "model-a", ModelB: "model-b", Status: rlhf.StatusVoted, Source: "arena", Language: "English",
			Turns: []rlhf.Turn{{Index: 0}}},
		Vote: rlhf.Vote{Strength: rlhf.StrengthClear},
	}
	var idBuf []byte
	for i := 0; i < g.n; i++ {
		idBuf = strconv.AppendInt(idBuf[:0], int64(i), 10)
		id := string(idBuf)
		r.Battle.ID, r.Vote.ID, r.Vote.BattleID = id, id, id
		r.Battle.ContributorID, r.Vote.ContributorID = "c"+id[len(id)-1:], "c"+id[len(id)-1:]
		r.Vote.CreatedAt = at.Add(time.Duration(i) * time.Second)
		r.Vote.Winner = rlhf.WinnerA
		if i%2 == 1 {
			r.Vote.Winner = rlhf.WinnerB
		}
		t := &r.Battle.Turns[0]
		t.Prompt = id + benchPrompt // unique, so no row is a duplicate
		t.A = rlhf.Answer{Content: benchAnswer, Tokens: 200}
		t.B = rlhf.Answer{Content: id + benchAnswer, Tokens: 210}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

func BenchmarkExport(b *testing.B) {
	for _, f := range []Format{TRL, TRLConversational, OpenAIPreference, HHRLHF, ArenaJSONL} {
		b.Run(string(f), func(b *testing.B) {
			b.SetBytes(int64(len(benchPrompt) + 2*len(benchAnswer)))
			b.ReportAllocs()
			start := time.Now()
			st, err := Export(context.Background(), io.Discard, string(f), Options{Key: []byte("k")}, genSource{n: b.N})
			if err != nil {
				b.Fatal(err)
			}
			if st.Rows != b.N {
				b.Fatalf("%d rows, want %d", st.Rows, b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
		})
	}
}

// BenchmarkExportMemory exports 10k, 100k and 1M pairs and reports the
// peak live heap, sampled every 4096 records, and the process's peak RSS
// (VmHWM; meaningful when one size runs per process, e.g.
// -bench 'ExportMemory/n=1000000$'). The duplicate filter keeps 16 bytes
// (about 35 with the map's overhead) per row; with KeepDuplicates memory is
// flat.
func BenchmarkExportMemory(b *testing.B) {
	for _, tc := range []struct {
		n    int
		keep bool
	}{{10_000, false}, {100_000, false}, {1_000_000, false}, {10_000, true}, {1_000_000, true}} {
		n := tc.n
		name := fmt.Sprintf("n=%d", n)
		if tc.keep {
			name = fmt.Sprintf("keep-duplicates/n=%d", n)
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runtime.GC()
				var peak uint64
				var ms runtime.MemStats
				opts := Options{Key: []byte("k"), KeepDuplicates: tc.keep, Progress: func(records, rows int) {
					runtime.ReadMemStats(&ms)
					if ms.HeapAlloc > peak {
						peak = ms.HeapAlloc
					}
				}}
				start := time.Now()
				if _, err := Export(context.Background(), io.Discard, string(TRLConversational), opts, genSource{n: n}); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "pairs/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(vmHWM()/(1<<20), "peak-rss-MiB")
			}
		})
	}
}

// vmHWM returns the process's peak resident set size in bytes, or 0.
func vmHWM() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb * 1024
		}
	}
	return 0
}

// arenaInput returns n Arena JSONL battles, with conversations or without
// (the clean_battle shape).
func arenaInput(n int, conversations bool) []byte {
	var buf bytes.Buffer
	w, _ := NewWriter(ArenaJSONL, &buf)
	opts := Options{Contributors: ContributorsPseudonym, Key: []byte("k")}
	src := genSource{n: n}
	if !conversations {
		src = genSource{n: n}
	}
	Run(context.Background(), w, ArenaJSONL, opts, RecordsFunc(func(ctx context.Context, fn func(*rlhf.Record) error) error {
		return src.Records(ctx, func(r *rlhf.Record) error {
			if !conversations {
				r.Battle.Turns[0] = rlhf.Turn{Index: 0}
			}
			return fn(r)
		})
	}))
	return buf.Bytes()
}

func BenchmarkReadArena(b *testing.B) {
	for _, conv := range []bool{false, true} {
		name := "clean_battle"
		if conv {
			name = "with_conversations"
		}
		b.Run(name, func(b *testing.B) {
			const lines = 20_000
			input := arenaInput(lines, conv)
			b.SetBytes(int64(len(input) / lines))
			b.ResetTimer()
			start := time.Now()
			read := 0
			for read < b.N {
				st, err := Read(bytes.NewReader(input), ImportArena, ReadOptions{Source: "bench"}, func(*rlhf.Record) error { return nil })
				if err != nil || st.Records != lines {
					b.Fatalf("read %d records: %v", st.Records, err)
				}
				read += lines
			}
			b.ReportMetric(float64(read)/time.Since(start).Seconds(), "battles/s")
		})
	}
}
