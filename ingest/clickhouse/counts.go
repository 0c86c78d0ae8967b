package clickhouse

import (
	"sort"

	"github.com/agora-rlhf/agora/rlhf"
)

// PairCount is how the votes on battles between ModelA (on side a) and
// ModelB (on side b) went.
type PairCount struct {
	ModelA, ModelB string
	WinsA, WinsB   int64
	Ties, BothBad  int64
}

// Total returns the number of votes counted.
func (p PairCount) Total() int64 { return p.WinsA + p.WinsB + p.Ties + p.BothBad }

// Add counts one verdict.
func (p *PairCount) Add(w rlhf.Winner) {
	switch w {
	case rlhf.WinnerA:
		p.WinsA++
	case rlhf.WinnerB:
		p.WinsB++
	case rlhf.WinnerTie:
		p.Ties++
	case rlhf.WinnerBothBad:
		p.BothBad++
	}
}

// BlockCount is the pair counts of one block of a store's votes: those with
// sequence numbers from Block*CountBlockSize up to and including Through.
//
// pair_counts keeps one row per store, block and pair, versioned by
// Through (see version). A later shipment of the same block counts a
// superset of the votes and carries a higher or equal Through, so
// ReplacingMergeTree keeps the most complete count however often a block is
// shipped. That is what makes the counts exactly-once: a materialized view
// into a SummingMergeTree would add a retried insert a second time.
//
// An erasure takes votes out of blocks already shipped: the block is then
// counted again from the store and written as Recounted, which outranks
// every earlier row of the block up to the same Through, while any later
// shipment of the block (with a higher Through) outranks the recount.
type BlockCount struct {
	Block     int64
	Through   int64
	Pairs     []PairCount
	Recounted bool
}

// version is the block's rows' ReplacingMergeTree version: 2·Through for
// a shipment, 2·Through+1 for a recount after an erasure. Rows written
// before recounts existed carry Through itself, which every newer row of
// the same block outranks (Through only grows).
func (bc BlockCount) version() uint64 {
	v := 2 * uint64(max(bc.Through, 0))
	if bc.Recounted {
		v++
	}
	return v
}

// BlockOf returns the block of sequence number seq.
func BlockOf(seq int64) int64 { return seq / CountBlockSize }

// BlockCounter keeps the running pair counts of the blocks a shipper is
// working on. Records must be added in ascending sequence order, each once,
// starting at the first sequence number of a block.
type BlockCounter struct {
	blocks map[int64]*blockState
}

type blockState struct {
	through int64
	pairs   map[[2]string]*PairCount
}

// NewBlockCounter returns an empty counter.
func NewBlockCounter() *BlockCounter {
	return &BlockCounter{blocks: map[int64]*blockState{}}
}

// Add counts the vote of r, whose sequence number is seq. A vote that is
// not counted (rlhf.Record.Counted: a side failed, the battle was not
// anonymous, or it was a gold battle) only moves the block's Through on.
func (c *BlockCounter) Add(seq int64, r *rlhf.Record) {
	k := BlockOf(seq)
	st := c.blocks[k]
	if st == nil {
		st = &blockState{pairs: map[[2]string]*PairCount{}}
		c.blocks[k] = st
	}
	if !r.Counted() {
		st.through = max(st.through, seq)
		return
	}
	key := [2]string{r.Battle.ModelA, r.Battle.ModelB}
	p := st.pairs[key]
	if p == nil {
		p = &PairCount{ModelA: key[0], ModelB: key[1]}
		st.pairs[key] = p
	}
	p.Add(r.Vote.Winner)
	st.through = max(st.through, seq)
}

// Counts returns a copy of the counts of every block from BlockOf(first) to
// BlockOf(last) that has votes, pairs sorted by name.
func (c *BlockCounter) Counts(first, last int64) []BlockCount {
	var out []BlockCount
	for k := BlockOf(first); k <= BlockOf(last); k++ {
		st := c.blocks[k]
		if st == nil {
			continue
		}
		bc := BlockCount{Block: k, Through: st.through, Pairs: make([]PairCount, 0, len(st.pairs))}
		for _, p := range st.pairs {
			bc.Pairs = append(bc.Pairs, *p)
		}
		sortPairs(bc.Pairs)
		out = append(out, bc)
	}
	return out
}

// Forget drops the blocks before block, which will not be shipped again.
func (c *BlockCounter) Forget(block int64) {
	for k := range c.blocks {
		if k < block {
			delete(c.blocks, k)
		}
	}
}

func sortPairs(ps []PairCount) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].ModelA != ps[j].ModelA {
			return ps[i].ModelA < ps[j].ModelA
		}
		return ps[i].ModelB < ps[j].ModelB
	})
}
