package ledger

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/agora-rlhf/agora/rlhf"
)

// receiptHeader is the first line of a receipt's statement.
const receiptHeader = "agora vote receipt"

// Receipt returns the receipt of v, the vote on b, whose leaf the store
// has committed: the leaf's index and hash, signed.
func (l *Log) Receipt(ctx context.Context, b *rlhf.Battle, v *rlhf.Vote) (*rlhf.Receipt, error) {
	index, err := l.cfg.Store.LeafIndex(ctx, v.ID)
	if err != nil {
		return nil, fmt.Errorf("receipt of vote %s: %w", v.ID, err)
	}
	hash := RecordHash(l.enc.Vote(b, v))
	text := receiptText(l.Origin(), index, hash, v.CreatedAt)
	msg, err := l.cfg.Key.Sign(text)
	if err != nil {
		return nil, fmt.Errorf("receipt of vote %s: %w", v.ID, err)
	}
	return &rlhf.Receipt{LeafIndex: index, LeafHash: hash.String(), Statement: string(msg)}, nil
}

// receiptText is a receipt's signed statement: a header line, the log's
// origin, the leaf index, the leaf hash and the time the vote was taken.
func receiptText(origin string, index int64, hash Hash, at time.Time) string {
	return fmt.Sprintf("%s\n%s\n%d\n%s\n%s\n", receiptHeader, origin, index, hash, at.UTC().Format("2006-01-02T15:04:05.000Z"))
}

// OpenReceipt checks a receipt's statement against the log's verifier key
// and that it says what the receipt says. It returns the leaf's index and
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
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 5 || lines[0] != receiptHeader {
		return 0, Hash{}, fmt.Errorf("malformed receipt statement")
	}
	if lines[1] != v.Name() {
		return 0, Hash{}, fmt.Errorf("receipt is from log %q, not %q", lines[1], v.Name())
	}
	index, err := strconv.ParseInt(lines[2], 10, 64)
	if err != nil || index < 0 {
		return 0, Hash{}, fmt.Errorf("malformed receipt leaf index %q", lines[2])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[3])
	var hash Hash
	if err != nil || len(raw) != len(hash) {
		return 0, Hash{}, fmt.Errorf("malformed receipt leaf hash %q", lines[3])
	}
	copy(hash[:], raw)
	if index != r.LeafIndex || hash.String() != r.LeafHash {
		return 0, Hash{}, fmt.Errorf("the signed statement says leaf %d with hash %s; the receipt says leaf %d with hash %s", index, hash, r.LeafIndex, r.LeafHash)
	}
	return index, hash, nil
}
