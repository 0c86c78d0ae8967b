package ledger

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// ShareUnits is the resolution of a share: shares are whole billionths,
// and a table's shares add up to exactly ShareUnits.
const ShareUnits = 1_000_000_000

// DefaultShareCap is the largest share one contributor may have, unless
// the release says otherwise.
const DefaultShareCap = "1/10"

// ShareFormula describes, for the data card, how shares are computed;
// CAP and RHO stand for the cap and the gold strength.
const ShareFormula = `Each contributor's weight is the value of their votes in the release. A
vote on an ordinary battle (the data) is worth 1. A vote on a gold battle
(one side a degraded copy of the other, docs/trust.md) is not data; its leaf
in the log says which side is right (the gold line of a vote 2 record), and
it is worth Right when its winner is that side and Wrong (negative)
otherwise, where, over the release's contributors, O is the ordinary votes,
n the scored gold answers, c the right ones and mu = c/n:

    Right = RHO * O * (n - c) / (c * n)      Wrong = - RHO * O / n

A gold answer stands for the O/c ordinary votes per right answer and counts
by how far it is from the population's accuracy, times the strength RHO: in
expectation a contributor of gold accuracy a gets 1 + RHO * (a - mu) / mu
per vote (a random clicker about 0.7, a careful contributor a little over
1). Gold battles left unscored (their degraded side came out whole, or a
turn failed) and those logged before the gold line existed are worth 0. A
weight below 0 is 0, and so is the weight of a contributor with no ordinary
vote in the release (gold answers alone, which are not data, earn no
share; they still count in O, n and c). Without gold answers, every vote
is worth 1.
Quarantined and erased votes are not in the release and are worth nothing,
gold answers included.

A contributor's share is their weight over the sum of all weights, capped
at CAP: a capped contributor gets CAP and what the cap removed is shared
among the others in proportion to their weights, again under the cap
(water-filling). When CAP times the number of contributors is less than 1,
the cap is 1/contributors. Weights and shares are computed exactly, in
rational numbers, then rounded to billionths by largest remainder (ties by
pseudonym), so that they add up to 1; the table shows weights to six
decimals and Right and Wrong as exact fractions.

Sybil resistance: the weight is linear in votes, gold answers included,
and the population's figures do not change when someone splits, so one
contributor who splits their votes over k identities gives those
identities the same total weight, so the same total share, as long as the
cap does not bind, no identity's weight would be below 0 and every identity
has an ordinary vote. A per-identity
estimate of accuracy (a Beta posterior per identity) is not linear: an
identity with fewer gold answers is pulled harder to the population's
mean, so splitting would pay a poor contributor. Splitting can undo the
cap, and otherwise change a total weight only through the two rules that
keep a weight at 0: identities with only gold battles, or with few ordinary
votes and many wrong gold answers, escape those answers' penalty (at most
the value of the contributor's wrong gold answers), and right gold answers
in an identity without an ordinary vote are lost.`

// ShareRow is one contributor's line of a share table.
type ShareRow struct {
	Contributor string // the log's pseudonym
	Tally              // their votes and gold answers in the release
	Weight      *big.Rat
	Units       int64 // the share, in billionths
}

// Shares computes the share table of rows (their Weight set), capped at
// cap, sorted by pseudonym. Rows of weight 0 have no share and are left
// out.
func Shares(in []ShareRow, cap *big.Rat) ([]ShareRow, error) {
	rows := make([]ShareRow, 0, len(in))
	for _, r := range in {
		if r.Weight == nil || r.Weight.Sign() < 0 {
			return nil, fmt.Errorf("contributor %s has weight %v", r.Contributor, r.Weight)
		}
		if r.Weight.Sign() > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return rows, nil
	}
	// Heaviest first (ties by pseudonym) for the water-filling.
	sort.Slice(rows, func(i, j int) bool {
		if c := rows[i].Weight.Cmp(rows[j].Weight); c != 0 {
			return c > 0
		}
		return rows[i].Contributor < rows[j].Contributor
	})
	shares := waterFill(rows, effectiveCap(cap, len(rows)))
	roundUnits(rows, shares)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Contributor < rows[j].Contributor })
	return rows, nil
}

// effectiveCap is cap, or 1/n when n contributors under cap cannot add up
// to 1.
func effectiveCap(cap *big.Rat, n int) *big.Rat {
	floor := big.NewRat(1, int64(n))
	if cap == nil || cap.Cmp(floor) < 0 {
		return floor
	}
	return cap
}

