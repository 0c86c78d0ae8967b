package ledger

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/agora-rlhf/agora/rlhf"
)

// PointsPerVote is what an accepted vote of value 1 earns. A vote earns
// PointsPerVote times its value in the newest release's share table
// (Quality, rounded to whole points): an ordinary vote 10, a gold answer
// Right or Wrong times 10 (before any release gold answers earn 0); and
// nothing while its contributor is quarantined.
const PointsPerVote = 10

// PointValuesRefresh is how long the values of votes read from the newest
// release are used before they are read again.
const PointValuesRefresh = 10 * time.Second

// ContributorLeaf is one of a contributor's votes and its leaf.
type ContributorLeaf struct {
	Leaf int64
	Vote string
	At   time.Time
	Gold GoldAnswer // what its leaf says of its battle
}

// ContributionStore is what contributors' points are read from:
// ingest/store's Store.
type ContributionStore interface {
	ReadHashes(ctx context.Context, indexes []int64) ([]Hash, error)
	LeafIndex(ctx context.Context, voteID string) (int64, error)
	// ContributorLeaves returns the newest limit votes of contributor
	// that have a leaf, newest first, and how many they have in all.
	ContributorLeaves(ctx context.Context, contributor string, limit int) ([]ContributorLeaf, int64, error)
	// ContributorTally counts the votes of contributor that have a leaf
	// as a release would (ordinary votes all counted as data).
	ContributorTally(ctx context.Context, contributor string) (Tally, error)
	// LatestShareTable returns the newest release's share table, nil
	// when there is no release.
	LatestShareTable(ctx context.Context) ([]byte, error)
	// Releases returns the releases, oldest first, without manifests.
	Releases(ctx context.Context) ([]*StoredRelease, error)
	ReleaseManifest(ctx context.Context, root Hash) ([]byte, error)
}

// Contributions answers contributors about what they contributed: the
// points of a vote just cast, their running total, their receipts and
// their shares of the releases. It is safe for concurrent use.
type Contributions struct {
	store ContributionStore
	enc   *Encoder
	// quarantined reports whether a contributor is quarantined now; nil
	// means no one is.
	quarantined func(contributor string) bool

	mu       sync.Mutex
	values   PointValues // what votes earn, from the newest release
	valuesAt time.Time   // when values were read; zero: never
}

// NewContributions returns the Contributions of store, whose log's
// pseudonyms enc makes.
func NewContributions(store ContributionStore, enc *Encoder, quarantined func(string) bool) *Contributions {
	return &Contributions{store: store, enc: enc, quarantined: quarantined, values: valuesOf(NewQuality(Tally{}, new(big.Rat)))}
}

// PointValues are the points a vote earns, by what it is.
type PointValues struct {
	Vote  int64 `json:"vote"`       // a vote on an ordinary battle
	Right int64 `json:"gold_right"` // a right answer on a scored gold battle
	Wrong int64 `json:"gold_wrong"` // a wrong one (negative)
}

func valuesOf(q Quality) PointValues {
	return PointValues{Vote: PointsPerVote, Right: PointsOf(q.Right), Wrong: PointsOf(q.Wrong)}
}

// of returns the points of a vote whose leaf says g.
func (pv PointValues) of(g GoldAnswer) int64 {
	switch g {
	case NotGold:
		return pv.Vote
	case GoldRight:
		return pv.Right
	case GoldWrong:
		return pv.Wrong
	}
	return 0
}

// total returns the points of a tally: never below 0, and 0 with no
// ordinary vote, as a weight in a release.
func (pv PointValues) total(t Tally) int64 {
	if t.Votes == 0 {
		return 0
	}
	return max(0, pv.Vote*t.Votes+pv.Right*t.Correct+pv.Wrong*(t.Gold-t.Correct))
}

