package formats

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// countsCSVColumns maps the header names ReadCounts knows in a CSV file to
// its fields. left and right are LLMFAO's names for the models shown on
// each side (left → model_a).
var countsCSVColumns = map[string]string{
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
// category, source and failed are optional.
func (c *counter) readCSV(br *bufio.Reader) error {
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
	col, err := countsColumns(header)
	if err != nil {
		return err
	}
	get := func(rec []string, name string) []byte {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return nil
		}
		return []byte(rec[i])
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		c.rd.st.Lines++
		var perr error
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			perr = &LineError{Line: pe.Line, Err: pe.Err}
		case err != nil:
			return fmt.Errorf("reading CSV: %w", err)
		default:
			perr = c.csvBattle(line, rec, get)
		}
		if err := c.rd.handle(perr); err != nil {
			return err
		}
	}
}

// countsColumns maps each known field to its column in header.
func countsColumns(header []string) (map[string]int, error) {
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if f, ok := countsCSVColumns[name]; ok {
			if _, dup := col[f]; !dup || name == f {
				col[f] = i
			}
		}
	}
	for _, need := range []string{"model_a", "model_b", "winner"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("CSV header %q has no %s column (want model_a, model_b, winner; or left, right, winner)", strings.Join(header, ","), need)
		}
	}
	return col, nil
}

// csvBattle reads one row into c.f and passes it on.
func (c *counter) csvBattle(line int, rec []string, get func([]string, string) []byte) error {
	f := &c.f
	f.reset()
	f.modelA, f.modelB, f.winner = get(rec, "model_a"), get(rec, "model_b"), get(rec, "winner")
	f.judge, f.language, f.category, f.src = get(rec, "judge"), get(rec, "language"), get(rec, "category"), get(rec, "source")
	var err error
	if v := get(rec, "failed"); len(v) > 0 {
		if f.failed, err = parseFailed(v); err != nil {
			return &LineError{Line: line, Err: err}
		}
	}
	if ts := get(rec, "tstamp"); len(ts) > 0 {
		if f.t, err = parseTstamp(ts); err != nil {
			return &LineError{Line: line, Err: fmt.Errorf("%w: tstamp %q: %v", errBadBattle, ts, err)}
		}
	}
	return c.battle(line)
}