// waterFill returns the exact share of each row (sorted heaviest first):
// the k heaviest are capped, the rest share 1-k·cap by weight, with the
// least k that leaves every uncapped share under the cap.
func waterFill(rows []ShareRow, cap *big.Rat) []*big.Rat {
	rest := new(big.Rat)
	for _, r := range rows {
		rest.Add(rest, r.Weight)
	}
	k := 0
	left := big.NewRat(1, 1) // the mass the uncapped rows share
	for ; k < len(rows); k++ {
		// The heaviest uncapped row's share: w·left/rest.
		s := new(big.Rat).Quo(rows[k].Weight, rest)
		s.Mul(s, left)
		if s.Cmp(cap) <= 0 {
			break
		}
		left.Sub(left, cap)
		rest.Sub(rest, rows[k].Weight)
	}
	out := make([]*big.Rat, len(rows))
	for i, r := range rows {
		if i < k {
			out[i] = cap
			continue
		}
		s := new(big.Rat).Quo(r.Weight, rest)
		out[i] = s.Mul(s, left)
	}
	return out
}

// roundUnits sets each row's Units to its share in billionths, rounded
// down, then gives the units left over to the largest remainders (ties to
// the smaller pseudonym), so that they add up to ShareUnits.
func roundUnits(rows []ShareRow, shares []*big.Rat) {
	type rem struct {
		i int
		r *big.Rat
	}
	rems := make([]rem, len(rows))
	total := int64(0)
	unit := big.NewInt(ShareUnits)
	for i, s := range shares {
		num := new(big.Int).Mul(s.Num(), unit)
		q, m := new(big.Int).QuoRem(num, s.Denom(), new(big.Int))
		rows[i].Units = q.Int64()
		total += rows[i].Units
		rems[i] = rem{i, new(big.Rat).SetFrac(m, s.Denom())}
	}
	sort.Slice(rems, func(a, b int) bool {
		if c := rems[a].r.Cmp(rems[b].r); c != 0 {
			return c > 0
		}
		return rows[rems[a].i].Contributor < rows[rems[b].i].Contributor
	})
	for j := 0; total < ShareUnits; j++ {
		rows[rems[j%len(rems)].i].Units++
		total++
	}
}

// ShareTable writes the canonical text of a share table: a header, then
// one line per contributor, sorted by pseudonym, tab-separated:
//
//	# agora share table 2
//	# release <release root, base64>
//	# cap <the cap, as a fraction>
//	# gold strength <ρ> over <O> votes, <n> gold answers, <c> right
//	# value vote 1 right <Right> wrong <Wrong>
//	contributor	votes	gold	right	weight	share
//	<pseudonym>	<votes>	<gold answers>	<right ones>	<weight, 6 decimals>	<share, 0.xxxxxxxxx>
//
// (Version 1, before gold answers were scored, had the columns
// contributor, votes, weight and share, every vote worth 1.)
func ShareTable(release Hash, cap, rho *big.Rat, pop Tally, q Quality, rows []ShareRow) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# agora share table 2\n# release %s\n# cap %s\n", release, cap.RatString())
	fmt.Fprintf(&b, "# gold strength %s over %d votes, %d gold answers, %d right\n# %s\n", rho.RatString(), pop.Votes, pop.Gold, pop.Correct, q)
	b.WriteString("contributor\tvotes\tgold\tright\tweight\tshare\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%s\t%s\n", r.Contributor, r.Votes, r.Gold, r.Correct, r.Weight.FloatString(6), FormatShare(r.Units))
	}
	return []byte(b.String())
}

// TableQuality reads the values of votes from a share table's header; a
// version 1 table (every vote worth 1) gives gold answers no value.
func TableQuality(table []byte) (Quality, error) {
	for ln := range strings.Lines(string(table)) {
		if !strings.HasPrefix(ln, "#") {
			break
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(ln), "# value "); ok {
			return ParseQuality("value " + v)
		}
	}
	return NewQuality(Tally{}, new(big.Rat)), nil
}

// FormatShare writes a share given in billionths as a decimal fraction.
func FormatShare(units int64) string {
	return fmt.Sprintf("%d.%09d", units/ShareUnits, units%ShareUnits)
}

// ParseShareCap reads a cap written as a fraction ("1/10") or a decimal
// ("0.1"): more than 0, at most 1.
func ParseShareCap(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 || r.Cmp(big.NewRat(1, 1)) > 0 {
		return nil, fmt.Errorf("share cap %q: want a number more than 0 and at most 1", s)
	}
	return r, nil
}
