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
	s := newDigestSet(1 << 8)
	defer s.close()
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
		st, err := Export(context.Background(), io.Discard, string(TRLConversational), Options{Key: []byte("k"), maxDigestSlots: slots}, src)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 3000 || st.Duplicates != 3000 {
			t.Errorf("slots %d: %d rows, %d duplicates; want 3000 and 3000", slots, st.Rows, st.Duplicates)
		}
	}
}
