package ledger

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/agora-rlhf/agora/rlhf"
)

// receiptHeader is the first line of a single receipt's statement, as
// servers signed them before receipts were signed in batches; receiptsHeader
// is the first line of a batch's statement.
const (
	receiptHeader  = "agora vote receipt"
	receiptsHeader = "agora vote receipts"
)

// Receipt returns the receipt of v, the vote on b, whose leaf the store
// has committed: the leaf's index and hash, and a signed statement that
// includes them.
//
// An ed25519 signature costs about as much as the rest of a vote's
// acknowledgement, so votes committed together share one: when the store
// commits votes' leaves it tells the log (Encoder.Committed), which adds
// them to the open batch; the first of its votes asked for closes it and
// signs one statement over the Merkle root of the batch's entries, one per
// vote, and each receipt gives its entry's inclusion proof in that batch
// (docs/ledger.md, Receipts). The signing happens in the callers, which run
// in parallel, not in the store's one writer. A vote the log was not told
// of gets a batch of its own.
func (l *Log) Receipt(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) (*rlhf.Receipt, error) {
	if s, ok := l.receipts.take(v.ID); ok {
		return s.batch.receipt(l, s.pos)
	}
	index, hash, err := l.cfg.Store.VoteLeaf(ctx, v.ID)
	if err != nil {
		return nil, fmt.Errorf("receipt of vote %s: %w", v.ID, err)
	}
	r, err := newReceiptBatch([]CommittedVote{{ID: v.ID, Index: index, Hash: hash}}).receipt(l, 0)
	if err != nil {
		return nil, fmt.Errorf("receipt of vote %s: %w", v.ID, err)
	}
	return r, nil
}

// signCommitted adds the votes of a commit to the open batch of receipts,
// which the first of its votes asked for signs (and closes): the store's
// writer only hands them over, and commits that follow each other faster
// than batches are signed share a signature.
func (l *Log) signCommitted(votes []CommittedVote) {
	c := &l.receipts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 65536 { // receipts never asked for
		c.m = make(map[string]receiptSlot, 4096)
	}
	if c.open == nil || len(c.open.leaves)+len(votes) > maxBatch {
		c.open = &receiptBatch{}
	}
	b := c.open
	for _, v := range votes {
		c.m[v.ID] = receiptSlot{b, len(b.leaves)}
		b.leaves = append(b.leaves, receiptLeaf{index: v.Index, hash: v.Hash})
	}
}

// maxBatch is the most receipts one statement signs.
const maxBatch = 4096

// receiptCache keeps the batches of the votes committed, by vote id, until
// Receipt takes each vote's receipt, and the batch still open.
type receiptCache struct {
	mu   sync.Mutex // guards m, open, and open's leaves
	m    map[string]receiptSlot
	open *receiptBatch // takes committed votes until it is signed
}

// A receiptSlot is a vote's entry in its batch.
type receiptSlot struct {
	batch *receiptBatch
	pos   int
}

func (c *receiptCache) take(id string) (receiptSlot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[id]
	delete(c.m, id)
	return s, ok
}

// A receiptBatch is the receipts of the votes of one or more commits,
// signed once.
type receiptBatch struct {
	leaves []receiptLeaf
	once   sync.Once
	// Set by sign:
	statement string     // the signed statement
	nodes     [][]string // the tree's hashes in base64, level by level, without the root
	err       error
}

// A receiptLeaf is one vote's leaf in a batch.
type receiptLeaf struct {
	index int64
	hash  Hash
	text  string // hash in base64, set by sign
}

func newReceiptBatch(votes []CommittedVote) *receiptBatch {
	b := &receiptBatch{leaves: make([]receiptLeaf, len(votes))}
	for i, v := range votes {
		b.leaves[i] = receiptLeaf{index: v.Index, hash: v.Hash}
	}
	return b
}

// receipt returns the receipt of the batch's entry pos, signing the batch
// first if no receipt of it has been asked for yet.
func (b *receiptBatch) receipt(l *Log, pos int) (*rlhf.Receipt, error) {
	b.once.Do(func() {
		c := &l.receipts
		c.mu.Lock()
		if c.open == b { // no more votes join it
			c.open = nil
		}
		c.mu.Unlock()
		b.sign(l)
	})
	if b.err != nil {
		return nil, b.err
	}
	path := make([]string, 0, len(b.nodes))
	for level, j := 0, pos; level < len(b.nodes); level, j = level+1, j>>1 {
		if s := j ^ 1; s < len(b.nodes[level]) {
			path = append(path, b.nodes[level][s])
		}
	}
	leaf := &b.leaves[pos]
	return &rlhf.Receipt{LeafIndex: leaf.index, LeafHash: leaf.text, Statement: b.statement, Batch: int64(pos), BatchProof: path}, nil
}

