package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
	"github.com/agora-rlhf/agora/rlhf/formats"
)

// BenchmarkImportText is issue 16's import goal: Arena battles with about
// 2.7 KB of conversation each, read from a JSONL file, against the floor,
// measured in the same run:
//
//   - store: "agora import --format arena" into a new store (formats.Read
//     and Import, one transaction, commit included);
//   - floor: the same file read line by line with encoding/json and its
//     rows inserted into one plain table (one row a battle, its ids,
//     models, winner, judge, language, time, prompt and two answers), in
//     multi-row INSERTs of importBatch rows in one transaction, in a store
//     opened the same way (WAL, synchronous FULL, 16 KiB pages, the
//     import's page cache): a plain single-table SQLite insert of the same
//     rows.
//
// The floor has no index at all, as the (a Python sqlite3 insert
// into one plain table, whose executemany runs its statement once a row:
// this floor, a statement per 128 rows, is not slower). Each side is timed until its commit returns;
// freeing the page cache is timed on neither (the floor's at Close, the
// store's after Import returns: Import gives the write connection its
// settings back on a goroutine, and Close waits for it). The store decodes
// JSON on both cores and writes on a goroutine of its own, while the floor
// does everything on one: on a machine busy with other work the elapsed
// ratio tends to the processor-time one.
//
// The number of battles is $AGORA_BENCH_IMPORT_N (default 100,000; the
// goal is stated at 1,000,000); the file is made once under
// $AGORA_BENCH_DIR (default the system's temporary directory) and kept.
//
//	AGORA_BENCH_IMPORT_N=1000000 go test -run '^$' -bench ImportText -benchtime 1x -count 3 ./ingest/store
func BenchmarkImportText(b *testing.B) {
	n := 100_000
	if v := os.Getenv("AGORA_BENCH_IMPORT_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	path := arenaTextFile(b, n)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	// Each op imports the file both ways, in turn, into new stores, so
	// that the two see the same machine; the ratios are the goal's.
	var took, cpu [2]time.Duration
	var io [2][4]float64
	for i := 0; i < b.N; i++ {
		for k, run := range [2]func(*testing.B, *Store, string) int{importTextStore, importTextFloor} {
			if i%2 == 1 {
				k, run = 1-k, [2]func(*testing.B, *Store, string) int{importTextStore, importTextFloor}[1-k]
			}
			b.StopTimer()
			s, err := Open(filepath.Join(b.TempDir(), fmt.Sprintf("agora-%d-%d.db", i, k)))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			start, cpu0, io0 := time.Now(), cpuTime(), procIO()
			if got := run(b, s, path); got != n {
				b.Fatalf("%d battles stored, want %d", got, n)
			}
			took[k] += time.Since(start)
			cpu[k] += cpuTime() - cpu0
			for j, v := range procIO() {
				io[k][j] += v - io0[j]
			}
			b.StopTimer()
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
			os.RemoveAll(filepath.Dir(s.Path()))
			b.StartTimer()
		}
	}
	per := float64(n * b.N)
	for k, name := range []string{"store", "floor"} {
		b.ReportMetric(per/took[k].Seconds(), name+"-battles/s")
		b.ReportMetric(float64(cpu[k].Microseconds())/per, name+"-cpu-µs/battle")
		for j, unit := range []string{"read-B/battle", "written-B/battle", "reads/battle", "writes/battle"} {
			b.ReportMetric(io[k][j]/per, name+"-"+unit)
		}
	}
	b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "store/floor-time")
	b.ReportMetric(cpu[0].Seconds()/cpu[1].Seconds(), "store/floor-cpu")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

// peakRSSMiB returns the largest resident set this process has had
// (/proc/self/status's VmHWM), in MiB, or 0.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// cpuTime returns the processor time this process has used, user and
// system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func importTextStore(b *testing.B, s *Store, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	// A context that can end, as agora import's (interrupt, SIGTERM).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := s.Import(ctx, func(put func(*rlhf.Record) error) error {
		_, err := formats.Read(f, formats.ImportArena, formats.ReadOptions{Source: "arena_text"}, put)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return st.Added
}

