package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/agora-rlhf/agora/rlhf"
)

// LeafReader reads the log's leaves and tree hashes: what a release is
// built from.
type LeafReader interface {
	LogSize(ctx context.Context) (int64, error)
	ReadHashes(ctx context.Context, indexes []int64) ([]Hash, error)
	LeafRecords(ctx context.Context, from, n int64) ([][]byte, error)
}

// Exclusion is a vote of the log left out of a release, and the leaf that
// says why.
type Exclusion struct {
	Leaf   int64  // the vote's leaf
	Reason string // "quarantined" or "erased"
	By     int64  // the quarantine decision's or the tombstone's leaf
}

// logVote is a vote leaf read back, its record checked against the tree.
type logVote struct {
	leaf        int64
	id          string
	contributor string // pseudonym
	hash        Hash
	gold        GoldAnswer
}

// GoldAnswer is what a vote's leaf says about its battle.
type GoldAnswer uint8

const (
	NotGold      GoldAnswer = iota // an ordinary battle: the vote is data
	GoldUnscored                   // a gold battle not scored (or logged before the gold line)
	GoldRight                      // a scored gold battle, the right side picked
	GoldWrong                      // a scored gold battle, the wrong side (or a tie, or both bad)
)

// voteGold reads a vote record's lines: whether its battle is gold (a
// model named gold:<kind>, or a gold line) and, if scored, whether the
// winner is the right side.
func voteGold(lines [][]string) GoldAnswer {
	var models, winner, gold []string
	for _, f := range lines {
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "models":
			models = f[1:]
		case "winner":
			winner = f[1:]
		case "gold":
			gold = f[1:]
		}
	}
	isGold := gold != nil
	for _, m := range models {
		isGold = isGold || strings.HasPrefix(m, rlhf.GoldModelPrefix)
	}
	switch {
	case !isGold:
		return NotGold
	case len(gold) != 2 || (gold[1] != "a" && gold[1] != "b"):
		return GoldUnscored
	case len(winner) == 1 && winner[0] == gold[1]:
		return GoldRight
	}
	return GoldWrong
}

// tally is what v counts in a contributor's tally; data says whether it
// gave a row of the release's data.
func (v *logVote) tally(data bool) Tally { return v.gold.tally(data) }

// tally is what a vote of answer g counts; data says whether it is in the
// data (ordinary votes count only then).
func (g GoldAnswer) tally(data bool) Tally {
	switch g {
	case NotGold:
		if data {
			return Tally{Votes: 1}
		}
	case GoldRight:
		return Tally{Gold: 1, Correct: 1}
	case GoldWrong:
		return Tally{Gold: 1}
	}
	return Tally{}
}

// logState is what the first leaves of the log say about the votes: the
// votes whose records still hash to the tree, and those left out.
type logState struct {
	size     int64
	root     Hash
	votes    []logVote // leaf order, to be released
	excluded []Exclusion
}

// scanLeafBatch is how many leaves a scan reads at a time.
const scanLeafBatch = 1024

// scanLog reads the first size leaves and decides which votes a release
// of that state of the log holds: every vote whose record hashes to its
// leaf, but those of contributors quarantined at the end of the state and
// those erased by a tombstone. A vote whose record no longer hashes to
// its leaf, or whose content is gone with no tombstone to say why, is an
// error naming the leaf: the store was tampered with.
func scanLog(ctx context.Context, r LeafReader, size int64) (*logState, error) {
	n, err := r.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	if size <= 0 || size > n {
		return nil, rlhf.Errorf(rlhf.EInvalid, "the log has %d leaves: a release needs a state of 1 to %d leaves, not %d", n, n, size)
	}
	root, err := tlog.TreeHash(size, tlog.HashReaderFunc(func(x []int64) ([]tlog.Hash, error) { return r.ReadHashes(ctx, x) }))
	if err != nil {
		return nil, fmt.Errorf("hash the log's first %d leaves: %w", size, err)
	}
	sc := scanner{quarantined: map[string]int64{}, erasedVote: map[string]int64{}, erasedBy: map[string]int64{}, missing: map[string]int64{}}
	for from := int64(0); from < size; from += scanLeafBatch {
		k := min(scanLeafBatch, size-from)
		recs, err := r.LeafRecords(ctx, from, k)
		if err != nil {
			return nil, err
		}
		idx := make([]int64, k)
		for i := range idx {
			idx[i] = tlog.StoredHashIndex(0, from+int64(i))
		}
		hashes, err := r.ReadHashes(ctx, idx)
		if err != nil {
			return nil, err
		}
		for i, rec := range recs {
			if err := sc.leaf(from+int64(i), rec, hashes[i]); err != nil {
				return nil, err
			}
		}
	}
	st, err := sc.state()
	if err != nil {
		return nil, err
	}
	st.size, st.root = size, root
	return st, nil
}

