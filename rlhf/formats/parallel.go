package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"unicode/utf8"
)

// JSON decoding is most of the cost of an import, so the Arena JSONL reader
// decodes batches of lines on all cores while one goroutine keeps reading
// and the caller's goroutine takes the decoded battles in input order.

// A batch is sent to the decoders when it has parallelBatch lines or
// parallelBatchBytes bytes, whichever comes first, so that memory stays
// bounded even with lines near the length limit.
const (
	parallelBatch      = 512
	parallelBatchBytes = 4 << 20
)

// arenaBatch is a run of consecutive lines and what decoding made of them.
type arenaBatch struct {
	text    []byte // the lines, back to back
	ends    []int  // end offset of each line in text
	nums    []int  // line numbers
	tooLong []bool // the line was over the limit and is not in text
	decoded []arenaIn
	errs    []error
	done    chan struct{}
}

func (b *arenaBatch) line(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.text[start:b.ends[i]]
}

// decode fills b.decoded and b.errs.
func (b *arenaBatch) decode(max int) {
	n := len(b.nums)
	b.decoded = make([]arenaIn, n)
	b.errs = make([]error, n)
	for i := 0; i < n; i++ {
		text := b.line(i)
		switch {
		case b.tooLong[i]:
			b.errs[i] = &LineError{Line: b.nums[i], Err: fmt.Errorf("line is longer than %d bytes", max)}
		case !utf8.Valid(text):
			b.errs[i] = &LineError{Line: b.nums[i], Err: fmt.Errorf("not valid UTF-8")}
		default:
			if err := json.Unmarshal(text, &b.decoded[i]); err != nil {
				b.errs[i] = &LineError{Line: b.nums[i], Err: jsonError(err)}
			}
		}
	}
	close(b.done)
}

// readArenaLines reads Arena JSONL, decoding on all cores: one goroutine
// cuts the input into batches of lines, the workers decode them, and the
// caller takes the batches in order.
func (rd *reader) readArenaLines(r io.Reader) error {
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *arenaBatch, workers)
	ordered := make(chan *arenaBatch, 2*workers)
	quit := make(chan struct{})
	readErr := make(chan error, 1)

	for w := 0; w < workers; w++ {
		go func() {
			for b := range work {
				b.decode(rd.opts.MaxLineBytes)
			}
		}()
	}
	go func() {
		defer close(work)
		defer close(ordered)
		readErr <- rd.batchLines(r, work, ordered, quit)
	}()

	stop := func(err error) error {
		close(quit)
		for b := range ordered { // let the reader finish; wait for the decoders
			<-b.done
		}
		return err
	}
	for b := range ordered {
		<-b.done
		for i := range b.nums {
			rd.st.Lines++
			err := b.errs[i]
			if err == nil {
				err = rd.arenaRecord(b.nums[i], b.line(i), &b.decoded[i])
			}
			if err := rd.handle(err); err != nil {
				return stop(err)
			}
		}
	}
	return <-readErr
}

// batchLines cuts r into batches of non-blank lines, each sent to ordered
// (in input order) and to work (to be decoded), until the input ends or
// quit is closed.
func (rd *reader) batchLines(r io.Reader, work, ordered chan<- *arenaBatch, quit <-chan struct{}) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var buf []byte
	b := newArenaBatch(0)
	send := func() bool {
		size := len(b.text)
		select {
		case ordered <- b:
		case <-quit:
			return false
		}
		work <- b
		b = newArenaBatch(size)
		return true
	}
	for n := 1; ; n++ {
		text, tooLong, err := readLine(br, buf[:0], rd.opts.MaxLineBytes)
		buf = text
		if err != nil && err != io.EOF {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		if len(text) == 0 && !tooLong && err == io.EOF {
			break
		}
		if tooLong || !isBlank(text) {
			b.text = append(b.text, text...)
			b.ends = append(b.ends, len(b.text))
			b.nums = append(b.nums, n)
			b.tooLong = append(b.tooLong, tooLong)
			if (len(b.nums) == parallelBatch || len(b.text) >= parallelBatchBytes) && !send() {
				return nil // the caller stopped
			}
		}
		if err == io.EOF {
			break
		}
	}
	if len(b.nums) > 0 {
		send()
	}
	return nil
}

// newArenaBatch returns an empty batch with room for about size bytes of
// lines (the last batch's size: growing a batch of megabytes by appending
// cost as much processor time as decoding a third of its lines).
func newArenaBatch(size int) *arenaBatch {
	return &arenaBatch{done: make(chan struct{}), text: make([]byte, 0, size+size/8)}
}

func isBlank(text []byte) bool {
	for _, c := range text {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
