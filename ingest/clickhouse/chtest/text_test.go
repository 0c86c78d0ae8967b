package chtest

import (
	"testing"

	"github.com/pierrec/lz4/v4"
)

// TestTextCompresses checks that generated text compresses about like
// prose with LZ4 (English text: about 2x), so that benchmarks writing it
// are not flattered by an easy compression.
func TestTextCompresses(t *testing.T) {
	g := NewRecords(1)
	var text []byte
	for len(text) < 1<<20 {
		text = append(text, g.text(2048)...)
	}
	dst := make([]byte, lz4.CompressBlockBound(len(text)))
	n, err := lz4.CompressBlock(text, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	ratio := float64(len(text)) / float64(n)
	t.Logf("LZ4 ratio %.2f", ratio)
	if ratio < 1.5 || ratio > 3 {
		t.Errorf("LZ4 compresses generated text %.2fx, want about 2x like prose", ratio)
	}
}