// scanner follows the leaves in order.
type scanner struct {
	votes       []logVote
	quarantined map[string]int64 // pseudonym → leaf of the quarantine in force
	erasedVote  map[string]int64 // vote id → tombstone leaf
	erasedBy    map[string]int64 // pseudonym → tombstone leaf of all their votes
	missing     map[string]int64 // vote id → leaf whose content is gone
}

func (sc *scanner) leaf(i int64, rec []byte, want Hash) error {
	kind, err := KindOf(rec)
	if err != nil {
		return fmt.Errorf("leaf %d: %w", i, err)
	}
	lines := Fields(rec)
	f := firstValues(lines)
	if kind == KindMissing {
		if f["kind"] == string(rune(KindVote)) {
			sc.missing[f["ref"]] = i
			return nil
		}
		return fmt.Errorf("leaf %d: the store no longer has this leaf's content (kind %s, ref %q)", i, f["kind"], f["ref"])
	}
	if got := RecordHash(rec); got != want {
		return fmt.Errorf("leaf %d: its record hashes to %s, but the tree holds %s: the store was changed", i, got, want)
	}
	switch kind {
	case KindVote:
		sc.votes = append(sc.votes, logVote{leaf: i, id: f["id"], contributor: f["contributor"], hash: want, gold: voteGold(lines)})
	case KindQuarantine:
		switch f["action"] {
		case "quarantine":
			sc.quarantined[f["contributor"]] = i
		case "lift":
			delete(sc.quarantined, f["contributor"])
		}
	case KindTombstone:
		if v := f["vote"]; v != "-" {
			sc.erasedVote[v] = i
		} else {
			sc.erasedBy[f["contributor"]] = i
		}
	}
	return nil
}

// state applies the quarantines in force and the tombstones to the votes.
func (sc *scanner) state() (*logState, error) {
	st := &logState{}
	for id, leaf := range sc.missing {
		by, ok := sc.erasedVote[id]
		if !ok {
			return nil, fmt.Errorf("leaf %d: vote %s is gone from the store and no tombstone in the log says why", leaf, id)
		}
		st.excluded = append(st.excluded, Exclusion{Leaf: leaf, Reason: "erased", By: by})
	}
	for _, v := range sc.votes {
		if by, ok := sc.erasedVote[v.id]; ok {
			st.excluded = append(st.excluded, Exclusion{Leaf: v.leaf, Reason: "erased", By: by})
		} else if by, ok := sc.erasedBy[v.contributor]; ok {
			st.excluded = append(st.excluded, Exclusion{Leaf: v.leaf, Reason: "erased", By: by})
		} else if by, ok := sc.quarantined[v.contributor]; ok {
			st.excluded = append(st.excluded, Exclusion{Leaf: v.leaf, Reason: "quarantined", By: by})
		} else {
			st.votes = append(st.votes, v)
		}
	}
	sort.Slice(st.excluded, func(i, j int) bool { return st.excluded[i].Leaf < st.excluded[j].Leaf })
	return st, nil
}

// recordFields returns the first value of each line of a record by key.
func recordFields(rec []byte) map[string]string { return firstValues(Fields(rec)) }

// firstValues returns the first value of each of a record's lines (as
// Fields reads them) by key.
func firstValues(lines [][]string) map[string]string {
	m := map[string]string{}
	for _, f := range lines {
		if len(f) >= 2 {
			if _, ok := m[f[0]]; !ok {
				m[f[0]] = f[1]
			}
		}
	}
	return m
}
