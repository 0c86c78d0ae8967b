package rlhf

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// measureStyleLineByLine is MeasureStyle as it was before it looked for
// bold spans over the whole text: each line trimmed and measured in turn.
func measureStyleLineByLine(text string) Style {
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

// styleText returns a random text of the pieces style control looks at.
func styleText(r *rand.Rand) string {
	pieces := []string{"#", "## ", "###### ", "####### ", "-", "- ", "* ", "+\t", "1. ", "12.", " ", "\t", "  - ",
		"**", "__", "*", "_", "a", "bold", "\n", "\r\n", "\r", "```", "`", "9", ".", "# h\n", "**b**", "__u__"}
	var b strings.Builder
	for range r.IntN(40) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestMeasureStyleSameAsBefore checks that MeasureStyle counts what the
// line-by-line measure did, on texts made of the pieces it looks at.
func TestMeasureStyleSameAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 50_000 {
		text := styleText(r)
		if got, want := MeasureStyle(text), measureStyleLineByLine(text); got != want {
			t.Fatalf("text %d %q: MeasureStyle = %+v, line by line %+v", i, text, got, want)
		}
	}
	text := "# Title\n- a\n* b\r\n1. c\n**bold** and __more__ **not\nbold**\n```\n# code\n```\n## end\r"
	if got, want := MeasureStyle(text), (Style{Tokens: 17, Headers: 2, Lists: 3, Bold: 2}); got != want {
		t.Fatalf("MeasureStyle = %+v, want %+v", got, want)
	}
}

// FuzzMeasureStyle checks MeasureStyle against the line-by-line measure.
func FuzzMeasureStyle(f *testing.F) {
	f.Add("# Title\n- a\n**bold**\r\n__x__ ** y**")
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := MeasureStyle(text), measureStyleLineByLine(text); got != want {
			t.Fatalf("%q: MeasureStyle = %+v, line by line %+v", text, got, want)
		}
	})
}

func BenchmarkMeasureStyle(b *testing.B) {
	answer := strings.Repeat("## Chaining\n\nEach bucket holds a **list** of entries; a lookup walks it.\n1. hash the key\n- compare \"keys\"\n", 12)[:1100]
	b.SetBytes(int64(len(answer)))
	for b.Loop() {
		MeasureStyle(answer)
	}
}
