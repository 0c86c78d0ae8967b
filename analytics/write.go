package analytics

import (
	"bufio"
	"encoding/json"
	"strconv"
)

// WriteJSONL writes b as one Chatbot Arena battle line: model_a, model_b,
// winner, tstamp (when known) and judge, language, category (when set).
func WriteJSONL(w *bufio.Writer, b *Battle) error {
	buf := w.AvailableBuffer()
	buf = append(buf, `{"model_a":`...)
	buf = appendJSONString(buf, b.ModelA)
	buf = append(buf, `,"model_b":`...)
	buf = appendJSONString(buf, b.ModelB)
	buf = append(buf, `,"winner":`...)
	buf = appendJSONString(buf, b.Winner.ArenaWinner())
	if !b.Time.IsZero() {
		ns := b.Time.UnixNano()
		buf = append(buf, `,"tstamp":`...)
		buf = strconv.AppendInt(buf, ns/1e9, 10)
		if frac := ns % 1e9; frac != 0 {
			buf = append(buf, '.')
			s := strconv.AppendInt(nil, 1e9+frac, 10)[1:]
			for len(s) > 1 && s[len(s)-1] == '0' {
				s = s[:len(s)-1]
			}
			buf = append(buf, s...)
		}
	}
	for _, kv := range [...]struct{ k, v string }{{"judge", b.Contributor}, {"language", b.Language}, {"category", b.Category}} {
		if kv.v != "" {
			buf = append(buf, `,"`...)
			buf = append(buf, kv.k...)
			buf = append(buf, `":`...)
			buf = appendJSONString(buf, kv.v)
		}
	}
	buf = append(buf, "}\n"...)
	_, err := w.Write(buf)
	return err
}

// appendJSONString appends s as a JSON string.
func appendJSONString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			q, _ := json.Marshal(s)
			return append(buf, q...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}
