package formats

import (
	"bufio"
	"io"
)

// jsonl is the buffered line output every JSON writer shares.
type jsonl struct {
	w   *bufio.Writer
	buf []byte // the row being encoded, reused
}

func newJSONL(w io.Writer) jsonl {
	return jsonl{w: bufio.NewWriterSize(w, 256<<10)}
}

// line writes j.buf and a newline.
func (j *jsonl) line() error {
	j.buf = append(j.buf, '\n')
	_, err := j.w.Write(j.buf)
	return err
}

// Close flushes the buffered output.
func (j *jsonl) Close() error { return j.w.Flush() }
