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

// ShareFormula describes, for the data card, how shares are computed.
const ShareFormula = `Each contributor's weight is the sum, over their votes in the release, of
the vote's quality (1 for every accepted vote until gold battles measure an
accuracy). A contributor's share is their weight over the sum of all weights,
capped at CAP: a capped contributor gets CAP and what the cap removed is
shared among the others in proportion to their weights, again under the cap
(water-filling). When CAP times the number of contributors is less than 1,
the cap is 1/contributors. Shares are computed exactly, in rational numbers, then
rounded to billionths by largest remainder (ties by pseudonym), so that they
add up to 1. A weight linear in votes is what makes splitting useless: one
contributor who splits their votes over k identities gives those identities
the same total weight, so the same total share, as long as the cap does not
bind; splitting can at most undo the cap, never give more than the share
the contributor would have with no cap.`

// ShareRow is one contributor's line of a share table.
type ShareRow struct {
	Contributor string // the log's pseudonym
	Votes       int64  // votes in the release
	Weight      int64  // quality-weighted votes
	Units       int64  // the share, in billionths
}

// Shares computes the share table of weights (pseudonym → votes, weight),
// capped at cap, sorted by pseudonym.
func Shares(votes, weights map[string]int64, cap *big.Rat) ([]ShareRow, error) {
	rows := make([]ShareRow, 0, len(weights))
	for c, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("contributor %s has weight %d", c, w)
		}
		if w > 0 {
			rows = append(rows, ShareRow{Contributor: c, Votes: votes[c], Weight: w})
		}
	}
	if len(rows) == 0 {
		return rows, nil
	}
	// Heaviest first (ties by pseudonym) for the water-filling.
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Weight != rows[j].Weight {
			return rows[i].Weight > rows[j].Weight
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
	rest := new(big.Int)
	for _, r := range rows {
		rest.Add(rest, big.NewInt(r.Weight))
	}
	k := 0
	left := big.NewRat(1, 1) // the mass the uncapped rows share
	for ; k < len(rows); k++ {
		// The heaviest uncapped row's share: w·left/rest.
		s := new(big.Rat).SetFrac(big.NewInt(rows[k].Weight), rest)
		s.Mul(s, left)
		if s.Cmp(cap) <= 0 {
			break
		}
		left.Sub(left, cap)
		rest.Sub(rest, big.NewInt(rows[k].Weight))
	}
	out := make([]*big.Rat, len(rows))
	for i, r := range rows {
		if i < k {
			out[i] = cap
			continue
		}
		s := new(big.Rat).SetFrac(big.NewInt(r.Weight), rest)
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
//	# agora share table 1
//	# release <release root, base64>
//	# cap <the cap, as a fraction>
//	contributor	votes	weight	share
//	<pseudonym>	<votes>	<weight>	<share, 0.xxxxxxxxx>
func ShareTable(release Hash, cap *big.Rat, rows []ShareRow) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# agora share table 1\n# release %s\n# cap %s\ncontributor\tvotes\tweight\tshare\n", release, cap.RatString())
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\t%d\t%d\t%s\n", r.Contributor, r.Votes, r.Weight, FormatShare(r.Units))
	}
	return []byte(b.String())
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
