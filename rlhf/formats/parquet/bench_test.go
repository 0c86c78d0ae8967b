package parquet

import (
	"context"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// genSource yields n decisive single-turn records with about 2 KB of text.
type genSource struct{ n int }

func (g genSource) Records(ctx context.Context, fn func(*rlhf.Record) error) error {
	prompt := strings.Repeat("Explain lists and tuples. ", 8)[:200]
	answer := strings.Repeat("## Lists\n\nA **list** is mutable; a tuple is not.\n", 20)[:900]
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := rlhf.Record{Battle: rlhf.Battle{ModelA: "a", ModelB: "b", Turns: []rlhf.Turn{{}}}}
	for i := 0; i < g.n; i++ {
		id := strconv.Itoa(i)
		r.Battle.ID, r.Vote.CreatedAt, r.Vote.Winner = id, at.Add(time.Duration(i)*time.Second), rlhf.WinnerA
		r.Battle.Turns[0] = rlhf.Turn{Prompt: id + prompt, A: rlhf.Answer{Content: answer, Tokens: 200}, B: rlhf.Answer{Content: id + answer, Tokens: 210}}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

func BenchmarkExportParquet(b *testing.B) {
	for _, f := range []formats.Format{formats.TRLConversational, formats.ArenaJSONL} {
		b.Run(string(f), func(b *testing.B) {
			var peak uint64
			var ms runtime.MemStats
			opts := formats.Options{KeepDuplicates: true, Progress: func(int, int) {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}}
			start := time.Now()
			st, err := Export(context.Background(), io.Discard, string(f), opts, genSource{n: b.N})
			if err != nil || st.Rows != b.N {
				b.Fatalf("%d rows: %v", st.Rows, err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pairs/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}
