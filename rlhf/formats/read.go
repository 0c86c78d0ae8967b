package formats

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

// ImportFormat names a format "agora import" reads.
type ImportFormat string

// The import formats.
const (
	ImportArena ImportFormat = "arena"   // Arena battles, a JSON array or JSONL, with or without conversations
	ImportTRL   ImportFormat = "trl"     // TRL preference JSONL: standard, conversational or implicit prompt
	ImportHH    ImportFormat = "hh-rlhf" // Anthropic HH-RLHF JSONL
	ImportCSV   ImportFormat = "csv"     // one battle per row with named columns
	// ImportUltraFeedback is HuggingFaceH4/ultrafeedback_binarized as
	// shipped: prompt, chosen and rejected message lists, score_chosen and
	// score_rejected.
	ImportUltraFeedback ImportFormat = "ultrafeedback"
)

// ImportFormats lists the import formats.
var ImportFormats = []ImportFormat{ImportArena, ImportTRL, ImportHH, ImportCSV, ImportUltraFeedback}

// ParseImportFormat returns the import format named s.
func ParseImportFormat(s string) (ImportFormat, error) {
	for _, f := range ImportFormats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", rlhf.Errorf(rlhf.EInvalid, "unknown import format %q (want arena, trl, hh-rlhf, csv or ultrafeedback)", s)
}

// DefaultMaxLineBytes caps one line (or one Arena array element) of input.
const DefaultMaxLineBytes = 16 << 20

// ReadOptions are the choices of an import.
type ReadOptions struct {
	// Source names the data set; every record carries it and its ids are
	// derived from it. Required.
	Source string
	// Strict stops at the first bad record instead of skipping it.
	Strict bool
	// MaxLineBytes caps one line; 0 means DefaultMaxLineBytes.
	MaxLineBytes int
	// Now stamps records whose input has no time. It should be the same on
	// every import of a file for exports to be repeatable; the zero value
	// stamps them with the Unix epoch.
	Now time.Time

	// ChosenModel and RejectedModel name the two sides of TRL and HH-RLHF
	// rows, which do not say which models answered. Default "chosen" and
	// "rejected".
	ChosenModel, RejectedModel string

	// Columns maps Agora's CSV column names (model_a, model_b, winner, …)
	// to the file's, for CSV files that name them differently.
	Columns map[string]string
	// Winners maps the file's winner labels to verdicts, added to the Arena
	// labels (model_a, model_b, tie, tie (bothbad)).
	Winners map[string]rlhf.Winner
	// WinnerColumns names, for CSV files that give the verdict as one-hot
	// columns (Kaggle's winner_model_a, winner_model_b, winner_tie), the
	// column of each verdict. A row must set exactly one of them (1 or
	// true); the winner column is then not read.
	WinnerColumns map[rlhf.Winner]string

	// Style makes ReadCounts measure both sides' style (from conv_metadata,
	// or the conversations when it is absent). Reading is faster without.
	Style bool
	// SizeHint is the input's size in bytes, when known: ReadCounts sizes
	// its sink's columns from it (see CountSink).
	SizeHint int64
}

// LineError is a bad record at a line of the input.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// maxKeptErrors is how many bad records ReadStats keeps in full.
const maxKeptErrors = 100

// ReadStats says what an import read.
type ReadStats struct {
	Lines   int          // lines (or array elements) read
	Records int          // good records passed on
	Bad     int          // bad records skipped
	Errors  []*LineError // the first bad records, at most 100
}

func (s *ReadStats) bad(e *LineError) {
	s.Bad++
	if len(s.Errors) < maxKeptErrors {
		s.Errors = append(s.Errors, e)
	}
}

