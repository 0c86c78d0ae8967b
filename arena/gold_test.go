package arena

import (
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/agora-rlhf/agora/rlhf"
)

func TestSplitSentences(t *testing.T) {
	done, rest := splitSentences("First one. Second! Is it third? And an unfinished")
	if !slices.Equal(done, []string{"First one.", "Second!", "Is it third?"}) || rest != " And an unfinished" {
		t.Errorf("splitSentences = %q, %q", done, rest)
	}
	if done, rest := splitSentences("Version 1.5 is out"); len(done) != 0 || rest != "Version 1.5 is out" {
		t.Errorf("a decimal point ended a sentence: %q, %q", done, rest)
	}
}

func TestShuffleTail(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	for _, tc := range []struct {
		in       string
		degraded bool
	}{
		{"One. Two. Three", true},
		{"Just one sentence with words", true},
		{"Word", false},
	} {
		out, ok := shuffleTail(tc.in, rng)
		if ok != tc.degraded || ok == (out == strings.TrimSpace(tc.in)) {
			t.Errorf("shuffleTail(%q) = %q, %v; want degraded %v", tc.in, out, ok, tc.degraded)
		}
		if got, want := sortedWords(out), sortedWords(tc.in); !slices.Equal(got, want) {
			t.Errorf("shuffleTail(%q) = %q: words changed", tc.in, out)
		}
	}
}

func sortedWords(s string) []string {
	w := strings.Fields(s)
	slices.Sort(w)
	return w
}

func TestGoldConfigValidate(t *testing.T) {
	for _, c := range []GoldConfig{{Share: -0.1}, {Share: 1.5}, {Share: 0.1, Kinds: []string{"wrong"}}} {
		if c.Validate() == nil {
			t.Errorf("%+v is valid", c)
		}
	}
	if c := (GoldConfig{Share: 0.03, Kinds: rlhf.GoldKinds}); c.Validate() != nil {
		t.Errorf("%+v: %v", c, c.Validate())
	}
}