// pointValues returns the values of votes from the newest release's share
// table, read again when older than PointValuesRefresh or when fresh is
// set. When the table cannot be read the last values are kept. The table
// is read outside the lock, so a reader of points never holds up a
// reveal's VotePoints.
func (c *Contributions) pointValues(ctx context.Context, fresh bool) (PointValues, error) {
	c.mu.Lock()
	values, at := c.values, c.valuesAt
	c.mu.Unlock()
	if !fresh && !at.IsZero() && time.Since(at) < PointValuesRefresh {
		return values, nil
	}
	table, err := c.store.LatestShareTable(ctx)
	if err != nil {
		return values, err
	}
	q, err := TableQuality(table)
	if err != nil {
		return values, fmt.Errorf("the newest share table: %w", err)
	}
	values = valuesOf(q)
	c.mu.Lock()
	c.values, c.valuesAt = values, time.Now()
	c.mu.Unlock()
	return values, nil
}

// VotePoints returns the points v, a vote on b, earns, shown with the
// reveal.
func (c *Contributions) VotePoints(b *rlhf.Battle, v *rlhf.Vote) int {
	if c.quarantined != nil && c.quarantined(v.ContributorID) {
		return 0
	}
	pv, _ := c.pointValues(context.Background(), false) // on error, the last values
	return int(pv.of(BattleGold(b, v)))
}

// BattleGold returns what the leaf of v, a vote on b, says of b.
func BattleGold(b *rlhf.Battle, v *rlhf.Vote) GoldAnswer {
	switch side := GoldSide(b); {
	case !b.IsGold():
		return NotGold
	case side == "-":
		return GoldUnscored
	case side == string(v.Winner):
		return GoldRight
	}
	return GoldWrong
}

// Points is what GET /api/v1/me/points tells a contributor.
type Points struct {
	Contributor string `json:"contributor"` // the log's pseudonym
	Votes       int64  `json:"votes"`       // votes with a leaf in the log
	Gold        int64  `json:"gold"`        // of those, answers on scored gold battles
	Right       int64  `json:"gold_right"`  // of those, right ones
	Total       int64  `json:"total"`       // points of all of them
	Quarantined bool   `json:"quarantined"` // while true, votes earn nothing
	// Values are what each kind of vote earns now, from the newest
	// release's share table.
	Values PointValues `json:"values"`
	// Receipts are the newest votes' leaves (at most MaxReceipts), newest
	// first: prove any with GET /api/v1/log/proof?index=LEAF.
	Receipts []PointsReceipt `json:"receipts"`
	Shares   []ReleaseShare  `json:"shares"` // every release, oldest first
}

// PointsReceipt is one vote in the log.
type PointsReceipt struct {
	Vote     string    `json:"vote_id"`
	Leaf     int64     `json:"leaf_index"`
	LeafHash Hash      `json:"leaf_hash"`
	At       time.Time `json:"time"`
	Points   int       `json:"points"`
}

// ReleaseShare is a contributor's line of one release's share table.
type ReleaseShare struct {
	Release Hash   `json:"release_root"`
	Leaf    int64  `json:"release_leaf"`
	LogSize int64  `json:"log_size"`
	Votes   int64  `json:"votes"`      // ordinary votes (all votes in a version 1 table)
	Gold    int64  `json:"gold"`       // scored gold answers (0 in a version 1 table)
	Right   int64  `json:"gold_right"` // right ones
	Weight  string `json:"weight"`     // as in the share table: "12.345678"
	Share   string `json:"share"`      // as in the share table: "0.012345678"
}

// MaxReceipts is how many receipts Points lists.
const MaxReceipts = 200

