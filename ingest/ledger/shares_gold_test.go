package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agora-rlhf/agora/ingest/ledger"
	"github.com/agora-rlhf/agora/rlhf"
)

// goldVoter casts votes: a share gold of them on gold battles (a few
// left unscored), answered right with probability accuracy.
type goldVoter struct {
	name     string
	votes    int
	accuracy float64
}

// goldVote is one vote of a goldVoter's, decided before it is cast so
// that the whole and split runs cast the same votes.
type goldVote struct {
	who         string
	gold        bool
	scored      bool
	right, pick rlhf.Side
}

// plan decides every vote of voters, with gold battles a tenth of them.
func plan(voters []goldVoter) []goldVote {
	rng := rand.New(rand.NewPCG(7, 11))
	var out []goldVote
	for _, v := range voters {
		for range v.votes {
			g := goldVote{who: v.name}
			if rng.Float64() < 0.1 {
				g.gold, g.scored = true, rng.Float64() < 0.9
				g.right = []rlhf.Side{rlhf.SideA, rlhf.SideB}[rng.IntN(2)]
				g.pick = g.right
				if rng.Float64() >= v.accuracy {
					g.pick = other(g.right)
				}
			}
			out = append(out, g)
		}
	}
	return out
}

// cast stores the planned votes, a few at a time, with c0's spread over
// ten identities (c0-0 … c0-9, in turn) when split.
func (tl *testLog) cast(t *testing.T, votes []goldVote, split bool) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	c0 := 0
	for i, g := range votes {
		who := g.who
		if split && who == "c0" {
			who = fmt.Sprintf("c0-%d", c0%10)
			c0++
		}
		b, v := battleAndVote(i)
		b.ContributorID, v.ContributorID, v.Winner = who, who, rlhf.WinnerA
		if g.gold {
			b.Gold, b.ModelB = rlhf.GoldTruncated, rlhf.GoldModelPrefix+rlhf.GoldTruncated
			if g.right == rlhf.SideB {
				b.ModelA, b.ModelB = b.ModelB, b.ModelA
			}
			if g.scored {
				b.GoldWinner = g.right
			}
			v.Winner = rlhf.Winner(g.pick)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := tl.store.SaveVote(context.Background(), b, v); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

// TestSharesSybilGold: with gold battles scoring contributors, shares
// follow gold accuracy (a careful contributor's vote weighs more than a
// random clicker's), add up to 1, are rebuilt byte for byte from the log,
// and one contributor's votes spread over ten identities keep their total
// share within 1% (here: exactly, but for rounding).
func TestSharesSybilGold(t *testing.T) {
	voters := []goldVoter{{"c0", 90, 0.9}} // under the cap
	for i := 1; i < 12; i++ {
		acc := 0.95
		if i%4 == 0 {
			acc = 1.0 / 3 // random clickers
		}
		voters = append(voters, goldVoter{fmt.Sprintf("c%d", i), 60 + 7*i, acc})
	}
	votes := plan(voters)
	build := func(split bool) (map[string]int64, string, *testLog) {
		tl := openLog(t, ledger.Config{})
		tl.cast(t, votes, split)
		dir, again := t.TempDir(), t.TempDir()
		if _, err := tl.release(t, dir, tl.size(t), false); err != nil {
			t.Fatal(err)
		}
		table, _ := os.ReadFile(filepath.Join(dir, ledger.SharesFile))
		if _, err := tl.release(t, again, int64(len(votes)), true); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(again, ledger.SharesFile)); !bytes.Equal(b, table) {
			t.Errorf("share table rebuilt from the log differs:\n%s\n%s", table, b)
		}
		return parseShares(t, table), string(table), tl
	}
	whole, table, tw := build(false)
	split, splitTable, ts := build(true)
	q, err := ledger.TableQuality([]byte(table))
	if err != nil || q.Right.Sign() <= 0 || q.Wrong.Sign() >= 0 {
		t.Fatalf("the table's values of gold answers: %v, %v; want right > 0 > wrong\n%s", q, err, table)
	}
	perVote := func(name string) float64 {
		w := weightOf(t, table, tw.log.Encoder().Pseudonym(name))
		return w / float64(countOrdinary(votes, name))
	}
	if careful, clicker := perVote("c1"), perVote("c4"); !(careful > 1 && clicker < 0.85) {
		t.Errorf("weight per vote: careful %.3f, random clicker %.3f; want more than 1 and less than 0.85\n%s", careful, clicker, table)
	}
	var ids []string
	for k := range 10 {
		ids = append(ids, ts.log.Encoder().Pseudonym(fmt.Sprintf("c0-%d", k)))
	}
	var after int64
	for _, id := range ids {
		after += split[id]
	}
	before := whole[tw.log.Encoder().Pseudonym("c0")]
	if before == 0 || abs(after-before)*100 > before {
		t.Errorf("c0's share: %s whole, %s over ten identities: more than 1%% apart", ledger.FormatShare(before), ledger.FormatShare(after))
	}
	t.Logf("c0's share: %s whole, %s over ten identities", ledger.FormatShare(before), ledger.FormatShare(after))
	// The same votes valued by a per-identity Beta(1, 1) posterior of gold
	// accuracy: splitting moves c0 by more than 1%, which is why shares do
	// not use it.
	nb := naiveShare(t, table, tw.log.Encoder().Pseudonym("c0"))
	na := naiveShare(t, splitTable, ids...)
	if math.Abs(na-nb) <= nb/100 {
		t.Errorf("a per-identity posterior moves c0 from %.4f to %.4f: this test would not tell it from shares", nb, na)
	}
	t.Logf("with a per-identity posterior instead, c0's share would go from %.4f to %.4f", nb, na)
}

// naiveShare is the uncapped share of ids when each identity's votes are
// weighted by its own Beta(1, 1) posterior mean of gold accuracy.
func naiveShare(t *testing.T, table string, ids ...string) float64 {
	t.Helper()
	var mine, all float64
	for ln := range strings.Lines(table) {
		f := strings.Split(strings.TrimSpace(ln), "\t")
		if len(f) != 6 || f[0] == "contributor" {
			continue
		}
		var votes, gold, right float64
		fmt.Sscan(f[1]+" "+f[2]+" "+f[3], &votes, &gold, &right)
		w := votes * (right + 1) / (gold + 2)
		all += w
		if slices.Contains(ids, f[0]) {
			mine += w
		}
	}
	return mine / all
}

// weightOf reads a contributor's weight from a share table.
func weightOf(t *testing.T, table, who string) float64 {
	t.Helper()
	for ln := range strings.Lines(table) {
		if f := strings.Split(strings.TrimSpace(ln), "\t"); len(f) == 6 && f[0] == who {
			w, _ := new(big.Rat).SetString(f[4])
			x, _ := w.Float64()
			return x
		}
	}
	t.Fatalf("%s is not in the table\n%s", who, table)
	return 0
}

func countOrdinary(votes []goldVote, who string) (n int64) {
	for _, v := range votes {
		if v.who == who && !v.gold {
			n++
		}
	}
	return n
}

func other(s rlhf.Side) rlhf.Side {
	if s == rlhf.SideA {
		return rlhf.SideB
	}
	return rlhf.SideA
}
