package formats

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// marshalString is what encoding/json writes for s without HTML escaping.
func marshalString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote \" backslash \\", "\n\r\t\x00\x1f\x7f", "<&>", "\u2028\u2029", "ünï 😀", "bad \xff utf8 \xc3", "\xed\xa0\x80"} {
		if got, want := string(appendString(nil, s)), marshalString(s); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
	// appendString tests eight bytes at a time: each byte that needs care,
	// at each place in and around a word.
	plain := "abcdefghijklmnopqrstuvwxyz"
	for _, c := range []string{"\x00", "\x1f", "\n", "\"", "\\", " ", "\x7f", "é", "\xff", "\u2028", "😀"} {
		for i := 0; i <= 18; i++ {
			s := plain[:i] + c + plain[i:]
			if got, want := string(appendString(nil, s)), marshalString(s); got != want {
				t.Errorf("appendString(%q) = %s, want %s", s, got, want)
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("hello \"world\"\n")
	f.Add("\xff\u2028<>")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendString(nil, s)), marshalString(s); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendFloat(t *testing.T) {
	for _, f := range []float64{0, 1, 2.0 / 3, 1.0 / 3, 1e-7, 1e21, 123456.789, -0.5} {
		want, _ := json.Marshal(f)
		if got := string(appendFloat(nil, f)); got != string(want) {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestAppendUnixSeconds(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1712345678, 0), "1712345678.0"},
		{time.Unix(1712345678, 100_000_000), "1712345678.1"},
		{time.Unix(1712345678, 123_456_789), "1712345678.123456"},
		{time.Unix(0, 5000), "0.000005"},
		{time.Unix(-1, 500_000_000), "-0.5"},
	} {
		got := string(appendUnixSeconds(nil, tc.t))
		if got != tc.want {
			t.Errorf("appendUnixSeconds(%v) = %s, want %s", tc.t, got, tc.want)
		}
		back, err := parseUnixSeconds(got)
		if tc.t.Unix() >= 0 && (err != nil || !back.Equal(tc.t.Truncate(time.Microsecond))) {
			t.Errorf("parseUnixSeconds(%s) = %v, %v, want %v", got, back, err, tc.t)
		}
	}
	if _, err := parseUnixSeconds("NaN"); err == nil {
		t.Error("parseUnixSeconds(NaN) succeeded")
	}
	if got, err := parseUnixSeconds("1.5e9"); err != nil || got.Unix() != 1_500_000_000 || math.IsNaN(0) {
		t.Errorf("parseUnixSeconds(1.5e9) = %v, %v", got, err)
	}
}
