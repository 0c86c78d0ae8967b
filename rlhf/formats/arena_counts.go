package formats

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// ReadCounts reads the battles of an Arena file (f is ImportArena: a JSON
// array or JSONL, whichever the input is) or of a battle CSV (ImportCSV,
// with a header naming the columns) as summaries: the columns a
// leaderboard needs (models, winner, time, judge, language, category,
// source, and with opts.Style the style of both sides) without decoding
// the conversations' text into records. It is the columnar counterpart of
// Read, with the same options, stats and line errors; opts.Source is not
// needed. Each good battle goes to fn, which must not keep it; a battle
// marked "failed": true goes too, with Failed set. Bad lines are skipped
// and counted, or end the read with opts.Strict.
func ReadCounts(r io.Reader, f ImportFormat, opts ReadOptions, sink CountSink) (ReadStats, error) {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	rd := &reader{opts: &opts}
	c := &counter{rd: rd, sink: sink, names: map[string]string{}}
	if g, ok := sink.(interface{ Grow(n int) }); ok && opts.SizeHint > 0 {
		c.grow = g.Grow
	}
	br := bufio.NewReaderSize(r, 256<<10)
	var err error
	switch f {
	case ImportArena:
		if SniffBattles(br) == "json" {
			err = c.readArray(br)
		} else {
			err = c.readLines(br)
		}
	case ImportCSV:
		err = c.readCSV(br)
	default:
		err = fmt.Errorf("ReadCounts reads %s or %s, not %q", ImportArena, ImportCSV, f)
	}
	return rd.st, err
}

// A CountSink takes the battles ReadCounts reads (*analytics.Dataset is
// one). If it also has a method Grow(n int), ReadCounts calls it once,
// after the first lines, with the number of battles it expects in the rest
// of an input of ReadOptions.SizeHint bytes, so that columns are sized once.
type CountSink interface {
	AddSummary(s *rlhf.Summary) error
}

// SniffBattles guesses a battle file's encoding from its first non-space
// byte: "json" (an array), "jsonl" or "csv" (anything else). It only peeks.
func SniffBattles(br *bufio.Reader) string {
	for n := 1; n <= 4096; n++ {
		b, _ := br.Peek(n)
		if len(b) < n {
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

// counter is the state of one ReadCounts.
type counter struct {
	rd    *reader
	sink  CountSink
	grow  func(n int) // the sink's Grow, until called
	read  int64       // bytes read, until grow is called
	f     countedFields
	sum   rlhf.Summary
	names map[string]string // interned models, categories, languages and sources
}

// maxGrowHint bounds the battles sizeColumns asks the sink to expect: a
// file whose first lines are short (or bad) would otherwise have its
// columns allocated for far more battles than it holds; past the hint the
// columns grow as they fill.
const maxGrowHint = 1 << 24

// sizeColumns counts a line of n bytes and, after the first 4096 lines,
// tells the sink how many battles to expect.
func (c *counter) sizeColumns(n int) {
	c.read += int64(n) + 1
	if c.rd.st.Lines == 4096 {
		c.grow(int(min(float64(c.rd.opts.SizeHint)/float64(c.read)*4096*1.02, maxGrowHint)))
		c.grow = nil
	}
}

// intern returns b as a string, the same string for the same bytes.
func (c *counter) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := c.names[string(b)]; ok {
		return s
	}
	s := string(b)
	c.names[s] = s
	return s
}

// battle validates c.f and passes it on as a summary. It returns a
// *LineError for a bad battle and errFn for fn's error.
func (c *counter) battle(line int) error {
	s, err := c.summary()
	if err != nil {
		return &LineError{Line: line, Err: err}
	}
	c.rd.st.Records++
	if err := c.sink.AddSummary(s); err != nil {
		return errFn{err}
	}
	return nil
}

var errBadBattle = errors.New("bad battle")

// summary checks c.f and fills c.sum from it.
func (c *counter) summary() (*rlhf.Summary, error) {
	f := &c.f
	switch {
	case len(f.modelA) == 0:
		return nil, fmt.Errorf("%w: missing model_a", errBadBattle)
	case len(f.modelB) == 0:
		return nil, fmt.Errorf("%w: missing model_b", errBadBattle)
	case len(f.winner) == 0:
		return nil, fmt.Errorf("%w: missing winner", errBadBattle)
	case bytes.Equal(f.modelA, f.modelB):
		return nil, fmt.Errorf("%w: model %q battles itself", errBadBattle, f.modelA)
	}
	w, err := c.winner(f.winner)
	if err != nil {
		return nil, err
	}
	c.sum = rlhf.Summary{
		ModelA: c.intern(f.modelA), ModelB: c.intern(f.modelB), Winner: w,
		Failed: f.failed, Anonymous: true,
		Category: c.intern(f.category), Language: c.intern(f.language),
		Contributor: string(f.judge), Source: c.intern(f.src),
		StyleA: f.styleA, StyleB: f.styleB, HasStyle: f.hasStyle,
	}
	if f.t != noTime {
		c.sum.Time = time.Unix(0, f.t).UTC()
	}
	return &c.sum, nil
}

// winner parses a winner label: one mapped by ReadOptions.Winners, Arena's,
// Agora's own, or the LLMFAO spellings left and right.
func (c *counter) winner(b []byte) (rlhf.Winner, error) {
	switch string(b) {
	case "model_a", "left", "a":
		return rlhf.WinnerA, nil
	case "model_b", "right", "b":
		return rlhf.WinnerB, nil
	case "tie":
		return rlhf.WinnerTie, nil
	case "tie (bothbad)", "bothbad", "both_bad":
		return rlhf.WinnerBothBad, nil
	}
	if w, err := c.rd.parseWinner(string(b)); err == nil {
		return w, nil
	}
	return "", fmt.Errorf("%w: unknown winner %q (want model_a, model_b, tie or tie (bothbad))", errBadBattle, b)
}

// parseFailed reads the optional "failed" field: true when a side of the
// battle failed (rlhf.Record.Failed), so that it is counted apart.
func parseFailed(b []byte) (bool, error) {
	switch string(b) {
	case "true", "1", "True", "TRUE":
		return true, nil
	case "false", "0", "False", "FALSE", "":
		return false, nil
	}
	return false, fmt.Errorf("%w: failed %q is not true or false", errBadBattle, b)
}

// noTime marks a battle without a timestamp.
const noTime = -1 << 63

// countedFields is one battle as read from a file, its names still bytes.
type countedFields struct {
	modelA, modelB, winner         []byte
	judge, language, category, src []byte
	t                              int64
	failed                         bool   // a side failed (rlhf.Record.Failed): count, do not rate
	convMeta, convA, convB         []byte // raw JSON, only when reading style
	styleA, styleB                 rlhf.Style
	hasStyle                       bool
}

func (f *countedFields) reset() {
	*f = countedFields{t: noTime}
}
