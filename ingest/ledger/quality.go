package ledger

import (
	"fmt"
	"math/big"
	"strings"
)

// GoldStrength is ρ, how far a contributor's gold answers move the weight
// of their votes from the population's: 0 would ignore gold battles, 1
// values a contributor's votes at their accuracy relative to everyone's,
// with no shrinkage. 1/2 moves half way: a careful contributor's votes
// weigh a little more than 1, a random clicker's about 0.7.
const GoldStrength = "1/2"

// Tally is what a contributor's votes (or everyone's) in a release count:
// the ordinary votes, which are the data, and the gold answers that
// measure the contributor.
type Tally struct {
	Votes   int64 // votes on ordinary battles: the data
	Gold    int64 // votes on scored gold battles (the leaf's gold line names a side)
	Correct int64 // of those, the ones whose winner is the right side
}

// Add adds t2 to t.
func (t *Tally) Add(t2 Tally) {
	t.Votes += t2.Votes
	t.Gold += t2.Gold
	t.Correct += t2.Correct
}

// Quality values votes for shares and points (docs/ledger.md, Shares): an
// ordinary vote is worth 1, a right gold answer Right and a wrong one
// Wrong (negative), from the population's figures:
//
//	Right = ρ·O·(n−c)/(c·n) = ρ·(O/c)·(1−μ)
//	Wrong = −ρ·O/n          = −ρ·(O/c)·μ
//
// where O is the release's ordinary votes, n its scored gold answers, c the
// right ones and μ = c/n. A contributor's weight is max(0, votes +
// right·Right + wrong·Wrong): linear in their votes, so splitting one
// contributor over identities changes nothing unless one identity's weight
// would go below 0. Each gold answer stands for the O/c ordinary votes per
// right answer, and counts by how far it is from the population's
// accuracy, times ρ: in expectation a contributor of accuracy a gets
// 1 + ρ·(a−μ)/μ per vote. With no ordinary vote or no right gold answer in
// the population, gold answers are worth 0 and every vote 1.
type Quality struct {
	Right, Wrong *big.Rat
}

// NewQuality returns the values of votes in a population of tally pop,
// with strength rho.
func NewQuality(pop Tally, rho *big.Rat) Quality {
	q := Quality{Right: new(big.Rat), Wrong: new(big.Rat)}
	if pop.Votes == 0 || pop.Correct == 0 || pop.Gold == 0 {
		return q
	}
	o, n, c := big.NewInt(pop.Votes), big.NewInt(pop.Gold), big.NewInt(pop.Correct)
	q.Right.SetFrac(new(big.Int).Mul(o, new(big.Int).Sub(n, c)), new(big.Int).Mul(c, n))
	q.Right.Mul(q.Right, rho)
	q.Wrong.SetFrac(new(big.Int).Neg(o), n)
	q.Wrong.Mul(q.Wrong, rho)
	return q
}

// Weight returns the weight of a contributor's votes: max(0, votes +
// right·Right + wrong·Wrong).
func (q Quality) Weight(t Tally) *big.Rat {
	w := new(big.Rat).SetInt64(t.Votes)
	w.Add(w, new(big.Rat).Mul(q.Right, big.NewRat(t.Correct, 1)))
	w.Add(w, new(big.Rat).Mul(q.Wrong, big.NewRat(t.Gold-t.Correct, 1)))
	if w.Sign() < 0 {
		w.SetInt64(0)
	}
	return w
}

// String writes q as the share table's header line does:
// "value vote 1 right <Right> wrong <Wrong>", exact fractions.
func (q Quality) String() string {
	return fmt.Sprintf("value vote 1 right %s wrong %s", q.Right.RatString(), q.Wrong.RatString())
}

// ParseQuality reads Quality.String's text.
func ParseQuality(s string) (Quality, error) {
	f := strings.Fields(s)
	q := Quality{Right: new(big.Rat), Wrong: new(big.Rat)}
	if len(f) != 7 || f[0] != "value" || f[1] != "vote" || f[2] != "1" || f[3] != "right" || f[5] != "wrong" {
		return q, fmt.Errorf("quality %q: want \"value vote 1 right R wrong W\"", s)
	}
	if _, ok := q.Right.SetString(f[4]); !ok {
		return q, fmt.Errorf("quality %q: right %q is not a number", s, f[4])
	}
	if _, ok := q.Wrong.SetString(f[6]); !ok {
		return q, fmt.Errorf("quality %q: wrong %q is not a number", s, f[6])
	}
	return q, nil
}

// PointsOf returns the points of a vote worth v: PointsPerVote·v, rounded
// to the nearest whole point (halves away from zero).
func PointsOf(v *big.Rat) int64 {
	p := new(big.Rat).Mul(v, big.NewRat(PointsPerVote, 1))
	num, den := p.Num(), p.Denom()
	twice := new(big.Int).Mul(num, big.NewInt(2))
	twice.Add(twice, new(big.Int).Mul(den, big.NewInt(int64(num.Sign()))))
	return new(big.Int).Quo(twice, new(big.Int).Mul(den, big.NewInt(2))).Int64()
}
