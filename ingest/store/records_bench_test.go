package store

// End-to-end benchmarks for issue 5's goals, through this store:
//
//   - BenchmarkImportArena: Arena battles in the clean_battle shape (no
//     conversations), read by formats.Read and stored by Import in one
//     transaction, commit included — what "agora import --format arena" does.
//   - BenchmarkImportFloor: the least a battle can cost the store, one row
//     with and without an index on its id: the baseline for the above.
//   - BenchmarkExportStore: pairs with about 2 KB of text stored, then
//     exported by formats.Export (trl-conversational, duplicate filter on)
//     from ExportRecords — what "agora export" does.
//   - BenchmarkExportStoreFormats: the same export in every format, JSON and
//     Parquet.
//   - BenchmarkExportStoreMemory: the same export at 10k, 100k and 1M pairs,
//     each in a child process of this test binary that reports its own peak
//     RSS (VmHWM, what /usr/bin/time -v shows as maximum resident set size).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
	"github.com/agora-rlhf/agora/rlhf/formats/parquet"
)

// arenaCleanBattles returns n Arena battles in the shape of clean_battle
// (lmsys's published battle table: no conversations), one per line.
func arenaCleanBattles(n int) []byte {
	var buf bytes.Buffer
	models := []string{"gpt-4-0613", "claude-2.1", "llama-2-70b-chat", "mixtral-8x7b-instruct-v0.1", "gemini-pro", "vicuna-33b"}
	winners := []string{"model_a", "model_b", "tie", "tie (bothbad)"}
	for i := 0; i < n; i++ {
		fmt.Fprintf(&buf, `{"question_id":"%032x","model_a":%q,"model_b":%q,"winner":%q,"judge":"arena_user_%d","turn":1,"anony":true,"language":"English","tstamp":%d.%03d,"is_code":false,"dedup_tag":{"high_freq":false,"sampled":true}}`+"\n",
			uint64(i)*0x9e3779b97f4a7c15, models[i%6], models[(i%6+1+(i/6)%5)%6], winners[i%4], i%5000, 1700000000+i, i%1000)
	}
	return buf.Bytes()
}

func BenchmarkImportArena(b *testing.B) {
	for _, n := range []int{100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			input := arenaCleanBattles(n)
			b.SetBytes(int64(len(input)))
			var took time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s, err := Open(filepath.Join(b.TempDir(), fmt.Sprintf("agora%d.db", i)))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				st, err := s.Import(context.Background(), func(put func(*rlhf.Record) error) error {
					_, err := formats.Read(bytes.NewReader(input), formats.ImportArena, formats.ReadOptions{Source: "clean_battle"}, put)
					return err
				})
				took += time.Since(start)
				if err != nil || st.Added != n {
					b.Fatalf("import: %+v, %v", st, err)
				}
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/took.Seconds(), "battles/s")
		})
	}
}

// BenchmarkImportFloor measures the least a stored battle can cost: one
// row of a battle's eleven columns, in multi-row INSERTs of importBatch
// rows in one transaction, nothing parsed or checked, into a table of a
// store set up as Import sets it up (page size and page cache). "indexed" keeps a unique index on the
// random text id (what finding a battle by id and skipping one already
// stored need); "bare" has no index at all. It is the baseline that
// BenchmarkImportArena, which stores three rows a battle in tables keyed
// by id, is read against.
func BenchmarkImportFloor(b *testing.B) {
	const n = 800 * importBatch // 102,400
	for _, tc := range []struct{ name, table string }{
		{"indexed", `CREATE TABLE floor (id TEXT NOT NULL UNIQUE, contributor_id TEXT, model_a TEXT, model_b TEXT,
			status TEXT, created_at INTEGER, updated_at INTEGER, source TEXT, campaign_id TEXT, category TEXT, language TEXT)`},
		{"bare", `CREATE TABLE floor (id TEXT NOT NULL, contributor_id TEXT, model_a TEXT, model_b TEXT,
			status TEXT, created_at INTEGER, updated_at INTEGER, source TEXT, campaign_id TEXT, category TEXT, language TEXT)`},
	} {
		b.Run(tc.name, func(b *testing.B) {
			args := make([]any, 0, n*11)
			for i := 0; i < n; i++ {
				at := int64(1700000000000 + i)
				args = append(args, fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15), "arena_user_1", "gpt-4-0613", "claude-2.1",
					"voted", at, at, "clean_battle", "", "", "English")
			}
			q := multiRow(`INSERT INTO floor VALUES %s`, "(?,?,?,?,?,?,?,?,?,?,?)", importBatch)
			var took time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s, err := Open(filepath.Join(b.TempDir(), fmt.Sprintf("floor%d.db", i)))
				if err != nil {
					b.Fatal(err)
				}
				for _, q := range []string{tc.table, fmt.Sprintf("PRAGMA cache_size = -%d", importCacheKiB)} {
					if _, err := s.write.Exec(q); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				tx, err := s.write.Begin()
				if err != nil {
					b.Fatal(err)
				}
				st, err := tx.Prepare(q)
				if err != nil {
					b.Fatal(err)
				}
				for j := 0; j < len(args); j += importBatch * 11 {
					if _, err := st.Exec(args[j : j+importBatch*11]...); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				took += time.Since(start)
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/took.Seconds(), "battles/s")
		})
	}
}

