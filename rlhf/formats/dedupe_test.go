package formats

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// TestDigestSetSpills checks the duplicate filter against a map, past the
// point where it spills runs to its file.
func TestDigestSetSpills(t *testing.T) {
	var spilled *memSpill
	s := newDigestSet(1<<8, func() (Spill, error) {
		spilled = &memSpill{}
		return spilled, nil
	})
	want := map[[16]byte]bool{}
	digest := func(i int) [16]byte {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		h := sha256.Sum256(b[:])
		var d [16]byte
		copy(d[:], h[:])
		return d
	}
	for i := 0; i < 5000; i++ {
		// Every value comes three times, far apart: once new, then twice
		// a duplicate, found in the table or in a run.
		for _, v := range []int{i, i - 700, i - 2900} {
			if v < 0 {
				continue
			}
			d := digest(v)
			if v%97 == 0 {
				d = [16]byte{} // the zero digest too
			}
			isNew, err := s.add(d)
			if err != nil {
				t.Fatal(err)
			}
			if isNew == want[d] {
				t.Fatalf("add(%d) new = %v, want %v", v, isNew, !want[d])
			}
			want[d] = true
		}
	}
	if len(s.runs) < 10 {
		t.Errorf("%d runs spilled, want many", len(s.runs))
	}
	if len(s.slots) > 1<<8 {
		t.Errorf("table grew to %d slots, over its limit", len(s.slots))
	}
	if s.close(); spilled == nil || !spilled.closed {
		t.Errorf("the spill storage was not closed")
	}
}

// memSpill is spill storage in memory.
type memSpill struct {
	b      []byte
	closed bool
}

func (m *memSpill) Write(p []byte) (int, error) {
	m.b = append(m.b, p...)
	return len(p), nil
}

func (m *memSpill) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memSpill) Close() error {
	m.closed = true
	return nil
}

// TestDigestSetWithoutSpill grows the table instead of spilling when it
// has no spill storage.
func TestDigestSetWithoutSpill(t *testing.T) {
	s := newDigestSet(1<<6, nil)
	for i := range 1000 {
		var d [16]byte
		binary.LittleEndian.PutUint64(d[:], uint64(i+1))
		if isNew, err := s.add(d); err != nil || !isNew {
			t.Fatalf("add(%d) = %v, %v; want new", i, isNew, err)
		}
	}
	if len(s.runs) != 0 || len(s.slots) < 1000 {
		t.Errorf("%d runs, %d slots; want no runs and a table of at least 1000", len(s.runs), len(s.slots))
	}
}

// TestExportDuplicatesSpill exports with a small filter table: every
// duplicate is dropped, nothing else.
func TestExportDuplicatesSpill(t *testing.T) {
	src := RecordsFunc(func(ctx context.Context, fn func(*rlhf.Record) error) error {
		return genSource{n: 3000}.Records(ctx, func(r *rlhf.Record) error {
			if err := fn(r); err != nil {
				return err
			}
			return fn(r) // each record twice in a row
		})
	})
	for _, slots := range []int{0, 1 << 6} {
		st, err := Export(context.Background(), io.Discard, string(TRLConversational), Options{Key: []byte("k"), maxDigestSlots: slots, Spill: func() (Spill, error) { return &memSpill{}, nil }}, src)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 3000 || st.Duplicates != 3000 {
			t.Errorf("slots %d: %d rows, %d duplicates; want 3000 and 3000", slots, st.Rows, st.Duplicates)
		}
	}
}
