package arena

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agora-rlhf/agora/rlhf"
)

// GoldConfig is the "gold:" section of the configuration file: the share
// of battles that are gold battles, which pit a model's answer against a
// degraded copy of it to measure the contributor (docs/trust.md).
//
//	gold:
//	  share: 0.03     # 3% of battles; 0 turns gold battles off
//	  kinds: [truncated, shuffled, off_topic, language]  # empty: all
type GoldConfig struct {
	Share float64  `yaml:"share" json:"share"`
	Kinds []string `yaml:"kinds" json:"kinds,omitempty"`
}

// Validate checks c.
func (c *GoldConfig) Validate() error {
	if !(c.Share >= 0 && c.Share <= 1) {
		return fmt.Errorf("share: %v is not between 0 and 1", c.Share)
	}
	for _, k := range c.Kinds {
		if !slices.Contains(rlhf.GoldKinds, k) {
			return fmt.Errorf("kinds: %q is not one of %s", k, strings.Join(rlhf.GoldKinds, ", "))
		}
	}
	return nil
}

// maybeGold turns bt, a new battle that is not a campaign's, into a gold
// battle with probability Gold.Share: side A's model answers on one side
// and a degraded copy of it on the other, a random side. a.mu must be held.
func (a *Arena) maybeGold(bt *battle) {
	g := a.cfg.Gold
	if g.Share <= 0 || a.rng.Float64() >= g.Share {
		return
	}
	kinds := g.Kinds
	if len(kinds) == 0 {
		kinds = rlhf.GoldKinds
	}
	kind := kinds[a.rng.IntN(len(kinds))]
	real, name := bt.models[0], bt.b.ModelA
	fake := &goldModel{base: real, kind: kind, seed: a.rng.Uint64()}
	bt.b.Gold = kind
	if a.rng.IntN(2) == 0 {
		bt.models = [2]Model{real, fake}
		bt.b.ModelA, bt.b.ModelB, bt.b.GoldWinner = name, rlhf.GoldModelPrefix+kind, rlhf.SideA
	} else {
		bt.models = [2]Model{fake, real}
		bt.b.ModelA, bt.b.ModelB, bt.b.GoldWinner = rlhf.GoldModelPrefix+kind, name, rlhf.SideB
	}
}

// goldPlain clears the right side of a gold battle whose degraded side
// came out undegraded in some turn. bt.mu must be held.
func goldPlain(bt *battle) {
	for _, m := range bt.models {
		if g, ok := m.(*goldModel); ok && g.plain.Load() {
			bt.b.GoldWinner = ""
		}
	}
}

// goldModel is the degraded side of a gold battle. It calls the same model
// as the other side and streams its answer through, degraded as it goes,
// so that it reaches the contributor like any model's: the same frames, a
// live first token and a model's pace.
type goldModel struct {
	base  Model
	kind  string
	seed  uint64
	plain atomic.Bool // some turn's answer could not be degraded
}

func (g *goldModel) Stream(ctx context.Context, msgs []rlhf.Message, onText func(string)) (string, int, error) {
	rng := mrand.New(mrand.NewPCG(g.seed, uint64(len(msgs))))
	switch g.kind {
	case rlhf.GoldOffTopic:
		return g.base.Stream(ctx, withLastPrompt(msgs, pickOther(offTopicPrompts, msgs, rng)), onText)
	case rlhf.GoldLanguage:
		return g.base.Stream(ctx, withLastPrompt(msgs, pickOther(foreignPrompts, msgs, rng)), onText)
	case rlhf.GoldTruncated:
		return g.truncate(ctx, msgs, onText, 6+rng.IntN(10))
	default:
		return g.shuffle(ctx, msgs, onText, rng)
	}
}

// truncate streams the model's answer and stops it after about words
// words, as a model that ends early would. It stops at the first piece
// with words in it that comes after those: an answer that ends right
// there is whole, not cut, and the battle is left unscored.
func (g *goldModel) truncate(ctx context.Context, msgs []rlhf.Message, onText func(string), words int) (string, int, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	seen, pieces, cut := 0, 0, false
	finish, tokens, err := g.base.Stream(sctx, msgs, func(s string) {
		if cut {
			return
		}
		n := len(strings.Fields(s))
		if seen >= words && n > 0 {
			cut = true
			cancel()
			return
		}
		onText(s)
		pieces++
		seen += n
	})
	if cut && ctx.Err() == nil {
		return "stop", pieces, nil
	}
	if err == nil {
		g.plain.Store(true) // shorter than the cut
	}
	return finish, tokens, err
}

