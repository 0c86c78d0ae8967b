package analytics

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ReadOptions controls reading a battle file.
type ReadOptions struct {
	// Format is "json" (an array), "jsonl" or "csv"; empty means by file
	// extension, else by the first byte ('[' JSON, '{' JSONL, else CSV).
	Format string
	// Strict fails at the first bad line instead of skipping it.
	Strict bool
	// Style reads style features (conv_metadata, or the conversations when
	// it is absent). Reading is faster without.
	Style bool
	// MaxErrors is how many bad lines are kept in ReadStats.Errors; zero
	// means 20. All of them are counted.
	MaxErrors int

	sizeHint int64 // the file's size, when known
}

// ReadStats reports what a read did.
type ReadStats struct {
	Format  string
	Lines   int // lines (JSONL, CSV) or array elements (JSON) read
	Battles int // battles added
	Failed  int // battles marked failed ("failed": true): counted, never rated
	Skipped int // bad lines skipped
	Errors  []*LineError
}

// LineError is a bad line of a battle file.
type LineError struct {
	Line int // 1-based line number; for a JSON array, the element number
	Err  error
	unit string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s %d: %v", e.unit, e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// ReadFile reads the battles of a file into d. The path "-" reads stdin.
func ReadFile(path string, d *Dataset, opt ReadOptions) (*ReadStats, error) {
	if opt.Format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json":
			opt.Format = "json"
		case ".jsonl", ".ndjson":
			opt.Format = "jsonl"
		case ".csv":
			opt.Format = "csv"
		}
	}
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			opt.sizeHint = fi.Size()
		}
	}
	st, err := Read(r, d, opt)
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// Read reads battles in the Chatbot Arena format (a JSON array, JSONL) or
// CSV with a header naming the columns, and appends them to d. It streams:
// memory grows with the battles kept, not with the file. Bad lines are
// skipped and counted (or fail the read with Strict); a malformed JSON array
// or an unreadable file fails it.
func Read(r io.Reader, d *Dataset, opt ReadOptions) (*ReadStats, error) {
	if opt.MaxErrors == 0 {
		opt.MaxErrors = 20
	}
	br := bufio.NewReaderSize(r, 1<<20)
	if opt.Format == "" {
		opt.Format = sniff(br)
	}
	st := &ReadStats{Format: opt.Format}
	failedBefore := d.failed
	defer func() {
		st.Failed = int(d.failed - failedBefore)
		st.Battles -= st.Failed
	}()
	var err error
	switch opt.Format {
	case "jsonl":
		err = readJSONL(br, d, opt, st)
	case "json":
		err = readJSONArray(br, d, opt, st)
	case "csv":
		err = readCSV(br, d, opt, st)
	default:
		err = fmt.Errorf("unknown battle file format %q (want json, jsonl or csv)", opt.Format)
	}
	return st, err
}

// sniff guesses the format from the first non-space byte.
func sniff(br *bufio.Reader) string {
	for n := 1; n <= 4096; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			_ = err
			return "jsonl"
		}
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 {
			continue
		}
		switch b[0] {
		case '[':
			return "json"
		case '{':
			return "jsonl"
		}
		return "csv"
	}
	return "jsonl"
}

// bad records a bad line; it returns the error to stop with when strict.
func (st *ReadStats) bad(opt ReadOptions, unit string, line int, err error) error {
	le := &LineError{Line: line, Err: err, unit: unit}
	if opt.Strict {
		return le
	}
	st.Skipped++
	if len(st.Errors) < opt.MaxErrors {
		st.Errors = append(st.Errors, le)
	}
	return nil
}

var errBadBattle = errors.New("bad battle")

// parseFailed reads the optional "failed" field: true when a side of the
// battle failed (Agora's rlhf.Record.Failed), so that it is counted apart.
func parseFailed(b []byte) (bool, error) {
	switch string(b) {
	case "true", "1", "True", "TRUE":
		return true, nil
	case "false", "0", "False", "FALSE", "":
		return false, nil
	}
	return false, fmt.Errorf("%w: failed %q is not true or false", errBadBattle, b)
}

// winnerCode parses an Arena winner label, or the LLMFAO spellings left and
// right.
func winnerCode(b []byte) (uint8, error) {
	switch string(b) {
	case "model_a", "left", "a":
		return outA, nil
	case "model_b", "right", "b":
		return outB, nil
	case "tie":
		return outTie, nil
	case "tie (bothbad)", "bothbad", "both_bad":
		return outBothBad, nil
	}
	return 0, fmt.Errorf("%w: unknown winner %q (want model_a, model_b, tie or tie (bothbad))", errBadBattle, b)
}

// fields is one battle as read from a file.
type fields struct {
	modelA, modelB, winner         []byte
	judge, language, category, src []byte
	t                              int64
	failed                         bool   // a side failed (rlhf.Record.Failed): count, do not rate
	convMeta, convA, convB         []byte // raw JSON, only when reading style
	style                          *[numStyle]float32
	styleBuf                       [numStyle]float32
}

func (f *fields) reset() {
	*f = fields{t: noTime}
}

// commit validates f and appends it to d.
func (f *fields) commit(d *Dataset) error {
	switch {
	case len(f.modelA) == 0:
		return fmt.Errorf("%w: missing model_a", errBadBattle)
	case len(f.modelB) == 0:
		return fmt.Errorf("%w: missing model_b", errBadBattle)
	case len(f.winner) == 0:
		return fmt.Errorf("%w: missing winner", errBadBattle)
	case bytes.Equal(f.modelA, f.modelB):
		return fmt.Errorf("%w: model %q battles itself", errBadBattle, f.modelA)
	}
	w, err := winnerCode(f.winner)
	if err != nil {
		return err
	}
	if f.failed {
		d.failed++
		return nil
	}
	d.addRaw(d.models.idBytes(f.modelA), d.models.idBytes(f.modelB), w, f.t,
		f.category, f.language, f.judge, f.src, f.style)
	return nil
}
