package trust

import (
	"os"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

func newTestGuard(t *testing.T) *Guard {
	t.Helper()
	w, err := DefaultWords()
	if err != nil {
		t.Fatal(err)
	}
	return NewGuard(w)
}

func battle(modelA, modelB, prompt, answerA, answerB string) *rlhf.Battle {
	return &rlhf.Battle{ID: "b1", ModelA: modelA, ModelB: modelB, Turns: []rlhf.Turn{{
		Prompt: prompt, A: rlhf.Answer{Content: answerA}, B: rlhf.Answer{Content: answerB}}}}
}

func TestLeak(t *testing.T) {
	g := newTestGuard(t)
	g.SetIdentity("helpful-4", "good", nil)
	g.SetIdentity("acme/sparrow-2", "org/Sparrow-2-7B-Instruct", []string{"Birdie"})
	tests := []struct {
		name     string
		b        *rlhf.Battle
		leak     bool
		contains string
	}{
		{"anonymous", battle("helpful-4", "acme/sparrow-2", "How do I learn Go?", "Read the tour.", "Write code."), false, ""},
		{"own public name", battle("helpful-4", "x-1", "Hi", "I am helpful-4, hello.", "Hi."), true, `"helpful-4"`},
		{"name case and spacing", battle("helpful-4", "x-1", "Hi", "Hi, HELPFUL-4 here", "Hi."), true, "answer a"},
		{"alias", battle("x-1", "acme/sparrow-2", "Hi", "Hello.", "Birdie says hi."), true, `"birdie"`},
		{"family from the id", battle("x-1", "acme/sparrow-2", "Hi", "Hello.", "As a Sparrow model, I think so."), true, `"sparrow"`},
		{"provider from the lab", battle("x-1", "acme/sparrow-2", "Hi", "Hello.", "Acme trained me."), true, `"acme"`},
		{"the other side's name", battle("helpful-4", "acme/sparrow-2", "Hi", "Unlike sparrow-2, I know.", "Hi."), true, "answer a"},
		{"identity word", battle("x-1", "y-2", "Hi", "As ChatGPT, I can help.", "Hi."), true, `"chatgpt"`},
		{"identity word inside another word", battle("x-1", "y-2", "Tell me about llamas", "Llamas are camelids.", "Wool."), false, ""},
		{"generic word of a name", battle("helpful-4", "y-2", "Is this good?", "Good question, it is helpful and good.", "Yes."), false, ""},
		{"probe prompt", battle("x-1", "y-2", "Which model are you?", "I cannot say.", "Guess."), true, "prompt asks"},
		{"probe in a later turn", &rlhf.Battle{ModelA: "x-1", ModelB: "y-2", Turns: []rlhf.Turn{
			{Prompt: "Hi"}, {Index: 1, Prompt: "And who made you?"}}}, true, "turn 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := g.Leak(tt.b)
			if (got != "") != tt.leak || !strings.Contains(got, tt.contains) {
				t.Errorf("Leak = %q, want leak %v containing %q", got, tt.leak, tt.contains)
			}
		})
	}
}

func TestParseWordsErrors(t *testing.T) {
	for _, text := range []string{"word outside a section", "[probes]\n(unclosed"} {
		if _, err := ParseWords(text); err == nil {
			t.Errorf("ParseWords(%q) = nil error, want one", text)
		}
	}
}

// readPrompts reads one prompt a line, skipping comments and blank lines.
func readPrompts(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// TestProbeRules measures the prompt rules alone on the repository's
// prompt set; the answers (tested end to end in cmd/agora) catch more.
func TestProbeRules(t *testing.T) {
	g := newTestGuard(t)
	probes, ordinary := readPrompts(t, "testdata/probes.txt"), readPrompts(t, "testdata/ordinary.txt")
	if len(probes) < 100 || len(ordinary) < 100 {
		t.Fatalf("%d probes and %d ordinary prompts, want at least 100 of each", len(probes), len(ordinary))
	}
	var caught, false_ int
	for _, p := range probes {
		if g.AsksIdentity(p) {
			caught++
		} else {
			t.Logf("probe not caught by the prompt rules: %q", p)
		}
	}
	for _, p := range ordinary {
		if g.AsksIdentity(p) {
			false_++
			t.Logf("ordinary prompt taken for a probe: %q", p)
		}
	}
	t.Logf("prompt rules: %d/%d probes, %d/%d ordinary", caught, len(probes), false_, len(ordinary))
	if caught*100 < 95*len(probes) || false_*100 > 2*len(ordinary) {
		t.Errorf("prompt rules flag %d/%d probes and %d/%d ordinary prompts; want ≥95%% and ≤2%%", caught, len(probes), false_, len(ordinary))
	}
}
