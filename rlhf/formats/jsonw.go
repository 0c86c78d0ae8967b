package formats

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

// The append functions below write JSON by hand: encoding/json's reflection
// costs more than the whole rest of an export. Their output is what
// encoding/json produces with SetEscapeHTML(false): invalid UTF-8 becomes
// U+FFFD, and U+2028 and U+2029 are escaped.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends s escaped for the inside of a JSON string.
func appendEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		i = plainRun(s, i)
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// plainRun returns the index of the first byte of s at or after i that
// appendString cannot copy as it is: a control character, '"', '\\', or
// a byte of a multi-byte UTF-8 sequence. It tests eight bytes at a time
// (the "has a byte less than n" bit trick): most text is plain, and a byte
// at a time is most of the cost of an export.
func plainRun(s string, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		q := w ^ ('"' * ones)   // a zero byte where s has '"'
		bs := w ^ ('\\' * ones) // and where s has '\\'
		if (w|(w-0x20*ones)|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			return i
		}
	}
	return i
}

// appendDouble appends f as appendFloat does, with ".0" after a whole
// number, so that readers that infer types (DuckDB, pandas) see a float
// column even when every value is whole.
func appendDouble(b []byte, f float64) []byte {
	n := len(b)
	b = appendFloat(b, f)
	if !bytes.ContainsAny(b[n:], ".eE") {
		b = append(b, ".0"...)
	}
	return b
}

// appendFloat appends f the way encoding/json does for float64.
func appendFloat(b []byte, f float64) []byte {
	abs := f
	if abs < 0 {
		abs = -abs
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendBool appends true or false.
func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// appendMessages appends a JSON array of {"role","content"} objects.
func appendMessages(b []byte, msgs []rlhf.Message) []byte {
	b = append(b, '[')
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":`...)
		b = appendString(b, m.Role)
		b = append(b, `,"content":`...)
		b = appendString(b, m.Content)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendUnixSeconds appends t as seconds since the epoch with up to six
// decimals (microseconds), the shape of Arena's tstamp. The digits are
// written exactly, so reading them back gives the same instant.
func appendUnixSeconds(b []byte, t time.Time) []byte {
	us := t.UnixMicro()
	if us < 0 {
		return appendFloat(b, float64(us)/1e6)
	}
	sec, frac := us/1e6, us%1e6
	b = strconv.AppendInt(b, sec, 10)
	if frac == 0 {
		return append(b, ".0"...) // a float, as LMArena writes it, whatever the reader infers
	}
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for n > 0 && digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}
