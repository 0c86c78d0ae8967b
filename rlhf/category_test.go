package rlhf

import "testing"

func TestPromptCategory(t *testing.T) {
	tests := []struct {
		name, prompt, want string
	}{
		{"fence", "Why does this fail?\n```\nx := 1\n```", CategoryCoding},
		{"language name", "How do I read a file in Python?", CategoryCoding},
		{"latex", "Simplify \\frac{a}{b} + 1", CategoryMath},
		{"arithmetic", "What is 17 * 23?", CategoryMath},
		{"word", "Solve for x: x squared equals nine", CategoryMath},
		{"general", "Write a short poem about the sea.", ""},
		{"date is not arithmetic", "Plan a trip for 2026-12-07", ""},
		{"empty", "", ""},
		{"code before math", "Write a Python function to calculate a derivative", CategoryCoding},
	}
	for _, tt := range tests {
		if got := PromptCategory(tt.prompt); got != tt.want {
			t.Errorf("%s: PromptCategory(%q) = %q, want %q", tt.name, tt.prompt, got, tt.want)
		}
	}
}
