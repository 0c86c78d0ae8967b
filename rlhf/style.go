package rlhf

import "strings"

// Style is what style control measures in one side's answers, summed over
// the turns of a battle.
type Style struct {
	Tokens  int // answer length in tokens
	Headers int // markdown headers (# to ######)
	Lists   int // ordered and unordered list items
	Bold    int // **bold** and __bold__ spans
}

// Add adds o's counts to s.
func (s *Style) Add(o Style) {
	s.Tokens += o.Tokens
	s.Headers += o.Headers
	s.Lists += o.Lists
	s.Bold += o.Bold
}

// Styles measures both sides' answers over the battle's turns, with
// tokens taken from Answer.Tokens (estimated from the text when the field
// is zero). ok is false for a battle without turns.
func (b *Battle) Styles() (a, bs Style, ok bool) {
	for i := range b.Turns {
		t := &b.Turns[i]
		a.Add(answerStyle(&t.A))
		bs.Add(answerStyle(&t.B))
	}
	return a, bs, len(b.Turns) > 0
}

func answerStyle(a *Answer) Style {
	s := MeasureStyle(a.Content)
	if a.Tokens > 0 {
		s.Tokens = a.Tokens
	}
	return s
}

// MeasureStyle counts markdown headers, list items and bold spans in text the
// way Chatbot Arena does: fenced code blocks are removed first; a header is a
// line starting with one to six '#' and a space; a list item is a line
// starting (after indentation) with "-", "*" or "+" and a space, or with
// digits, a dot and a space; bold is **text** or __text__ on one line. Tokens
// are estimated as one per four bytes, rounded up; callers that know the real
// count replace it.
func MeasureStyle(text string) Style {
	text = stripCodeBlocks(text)
	s := Style{Tokens: (len(text) + 3) / 4, Bold: countBoldLines(text, "**") + countBoldLines(text, "__")}
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		// Only a line's first byte can make it a header or a list item
		// (a trailing '\r' never does: it is not a space).
		switch c := firstByte(line); {
		case c == '#':
			if isHeader(line) {
				s.Headers++
			}
		case c == ' ' || c == '\t' || c == '-' || c == '*' || c == '+' || c >= '0' && c <= '9':
			if isListItem(line) {
				s.Lists++
			}
		}
	}
	return s
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

// countBoldLines is countBold summed over text's lines: it looks only at
// lines holding delim, found by one search over the text.
func countBoldLines(text, delim string) int {
	n := 0
	for {
		i := strings.Index(text, delim)
		if i < 0 {
			return n
		}
		text = text[i:]
		end := strings.IndexByte(text, '\n')
		if end < 0 {
			return n + countBold(text, delim)
		}
		n += countBold(text[:end], delim)
		text = text[end+1:]
	}
}

// stripCodeBlocks removes ```fenced``` spans, as Arena's regex ```[^`]*```.
func stripCodeBlocks(text string) string {
	if !strings.Contains(text, "```") {
		return text
	}
	var out strings.Builder
	for {
		i := strings.Index(text, "```")
		if i < 0 {
			break
		}
		j := strings.IndexByte(text[i+3:], '`')
		if j < 0 || !strings.HasPrefix(text[i+3+j:], "```") {
			// Not a clean fence: keep the backticks as text.
			out.WriteString(text[:i+3])
			text = text[i+3:]
			continue
		}
		out.WriteString(text[:i])
		text = text[i+3+j+3:]
	}
	out.WriteString(text)
	return out.String()
}

func isHeader(line string) bool {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	return n >= 1 && n <= 6 && n < len(line) && isSpace(line[n])
}

func isListItem(line string) bool {
	line = strings.TrimLeft(line, " \t")
	if len(line) >= 2 && (line[0] == '-' || line[0] == '*' || line[0] == '+') && isSpace(line[1]) {
		return true
	}
	n := 0
	for n < len(line) && line[n] >= '0' && line[n] <= '9' {
		n++
	}
	return n > 0 && n+1 < len(line) && line[n] == '.' && isSpace(line[n+1])
}

// countBold counts non-overlapping spans delim text delim where text is
// non-empty and contains no delimiter character.
func countBold(line, delim string) int {
	c := delim[0]
	n := 0
	for {
		i := strings.Index(line, delim)
		if i < 0 {
			return n
		}
		rest := line[i+2:]
		j := strings.IndexByte(rest, c)
		if j > 0 && strings.HasPrefix(rest[j:], delim) {
			n++
			line = rest[j+2:]
			continue
		}
		if j < 0 {
			return n
		}
		line = rest[j:]
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }
