package chtest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/rlhf"
)

// Records makes valid, distinct voted battles for tests and benchmarks.
type Records struct {
	Models    []string         // drawn from; at least two
	TextBytes int              // about this much prompt and answer text per battle
	Turns     int              // turns per battle; 1 if 0
	Now       func() time.Time // battle and vote times; time.Now if nil
	Prefix    string           // starts every id, to keep several generators apart

	rng *rand.Rand
	n   int
}

// NewRecords returns a generator over models seeded with seed.
func NewRecords(seed uint64, models ...string) *Records {
	if len(models) < 2 {
		models = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}
	}
	return &Records{Models: models, TextBytes: 200, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Prefix: "r"}
}

const words = "the model answered with care and the contributor read both answers before voting on which one was better "

// text returns about n bytes of text.
func (g *Records) text(n int) string {
	if n <= 0 {
		return ""
	}
	start := g.rng.IntN(len(words))
	var b strings.Builder
	b.Grow(n + len(words))
	b.WriteString(words[start:])
	for b.Len() < n {
		b.WriteString(words)
	}
	return b.String()[:n]
}

// Next returns a new record.
func (g *Records) Next() rlhf.Record {
	g.n++
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	now = now.UTC().Truncate(time.Millisecond)
	i := g.rng.IntN(len(g.Models))
	j := g.rng.IntN(len(g.Models) - 1)
	if j >= i {
		j++
	}
	turns := max(g.Turns, 1)
	per := g.TextBytes / (3 * turns)
	b := rlhf.Battle{
		ID:            fmt.Sprintf("%s-b%d-%08x", g.Prefix, g.n, g.rng.Uint32()),
		ContributorID: fmt.Sprintf("c%d", g.rng.IntN(50)),
		ModelA:        g.Models[i],
		ModelB:        g.Models[j],
		Status:        rlhf.StatusVoted,
		Source:        rlhf.SourceArena,
		Category:      []string{"coding", "writing", "math"}[g.rng.IntN(3)],
		Language:      "en",
		CreatedAt:     now.Add(-2 * time.Second),
		UpdatedAt:     now,
	}
	for k := 0; k < turns; k++ {
		b.Turns = append(b.Turns, rlhf.Turn{
			Index:  k,
			Prompt: g.text(per),
			At:     now.Add(-time.Second),
			A:      rlhf.Answer{Content: g.text(per + g.rng.IntN(20)), FinishReason: "stop", Tokens: per / 4, TTFT: 120 * time.Millisecond, Duration: 900 * time.Millisecond},
			B:      rlhf.Answer{Content: g.text(per + g.rng.IntN(20)), FinishReason: "stop", Tokens: per / 4, TTFT: 150 * time.Millisecond, Duration: 1100 * time.Millisecond},
		})
	}
	winners := []rlhf.Winner{rlhf.WinnerA, rlhf.WinnerB, rlhf.WinnerTie, rlhf.WinnerBothBad}
	v := rlhf.Vote{
		ID:            fmt.Sprintf("%s-v%d-%08x", g.Prefix, g.n, g.rng.Uint32()),
		BattleID:      b.ID,
		ContributorID: b.ContributorID,
		Winner:        winners[g.rng.IntN(len(winners))],
		Strength:      rlhf.StrengthClear,
		CreatedAt:     now,
	}
	return rlhf.Record{Battle: b, Vote: v}
}

// CountRecords counts records per ordered model pair, the way ClickHouse
// should, sorted by model_a then model_b.
func CountRecords(recs []rlhf.Record) []clickhouse.PairCount {
	m := map[[2]string]*clickhouse.PairCount{}
	for _, r := range recs {
		k := [2]string{r.Battle.ModelA, r.Battle.ModelB}
		p := m[k]
		if p == nil {
			p = &clickhouse.PairCount{ModelA: k[0], ModelB: k[1]}
			m[k] = p
		}
		p.Add(r.Vote.Winner)
	}
	out := make([]clickhouse.PairCount, 0, len(m))
	for _, p := range m {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b clickhouse.PairCount) int {
		return cmp.Or(strings.Compare(a.ModelA, b.ModelA), strings.Compare(a.ModelB, b.ModelB))
	})
	return out
}
