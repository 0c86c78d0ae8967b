package demo

import "strings"

// Special prompts let a person, and the arena page's tests, see how the
// page shows rich, hostile or failed answers; every demo model honours
// them the same way:
//   - "echo: TEXT" is answered with TEXT, verbatim;
//   - "fail: …" makes the curt and verbose models fail (HTTP 500), so a
//     battle pairing one of them with another model has one failed side;
//   - a prompt that mentions Markdown is answered with a Markdown-rich
//     answer: headers, a list, a table, a code block and math.
const (
	echoPrefix = "echo:"
	failPrefix = "fail:"
)

// Echo reports the answer to an "echo:" prompt.
func Echo(prompt string) (string, bool) {
	rest, ok := strings.CutPrefix(prompt, echoPrefix)
	return strings.TrimPrefix(rest, " "), ok
}

// Fails reports whether model fails prompt on purpose.
func Fails(model, prompt string) bool {
	return strings.HasPrefix(prompt, failPrefix) && (model == "curt" || model == "verbose")
}

// AsksMarkdown reports whether prompt asks for the Markdown-rich answer.
func AsksMarkdown(prompt string) bool {
	return strings.Contains(strings.ToLower(prompt), "markdown")
}

// markdownIntro opens the Markdown-rich answer in each style's voice.
var markdownIntro = map[string]string{
	"curt":    "Fine. Here it is.",
	"verbose": "What a wonderful question! It is my great pleasure to show every kind of formatting at once.",
	"wrong":   "Markdown was invented in 1850, but here is how it looks.",
	"good":    "Here is a short tour of the formatting an answer can use.",
}

// Markdown is the Markdown-rich answer of the model in style.
func Markdown(style string) string {
	return "## A formatted answer\n\n" + markdownIntro[style] + "\n\n" +
		"### Steps\n\n" +
		"1. Read the **question** twice.\n" +
		"2. Sketch an answer with `short` code.\n" +
		"3. Check it.\n\n" +
		"- Lists work\n- and so do *emphasis* and [links](https://example.org/)\n\n" +
		"| Language | Typing | Year |\n|---|---|---|\n| Go | static | 2009 |\n| Python | dynamic | 1991 |\n\n" +
		"```go\npackage main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello, arena\")\n}\n```\n\n" +
		"Euler's identity, inline: $e^{i\\pi} + 1 = 0$. And displayed:\n\n" +
		"$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\n" +
		"> A quote, to finish.\n"
}