// shuffle streams the model's answer with each pair of sentences swapped
// as soon as both are complete, one piece for each piece the model sends;
// what is left at the end goes out at the model's mean pace, its sentences
// reversed (or, for a one-sentence answer, its words shuffled).
func (g *goldModel) shuffle(ctx context.Context, msgs []rlhf.Message, onText func(string), rng *mrand.Rand) (string, int, error) {
	var (
		pending  string   // text not yet shuffled
		queue    []string // shuffled pieces not yet sent
		sent     int
		swapped  bool
		first    time.Time
		last     time.Time
		received int
	)
	send := func() {
		if len(queue) > 0 {
			onText(queue[0])
			queue = queue[1:]
			sent++
		}
	}
	finish, _, err := g.base.Stream(ctx, msgs, func(s string) {
		if first.IsZero() {
			first = time.Now()
		}
		last = time.Now()
		received++
		pending += s
		if done, rest := splitSentences(pending); len(done) >= 2 {
			queue = append(queue, splitWords(done[1]+" "+done[0]+" ")...)
			pending, swapped = rest+joinRest(done[2:]), true
		}
		send()
	})
	if err != nil {
		return finish, sent, err
	}
	tail, degraded := shuffleTail(pending, rng)
	if !swapped && !degraded {
		g.plain.Store(true)
	}
	queue = append(queue, splitWords(tail)...)
	pace := time.Duration(0)
	if received > 1 {
		pace = last.Sub(first) / time.Duration(received-1)
	}
	for len(queue) > 0 {
		if err := sleepCtx(ctx, pace); err != nil {
			return "", sent, rlhf.Errorf(rlhf.EUnavailable, "the answer was cut off")
		}
		send()
	}
	return finish, sent, nil
}

// joinRest puts complete sentences back in front of the unfinished text.
func joinRest(done []string) string {
	if len(done) == 0 {
		return ""
	}
	return strings.Join(done, " ") + " "
}

// shuffleTail returns the end of an answer degraded: its sentences
// reversed, or a lone sentence's words shuffled; degraded is false when
// it could not be changed.
func shuffleTail(s string, rng *mrand.Rand) (string, bool) {
	done, rest := splitSentences(s)
	if strings.TrimSpace(rest) != "" {
		done = append(done, strings.TrimSpace(rest))
	}
	if len(done) >= 2 {
		slices.Reverse(done)
		return strings.Join(done, " "), true
	}
	words := strings.Fields(strings.Join(done, " "))
	if len(words) < 2 {
		return strings.Join(words, " "), false
	}
	orig := slices.Clone(words)
	for slices.Equal(words, orig) {
		rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	}
	return strings.Join(words, " "), true
}

// splitSentences returns the complete sentences of s, trimmed (a sentence
// ends at . ! or ? followed by white space, or at a line break), and the
// unfinished rest.
func splitSentences(s string) (done []string, rest string) {
	start := 0
	for i := 0; i < len(s); i++ {
		end := s[i] == '\n' || (s[i] == '.' || s[i] == '!' || s[i] == '?') && i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\n')
		if !end {
			continue
		}
		if t := strings.TrimSpace(s[start : i+1]); t != "" {
			done = append(done, t)
		}
		start = i + 1
	}
	return done, s[start:]
}

// splitWords cuts s into pieces of one word and the space after it, as a
// model streams tokens.
func splitWords(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] == ' ' || s[i-1] == '\n') && s[i] != ' ' && s[i] != '\n' {
			out = append(out, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// withLastPrompt returns msgs with the last user message replaced by p.
func withLastPrompt(msgs []rlhf.Message, p string) []rlhf.Message {
	out := slices.Clone(msgs)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].Role == "user" {
			out[i].Content = p
			break
		}
	}
	return out
}

// pickOther picks a prompt of pool other than the conversation's last.
func pickOther(pool []string, msgs []rlhf.Message, rng *mrand.Rand) string {
	last := ""
	if len(msgs) > 0 {
		last = msgs[len(msgs)-1].Content
	}
	i := rng.IntN(len(pool))
	if pool[i] == last {
		i = (i + 1) % len(pool)
	}
	return pool[i]
}

// offTopicPrompts and foreignPrompts are what the degraded side of an
// off-topic or other-language gold battle answers instead.
var (
	offTopicPrompts = []string{
		"Write a haiku about autumn leaves.",
		"Give me a recipe for pancakes.",
		"Explain how the gears of a bicycle work.",
		"List three facts about octopuses.",
		"How do I fix a flat tyre?",
		"What causes the northern lights?",
		"Summarise the plot of Romeo and Juliet.",
		"How does compound interest work?",
		"Suggest a name for a grey cat.",
		"Why do onions make people cry?",
	}
	foreignPrompts = []string{
		"Erkläre bitte, wie ein Regenbogen entsteht.",
		"Quelle est la différence entre la météo et le climat ?",
		"¿Cómo se prepara una tortilla de patatas?",
		"Spiega brevemente come funziona la fotosintesi.",
		"Waarom is de lucht blauw?",
		"Jak działa szczepionka przeciw grypie?",
		"Hur fungerar ett kylskåp?",
		"なぜ空は青いのですか？",
		"Почему зимой холодно?",
		"Como funciona a energia solar?",
	}
)
