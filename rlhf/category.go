package rlhf

import (
	"strings"
	"unicode"
)

// The categories PromptCategory gives a battle started in the arena
// without a campaign. A campaign's prompts keep the category the lab gave.
const (
	CategoryCoding = "coding"
	CategoryMath   = "math"
)

// PromptCategories are the categories PromptCategory names, in the order
// a page shows them.
var PromptCategories = []string{CategoryCoding, CategoryMath}

// codeMarks are text that shows a prompt is about code: a fence, and
// words and snippets that rarely appear outside programming.
var codeMarks = []string{
	"```", "#include", "def ", "func ", "function ", "console.log", "printf(", "public static", "select ",
	"python", "javascript", "typescript", "golang", "java ", "rust ", "c++", "sql", "regex", "html", "css",
	"compile", "stack trace", "traceback", "exception", "segfault", "bug in", "my code", "this code", "a script",
	"algorithm", "api ", "json", "git ", "docker", "kubernetes", "bash", "shell script",
}

// mathMarks are text that shows a prompt is about mathematics.
var mathMarks = []string{
	"\\frac", "\\int", "\\sum", "\\sqrt", "$$", "equation", "integral", "derivative", "solve for", "prove that",
	"theorem", "probability", "matrix", "polynomial", "calculate", "how much is", "what is the sum",
}

// PromptCategory names the category of a prompt by a plain rule, so that
// the public leaderboard can be cut by it: CategoryCoding when the prompt
// has a code fence or words of programming, else CategoryMath when it has
// LaTeX, words of mathematics or an arithmetic expression such as "17*23",
// else "" (general). It looks at the first 2,000 bytes only. It is a rule
// of thumb, not a classifier: a prompt may be miscounted, and each
// category's board says so.
func PromptCategory(prompt string) string {
	if len(prompt) > 2000 {
		prompt = prompt[:2000]
	}
	if strings.Contains(prompt, "```") {
		return CategoryCoding
	}
	low := strings.ToLower(prompt)
	for _, m := range codeMarks {
		if strings.Contains(low, m) {
			return CategoryCoding
		}
	}
	for _, m := range mathMarks {
		if strings.Contains(low, m) {
			return CategoryMath
		}
	}
	if hasArithmetic(prompt) {
		return CategoryMath
	}
	return ""
}

// hasArithmetic reports whether s has a digit, an operator (+ * ^ =, ×
// ÷; not - or /, which dates use) and a digit, with at most spaces between.
func hasArithmetic(s string) bool {
	const (
		start = iota
		digit // after a digit
		op    // after a digit and an operator
	)
	state := start
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			if state == op {
				return true
			}
			state = digit
		case r == ' ':
		case strings.ContainsRune("+*^=×÷", r) && state == digit:
			state = op
		default:
			state = start
		}
	}
	return false
}
