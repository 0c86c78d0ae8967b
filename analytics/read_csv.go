package analytics

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// csvColumns maps header names to fields. left and right are LLMFAO's
// names for the models shown on each side (left → model_a).
var csvColumns = map[string]string{
	"model_a": "model_a", "left": "model_a",
	"model_b": "model_b", "right": "model_b",
	"winner": "winner",
	"tstamp": "tstamp", "timestamp": "tstamp",
	"judge": "judge", "contributor": "judge", "worker": "judge",
	"language": "language",
	"category": "category",
	"source":   "source",
	"failed":   "failed",
}

// readCSV reads a CSV file whose header names the columns: model_a, model_b
// and winner are required (or left, right and winner, with winner left,
// right or tie); tstamp, judge (or contributor, worker), language,
// category and source are optional.
func readCSV(br *bufio.Reader, d *Dataset, opt ReadOptions, st *ReadStats) error {
	cr := csv.NewReader(br)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("empty CSV file")
		}
		return fmt.Errorf("CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if f, ok := csvColumns[name]; ok {
			if _, dup := col[f]; !dup || name == f {
				col[f] = i
			}
		}
	}
	for _, need := range []string{"model_a", "model_b", "winner"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("CSV header %q has no %s column (want model_a, model_b, winner; or left, right, winner)", strings.Join(header, ","), need)
		}
	}
	get := func(rec []string, name string) []byte {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return nil
		}
		return []byte(rec[i])
	}
	var f fields
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		st.Lines++
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("reading CSV: %w", err)
			}
			if e := st.bad(opt, "line", pe.Line, pe.Err); e != nil {
				return e
			}
			continue
		}
		f.reset()
		f.modelA, f.modelB, f.winner = get(rec, "model_a"), get(rec, "model_b"), get(rec, "winner")
		f.judge, f.language, f.category, f.src = get(rec, "judge"), get(rec, "language"), get(rec, "category"), get(rec, "source")
		var perr error
		if v := get(rec, "failed"); len(v) > 0 {
			f.failed, perr = parseFailed(v)
		}
		if ts := get(rec, "tstamp"); perr == nil && len(ts) > 0 {
			if f.t, perr = parseTstamp(ts); perr != nil {
				perr = fmt.Errorf("%w: tstamp %q: %v", errBadBattle, ts, perr)
			}
		}
		if perr == nil {
			perr = f.commit(d)
		}
		if perr != nil {
			if e := st.bad(opt, "line", line, perr); e != nil {
				return e
			}
			continue
		}
		st.Battles++
	}
}
