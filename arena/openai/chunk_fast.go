package openai

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeChunk decodes a streamed chunk into resp (a zero chunk), as
// json.Unmarshal does. The common chunk (valid JSON whose fields Agora
// reads are plain strings, small integers or null, and no usage) is read
// without reflection: decoding it was most of what relaying a token cost
// Agora. Anything else goes to json.Unmarshal, which decides, with its
// errors; FuzzDecodeChunk checks that both agree.
func decodeChunk(line []byte, resp *chunk) error {
	if json.Valid(line) {
		if plainChunk(line, resp) {
			return nil
		}
		*resp = chunk{}
	}
	return json.Unmarshal(line, resp)
}

// plainChunk reads line, valid JSON, into resp and reports whether it
// could: false leaves resp partly written.
func plainChunk(line []byte, resp *chunk) bool {
	s := scanner{b: line}
	return s.object([]string{"choices", "usage"}, func(field int) bool {
		if field == 1 {
			return s.null() // usage comes once per stream: json.Unmarshal reads it
		}
		if s.null() {
			return true
		}
		if !s.eat('[') {
			return false
		}
		resp.Choices = make([]chunkChoice, 0, 1)
		for first := true; !s.eat(']'); first = false {
			if !first && !s.eat(',') {
				return false
			}
			resp.Choices = append(resp.Choices, chunkChoice{})
			if !s.choice(&resp.Choices[len(resp.Choices)-1]) {
				return false
			}
		}
		return true
	})
}

// choice reads one of a chunk's choices.
func (s *scanner) choice(ch *chunkChoice) bool {
	return s.object([]string{"index", "delta", "finish_reason"}, func(field int) bool {
		switch field {
		case 0:
			return s.integer(&ch.Index)
		case 1:
			return s.null() || s.object([]string{"content", "reasoning_content"}, func(field int) bool {
				return s.text([]*string{&ch.Delta.Content, &ch.Delta.ReasoningContent}[field])
			})
		}
		return s.text(&ch.FinishReason)
	})
}

// scanner reads valid JSON.
type scanner struct {
	b []byte
	i int
}

// peek returns the next byte that is not whitespace, or 0 at the end.
func (s *scanner) peek() byte {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
	if s.i == len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// null reads a null.
func (s *scanner) null() bool {
	if s.peek() == 'n' {
		s.i += len("null")
		return true
	}
	return false
}

// object reads an object, calling read for each key among names (which
// must read its value) and skipping the values of other keys. A key that
// differs from a name only in case (json.Unmarshal would take it), or a
// name twice, reports false.
func (s *scanner) object(names []string, read func(field int) bool) bool {
	if !s.eat('{') {
		return false
	}
	var seen uint
	for first := true; !s.eat('}'); first = false {
		if !first && !s.eat(',') {
			return false
		}
		key, ok := s.plain()
		if !ok || !s.eat(':') {
			return false
		}
		field := -1
		for j, name := range names {
			if bytes.EqualFold(key, []byte(name)) {
				field = j
			}
		}
		switch {
		case field < 0:
			s.skip()
		case string(key) != names[field] || seen&(1<<field) != 0:
			return false
		default:
			seen |= 1 << field
			if !read(field) {
				return false
			}
		}
	}
	return true
}

// plain reads a string without escapes whose bytes are valid UTF-8: what
// it holds is what json.Unmarshal gives.
func (s *scanner) plain() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '"':
			v := s.b[start:s.i]
			s.i++
			return v, utf8.Valid(v)
		case '\\':
			return nil, false
		}
	}
	return nil, false
}

// text reads a plain string, or null, into v.
func (s *scanner) text(v *string) bool {
	if s.null() {
		return true
	}
	b, ok := s.plain()
	*v = string(b)
	return ok
}

// integer reads an integer without fraction or exponent, or null, into v.
func (s *scanner) integer(v *int) bool {
	if s.null() {
		return true
	}
	start := s.i
	for s.i < len(s.b) && (s.b[s.i] == '-' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
		s.i++
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, strconv.IntSize)
	if err != nil || s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return false
	}
	*v = int(n)
	return true
}

// skip passes over one value.
func (s *scanner) skip() {
	depth := 0
	for c := s.peek(); s.i < len(s.b); c = s.peek() {
		switch c {
		case '"':
			for s.i++; s.i < len(s.b) && s.b[s.i] != '"'; s.i++ {
				if s.b[s.i] == '\\' {
					s.i++
				}
			}
			s.i++
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return
			}
			depth--
			s.i++
		case ',', ':':
			if depth == 0 {
				return
			}
			s.i++
		default: // a number or a literal
			for s.i < len(s.b) && strings.IndexByte(" \t\n\r,:]}", s.b[s.i]) < 0 {
				s.i++
			}
		}
		if depth == 0 && c != ',' && c != ':' {
			return
		}
	}
}
