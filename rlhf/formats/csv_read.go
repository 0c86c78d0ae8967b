package formats

import (
	"bufio"
	"encoding/csv"
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
		if cols[name] < 0 {
			return nil, fmt.Errorf("no %s column in the header (map one with --columns %s=NAME)", name, name)
		}
	}
	return cols, nil
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
	w, err := rd.parseWinner(winner)
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
	rec.Battle.Turns = append(rec.Battle.Turns, rlhf.Turn{
		Prompt: get("prompt"), At: at,
		A: rlhf.Answer{Content: get("response_a")},
		B: rlhf.Answer{Content: get("response_b")},
	})
	return rd.record(line, rec)
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
