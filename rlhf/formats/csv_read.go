package formats

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

// CSVColumns are the column names the CSV reader knows. model_a, model_b
// and winner are required; the rest are optional. ReadOptions.Columns maps
// them to a file's own names.
var CSVColumns = []string{"question_id", "model_a", "model_b", "winner", "judge", "tstamp", "language", "category", "prompt", "response_a", "response_b"}

var requiredCSVColumns = []string{"model_a", "model_b", "winner"}

// readCSV reads a CSV file with a header line, one battle per row.
func (rd *reader) readCSV(r io.Reader) error {
	lim := &lineLimiter{r: bufio.NewReaderSize(r, 256<<10), max: rd.opts.MaxLineBytes}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return csvFatal(lim, err)
	}
	cols, err := rd.csvColumns(header)
	if err != nil {
		return &LineError{Line: 1, Err: err}
	}
	var buf []byte
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		var perr error
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
			rd.st.Lines++
			perr = &LineError{Line: pe.StartLine, Err: fmt.Errorf("%d fields, want %d like the header", len(row), len(header))}
		case err != nil:
			return csvFatal(lim, err)
		default:
			rd.st.Lines++
			line, _ := cr.FieldPos(0)
			buf = buf[:0]
			for _, f := range row {
				buf = append(buf, f...)
				buf = append(buf, 0)
			}
			perr = rd.csvRecord(line, buf, row, cols)
		}
		if err := rd.handle(perr); err != nil {
			return err
		}
	}
}

// csvFatal turns an error that leaves the rest of a CSV file unreadable
// into a *LineError.
func csvFatal(lim *lineLimiter, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(err, errLineTooLong) {
			return &LineError{Line: lim.line, Err: err}
		}
		return &LineError{Line: pe.Line, Err: fmt.Errorf("broken CSV (column %d): %v", pe.Column, pe.Err)}
	}
	if errors.Is(err, errLineTooLong) {
		return &LineError{Line: lim.line, Err: err}
	}
	return fmt.Errorf("read CSV: %w", err)
}

// csvColumns maps each known column to its index in header, or -1.
func (rd *reader) csvColumns(header []string) (map[string]int, error) {
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		if !utf8.ValidString(h) {
			return nil, errors.New("header is not valid UTF-8")
		}
		index[strings.TrimSpace(h)] = i
	}
	for name := range rd.opts.Columns {
		if !contains(CSVColumns, name) {
			return nil, fmt.Errorf("unknown column %q in the column map (want one of %s)", name, strings.Join(CSVColumns, ", "))
		}
	}
	cols := map[string]int{}
	for _, name := range CSVColumns {
		fileName := name
		if m, ok := rd.opts.Columns[name]; ok {
			fileName = m
		}
		i, ok := index[fileName]
		if !ok {
			if _, mapped := rd.opts.Columns[name]; mapped && fileName != "" {
				return nil, fmt.Errorf("column %q (mapped to %s) is not in the header", fileName, name)
			}
			i = -1
		}
		if fileName == "" { // mapped to nothing: ignore the column
			i = -1
		}
		cols[name] = i
	}
	for _, name := range requiredCSVColumns {
		if name == "winner" && len(rd.opts.WinnerColumns) > 0 {
			continue
		}
		if cols[name] < 0 {
			return nil, fmt.Errorf("no %s column in the header (map one with --columns %s=NAME)", name, name)
		}
	}
	rd.winnerCols = map[rlhf.Winner]int{}
	for w, name := range rd.opts.WinnerColumns {
		i, ok := index[name]
		if !ok {
			return nil, fmt.Errorf("winner column %q (for %s) is not in the header", name, w.ArenaWinner())
		}
		rd.winnerCols[w] = i
	}
	return cols, nil
}

// oneHotWinner returns the verdict whose one-hot column is set in row.
func (rd *reader) oneHotWinner(row []string) (rlhf.Winner, error) {
	var set []rlhf.Winner
	for w, i := range rd.winnerCols {
		switch strings.TrimSpace(strings.ToLower(row[i])) {
		case "1", "1.0", "true":
			set = append(set, w)
		case "0", "0.0", "false", "":
		default:
			return "", fmt.Errorf("winner column %q holds %q, want 0 or 1", rd.opts.WinnerColumns[w], row[i])
		}
	}
	if len(set) != 1 {
		return "", fmt.Errorf("%d of the winner columns are set, want exactly one", len(set))
	}
	return set[0], nil
}

