package formats

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
)

// Spill is scratch storage the duplicate filter writes sorted runs of
// digests to, one after the other, and reads back at their offsets. Close
// releases it; nothing in it is needed after. cmd/agora gives an unlinked
// temporary file (an *os.File is one); this package does no file I/O.
type Spill interface {
	io.Writer
	io.ReaderAt
	io.Closer
}

// digestSet is the set of row digests of the duplicate filter, exact and
// in bounded memory: an open-addressing hash table of 16-byte digests
// (16 bytes a row instead of about 35 in a Go map, no per-entry garbage)
// that grows up to maxSlots. When it is full its digests are sorted and
// written to the spill storage as a run, and the table starts again empty;
// a digest is then looked up in the table and in each run (one 4 KB read
// a run, found through a small in-memory index of the runs' blocks). So
// memory stays under 1.5×maxSlots×16 bytes (24 MiB, while the table grows
// to its last size) whatever the number of rows, and rows past about
// 786,000 pay one read each per run. Without spill storage the table
// grows instead, 16 bytes a row.
type digestSet struct {
	slots    [][16]byte // zero digest = empty slot
	used     int
	hasZero  bool // the zero digest, which cannot live in a slot
	maxSlots int

	open func() (Spill, error) // opens file at the first spill; nil: never spill
	file Spill                 // runs, back to back; nil until the first spill
	size int64                 // bytes written to file
	runs []digestRun
	buf  [runBlock * 16]byte
}

// digestRun is one sorted run in the file.
type digestRun struct {
	off    int64      // offset of the run in the file
	n      int        // digests in it
	firsts [][16]byte // first digest of each block of runBlock digests
}

const (
	runBlock            = 256 // digests per block of a run: 4 KB
	defaultMaxSlots     = 1 << 20
	digestSetInitSlots  = 1 << 12
	digestSetLoadFactor = 4 // full at 3/4
)

func newDigestSet(maxSlots int, spill func() (Spill, error)) *digestSet {
	if maxSlots <= 0 {
		maxSlots = defaultMaxSlots
	}
	return &digestSet{slots: make([][16]byte, min(digestSetInitSlots, maxSlots)), maxSlots: maxSlots, open: spill}
}

// add adds d and reports whether it was new.
func (s *digestSet) add(d [16]byte) (bool, error) {
	if d == ([16]byte{}) {
		if s.hasZero {
			return false, nil
		}
		s.hasZero = true
		return true, nil
	}
	i, found := s.find(d)
	if found {
		return false, nil
	}
	for r := range s.runs {
		in, err := s.inRun(&s.runs[r], d)
		if err != nil || in {
			return false, err
		}
	}
	s.slots[i] = d
	s.used++
	if s.used*digestSetLoadFactor >= len(s.slots)*(digestSetLoadFactor-1) {
		if len(s.slots) < s.maxSlots || s.open == nil {
			s.grow()
		} else if err := s.spill(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// find returns d's slot, or the empty slot where it would go.
func (s *digestSet) find(d [16]byte) (int, bool) {
	mask := len(s.slots) - 1
	h := int(uint64(d[0]) | uint64(d[1])<<8 | uint64(d[2])<<16 | uint64(d[3])<<24 | uint64(d[4])<<32 | uint64(d[5])<<40 | uint64(d[6])<<48 | uint64(d[7]&0x7f)<<56)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case d:
			return i, true
		case [16]byte{}:
			return i, false
		}
	}
}

func (s *digestSet) grow() {
	old := s.slots
	s.slots = make([][16]byte, 2*len(old))
	for _, d := range old {
		if d != ([16]byte{}) {
			i, _ := s.find(d)
			s.slots[i] = d
		}
	}
}

// spill writes the table's digests to the file as a sorted run and
// empties the table.
func (s *digestSet) spill() error {
	if s.file == nil {
		f, err := s.open()
		if err != nil {
			return fmt.Errorf("duplicate filter: %w", err)
		}
		s.file = f
	}
	// The digests are moved to the front of the table and sorted there:
	// a copy would add three quarters of the table at the export's peak.
	ds := s.slots[:0]
	for _, d := range s.slots {
		if d != ([16]byte{}) {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	run := digestRun{off: s.size, n: len(ds)}
	w := bufio.NewWriterSize(s.file, 1<<16)
	for i := range ds {
		if i%runBlock == 0 {
			run.firsts = append(run.firsts, ds[i])
		}
		w.Write(ds[i][:])
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("duplicate filter: %w", err)
	}
	s.size += int64(len(ds)) * 16
	s.runs = append(s.runs, run)
	clear(s.slots)
	s.used = 0
	return nil
}

// inRun reports whether d is in run r.
func (s *digestSet) inRun(r *digestRun, d [16]byte) (bool, error) {
	// The last block whose first digest is <= d.
	b, _ := slices.BinarySearchFunc(r.firsts, d, func(a, d [16]byte) int {
		if c := bytes.Compare(a[:], d[:]); c != 0 {
			return c
		}
		return -1 // equal firsts count as below, so that b lands after them
	})
	if b == 0 {
		return false, nil
	}
	b--
	if r.firsts[b] == d {
		return true, nil
	}
	n := min(runBlock, r.n-b*runBlock)
	block := s.buf[:n*16]
	if _, err := s.file.ReadAt(block, r.off+int64(b*runBlock*16)); err != nil {
		return false, fmt.Errorf("duplicate filter: %w", err)
	}
	lo, hi := 0, n
	for lo < hi {
		m := (lo + hi) / 2
		switch c := bytes.Compare(block[m*16:m*16+16], d[:]); {
		case c == 0:
			return true, nil
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false, nil
}

// close releases the runs' storage.
func (s *digestSet) close() {
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
}
