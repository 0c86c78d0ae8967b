package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/agora-rlhf/agora/rlhf"
)

// PointsPerVote is what an accepted vote of quality 1 earns. A vote's
// points are PointsPerVote times its quality (1 until gold battles measure
// a contributor's accuracy), and 0 while its contributor is quarantined.
const PointsPerVote = 10

// ContributorLeaf is one of a contributor's votes and its leaf.
type ContributorLeaf struct {
	Leaf int64
	Vote string
	At   time.Time
}

// ContributionStore is what contributors' points are read from:
// ingest/store's Store.
type ContributionStore interface {
	ReadHashes(ctx context.Context, indexes []int64) ([]Hash, error)
	LeafIndex(ctx context.Context, ref string) (int64, error)
	// ContributorLeaves returns the newest limit votes of contributor
	// that have a leaf, newest first, and how many they have in all.
	ContributorLeaves(ctx context.Context, contributor string, limit int) ([]ContributorLeaf, int64, error)
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
}

// NewContributions returns the Contributions of store, whose log's
// pseudonyms enc makes.
func NewContributions(store ContributionStore, enc *Encoder, quarantined func(string) bool) *Contributions {
	return &Contributions{store: store, enc: enc, quarantined: quarantined}
}

// VotePoints returns the points v earns, shown with the reveal.
func (c *Contributions) VotePoints(v *rlhf.Vote) int {
	if c.quarantined != nil && c.quarantined(v.ContributorID) {
		return 0
	}
	return PointsPerVote
}

// Points is what GET /api/v1/me/points tells a contributor.
type Points struct {
	Contributor string `json:"contributor"` // the log's pseudonym
	Votes       int64  `json:"votes"`       // votes with a leaf in the log
	Total       int64  `json:"total"`       // points of all of them
	Quarantined bool   `json:"quarantined"` // while true, votes earn nothing
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

// ReleaseShare is a contributor's share of one release.
type ReleaseShare struct {
	Release Hash   `json:"release_root"`
	Leaf    int64  `json:"release_leaf"`
	LogSize int64  `json:"log_size"`
	Votes   int64  `json:"votes"`
	Share   string `json:"share"` // as in the share table: "0.012345678"
}

// MaxReceipts is how many receipts Points lists.
const MaxReceipts = 200

// Points returns contributor's points, receipts and shares.
func (c *Contributions) Points(ctx context.Context, contributor string) (*Points, error) {
	leaves, n, err := c.store.ContributorLeaves(ctx, contributor, MaxReceipts)
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
	p := &Points{Contributor: c.enc.Pseudonym(contributor), Votes: n, Receipts: []PointsReceipt{}}
	p.Quarantined = c.quarantined != nil && c.quarantined(contributor)
	per := c.VotePoints(&rlhf.Vote{ContributorID: contributor})
	p.Total = n * int64(per)
	for i, l := range leaves {
		p.Receipts = append(p.Receipts, PointsReceipt{Vote: l.Vote, Leaf: l.Leaf, LeafHash: hashes[i], At: l.At, Points: per})
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
		s := ReleaseShare{Release: r.Root, Leaf: r.Leaf, LogSize: r.LogSize, Share: FormatShare(0)}
		for _, ln := range strings.Split(string(r.Table), "\n") {
			f := strings.Split(ln, "\t")
			if len(f) == 4 && f[0] == pseudonym {
				fmt.Sscan(f[1], &s.Votes)
				s.Share = f[3]
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