// sign builds the batch's tree of entries and signs its root. The tree is
// RFC 6962's, built level by level: pairs are hashed together and a last
// node without a pair goes up a level as it is, which gives the same root
// and proofs as tlog's (a receipt's proof is its entry's siblings, level by
// level, where there is one), each hash encoded once for every receipt.
func (b *receiptBatch) sign(l *Log) {
	level := make([]Hash, len(b.leaves))
	for i := range b.leaves {
		leaf := &b.leaves[i]
		leaf.text = leaf.hash.String()
		level[i] = tlog.RecordHash(receiptEntry(leaf.index, leaf.text))
	}
	for len(level) > 1 {
		texts := make([]string, len(level))
		next := make([]Hash, (len(level)+1)/2)
		for i, h := range level {
			texts[i] = h.String()
			if i%2 == 1 {
				next[i/2] = tlog.NodeHash(level[i-1], h)
			} else if i == len(level)-1 {
				next[i/2] = h
			}
		}
		b.nodes = append(b.nodes, texts)
		level = next
	}
	msg, err := l.cfg.Key.Sign(receiptsText(l.Origin(), int64(len(b.leaves)), level[0], l.cfg.Now()))
	b.statement, b.err = string(msg), err
}

// receiptEntry is the record of a receipt's entry in its batch: the leaf's
// index and hash (base64), "INDEX HASH\n".
func receiptEntry(index int64, hash string) []byte {
	buf := make([]byte, 0, 20+len(hash)+2)
	buf = strconv.AppendInt(buf, index, 10)
	buf = append(buf, ' ')
	buf = append(buf, hash...)
	return append(buf, '\n')
}

// receiptsText is a batch's signed statement: a header line, the log's
// origin, the number of entries, their Merkle root and the time it was
// signed.
func receiptsText(origin string, n int64, root Hash, at time.Time) string {
	return fmt.Sprintf("%s\n%s\n%d\n%s\n%s\n", receiptsHeader, origin, n, root, at.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// OpenReceipt checks a receipt's statement against the log's verifier key
// and that it includes what the receipt says: for a batch statement, the
// receipt's entry's inclusion proof in the signed root; for a single
// statement (older servers), its lines. It returns the leaf's index and
// hash.
func OpenReceipt(r *rlhf.Receipt, logKey string) (int64, Hash, error) {
	v, err := note.NewVerifier(logKey)
	if err != nil {
		return 0, Hash{}, fmt.Errorf("log key %q: %w", logKey, err)
	}
	n, err := note.Open([]byte(r.Statement), note.VerifierList(v))
	if err != nil {
		return 0, Hash{}, fmt.Errorf("receipt signature: %w", err)
	}
	hash, err := tlog.ParseHash(r.LeafHash)
	if err != nil || r.LeafIndex < 0 {
		return 0, Hash{}, fmt.Errorf("malformed receipt leaf %d, hash %q", r.LeafIndex, r.LeafHash)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 5 || (lines[0] != receiptHeader && lines[0] != receiptsHeader) {
		return 0, Hash{}, fmt.Errorf("malformed receipt statement")
	}
	if lines[1] != v.Name() {
		return 0, Hash{}, fmt.Errorf("receipt is from log %q, not %q", lines[1], v.Name())
	}
	if lines[0] == receiptHeader {
		err = checkSingle(lines, r.LeafIndex, hash)
	} else {
		err = checkBatch(lines, r, hash)
	}
	if err != nil {
		return 0, Hash{}, err
	}
	return r.LeafIndex, hash, nil
}

// checkSingle checks a single receipt statement's lines (index, hash)
// against the receipt's leaf.
func checkSingle(lines []string, index int64, hash Hash) error {
	i, h, err := numberAndHash(lines, 0, "leaf index", "leaf hash")
	if err != nil {
		return err
	}
	if i != index || h != hash {
		return fmt.Errorf("the signed statement says leaf %d with hash %s; the receipt says leaf %d with hash %s", i, h, index, hash)
	}
	return nil
}

// numberAndHash parses a receipt statement's third and fourth lines: a
// number, at least least, and a hash; num and hash name them in errors.
func numberAndHash(lines []string, least int64, num, hash string) (int64, Hash, error) {
	n, err := strconv.ParseInt(lines[2], 10, 64)
	if err != nil || n < least {
		return 0, Hash{}, fmt.Errorf("malformed receipt %s %q", num, lines[2])
	}
	h, err := tlog.ParseHash(lines[3])
	if err != nil {
		return 0, Hash{}, fmt.Errorf("malformed receipt %s %q", hash, lines[3])
	}
	return n, h, nil
}

// checkBatch checks that a batch statement's root (lines: count, root)
// includes the receipt's entry at its position.
func checkBatch(lines []string, r *rlhf.Receipt, hash Hash) error {
	count, root, err := numberAndHash(lines, 1, "batch size", "batch root")
	if err != nil {
		return err
	}
	proof := make(tlog.RecordProof, len(r.BatchProof))
	for i, s := range r.BatchProof {
		if proof[i], err = tlog.ParseHash(s); err != nil {
			return fmt.Errorf("malformed receipt batch proof: %q", s)
		}
	}
	if r.Batch < 0 || r.Batch >= count {
		return fmt.Errorf("receipt entry %d is outside its batch of %d", r.Batch, count)
	}
	if err := tlog.CheckRecord(proof, count, root, r.Batch, tlog.RecordHash(receiptEntry(r.LeafIndex, hash.String()))); err != nil {
		return fmt.Errorf("the signed statement does not include leaf %d with hash %s: %w", r.LeafIndex, hash, err)
	}
	return nil
}
