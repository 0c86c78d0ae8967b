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
	FailEvery int              // when > 0, side b of every FailEvery-th record fails in its last turn

	rng  *rand.Rand
	zipf *rand.Zipf
	n    int
}

// NewRecords returns a generator over models seeded with seed.
func NewRecords(seed uint64, models ...string) *Records {
	if len(models) < 2 {
		models = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"}
	}
	return &Records{Models: models, TextBytes: 200, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), Prefix: "r"}
}

// vocabulary is the words text is made of: common English words, drawn
// with a Zipf distribution so that the text compresses about as well as
// real prose (LZ4 to about half; see TestTextCompresses). A text that
// repeats one phrase would compress twentyfold and flatter every benchmark
// that writes it.
var vocabulary = strings.Fields(`the of and to a in is it you that he was for on are with as I his they be at one
have this from or had by hot word but what some we can out other were all there when up use your how said an each
she which do their time if will way about many then them write would like so these her long make thing see him two
has look more day could go come did number sound no most people my over know water than call first who may down side
been now find any new work part take get place made live where after back little only round man year came show every
good me give our under name very through just form sentence great think say help low line differ turn cause much mean
before move right boy old too same tell does set three want air well also play small end put home read hand port large
spell add even land here must big high such follow act why ask men change went light kind off need house picture try
us again animal point mother world near build self earth father head stand own page should country found answer school
grow study still learn plant cover food sun four between state keep eye never last let thought city tree cross farm
hard start might story saw far sea draw left late run while press close night real life few north open seem together
next white children begin got walk example ease paper group always music those both mark often letter until mile river
car feet care second book carry took science eat room friend began idea fish mountain stop once base hear horse cut
sure watch color face wood main enough plain girl usual young ready above ever red list though feel talk bird soon
body dog family direct pose leave song measure door product black short numeral class wind question happen complete
ship area half rock order fire south problem piece told knew pass since top whole king space heard best hour better
true during hundred five remember step early hold west ground interest reach fast verb sing listen six table travel
less morning ten simple several vowel toward war lay against pattern slow center love person money serve appear road
map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait plan
figure star box noun field rest correct able pound done beauty drive stood contain front teach week final gave green
function variable return error value model answer compute memory server request string integer array loop module`)

// text returns about n bytes of text.
func (g *Records) text(n int) string {
	if n <= 0 {
		return ""
	}
	if g.zipf == nil {
		g.zipf = rand.NewZipf(rand.New(rand.NewPCG(g.rng.Uint64(), g.rng.Uint64())), 1.1, 4, uint64(len(vocabulary)-1))
	}
	var b strings.Builder
	b.Grow(n + 16)
	for b.Len() < n {
		b.WriteString(vocabulary[g.zipf.Uint64()])
		b.WriteByte(' ')
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
	if g.FailEvery > 0 && g.n%g.FailEvery == 0 {
		last := &b.Turns[len(b.Turns)-1].B
		last.ErrorCode, last.Error, last.FinishReason = "upstream_error", "stream broke off", ""
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
// should (votes that are not counted left out: rlhf.Record.Counted),
// sorted by model_a then model_b.
func CountRecords(recs []rlhf.Record) []clickhouse.PairCount {
	m := map[[2]string]*clickhouse.PairCount{}
	for _, r := range recs {
		if !r.Counted() {
			continue
		}
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
