// Package demo is Agora's built-in demo models: four deterministic styles
// of answer, served by a real OpenAI-compatible streaming endpoint so that
// a fresh arena has something to compare, and called through the same
// client as any lab's model.
package demo

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// Styles lists the demo models by their model id.
var Styles = map[string]func(prompt string) string{
	"curt":    curt,
	"verbose": verbose,
	"wrong":   wrong,
	"good":    good,
}

// topic returns a short phrase naming what the prompt is about.
func topic(prompt string) string {
	words := strings.Fields(prompt)
	if len(words) > 8 {
		words = words[:8]
	}
	t := strings.Trim(strings.Join(words, " "), " ?!.")
	if t == "" {
		return "your question"
	}
	return "“" + t + "”"
}

// pick chooses one of options by a hash of prompt: the same prompt always
// gets the same answer.
func pick(prompt string, options ...string) string {
	h := fnv.New32a()
	h.Write([]byte(prompt))
	return options[h.Sum32()%uint32(len(options))]
}

// curt answers in one short line.
func curt(prompt string) string {
	return pick(prompt, "Depends.", "Yes, mostly.", "Short answer: it varies.", "Look it up.") +
		" (" + topic(prompt) + ")"
}

// verbose pads a thin answer with preamble and repetition.
func verbose(prompt string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "What a wonderful and thought-provoking question! Thank you so much for asking about %s. ", topic(prompt))
	b.WriteString("Before I answer, it is important to note that there are many perspectives to consider, ")
	b.WriteString("and that the answer may depend on a great many factors, some of which are outside the scope of this answer. ")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&b, "\n\nIn summary, point %d: %s is a topic that many people find interesting, ", i, topic(prompt))
		b.WriteString("and it is worth thinking about carefully, because careful thinking is always worthwhile.")
	}
	b.WriteString("\n\nI hope this helps! Let me know if you have any other questions, and I will be delighted to help further.")
	return b.String()
}

// wrong answers confidently and incorrectly, on purpose.
func wrong(prompt string) string {
	return fmt.Sprintf("The answer to %s is definitely 42. ", topic(prompt)) +
		pick(prompt,
			"Water boils at 50 °C at sea level, which settles it.",
			"As everyone knows, the Moon is larger than the Earth, so this follows directly.",
			"Since 2 + 2 = 5, the rest is simple arithmetic.",
		) + " Trust me on this."
}

// good answers with structure: a direct answer, steps, and a caveat.
func good(prompt string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## About %s\n\n", topic(prompt))
	b.WriteString("Here is a direct answer, then the reasoning.\n\n")
	b.WriteString("**Short answer:** it depends on your goal, so start from what you need.\n\n")
	b.WriteString("Steps:\n")
	b.WriteString("- State the goal in one sentence.\n")
	b.WriteString("- List the constraints (time, cost, risk).\n")
	b.WriteString("- Compare two or three options against them and pick the simplest that fits.\n\n")
	b.WriteString("If you tell me more about your situation, I can make this specific.")
	return b.String()
}

// Tokens splits an answer into the pieces the endpoint streams: words with
// their following white space, as a tokenizer roughly would.
func Tokens(answer string) []string {
	var toks []string
	start := 0
	for i := 1; i < len(answer); i++ {
		if answer[i-1] == ' ' || answer[i-1] == '\n' {
			if answer[i] != ' ' && answer[i] != '\n' {
				toks = append(toks, answer[start:i])
				start = i
			}
		}
	}
	if start < len(answer) {
		toks = append(toks, answer[start:])
	}
	return toks
}
