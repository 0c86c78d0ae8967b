package formats

import (
	"regexp"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

// FastChat's expressions, with Python's ASCII \s written out. Go's regexp
// is the independent implementation CountStyle is checked against.
const ws = `[\t\n\v\f\r ]`

var (
	reHeaders = func() []*regexp.Regexp {
		var res []*regexp.Regexp
		for n := 1; n <= 6; n++ {
			res = append(res, regexp.MustCompile(`(?m)^#{`+string(rune('0'+n))+`}`+ws))
		}
		return res
	}()
	reOrdered   = regexp.MustCompile(`(?m)^` + ws + `*\d+\.` + ws)
	reUnordered = regexp.MustCompile(`(?m)^` + ws + `*[-*+]` + ws)
	reStars     = regexp.MustCompile(`\*\*[^*\n]+\*\*`)
	reUnders    = regexp.MustCompile(`__[^_\n]+__`)
	reCode      = regexp.MustCompile("```[^`]*```")
)

func countStyleRegexp(text string) StyleCounts {
	for _, block := range reCode.FindAllString(text, -1) {
		text = strings.ReplaceAll(text, block, "")
	}
	var c StyleCounts
	for i, re := range reHeaders {
		c.Headers[i] = len(re.FindAllStringIndex(text, -1))
	}
	c.Ordered = len(reOrdered.FindAllStringIndex(text, -1))
	c.Unordered = len(reUnordered.FindAllStringIndex(text, -1))
	c.BoldStars = len(reStars.FindAllStringIndex(text, -1))
	c.BoldUnder = len(reUnders.FindAllStringIndex(text, -1))
	return c
}

var styleCases = []string{
	"", "# h1\n## h2\n### h3\n#### h4\n##### h5\n###### h6\n####### h7",
	"#no space\n #indented\n#\tTab\n#\n",
	"1. a\n2. b\n  10. c\n1.x\n1.\n\n\n3. d",
	"- a\n* b\n+ c\n-d\n  - e\n-\n-\n",
	"**bold** **more** ** not\n** *x* ****",
	"__u__ ___x___ __ __",
	"```\n# hidden\n**hidden**\n```\n# shown\n```unclosed\n# shown too",
	"text ``` a ` b ``` c",
	"\n\n\n1. after blanks\n\n- after blank",
}

func TestCountStyle(t *testing.T) {
	for _, s := range styleCases {
		if got, want := CountStyle(s), countStyleRegexp(s); got != want {
			t.Errorf("CountStyle(%q) = %+v, want %+v", s, got, want)
		}
	}
	if got := CountStyle("# T\n\n**b**\n\n1. x\n- y"); got.Headers[0] != 1 || got.BoldStars != 1 || got.Ordered != 1 || got.Unordered != 1 {
		t.Errorf("CountStyle of a small document = %+v", got)
	}
}

func FuzzCountStyle(f *testing.F) {
	for _, s := range styleCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := CountStyle(s), countStyleRegexp(s); got != want {
			t.Errorf("CountStyle(%q) = %+v, want %+v", s, got, want)
		}
	})
}

func TestSideStyle(t *testing.T) {
	b := &rlhf.Battle{Turns: []rlhf.Turn{
		{A: rlhf.Answer{Content: "# one\n```\n# hidden", Tokens: 3}, B: rlhf.Answer{Content: "**b**", Tokens: 1}},
		{A: rlhf.Answer{Content: "```\n## two\n- item", Tokens: 4}, B: rlhf.Answer{Content: "1. x", Tokens: 2}},
	}}
	// A's code block runs from the first answer into the second.
	for _, tc := range []struct {
		side   rlhf.Side
		tokens int
		want   StyleCounts
	}{
		{rlhf.SideA, 7, CountStyle("# one\n```\n# hidden\n```\n## two\n- item")},
		{rlhf.SideB, 3, StyleCounts{BoldStars: 1, Ordered: 1}},
	} {
		tokens, got := SideStyle(b, tc.side)
		if tokens != tc.tokens || got != tc.want {
			t.Errorf("SideStyle(%s) = %d, %+v; want %d, %+v", tc.side, tokens, got, tc.tokens, tc.want)
		}
	}
	if got := CountStyle("# one\n```\n# hidden\n```\n## two\n- item"); got.Headers[0] != 1 || got.Headers[1] != 1 || got.Unordered != 1 {
		t.Errorf("the joined text counts %+v, want h1, h2 and a list item", got)
	}
	one := &rlhf.Battle{Turns: b.Turns[:1]}
	if tokens, got := SideStyle(one, rlhf.SideA); tokens != 3 || got != CountStyle(b.Turns[0].A.Content) {
		t.Errorf("SideStyle of one turn = %d, %+v", tokens, got)
	}
}