// Read reads records of format f from r and passes each good one to fn, in
// input order. fn must not keep the record. A bad record is skipped and
// counted, or, with opts.Strict, ends the read with a *LineError. Errors
// that leave the rest unreadable (a broken JSON array, a broken CSV quote,
// a read error) end the read in either mode. An error from fn ends the read
// and is returned as is.
func Read(r io.Reader, f ImportFormat, opts ReadOptions, fn func(rec *rlhf.Record) error) (ReadStats, error) {
	if opts.Source == "" {
		return ReadStats{}, rlhf.Errorf(rlhf.EInvalid, "import needs a source name")
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.ChosenModel == "" {
		opts.ChosenModel = "chosen"
	}
	if opts.RejectedModel == "" {
		opts.RejectedModel = "rejected"
	}
	rd := &reader{opts: &opts, fn: fn, seen: map[[16]byte]int32{}, seed1: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	var err error
	switch f {
	case ImportArena:
		err = rd.readArena(r)
	case ImportTRL:
		err = rd.readLines(r, rd.trlLine)
	case ImportHH:
		err = rd.readLines(r, rd.hhLine)
	case ImportCSV:
		err = rd.readCSV(r)
	case ImportUltraFeedback:
		err = rd.readLines(r, rd.ultraFeedbackLine)
	default:
		_, err = ParseImportFormat(string(f))
	}
	return rd.st, err
}

// reader is the state of one Read.
type reader struct {
	opts *ReadOptions
	fn   func(rec *rlhf.Record) error
	st   ReadStats
	rec  rlhf.Record
	// seen maps a 128-bit digest of each battle id to its line, to catch
	// ids repeated within the file: about 40 bytes an id rather than the
	// id itself (Arena's are 32 characters) in a map of strings. Two
	// seeded maphashes collide with negligible probability.
	seen         map[[16]byte]int32
	seed1, seed2 maphash.Seed
	winnerCols   map[rlhf.Winner]int // CSV: the one-hot winner columns' indexes
}

// idDigest returns the digest of id that seen keys.
func (rd *reader) idDigest(id string) [16]byte {
	var d [16]byte
	binary.LittleEndian.PutUint64(d[:8], maphash.String(rd.seed1, id))
	binary.LittleEndian.PutUint64(d[8:], maphash.String(rd.seed2, id))
	return d
}

// errFn marks an error returned by the caller's fn, which ends the read.
type errFn struct{ err error }

func (e errFn) Error() string { return e.err.Error() }

// record validates rec, checks its id is new in this file and passes it on.
// It returns a *LineError for a bad record and errFn for fn's error.
func (rd *reader) record(line int, rec *rlhf.Record) error {
	if err := rec.Validate(); err != nil {
		return &LineError{Line: line, Err: errors.New(rlhf.ErrorMessage(err))}
	}
	d := rd.idDigest(rec.Battle.ID)
	if first, dup := rd.seen[d]; dup {
		return &LineError{Line: line, Err: fmt.Errorf("battle id %q repeats line %d", rec.Battle.ID, first)}
	}
	rd.seen[d] = int32(min(line, math.MaxInt32))
	rd.st.Records++
	if err := rd.fn(rec); err != nil {
		return errFn{err}
	}
	return nil
}

// handle decides what a record's error does to the read: nil to go on,
// or the error that ends it.
func (rd *reader) handle(err error) error {
	if err == nil {
		return nil
	}
	var fe errFn
	if errors.As(err, &fe) {
		return fe.err
	}
	var le *LineError
	if errors.As(err, &le) && !rd.opts.Strict {
		rd.st.bad(le)
		return nil
	}
	if le != nil {
		rd.st.Bad++
		rd.st.Errors = append(rd.st.Errors, le)
	}
	return err
}

// readLines calls parse for each line of r. Blank lines are skipped; a
// line over the limit is a bad record and is skipped without being held in
// memory.
func (rd *reader) readLines(r io.Reader, parse func(line int, text []byte) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var buf []byte
	for n := 1; ; n++ {
		text, tooLong, err := readLine(br, buf[:0], rd.opts.MaxLineBytes)
		buf = text
		if err != nil && err != io.EOF {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		if len(text) == 0 && !tooLong && err == io.EOF {
			return nil
		}
		rd.st.Lines++
		var perr error
		switch {
		case tooLong:
			perr = &LineError{Line: n, Err: fmt.Errorf("line is longer than %d bytes", rd.opts.MaxLineBytes)}
		case len(strings.TrimSpace(string(text))) == 0:
			rd.st.Lines--
		case !utf8.Valid(text):
			perr = &LineError{Line: n, Err: errors.New("not valid UTF-8")}
		default:
			perr = parse(n, text)
		}
		if err := rd.handle(perr); err != nil {
			return err
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads one line into buf without its line ending. When the line
// is longer than max it reads on to the line's end, keeps none of it and
// reports tooLong. At the end of the input it returns io.EOF with the last
// (unterminated) line, if any.
func readLine(br *bufio.Reader, buf []byte, max int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > max+2 { // +2 for "\r\n"
				tooLong, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if n := len(buf); n > 0 && buf[n-1] == '\n' {
			buf = buf[:n-1]
			if n := len(buf); n > 0 && buf[n-1] == '\r' {
				buf = buf[:n-1]
			}
		}
		if !tooLong && len(buf) > max {
			tooLong, buf = true, buf[:0]
		}
		return buf, tooLong, err
	}
}

// recordID derives a battle id from the source, the line number and the
// line's bytes, so that importing the same file again gives the same ids.
func recordID(source string, line int, text []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(line)))
	h.Write([]byte{0})
	h.Write(text)
	return source + ":" + hex.EncodeToString(h.Sum(nil)[:12])
}

// newRecord fills rd.rec with a voted battle of the given id, models, time
// and contributor, and no turns yet.
func (rd *reader) newRecord(id, modelA, modelB string, w rlhf.Winner, at time.Time, judge string) *rlhf.Record {
	turns := rd.rec.Battle.Turns[:0]
	rd.rec = rlhf.Record{
		Battle: rlhf.Battle{
			ID: id, ContributorID: judge, ModelA: modelA, ModelB: modelB,
			Status: rlhf.StatusVoted, Source: rd.opts.Source,
			CreatedAt: at, UpdatedAt: at, Turns: turns,
		},
		Vote: rlhf.Vote{ID: id, BattleID: id, ContributorID: judge, Winner: w, CreatedAt: at},
	}
	return &rd.rec
}

// now is the time of records whose input has none.
func (rd *reader) now() time.Time {
	if rd.opts.Now.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return rd.opts.Now
}

// jsonError turns a decoding error into a short message that names the
// field, never a Go type.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "record"
		}
		return fmt.Errorf("field %s: got JSON %s, want %s", field, te.Value, jsonKind(te.Type.Kind().String()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) && !strings.Contains(se.Error(), "unexpected end") {
		return fmt.Errorf("invalid JSON: %v", se)
	}
	if se != nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("truncated JSON")
	}
	return err
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "int", "int64", "float64":
		return "a number"
	}
	return k
}

// parseWinner reads a winner label: Arena's spellings, Agora's own, or one
// mapped by ReadOptions.Winners.
func (rd *reader) parseWinner(s string) (rlhf.Winner, error) {
	if w, ok := rd.opts.Winners[s]; ok {
		return w, nil
	}
	if w, err := rlhf.ParseArenaWinner(s); err == nil {
		return w, nil
	}
	if w := rlhf.Winner(s); w.Valid() {
		return w, nil
	}
	return "", fmt.Errorf("unknown winner %q (want model_a, model_b, tie or tie (bothbad), or map it)", s)
}
