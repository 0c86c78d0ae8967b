package formats

import "strings"

// StyleCounts are the markdown counts that Chatbot Arena's conv_metadata
// gives per side, for style control: headers by level, list items and bold
// spans in the assistant's answers, after code blocks are removed. They are
// counted as FastChat's regular expressions count them (with ASCII
// whitespace for \s):
//
//	header hN:  ^#{N}\s            (multi-line)
//	ordered:    ^\s*\d+\.\s
//	unordered:  ^\s*[-*+]\s
//	bold **:    \*\*[^*\n]+\*\*
//	bold __:    __[^_\n]+__
//	code block: ```[^`]*```        (removed first)
type StyleCounts struct {
	Headers   [6]int // h1..h6
	Ordered   int
	Unordered int
	BoldStars int // **bold**
	BoldUnder int // __bold__
}

// CountStyle counts the markdown elements of text.
func CountStyle(text string) StyleCounts {
	text = removeCodeBlocks(text)
	var c StyleCounts
	for start := 0; start <= len(text); {
		// start is a line start (^ in multi-line mode).
		line := text[start:]
		if n := leadingHashes(line); n >= 1 && n <= 6 && n < len(line) && isSpace(line[n]) {
			c.Headers[n-1]++
		}
		start = nextLineStart(text, start)
	}
	c.Ordered = countListItems(text, func(s string) int {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i+1 >= len(s) || s[i] != '.' || !isSpace(s[i+1]) {
			return 0
		}
		return i + 2
	})
	c.Unordered = countListItems(text, func(s string) int {
		if len(s) < 2 || (s[0] != '-' && s[0] != '*' && s[0] != '+') || !isSpace(s[1]) {
			return 0
		}
		return 2
	})
	c.BoldStars = countSpans(text, '*')
	c.BoldUnder = countSpans(text, '_')
	return c
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func leadingHashes(s string) int {
	n := 0
	for n < len(s) && s[n] == '#' {
		n++
	}
	return n
}

// nextLineStart returns the position after the next newline at or after
// start, or len(text)+1 when there is none.
func nextLineStart(text string, start int) int {
	if i := strings.IndexByte(text[start:], '\n'); i >= 0 {
		return start + i + 1
	}
	return len(text) + 1
}

// countListItems counts the non-overlapping matches of ^\s*ITEM, where
// item returns the length of ITEM at the start of its argument or 0.
func countListItems(text string, item func(string) int) int {
	count := 0
	for start := 0; start <= len(text); {
		i := start
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		n := item(text[i:])
		if n == 0 {
			start = nextLineStart(text, start)
			continue
		}
		count++
		end := i + n
		if text[end-1] == '\n' {
			start = end // the match ended a line, so the next one starts here
		} else {
			start = nextLineStart(text, end)
		}
	}
	return count
}

// countSpans counts non-overlapping matches of DD[^D\n]+DD for delimiter D.
func countSpans(text string, d byte) int {
	count := 0
	for i := 0; i+4 < len(text)+1; {
		if text[i] != d || i+1 >= len(text) || text[i+1] != d {
			i++
			continue
		}
		j := i + 2
		for j < len(text) && text[j] != d && text[j] != '\n' {
			j++
		}
		if j > i+2 && j+1 < len(text) && text[j] == d && text[j+1] == d {
			count++
			i = j + 2
			continue
		}
		i++
	}
	return count
}

// removeCodeBlocks removes every match of ```[^`]*```.
func removeCodeBlocks(text string) string {
	if !strings.Contains(text, "```") {
		return text
	}
	var b strings.Builder
	last := 0
	for i := 0; i+3 <= len(text); {
		if !strings.HasPrefix(text[i:], "```") {
			i++
			continue
		}
		j := strings.IndexByte(text[i+3:], '`')
		if j < 0 || !strings.HasPrefix(text[i+3+j:], "```") {
			i++
			continue
		}
		b.WriteString(text[last:i])
		i = i + 3 + j + 3
		last = i
	}
	b.WriteString(text[last:])
	return b.String()
}
