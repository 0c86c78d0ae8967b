package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/agora-rlhf/agora/rlhf"
)

// readLines reads one Arena battle object per line. Lines are scanned by
// hand for the few fields needed; values with escapes are decoded by
// encoding/json.
func (c *counter) readLines(br *bufio.Reader) error {
	var buf []byte
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br, buf[:0], c.rd.opts.MaxLineBytes)
		buf = line
		if err != nil && err != io.EOF {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		if len(line) == 0 && !tooLong && err == io.EOF {
			return nil
		}
		c.rd.st.Lines++
		if c.grow != nil {
			c.sizeColumns(len(line))
		}
		var perr error
		switch {
		case tooLong:
			perr = &LineError{Line: n, Err: fmt.Errorf("line is longer than %d bytes", c.rd.opts.MaxLineBytes)}
		case isBlank(line):
			c.rd.st.Lines--
		default:
			perr = c.line(n, line)
		}
		if err := c.rd.handle(perr); err != nil {
			return err
		}
		if err == io.EOF {
			return nil
		}
	}
}

// line reads one battle object and passes it on.
func (c *counter) line(n int, text []byte) error {
	if err := parseLine(text, &c.f, c.rd.opts.Style); err != nil {
		return &LineError{Line: n, Err: err}
	}
	return c.battle(n)
}

// parseLine fills f from one JSONL line; a blank line leaves f empty.
func parseLine(line []byte, f *countedFields, style bool) error {
	f.reset()
	i := skipWS(line, 0)
	if i == len(line) {
		return nil
	}
	if line[i] != '{' {
		return fmt.Errorf("not a JSON object")
	}
	i = skipWS(line, i+1)
	if i < len(line) && line[i] == '}' {
		return fmt.Errorf("%w: empty object", errBadBattle)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return fmt.Errorf("invalid JSON: expected a key at byte %d", i+1)
		}
		key, next, err := scanString(line, i)
		if err != nil {
			return err
		}
		i = skipWS(line, next)
		if i >= len(line) || line[i] != ':' {
			return fmt.Errorf("invalid JSON: expected ':' at byte %d", i+1)
		}
		i = skipWS(line, i+1)
		start := i
		if i, err = skipValue(line, i); err != nil {
			return err
		}
		raw := line[start:i]
		if err := f.set(key, raw, style); err != nil {
			return err
		}
		i = skipWS(line, i)
		if i >= len(line) {
			return fmt.Errorf("invalid JSON: unterminated object")
		}
		if line[i] == '}' {
			if j := skipWS(line, i+1); j != len(line) {
				return fmt.Errorf("invalid JSON: data after the object at byte %d", j+1)
			}
			break
		}
		if line[i] != ',' {
			return fmt.Errorf("invalid JSON: expected ',' or '}' at byte %d", i+1)
		}
		i = skipWS(line, i+1)
	}
	if style {
		return f.measureStyle()
	}
	return nil
}

// set stores the value of one key.
func (f *countedFields) set(key, raw []byte, style bool) error {
	str := func(dst *[]byte) error {
		if raw[0] == 'n' { // null
			return nil
		}
		if raw[0] != '"' {
			return fmt.Errorf("%w: %s is not a string", errBadBattle, key)
		}
		s, _, err := scanString(raw, 0)
		if err != nil {
			return err
		}
		*dst = s
		return nil
	}
	switch string(key) {
	case "model_a":
		return str(&f.modelA)
	case "model_b":
		return str(&f.modelB)
	case "winner":
		return str(&f.winner)
	case "judge":
		return str(&f.judge)
	case "language":
		return str(&f.language)
	case "category":
		return str(&f.category)
	case "source":
		return str(&f.src)
	case "tstamp":
		if raw[0] == 'n' {
			return nil
		}
		t, err := parseTstamp(raw)
		if err != nil {
			return fmt.Errorf("%w: tstamp %s: %v", errBadBattle, raw, err)
		}
		f.t = t
	case "failed":
		if raw[0] != 'n' {
			v, err := parseFailed(raw)
			if err != nil {
				return err
			}
			f.failed = v
		}
	case "conv_metadata":
		if style {
			f.convMeta = raw
		}
	case "conversation_a":
		if style {
			f.convA = raw
		}
	case "conversation_b":
		if style {
			f.convB = raw
		}
	}
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the JSON string starting at b[i] == '"'. It returns the
// contents (a sub-slice when there are no escapes) and the index after the
// closing quote.
func scanString(b []byte, i int) ([]byte, int, error) {
	j := i + 1
	escaped := false
	for j < len(b) {
		switch b[j] {
		case '"':
			if !escaped {
				return b[i+1 : j], j + 1, nil
			}
			var s string
			if err := json.Unmarshal(b[i:j+1], &s); err != nil {
				return nil, 0, fmt.Errorf("invalid JSON string: %v", err)
			}
			return []byte(s), j + 1, nil
		case '\\':
			escaped = true
			j++
		}
		j++
	}
	return nil, 0, fmt.Errorf("invalid JSON: unterminated string")
}

// skipValue returns the index after the JSON value at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("invalid JSON: missing value")
	}
	switch b[i] {
	case '"':
		_, j, err := scanStringEnd(b, i)
		return j, err
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			case '"':
				_, k, err := scanStringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = k - 1
			}
		}
		return 0, fmt.Errorf("invalid JSON: unterminated value")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("invalid JSON: missing value at byte %d", i+1)
	}
	return j, nil
}

// scanStringEnd finds the end of the string at b[i] without decoding it.
func scanStringEnd(b []byte, i int) (int, int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return i, j + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("invalid JSON: unterminated string")
}

// parseTstamp reads Unix seconds (a JSON number, possibly with a fraction)
// as nanoseconds, exactly for up to nine fraction digits.
func parseTstamp(b []byte) (int64, error) {
	var sec, frac int64
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i < 12 {
		sec = sec*10 + int64(b[i]-'0')
		i++
	}
	simple := i > 0
	if simple && i < len(b) {
		if b[i] != '.' {
			simple = false
		} else {
			i++
			digits := 0
			for i < len(b) && b[i] >= '0' && b[i] <= '9' {
				if digits < 9 {
					frac = frac*10 + int64(b[i]-'0')
					digits++
				}
				i++
			}
			for ; digits < 9; digits++ {
				frac *= 10
			}
			simple = i == len(b)
		}
	}
	if simple && sec <= 9e9 { // the float path's range: no overflow below
		return sec*1e9 + frac, nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.Abs(v) > 9e9 {
		return 0, fmt.Errorf("out of range")
	}
	return int64(v * 1e9), nil
}

// arenaMeta is the part of conv_metadata that style control reads.
type arenaMeta struct {
	TokensA int            `json:"sum_assistant_a_tokens"`
	TokensB int            `json:"sum_assistant_b_tokens"`
	HeaderA map[string]int `json:"header_count_a"`
	HeaderB map[string]int `json:"header_count_b"`
	ListA   map[string]int `json:"list_count_a"`
	ListB   map[string]int `json:"list_count_b"`
	BoldA   map[string]int `json:"bold_count_a"`
	BoldB   map[string]int `json:"bold_count_b"`
}

type arenaMessage struct {
	Role      string `json:"role"`
	Content   string `json:"content"`
	NumTokens int    `json:"num_tokens"`
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// measureStyle sets f.style from conv_metadata, or else from the
// conversations; it leaves it nil when neither is present.
func (f *countedFields) measureStyle() error {
	var a, b rlhf.Style
	switch {
	case len(f.convMeta) > 0 && f.convMeta[0] == '{':
		var m arenaMeta
		if err := json.Unmarshal(f.convMeta, &m); err != nil {
			return fmt.Errorf("%w: conv_metadata: %v", errBadBattle, err)
		}
		a = rlhf.Style{Tokens: m.TokensA, Headers: sumCounts(m.HeaderA), Lists: sumCounts(m.ListA), Bold: sumCounts(m.BoldA)}
		b = rlhf.Style{Tokens: m.TokensB, Headers: sumCounts(m.HeaderB), Lists: sumCounts(m.ListB), Bold: sumCounts(m.BoldB)}
	case len(f.convA) > 0 && len(f.convB) > 0 && f.convA[0] == '[' && f.convB[0] == '[':
		var err error
		if a, err = conversationStyle(f.convA); err != nil {
			return fmt.Errorf("%w: conversation_a: %v", errBadBattle, err)
		}
		if b, err = conversationStyle(f.convB); err != nil {
			return fmt.Errorf("%w: conversation_b: %v", errBadBattle, err)
		}
	default:
		return nil
	}
	f.styleA, f.styleB, f.hasStyle = a, b, true
	return nil
}

// conversationStyle measures the assistant's answers in a conversation.
func conversationStyle(raw []byte) (rlhf.Style, error) {
	var msgs []arenaMessage
	if err := json.Unmarshal(raw, &msgs); err != nil {
		return rlhf.Style{}, err
	}
	var s rlhf.Style
	for _, m := range msgs {
		if m.Role != "assistant" {
			continue
		}
		ms := rlhf.MeasureStyle(m.Content)
		if m.NumTokens > 0 {
			ms.Tokens = m.NumTokens
		}
		s.Add(ms)
	}
	return s, nil
}

// readArray reads a JSON array of Arena battle objects with
// encoding/json, one element at a time. Errors name the element's line.
func (c *counter) readArray(r io.Reader) error {
	return c.rd.eachElement(r, func(line int, raw json.RawMessage) error { return c.line(line, raw) })
}
