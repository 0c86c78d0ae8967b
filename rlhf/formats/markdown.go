package formats

import (
	"strings"

	"github.com/agora-rlhf/agora/rlhf"
)

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
//	code block: ```[^`]*```        (removed first, FastChat's way:
//	                                 each match's text everywhere)
type StyleCounts struct {
	Headers   [6]int // h1..h6
	Ordered   int
	Unordered int
	BoldStars int // **bold**
	BoldUnder int // __bold__
}

// SideStyle returns the tokens and the markdown counts of one side's
// answers in b. The answers are counted as one text, one answer a line, as
// FastChat joins them (a code block may run from one into the next).
func SideStyle(b *rlhf.Battle, s rlhf.Side) (tokens int, c StyleCounts) {
	if len(b.Turns) == 1 {
		a := b.Turns[0].Answer(s)
		return a.Tokens, CountStyle(a.Content)
	}
	var text strings.Builder
	for i := range b.Turns {
		a := b.Turns[i].Answer(s)
		tokens += a.Tokens
		if i > 0 {
			text.WriteByte('\n')
		}
		text.WriteString(a.Content)
	}
	return tokens, CountStyle(text.String())
}

// CountStyle counts the markdown elements of text.
func CountStyle(text string) StyleCounts {
	text = removeCodeBlocks(text)
	var c StyleCounts
	countLines(text, &c)
	c.BoldStars = countSpans(text, '*')
	c.BoldUnder = countSpans(text, '_')
	return c
}

// countLines counts headers and list items in one pass over the line
// starts of text (where ^ matches in multi-line mode). A list item's \s*
// may run over blank lines, so an item is found from each line start it
// can be reached from; as with a regular expression, a line start inside
// the last item counted is not tried again for that kind of item.
func countLines(text string, c *StyleCounts) {
	orderedFrom, unorderedFrom := 0, 0 // where the next match of each may start
	for start := 0; start <= len(text); start = nextLineStart(text, start) {
		line := text[start:]
		if n := leadingHashes(line); n >= 1 && n <= 6 && n < len(line) && isSpace(line[n]) {
			c.Headers[n-1]++
		}
		i := start
		for i < len(text) && isSpace(text[i]) {
			i++
		}
		if start >= orderedFrom {
			if n := orderedItem(text[i:]); n > 0 {
				c.Ordered++
				orderedFrom = i + n
			}
		}
		if start >= unorderedFrom {
			if n := unorderedItem(text[i:]); n > 0 {
				c.Unordered++
				unorderedFrom = i + n
			}
		}
	}
}

// orderedItem returns the length of \d+\.\s at the start of s, or 0.
func orderedItem(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i+1 >= len(s) || s[i] != '.' || !isSpace(s[i+1]) {
		return 0
	}
	return i + 2
}

// unorderedItem returns the length of [-*+]\s at the start of s, or 0.
func unorderedItem(s string) int {
	if len(s) < 2 || (s[0] != '-' && s[0] != '*' && s[0] != '+') || !isSpace(s[1]) {
		return 0
	}
	return 2
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

// countSpans counts non-overlapping matches of DD[^D\n]+DD for delimiter D.
func countSpans(text string, d byte) int {
	count := 0
	for i := 0; i+4 < len(text)+1; {
		k := strings.IndexByte(text[i:], d)
		if k < 0 {
			break
		}
		i += k
		if i+1 >= len(text) || text[i+1] != d {
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

// removeCodeBlocks removes code blocks as FastChat does: it finds every
// match of ```[^`]*``` and then, one match after another, removes every
// occurrence of that match's text from what is left. Removing one block can
// join the text around it into a new occurrence of a later block's text
// (which is then removed too), and a block's text can occur where the
// pattern did not match, so removing only the matched positions differs.
func removeCodeBlocks(text string) string {
	if !strings.Contains(text, "```") {
		return text
	}
	blocks := codeBlocks(text)
	for _, b := range blocks {
		text = strings.ReplaceAll(text, b, "") // no copy when b no longer occurs
	}
	return text
}

// codeBlocks returns the non-overlapping matches of ```[^`]*``` in text,
// leftmost first.
func codeBlocks(text string) []string {
	var blocks []string
	for i := 0; ; {
		k := strings.Index(text[i:], "```")
		if k < 0 {
			return blocks
		}
		i += k
		j := strings.IndexByte(text[i+3:], '`')
		if j < 0 {
			return blocks
		}
		if !strings.HasPrefix(text[i+3+j:], "```") {
			i++
			continue
		}
		end := i + 3 + j + 3
		blocks = append(blocks, text[i:end])
		i = end
	}
}
