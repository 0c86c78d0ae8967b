package arena

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends f as JSON to b, byte for byte what json.Marshal
// makes of it. The frames of a stream (token, done, ready, error) are
// written without reflection: a token is the most frequent frame there is.
// Frames with a receipt, answers, points or terms go through json.Marshal.
func (f *Frame) AppendJSON(b []byte) ([]byte, error) {
	if f.Terms != nil || f.Receipt != nil || f.Points != nil || f.Answers != nil {
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
	b = appendInt(b, `,"retry_after_ms":`, f.RetryAfterMS)
	b = appendField(b, `,"member":`, f.Member)
	if f.AccountRequired {
		b = append(b, `,"account_required":true`...)
	}
	return append(b, '}'), nil
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

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as encoding/json writes a string by default:
// control characters, '"' and '\\' escaped, '<', '>' and '&' as \u00XX,
// U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
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
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