// floorLine is what the floor reads of a line.
type floorLine struct {
	QuestionID string  `json:"question_id"`
	ModelA     string  `json:"model_a"`
	ModelB     string  `json:"model_b"`
	Winner     string  `json:"winner"`
	Judge      string  `json:"judge"`
	Language   string  `json:"language"`
	Tstamp     float64 `json:"tstamp"`
	A          []struct {
		Content string `json:"content"`
	} `json:"conversation_a"`
	B []struct {
		Content string `json:"content"`
	} `json:"conversation_b"`
}

func importTextFloor(b *testing.B, s *Store, path string) int {
	const cols = 10
	for _, q := range []string{`CREATE TABLE floor (id TEXT, model_a TEXT, model_b TEXT, winner TEXT, judge TEXT,
		language TEXT, at REAL, prompt TEXT, answer_a TEXT, answer_b TEXT)`,
		fmt.Sprintf("PRAGMA cache_size = -%d", importCacheKiB)} {
		if _, err := s.write.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tx, err := s.write.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.Prepare(multiRow(`INSERT INTO floor VALUES %s`, "(?,?,?,?,?,?,?,?,?,?)", importBatch))
	if err != nil {
		b.Fatal(err)
	}
	args := make([]any, 0, importBatch*cols)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	rows := 0
	for sc.Scan() {
		var l floorLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || len(l.A) != 2 || len(l.B) != 2 {
			b.Fatalf("line %d: %v", rows+1, err)
		}
		args = append(args, l.QuestionID, l.ModelA, l.ModelB, l.Winner, l.Judge, l.Language, l.Tstamp,
			l.A[0].Content, l.A[1].Content, l.B[1].Content)
		if rows++; len(args) == cap(args) {
			if _, err := st.Exec(args...); err != nil {
				b.Fatal(err)
			}
			args = args[:0]
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(args); i += cols {
		if _, err := tx.Exec(`INSERT INTO floor VALUES (?,?,?,?,?,?,?,?,?,?)`, args[i:i+cols]...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return rows
}

// arenaTextFile returns the path of a JSONL file of n Arena battles with
// single-turn conversations of about 2.7 KB (a 500-byte prompt, answers of
// 1,100 bytes), made once and kept.
func arenaTextFile(tb testing.TB, n int) string {
	dir := os.Getenv("AGORA_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("agora-bench-arena-text-v1-%d.jsonl", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".making"
	f, err := os.Create(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	if err := writeArenaText(f, n); err != nil {
		f.Close()
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	return path
}

func writeArenaText(f io.Writer, n int) error {
	w := bufio.NewWriter(f)
	models := []string{"gpt-4-0613", "claude-2.1", "llama-2-70b-chat", "mixtral-8x7b-instruct-v0.1", "gemini-pro", "vicuna-33b"}
	winners := []string{"model_a", "model_b", "tie", "tie (bothbad)"}
	prompt := strings.Repeat("Explain how a hash map resolves collisions, with an example. ", 9)[:500]
	answer := strings.Repeat("## Chaining\n\nEach bucket holds a **list** of entries; a lookup walks it.\n1. hash the key\n- compare \"keys\"\n", 12)[:1100]
	for i := 0; i < n; i++ {
		p, _ := json.Marshal(strconv.Itoa(i) + " " + prompt)
		a, _ := json.Marshal(answer + " " + strconv.Itoa(i))
		c, _ := json.Marshal(strconv.Itoa(i) + " " + answer)
		fmt.Fprintf(w, `{"question_id":"%032x","model_a":%q,"model_b":%q,"winner":%q,"judge":"arena_user_%d","turn":1,"anony":true,"language":"English","tstamp":%d.%03d,`+
			`"conversation_a":[{"role":"user","content":%s},{"role":"assistant","content":%s}],`+
			`"conversation_b":[{"role":"user","content":%s},{"role":"assistant","content":%s}]}`+"\n",
			uint64(i)*0x9e3779b97f4a7c15, models[i%6], models[(i%6+1+(i/6)%5)%6], winners[i%4], i%5000, 1700000000+i, i%1000,
			p, a, p, c)
	}
	return w.Flush()
}

// procIO returns the bytes this process read and wrote through system
// calls, and how many read and write calls it made (/proc/self/io's
// rchar, wchar, syscr, syscw), or zeros.
func procIO() (v [4]float64) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return v
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, _ := strings.Cut(line, ": ")
		if i := slices.Index([]string{"rchar", "wchar", "syscr", "syscw"}, name); i >= 0 {
			v[i], _ = strconv.ParseFloat(value, 64)
		}
	}
	return v
}

// BenchmarkExportText is issue 16's export goal: "agora export" of n
// stored pairs with about 2 KB of text (trl-conversational, duplicate
// filter on, to io.Discard, as to /dev/null) against a plain
// select-and-write of the same rows: one query joining votes, battles and
// turns on a connection set up as the export's, each row written as a
// JSON object of its prompt, chosen and rejected answers. Each op does
// both, and the export without redaction (--no-redact), in turn; the
// ratios are the goal's. n is $AGORA_BENCH_EXPORT_N
// (default 100,000); the store is made once (see pairStore).
//
//	AGORA_BENCH_EXPORT_N=1000000 go test -run '^$' -bench ExportText -benchtime 3x ./ingest/store
func BenchmarkExportText(b *testing.B) {
	n := 100_000
	if v := os.Getenv("AGORA_BENCH_EXPORT_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	path := pairStore(b, n)
	runs := [3]func(string) (int, error){
		func(path string) (int, error) { return exportPairs(path, io.Discard, nil) },
		selectAndWrite,
		func(path string) (int, error) {
			return exportPairsWith(path, io.Discard, formats.Options{Key: []byte("k"), NoRedact: true})
		},
	}
	var took, cpu [3]time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range runs {
			if i%2 == 1 {
				k = len(runs) - 1 - k
			}
			start, cpu0 := time.Now(), cpuTime()
			rows, err := runs[k](path)
			if err != nil || rows != n {
				b.Fatalf("%d rows, %v; want %d", rows, err, n)
			}
			took[k] += time.Since(start)
			cpu[k] += cpuTime() - cpu0
		}
	}
	for k, name := range []string{"export", "floor", "export-no-redact"} {
		b.ReportMetric(float64(n*b.N)/took[k].Seconds(), name+"-pairs/s")
		b.ReportMetric(float64(cpu[k].Microseconds())/float64(n*b.N), name+"-cpu-µs/pair")
	}
	b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "export/floor-time")
	b.ReportMetric(cpu[0].Seconds()/cpu[1].Seconds(), "export/floor-cpu")
	b.ReportMetric(took[2].Seconds()/took[1].Seconds(), "no-redact/floor-time")
	b.ReportMetric(cpu[2].Seconds()/cpu[1].Seconds(), "no-redact/floor-cpu")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

// selectAndWrite is BenchmarkExportText's floor.
func selectAndWrite(path string) (int, error) {
	s, err := Open(path)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	db, err := s.exportDB()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT v.winner, t.prompt, t.a_content, t.b_content
		FROM votes v JOIN battles b ON b.id = v.battle_id JOIN turns t ON t.battle_seq = b.seq`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	w := bufio.NewWriter(io.Discard)
	enc := json.NewEncoder(w)
	var row struct {
		Prompt   string `json:"prompt"`
		Chosen   string `json:"chosen"`
		Rejected string `json:"rejected"`
	}
	n := 0
	for rows.Next() {
		var winner string
		if err := rows.Scan(&winner, &row.Prompt, &row.Chosen, &row.Rejected); err != nil {
			return n, err
		}
		if winner == string(rlhf.WinnerB) {
			row.Chosen, row.Rejected = row.Rejected, row.Chosen
		}
		if err := enc.Encode(&row); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, w.Flush()
}
