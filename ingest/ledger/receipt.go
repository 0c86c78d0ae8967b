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
// acknowledgement, so the votes of one commit share one: when the store
// commits votes' leaves it tells the log (Encoder.Committed), which signs
// one statement over the Merkle root of a batch of entries, one per vote,
// and gives each receipt its entry's inclusion proof in that batch
// (docs/ledger.md, Receipts). A vote the log was not told of gets a batch
// of its own.
func (l *Log) Receipt(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) (*rlhf.Receipt, error) {
	if r := l.receipts.take(v.ID); r != nil {
		return r, nil
	}
	index, hash, err := l.cfg.Store.VoteLeaf(ctx, v.ID)
	if err != nil {
		return nil, fmt.Errorf("receipt of vote %s: %w", v.ID, err)
	}
	req := &receiptReq{index: index, hash: hash}
	l.signBatch([]*receiptReq{req})
	if req.err != nil {
		return nil, fmt.Errorf("receipt of vote %s: %w", v.ID, req.err)
	}
	return req.out, nil
}

// signCommitted signs the receipts of votes, committed together, in one
// batch, and keeps them for Receipt.
func (l *Log) signCommitted(votes []CommittedVote) {
	batch := make([]*receiptReq, len(votes))
	for i, v := range votes {
		batch[i] = &receiptReq{index: v.Index, hash: v.Hash}
	}
	l.signBatch(batch)
	l.receipts.mu.Lock()
	defer l.receipts.mu.Unlock()
	if l.receipts.m == nil || len(l.receipts.m) > 65536 { // receipts never asked for
		l.receipts.m = make(map[string]*rlhf.Receipt, len(votes))
	}
	for i, r := range batch {
		if r.err == nil {
			l.receipts.m[votes[i].ID] = r.out
		}
	}
}

// receiptCache keeps the receipts signed at commit until Receipt takes
// them.
type receiptCache struct {
	mu sync.Mutex // guards m
	m  map[string]*rlhf.Receipt
}

func (c *receiptCache) take(id string) *rlhf.Receipt {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[id]
	delete(c.m, id)
	return r
}

// A receiptReq is one receipt to sign: its leaf, and then the receipt or
// why there is none.
type receiptReq struct {
	index int64
	hash  Hash
	out   *rlhf.Receipt
	err   error
}

// signBatch signs one statement for batch and sets each request's receipt.
func (l *Log) signBatch(batch []*receiptReq) {
	tree := &memTree{}
	for _, r := range batch {
		tree.add(receiptEntry(r.index, r.hash))
	}
	n := int64(len(batch))
	root, err := tlog.TreeHash(n, tree)
	var msg []byte
	if err == nil {
		msg, err = l.cfg.Key.Sign(receiptsText(l.Origin(), n, root, l.cfg.Now()))
	}
	for i, r := range batch {
		if err != nil {
			r.err = err
			continue
		}
		var proof tlog.RecordProof
		if proof, r.err = tlog.ProveRecord(n, int64(i), tree); r.err != nil {
			continue
		}
		path := make([]string, len(proof))
		for j, h := range proof {
			path[j] = h.String()
		}
		r.out = &rlhf.Receipt{LeafIndex: r.index, LeafHash: r.hash.String(), Statement: string(msg), Batch: int64(i), BatchProof: path}
	}
}

// receiptEntry is the record of a receipt's entry in its batch: the leaf's
// index and hash, "INDEX HASH\n".
func receiptEntry(index int64, hash Hash) []byte {
	return []byte(strconv.FormatInt(index, 10) + " " + hash.String() + "\n")
}

// memTree is a small tlog tree in memory: a batch of receipts' entries.
type memTree struct {
	n      int64  // records
	hashes []Hash // their stored hashes
}

func (t *memTree) add(record []byte) {
	hs, _ := tlog.StoredHashes(t.n, record, t) // reads only hashes add stored
	t.hashes = append(t.hashes, hs...)
	t.n++
}

func (t *memTree) ReadHashes(indexes []int64) ([]Hash, error) {
	out := make([]Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(t.hashes)) {
			return nil, fmt.Errorf("no stored hash %d in a tree of %d", x, len(t.hashes))
		}
		out[i] = t.hashes[x]
	}
	return out, nil
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
	if err := tlog.CheckRecord(proof, count, root, r.Batch, tlog.RecordHash(receiptEntry(r.LeafIndex, hash))); err != nil {
		return fmt.Errorf("the signed statement does not include leaf %d with hash %s: %w", r.LeafIndex, hash, err)
	}
	return nil
}
