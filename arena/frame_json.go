package arena

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

// AppendJSON appends f as JSON to b, byte for byte what json.Marshal
// makes of it. Frames are written without reflection: a token is the most
// frequent frame there is, and a vote's acknowledgement (with its answers'
// measures, receipt and points) is on the path every vote waits on. Only a
// hello's terms, and measures json.Marshal refuses (NaN, infinities), go
// through json.Marshal.
func (f *Frame) AppendJSON(b []byte) ([]byte, error) {
	if f.Terms != nil || !finiteAnswers(f.Answers) {
		data, err := json.Marshal(f)
		return append(b, data...), err
	}
	b = append(b, `{"type":`...)
	b = appendJSONString(b, f.Type)
	b = appendField(b, `,"battle_id":`, f.BattleID)
	b = appendField(b, `,"side":`, string(f.Side))
	if f.Turn != nil {
		b = append(b, `,"turn":`...)
		b = strconv.AppendInt(b, int64(*f.Turn), 10)
	}
	b = appendField(b, `,"prompt":`, f.Prompt)
	b = appendField(b, `,"campaign":`, f.Campaign)
	b = appendField(b, `,"text":`, f.Text)
	b = appendField(b, `,"finish_reason":`, f.FinishReason)
	b = appendField(b, `,"code":`, f.Code)
	b = appendField(b, `,"message":`, f.Message)
	b = appendField(b, `,"request":`, f.Request)
	b = appendField(b, `,"vote_id":`, f.VoteID)
	b = appendField(b, `,"winner":`, string(f.Winner))
	b = appendField(b, `,"strength":`, string(f.Strength))
	b = appendField(b, `,"model_a":`, f.ModelA)
	b = appendField(b, `,"model_b":`, f.ModelB)
	b = appendField(b, `,"contributor_id":`, f.ContributorID)
	b = appendField(b, `,"token":`, f.Token)
	b = appendInt(b, `,"protocol":`, int64(f.Protocol))
	b = appendInt(b, `,"max_turns":`, int64(f.MaxTurns))
	if f.Receipt != nil {
		b = appendReceipt(append(b, `,"receipt":`...), f.Receipt)
	}
	if f.Points != nil {
		b = strconv.AppendInt(append(b, `,"points":`...), int64(*f.Points), 10)
	}
	b = appendInt(b, `,"retry_after_ms":`, f.RetryAfterMS)
	b = appendField(b, `,"member":`, f.Member)
	if f.AccountRequired {
		b = append(b, `,"account_required":true`...)
	}
	if len(f.Answers) > 0 {
		b = appendAnswers(append(b, `,"answers":`...), f.Answers)
	}
	return append(b, '}'), nil
}

// appendReceipt appends r as json.Marshal writes it.
func appendReceipt(b []byte, r *rlhf.Receipt) []byte {
	b = strconv.AppendInt(append(b, `{"leaf_index":`...), r.LeafIndex, 10)
	b = appendJSONString(append(b, `,"leaf_hash":`...), r.LeafHash)
	b = appendJSONString(append(b, `,"statement":`...), r.Statement)
	b = appendInt(b, `,"batch":`, r.Batch)
	if len(r.BatchProof) > 0 {
		b = append(b, `,"batch_proof":[`...)
		for i, h := range r.BatchProof {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, h)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendAnswers appends answers, an array json.Marshal would write
// (finiteAnswers holds).
func appendAnswers(b []byte, answers []AnswerStats) []byte {
	b = append(b, '[')
	for i := range answers {
		a := &answers[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(append(b, `{"turn":`...), int64(a.Turn), 10)
		b = appendJSONString(append(b, `,"side":`...), string(a.Side))
		b = strconv.AppendInt(append(b, `,"tokens":`...), int64(a.Tokens), 10)
		b = appendFloat(append(b, `,"ttft_ms":`...), a.TTFTMillis)
		b = appendFloat(append(b, `,"duration_ms":`...), a.DurationMillis)
		b = append(b, '}')
	}
	return append(b, ']')
}

// finiteAnswers reports whether every measure of answers is a number
// json.Marshal writes (it refuses NaN and infinities).
func finiteAnswers(answers []AnswerStats) bool {
	for i := range answers {
		for _, v := range [2]float64{answers[i].TTFTMillis, answers[i].DurationMillis} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return true
}

// appendFloat appends a finite v as encoding/json writes a float64: the
// shortest decimal that reads back as v, in exponent form below 1e-6 and
// from 1e21, with a one-digit negative exponent written without its zero.
func appendFloat(b []byte, v float64) []byte {
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

// appendField appends an omitempty string field: key (with its comma and
// colon) and value, unless value is empty.
func appendField(b []byte, key, value string) []byte {
	if value == "" {
		return b
	}
	return appendJSONString(append(b, key...), value)
}

// appendInt appends an omitempty integer field.
func appendInt(b []byte, key string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), v, 10)
}

// escapes[c] is how encoding/json writes ASCII byte c inside a string by
// default, or "" where it writes c as it is.
var escapes = func() (t [utf8.RuneSelf]string) {
	const hex = "0123456789abcdef"
	for c := range t {
		if c < 0x20 || c == '<' || c == '>' || c == '&' {
			t[c] = `\u00` + hex[c>>4:c>>4+1] + hex[c&0xf:c&0xf+1]
		}
	}
	t['"'], t['\\'], t['\n'], t['\r'], t['\t'], t['\b'], t['\f'] = `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`
	return t
}()

// appendJSONString appends s as encoding/json writes a string by default:
// the escapes above, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if e := escapes[c]; e != "" {
				b = append(append(b, s[start:i]...), e...)
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var e string
		switch {
		case r == utf8.RuneError && size == 1:
			e = `\ufffd`
		case r == '\u2028':
			e = `\u2028`
		case r == '\u2029':
			e = `\u2029`
		}
		if e != "" {
			b = append(append(b, s[start:i]...), e...)
			start = i + size
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
