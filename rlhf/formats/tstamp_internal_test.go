package formats

import "testing"

// TestParseTstampRange reads Unix seconds exactly and refuses a time the
// nanosecond clock cannot hold rather than wrapping around.
func TestParseTstampRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1700000000", 1700000000e9, true},
		{"1700000000.25", 1700000000e9 + 25e7, true},
		{"9000000000", 9000000000e9, true},
		{"10000000000", 0, false},
		{"999999999999", 0, false},
		{"1e11", 0, false},
	} {
		got, err := parseTstamp([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseTstamp(%s) = %d, %v; want %d, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
