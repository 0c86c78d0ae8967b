package analytics

import (
	"strings"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// Style is what style control measures in one side's answers, summed over
// the turns of a battle.
type Style struct {
	Tokens  int // answer length in tokens
	Headers int // markdown headers (# to ######)
	Lists   int // ordered and unordered list items
	Bold    int // **bold** and __bold__ spans
}

// Battle is one rated comparison, reduced to what leaderboards need.
type Battle struct {
	ModelA, ModelB string
	Winner         rlhf.Winner
	Time           time.Time // zero when unknown
	Category       string
	Language       string
	Contributor    string
	Source         string
	StyleA, StyleB Style
	HasStyle       bool // StyleA and StyleB were measured
}

// Validate checks that the battle can be rated.
func (b *Battle) Validate() error {
	switch {
	case b.ModelA == "" || b.ModelB == "":
		return rlhf.Errorf(rlhf.EInvalid, "missing model name")
	case b.ModelA == b.ModelB:
		return rlhf.Errorf(rlhf.EInvalid, "model %q battles itself", b.ModelA)
	case !b.Winner.Valid():
		return rlhf.Errorf(rlhf.EInvalid, "unknown winner %q", b.Winner)
	}
	return nil
}

// FromRecord returns the battle of a voted record. The time is the vote's
// time (the battle's creation time when the vote has none); style features
// are measured from the answers' content, with tokens taken from
// Answer.Tokens (estimated from the text when the field is zero).
func FromRecord(r *rlhf.Record) Battle {
	b := Battle{
		ModelA:      r.Battle.ModelA,
		ModelB:      r.Battle.ModelB,
		Winner:      r.Vote.Winner,
		Time:        r.Vote.CreatedAt,
		Category:    r.Battle.Category,
		Language:    r.Battle.Language,
		Contributor: r.Vote.ContributorID,
		Source:      r.Battle.Source,
		HasStyle:    len(r.Battle.Turns) > 0,
	}
	if b.Time.IsZero() {
		b.Time = r.Battle.CreatedAt
	}
	if b.Contributor == "" {
		b.Contributor = r.Battle.ContributorID
	}
	for i := range r.Battle.Turns {
		t := &r.Battle.Turns[i]
		b.StyleA.add(answerStyle(&t.A))
		b.StyleB.add(answerStyle(&t.B))
	}
	return b
}

func (s *Style) add(o Style) {
	s.Tokens += o.Tokens
	s.Headers += o.Headers
	s.Lists += o.Lists
	s.Bold += o.Bold
}

func answerStyle(a *rlhf.Answer) Style {
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
	s := Style{Tokens: (len(text) + 3) / 4}
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if isHeader(line) {
			s.Headers++
		}
		if isListItem(line) {
			s.Lists++
		}
		s.Bold += countBold(line, "**") + countBold(line, "__")
	}
	return s
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
