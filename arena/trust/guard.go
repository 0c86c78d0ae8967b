// Package trust decides which votes can be trusted: the identity-leak
// guard, the online anomaly detectors and the quarantine of contributors.
package trust

import (
	"bufio"
	_ "embed"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/agora-rlhf/agora/rlhf"
)

//go:embed identity.txt
var identityFile string

// Words is the guard's word lists, read from identity.txt.
type Words struct {
	Identity []string         // names of models, families and providers
	Generic  map[string]bool  // common words that never identify a model alone
	Probes   []*regexp.Regexp // prompts that ask who the model is
}

// DefaultWords returns the lists maintained in identity.txt.
func DefaultWords() (*Words, error) { return ParseWords(identityFile) }

// ParseWords reads word lists in identity.txt's format.
func ParseWords(text string) (*Words, error) {
	w := &Words{Generic: map[string]bool{}}
	section := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			continue
		}
		switch section {
		case "words":
			w.Identity = append(w.Identity, normalize(line))
		case "generic":
			w.Generic[normalize(line)] = true
		case "probes":
			re, err := regexp.Compile("(?i)" + line)
			if err != nil {
				return nil, fmt.Errorf("identity words line %d: %w", n, err)
			}
			w.Probes = append(w.Probes, re)
		default:
			return nil, fmt.Errorf("identity words line %d: %q is outside [words], [generic] or [probes]", n, line)
		}
	}
	return w, sc.Err()
}

// Guard marks battles that are not anonymous. It is safe for concurrent
// use.
type Guard struct {
	words *Words

	mu    sync.RWMutex        // guards terms
	terms map[string][]string // extra identity terms by public model name
}

// NewGuard returns a guard using w.
func NewGuard(w *Words) *Guard { return &Guard{words: w, terms: map[string][]string{}} }

// SetIdentity records what the model called name is also known as: the id
// its endpoint serves and any aliases.
func (g *Guard) SetIdentity(name, id string, aliases []string) {
	terms := g.modelTerms(append([]string{name, id}, aliases...)...)
	g.mu.Lock()
	g.terms[name] = terms
	g.mu.Unlock()
}

// Leak returns why b is not anonymous, or "" when it is: a prompt asks who
// the model is, or an answer names either model of the battle (its public
// name, id, aliases, provider or family) or contains an identity word.
func (g *Guard) Leak(b *rlhf.Battle) string {
	for i := range b.Turns {
		if re := g.probe(b.Turns[i].Prompt); re != "" {
			return fmt.Sprintf("turn %d: the prompt asks who the model is", i)
		}
	}
	own := slices.Concat(g.termsOf(b.ModelA), g.termsOf(b.ModelB))
	for i := range b.Turns {
		t := &b.Turns[i]
		for _, side := range []rlhf.Side{rlhf.SideA, rlhf.SideB} {
			text := normalize(t.Answer(side).Content)
			if w := findAny(text, own); w != "" {
				return fmt.Sprintf("turn %d: answer %s names a model of the battle (%q)", i, side, w)
			}
			if w := findAny(text, g.words.Identity); w != "" {
				return fmt.Sprintf("turn %d: answer %s contains the identity word %q", i, side, w)
			}
		}
	}
	return ""
}

// AsksIdentity reports whether prompt asks who the model is.
func (g *Guard) AsksIdentity(prompt string) bool { return g.probe(prompt) != "" }

func (g *Guard) probe(prompt string) string {
	for _, re := range g.words.Probes {
		if re.MatchString(prompt) {
			return re.String()
		}
	}
	return ""
}

// termsOf returns the identity terms of the model called name: those set
// by SetIdentity, or those derived from the name alone.
func (g *Guard) termsOf(name string) []string {
	g.mu.RLock()
	t, ok := g.terms[name]
	g.mu.RUnlock()
	if ok {
		return t
	}
	return g.modelTerms(name)
}

// modelTerms derives identity terms from names like "acme/llama-3" or
// "meta-llama/Llama-3.1-8B-Instruct": each name whole, each of its
// slash-separated parts (the provider and the model), and each part's
// leading word (the family), leaving out generic words and terms shorter
// than three characters.
func (g *Guard) modelTerms(names ...string) []string {
	var out []string
	add := func(s string) {
		s = normalize(s)
		if utf8.RuneCountInString(s) < 3 || g.words.Generic[s] || slices.Contains(out, s) {
			return
		}
		out = append(out, s)
	}
	for _, n := range names {
		add(n)
		for part := range strings.SplitSeq(n, "/") {
			add(part)
			add(strings.TrimRightFunc(leadingWord(part), unicode.IsDigit))
		}
	}
	return out
}

// leadingWord returns s up to its first character that is neither a letter
// nor a digit.
func leadingWord(s string) string {
	if i := strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }); i >= 0 {
		return s[:i]
	}
	return s
}

// normalize lower-cases s and folds runs of white space to one space.
func normalize(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// findAny returns the first term that occurs in text as a whole word.
func findAny(text string, terms []string) string {
	for _, t := range terms {
		if containsWord(text, t) {
			return t
		}
	}
	return ""
}

// containsWord reports whether term occurs in text with no letter or digit
// right before or after it.
func containsWord(text, term string) bool {
	for from := 0; ; {
		i := strings.Index(text[from:], term)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(term)
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if !isWordRune(before) && !isWordRune(after) {
			return true
		}
		from = i + 1
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r))
}