func (rd *reader) csvRecord(line int, text []byte, row []string, cols map[string]int) error {
	bad := func(format string, args ...any) error {
		return &LineError{Line: line, Err: fmt.Errorf(format, args...)}
	}
	for i, f := range row {
		if !utf8.ValidString(f) {
			return bad("field %d is not valid UTF-8", i+1)
		}
	}
	get := func(name string) string {
		if i := cols[name]; i >= 0 {
			return row[i]
		}
		return ""
	}
	modelA, modelB, winner := strings.TrimSpace(get("model_a")), strings.TrimSpace(get("model_b")), strings.TrimSpace(get("winner"))
	switch {
	case modelA == "":
		return bad("empty model_a")
	case modelB == "":
		return bad("empty model_b")
	}
	var w rlhf.Winner
	var err error
	if len(rd.winnerCols) > 0 {
		w, err = rd.oneHotWinner(row)
	} else {
		w, err = rd.parseWinner(winner)
	}
	if err != nil {
		return &LineError{Line: line, Err: err}
	}
	at := rd.now()
	if ts := strings.TrimSpace(get("tstamp")); ts != "" {
		if at, err = parseCSVTime(ts); err != nil {
			return bad("tstamp: %v", err)
		}
	}
	id := get("question_id")
	if id == "" {
		id = recordID(rd.opts.Source, line, text)
	}
	rec := rd.newRecord(id, modelA, modelB, w, at, get("judge"))
	rec.Battle.Language = get("language")
	rec.Battle.Category = get("category")
	prompts, as, bs := get("prompt"), get("response_a"), get("response_b")
	if ps, ra, rb, ok := jsonTurns(prompts, as, bs); ok {
		for i := range ps {
			rec.Battle.Turns = append(rec.Battle.Turns, rlhf.Turn{Index: i, Prompt: ps[i], At: at,
				A: rlhf.Answer{Content: ra[i]}, B: rlhf.Answer{Content: rb[i]}})
		}
		return rd.record(line, rec)
	}
	rec.Battle.Turns = append(rec.Battle.Turns, rlhf.Turn{
		Prompt: prompts, At: at,
		A: rlhf.Answer{Content: as},
		B: rlhf.Answer{Content: bs},
	})
	return rd.record(line, rec)
}

// jsonTurns reads the Kaggle shape of prompt, response_a and response_b:
// each a JSON list of strings (null for a missing answer), one per turn.
// ok is false unless all three are such lists of the same length.
func jsonTurns(prompt, a, b string) (ps, as, bs []string, ok bool) {
	list := func(s string) ([]string, bool) {
		if !strings.HasPrefix(strings.TrimSpace(s), "[") {
			return nil, false
		}
		var v []*string
		if json.Unmarshal([]byte(s), &v) != nil {
			return nil, false
		}
		out := make([]string, len(v))
		for i, p := range v {
			if p != nil {
				out[i] = *p
			}
		}
		return out, true
	}
	var okP, okA, okB bool
	ps, okP = list(prompt)
	as, okA = list(a)
	bs, okB = list(b)
	if !okP || !okA || !okB || len(ps) == 0 || len(ps) != len(as) || len(ps) != len(bs) || len(ps) > maxImportTurns {
		return nil, nil, nil, false
	}
	return ps, as, bs, true
}

// parseCSVTime reads seconds since 1970 or an RFC 3339 time.
func parseCSVTime(s string) (time.Time, error) {
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return parseUnixSeconds(s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither seconds since 1970 nor an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

var errLineTooLong = errors.New("line is too long")

// lineLimiter fails a read once one physical line grows past max bytes,
// so that a CSV file without newlines cannot fill memory.
type lineLimiter struct {
	r    *bufio.Reader
	max  int
	cur  int // bytes of the current line so far
	line int // current line, 1-based
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.line == 0 {
		l.line = 1
	}
	for _, c := range p[:n] {
		if c == '\n' {
			l.cur = 0
			l.line++
			continue
		}
		l.cur++
		if l.cur > l.max {
			return 0, fmt.Errorf("%w: over %d bytes", errLineTooLong, l.max)
		}
	}
	return n, err
}