// The text of the export benchmarks' pairs: a 200-byte prompt and two
// 900-byte answers, made unique per record.
var (
	pairPrompt = strings.Repeat("Explain the difference between a list and a tuple. ", 4)[:200]
	pairAnswer = strings.Repeat("## Lists\n\nA **list** is mutable; a tuple is not.\n1. one\n- two \"quoted\"\n", 14)[:900]
)

// fillPairs stores n voted single-turn battles with about 2 KB of text.
// Their ids are in no particular order, like the UUIDs the arena gives,
// except past 100,000 where they are in vote order: inserting turns of 2
// KB at random places is slow (every seek reads the overflow pages of the
// cells it compares), and the order does not change what the memory
// benchmark measures.
func fillPairs(tb testing.TB, s *Store, n int) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := s.Import(context.Background(), func(put func(*rlhf.Record) error) error {
		r := rlhf.Record{
			Battle: rlhf.Battle{ModelA: "model-a", ModelB: "model-b", Status: rlhf.StatusVoted, Source: "arena", Language: "English",
				Turns: []rlhf.Turn{{Index: 0}}},
			Vote: rlhf.Vote{Strength: rlhf.StrengthClear},
		}
		for i := 0; i < n; i++ {
			id := fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)
			if n > 100_000 {
				id = fmt.Sprintf("%016x", i)
			}
			r.Battle.ID, r.Vote.ID, r.Vote.BattleID = id, "v"+id, id
			r.Battle.ContributorID, r.Vote.ContributorID = "c"+id[:2], "c"+id[:2]
			r.Battle.CreatedAt = at.Add(time.Duration(i) * time.Second)
			r.Battle.UpdatedAt, r.Vote.CreatedAt = r.Battle.CreatedAt, r.Battle.CreatedAt
			r.Vote.Winner = rlhf.WinnerA
			if i%2 == 1 {
				r.Vote.Winner = rlhf.WinnerB
			}
			t := &r.Battle.Turns[0]
			t.At = r.Battle.CreatedAt
			t.Prompt = strconv.Itoa(i) + pairPrompt
			t.A = rlhf.Answer{Content: pairAnswer, FinishReason: "stop", Tokens: 200}
			t.B = rlhf.Answer{Content: strconv.Itoa(i) + pairAnswer, FinishReason: "stop", Tokens: 210}
			if err := put(&r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// pairStore returns the path of a store of n pairs, made once per size
// under $AGORA_BENCH_DIR (default the system's temporary directory) and
// kept for later runs.
func pairStore(tb testing.TB, n int) string {
	dir := os.Getenv("AGORA_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("agora-bench-pairs-v3-%d.db", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".making"
	os.Remove(tmp)
	os.Remove(tmp + "-wal")
	os.Remove(tmp + "-shm")
	s, err := Open(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	fillPairs(tb, s, n)
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

// exportPairs exports the store at path as trl-conversational to out and
// returns the number of rows.
func exportPairs(path string, out io.Writer, progress func(records, rows int)) (int, error) {
	return exportPairsWith(path, out, formats.Options{Key: []byte("k"), Progress: progress})
}

// exportPairsWith is exportPairs with opts.
func exportPairsWith(path string, out io.Writer, opts formats.Options) (int, error) {
	s, err := Open(path)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	src := formats.RecordsFunc(func(ctx context.Context, fn func(*rlhf.Record) error) error {
		return s.ExportRecords(ctx, RecordFilter{}, func(_ int64, r *rlhf.Record) error { return fn(r) })
	})
	st, err := formats.Export(context.Background(), out, string(formats.TRLConversational), opts, src)
	return st.Rows, err
}

func BenchmarkExportStore(b *testing.B) {
	const n = 100_000
	path := pairStore(b, n)
	b.SetBytes(int64(n * (len(pairPrompt) + 2*len(pairAnswer))))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		rows, err := exportPairs(path, io.Discard, nil)
		if err != nil || rows != n {
			b.Fatalf("export: %d rows, %v", rows, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "pairs/s")
}

// BenchmarkExportStoreFormats is BenchmarkExportStore for every format,
// JSON and Parquet.
func BenchmarkExportStoreFormats(b *testing.B) {
	const n = 100_000
	path := pairStore(b, n)
	type export func(context.Context, io.Writer, string, formats.Options, rlhf.RecordSource) (formats.Stats, error)
	for _, f := range formats.Formats {
		exports := map[string]export{"json": formats.Export}
		if parquet.Supports(f) {
			exports["parquet"] = parquet.Export
		}
		for kind, export := range exports {
			b.Run(string(f)+"/"+kind, func(b *testing.B) {
				s, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				src := formats.RecordsFunc(func(ctx context.Context, fn func(*rlhf.Record) error) error {
					return s.ExportRecords(ctx, RecordFilter{}, func(_ int64, r *rlhf.Record) error { return fn(r) })
				})
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					st, err := export(context.Background(), io.Discard, string(f), formats.Options{Key: []byte("k")}, src)
					if err != nil || st.Records != n {
						b.Fatalf("export: %+v, %v", st, err)
					}
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// memResult is what the child process of BenchmarkExportStoreMemory
// reports.
type memResult struct {
	Rows     int
	Seconds  float64
	PeakHeap uint64
	PeakRSS  uint64
}

func BenchmarkExportStoreMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			path := pairStore(b, n)
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(os.Args[0], "-test.run", "^TestExportStoreMemoryChild$", "-test.count", "1")
				cmd.Env = append(os.Environ(), "AGORA_EXPORT_CHILD="+path)
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("child: %v\n%s", err, out)
				}
				var res memResult
				line := out[bytes.LastIndex(out, []byte("RESULT "))+len("RESULT "):]
				if err := json.Unmarshal(line[:bytes.IndexByte(line, '\n')], &res); err != nil {
					b.Fatalf("child said %q: %v", out, err)
				}
				if res.Rows != n {
					b.Fatalf("child exported %d rows, want %d", res.Rows, n)
				}
				b.ReportMetric(float64(n)/res.Seconds, "pairs/s")
				b.ReportMetric(float64(res.PeakHeap)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(res.PeakRSS)/(1<<20), "peak-rss-MiB")
			}
		})
	}
}

// TestExportStoreMemoryChild is BenchmarkExportStoreMemory's child: it
// exports the store named by $AGORA_EXPORT_CHILD to a file (as agora
// export does) and prints its time, peak heap and peak RSS.
func TestExportStoreMemoryChild(t *testing.T) {
	path := os.Getenv("AGORA_EXPORT_CHILD")
	if path == "" {
		t.Skip("run by BenchmarkExportStoreMemory")
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "out.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// As agora export does (cmd/agora ExportMemoryLimit).
	debug.SetMemoryLimit(40 << 20)
	var peak uint64
	start := time.Now()
	rows, err := exportPairs(path, out, func(records, rows int) {
		if h := heapInUse(); h > peak {
			peak = h
			if prof := os.Getenv("AGORA_EXPORT_HEAP_PROFILE"); prof != "" && records > 100_000 {
				// Where the peak is, for looking into it.
				runtime.GC()
				if f, err := os.Create(prof); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	res := memResult{Rows: rows, Seconds: time.Since(start).Seconds(), PeakHeap: peak, PeakRSS: uint64(vmHWM())}
	js, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", js)
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

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