// Points returns contributor's points, receipts and shares.
func (c *Contributions) Points(ctx context.Context, contributor string) (*Points, error) {
	leaves, n, err := c.store.ContributorLeaves(ctx, contributor, MaxReceipts)
	if err != nil {
		return nil, err
	}
	tally, err := c.store.ContributorTally(ctx, contributor)
	if err != nil {
		return nil, err
	}
	pv, err := c.pointValues(ctx, true)
	if err != nil {
		return nil, err
	}
	idx := make([]int64, len(leaves))
	for i, l := range leaves {
		idx[i] = tlog.StoredHashIndex(0, l.Leaf)
	}
	hashes, err := c.store.ReadHashes(ctx, idx)
	if err != nil {
		return nil, err
	}
	p := &Points{Contributor: c.enc.Pseudonym(contributor), Votes: n, Gold: tally.Gold, Right: tally.Correct, Values: pv, Receipts: []PointsReceipt{}}
	p.Quarantined = c.quarantined != nil && c.quarantined(contributor)
	if !p.Quarantined {
		p.Total = pv.total(tally)
	}
	for i, l := range leaves {
		r := PointsReceipt{Vote: l.Vote, Leaf: l.Leaf, LeafHash: hashes[i], At: l.At}
		if !p.Quarantined {
			r.Points = int(pv.of(l.Gold))
		}
		p.Receipts = append(p.Receipts, r)
	}
	if p.Shares, err = c.shares(ctx, p.Contributor); err != nil {
		return nil, err
	}
	return p, nil
}

// shares reads pseudonym's line of every release's share table.
func (c *Contributions) shares(ctx context.Context, pseudonym string) ([]ReleaseShare, error) {
	rels, err := c.store.Releases(ctx)
	if err != nil {
		return nil, err
	}
	out := []ReleaseShare{}
	for _, r := range rels {
		s := ReleaseShare{Release: r.Root, Leaf: r.Leaf, LogSize: r.LogSize, Weight: "0", Share: FormatShare(0)}
		for ln := range strings.Lines(string(r.Table)) {
			f := strings.Split(strings.TrimSuffix(ln, "\n"), "\t")
			if f[0] != pseudonym {
				continue
			}
			switch len(f) {
			case 4: // version 1: contributor votes weight share
				fmt.Sscan(f[1], &s.Votes)
				s.Weight, s.Share = f[2], f[3]
			case 6: // version 2: contributor votes gold right weight share
				fmt.Sscan(f[1]+" "+f[2]+" "+f[3], &s.Votes, &s.Gold, &s.Right)
				s.Weight, s.Share = f[4], f[5]
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// ReleaseSummary describes a release for GET /api/v1/releases.
type ReleaseSummary struct {
	Root     Hash           `json:"release_root"`
	Leaf     int64          `json:"release_leaf"`
	LogSize  int64          `json:"log_size"`
	Record   string         `json:"record"`   // the release leaf's record
	Shares   string         `json:"shares"`   // the share table
	Licences []LicenceCount `json:"licences"` // its votes by licence (SPDX); empty for releases kept before licences were
}

// Releases lists the releases in the log, oldest first.
func (c *Contributions) Releases(ctx context.Context) ([]ReleaseSummary, error) {
	rels, err := c.store.Releases(ctx)
	if err != nil {
		return nil, err
	}
	out := []ReleaseSummary{}
	for _, r := range rels {
		out = append(out, ReleaseSummary{Root: r.Root, Leaf: r.Leaf, LogSize: r.LogSize, Record: string(r.Record), Shares: string(r.Table), Licences: orEmpty(r.Licences)})
	}
	return out, nil
}

// ProveInRelease proves the leaf of vote (or leaf, when vote is "") in the
// release whose root is root (base64).
func (c *Contributions) ProveInRelease(ctx context.Context, root string, leaf int64, vote string) (*ReleaseProof, error) {
	h, err := tlog.ParseHash(root)
	if err != nil {
		return nil, rlhf.Errorf(rlhf.EInvalid, "release root %q is not a base64 hash", root)
	}
	if vote != "" {
		if leaf, err = c.store.LeafIndex(ctx, vote); err != nil {
			return nil, err
		}
	}
	m, err := c.store.ReleaseManifest(ctx, h)
	if err != nil {
		return nil, err
	}
	p, err := ProveInRelease(m, leaf)
	if err != nil {
		return nil, rlhf.Errorf(rlhf.ENotFound, "%v", err)
	}
	return p, nil
}

// orEmpty is l, or an empty list (JSON [], not null).
func orEmpty(l []LicenceCount) []LicenceCount {
	if l == nil {
		return []LicenceCount{}
	}
	return l
}
