package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/agora-rlhf/agora/rlhf"
)

func testSigner(t *testing.T) *Log {
	t.Helper()
	key, err := LoadKey(filepath.Join(t.TempDir(), "log.key"), "test.example/log")
	if err != nil {
		t.Fatal(err)
	}
	return &Log{cfg: Config{Key: key, Now: time.Now}}
}

// TestReceiptBatch signs five receipts with one statement: each opens to
// its own leaf, and none opens with another's entry, position or leaf.
func TestReceiptBatch(t *testing.T) {
	l := testSigner(t)
	b := newReceiptBatch(committed(5))
	batch := make([]*rlhf.Receipt, 5)
	for i := range batch {
		r, err := b.receipt(l, i)
		if err != nil {
			t.Fatal(err)
		}
		batch[i] = r
		idx, h, err := OpenReceipt(r, l.VerifierKey())
		if leaf := b.leaves[i]; err != nil || idx != leaf.index || h != leaf.hash {
			t.Errorf("OpenReceipt(receipt %d) = %d, %v, %v; want %d, %v", i, idx, h, err, leaf.index, leaf.hash)
		}
		if r.Statement != batch[0].Statement {
			t.Errorf("receipt %d has a statement of its own; want the batch's", i)
		}
	}
	forged := []struct {
		name   string
		change func(i int)
	}{
		{"another leaf index", func(i int) { batch[i].LeafIndex++ }},
		{"another leaf hash", func(i int) { batch[i].LeafHash = batch[(i+1)%5].LeafHash }},
		{"another position", func(i int) { batch[i].Batch = int64((i + 1) % 5) }},
		{"another's proof", func(i int) { batch[i].BatchProof = batch[(i+1)%5].BatchProof }},
		{"a position past the batch", func(i int) { batch[i].Batch = 5 }},
	}
	for _, tc := range forged {
		r := *batch[2]
		saved := batch[2]
		batch[2] = &r
		tc.change(2)
		if _, _, err := OpenReceipt(&r, l.VerifierKey()); err == nil {
			t.Errorf("a receipt with %s opens", tc.name)
		}
		batch[2] = saved
	}
}

// committed returns n committed votes, v0 to v(n-1), at leaves 10 on.
func committed(n int) []CommittedVote {
	votes := make([]CommittedVote, n)
	for i := range votes {
		votes[i] = CommittedVote{ID: fmt.Sprint("v", i), Index: int64(10 + i), Hash: tlog.RecordHash([]byte(fmt.Sprint(i)))}
	}
	return votes
}

// TestReceiptBatchIsTlogs checks the batch tree, built level by level,
// against tlog's own tree of the same entries for every batch size up to
// 70: the same root, and each receipt's proof is tlog's proof.
func TestReceiptBatchIsTlogs(t *testing.T) {
	l := testSigner(t)
	for n := 1; n <= 70; n++ {
		b := newReceiptBatch(committed(n))
		tree := &memTree{}
		for _, v := range b.leaves {
			tree.add(receiptEntry(v.index, v.hash.String()))
		}
		root, err := tlog.TreeHash(int64(n), tree)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			r, err := b.receipt(l, i)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Statement, "\n"+root.String()+"\n") {
				t.Fatalf("batch of %d: the statement does not sign tlog's root %v:\n%s", n, root, r.Statement)
			}
			want, err := tlog.ProveRecord(int64(n), int64(i), tree)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(r.BatchProof, ","); got != proofText(want) {
				t.Fatalf("batch of %d, entry %d: proof %s; tlog's %s", n, i, got, proofText(want))
			}
		}
	}
}

func proofText(p tlog.RecordProof) string {
	s := make([]string, len(p))
	for i, h := range p {
		s[i] = h.String()
	}
	return strings.Join(s, ",")
}

// memTree is a small tlog tree in memory, to check batches against.
type memTree struct {
	n      int64
	hashes []Hash
}

func (t *memTree) add(record []byte) {
	hs, _ := tlog.StoredHashes(t.n, record, t)
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

// TestReceiptSingle opens a receipt of the older, one-vote statement.
func TestReceiptSingle(t *testing.T) {
	l := testSigner(t)
	h := tlog.RecordHash([]byte("vote"))
	msg, err := l.cfg.Key.Sign(fmt.Sprintf("%s\n%s\n%d\n%s\n%s\n", receiptHeader, l.Origin(), 7, h, "2026-12-07T11:33:20.123Z"))
	if err != nil {
		t.Fatal(err)
	}
	r := &rlhf.Receipt{LeafIndex: 7, LeafHash: h.String(), Statement: string(msg)}
	if idx, got, err := OpenReceipt(r, l.VerifierKey()); err != nil || idx != 7 || got != h {
		t.Errorf("OpenReceipt(single) = %d, %v, %v; want 7, %v", idx, got, err, h)
	}
	r.LeafIndex = 8
	if _, _, err := OpenReceipt(r, l.VerifierKey()); err == nil {
		t.Error("a single receipt whose index differs from its statement opens")
	}
}

// TestReceiptsCommitted signs the receipts of three votes committed
// together with one statement, kept until Receipt takes each once.
func TestReceiptsCommitted(t *testing.T) {
	l := testSigner(t)
	var votes []CommittedVote
	for i := range 3 {
		votes = append(votes, CommittedVote{ID: fmt.Sprint("v", i), Index: int64(i), Hash: tlog.RecordHash([]byte{byte(i)})})
	}
	l.enc = NewEncoder(nil)
	l.enc.committed = l.signCommitted
	l.enc.Committed(votes)
	var statement string
	for i, v := range votes {
		r, err := l.Receipt(context.Background(), nil, &rlhf.Vote{ID: v.ID})
		if err != nil {
			t.Fatal(err)
		}
		if idx, h, err := OpenReceipt(r, l.VerifierKey()); err != nil || idx != v.Index || h != v.Hash {
			t.Errorf("receipt of %s opens to %d, %v, %v; want %d, %v", v.ID, idx, h, err, v.Index, v.Hash)
		}
		if i > 0 && r.Statement != statement {
			t.Errorf("receipt of %s has a statement of its own; want the commit's", v.ID)
		}
		statement = r.Statement
		if _, ok := l.receipts.take(v.ID); ok {
			t.Errorf("the receipt of %s is kept after Receipt took it", v.ID)
		}
	}
}

// TestReceiptsShareOpenBatch commits votes twice before any receipt is
// asked for: all four share one statement. A commit after that starts a
// batch of its own.
func TestReceiptsShareOpenBatch(t *testing.T) {
	l := testSigner(t)
	votes := committed(6)
	l.signCommitted(votes[:2])
	l.signCommitted(votes[2:4])
	statement := func(v CommittedVote) string {
		t.Helper()
		r, err := l.Receipt(context.Background(), nil, &rlhf.Vote{ID: v.ID})
		if err != nil {
			t.Fatal(err)
		}
		if idx, h, err := OpenReceipt(r, l.VerifierKey()); err != nil || idx != v.Index || h != v.Hash {
			t.Errorf("receipt of %s opens to %d, %v, %v; want %d, %v", v.ID, idx, h, err, v.Index, v.Hash)
		}
		return r.Statement
	}
	first := statement(votes[3])
	l.signCommitted(votes[4:])
	for _, v := range votes[:3] {
		if statement(v) != first {
			t.Errorf("vote %s, committed before the first receipt, has a statement of its own", v.ID)
		}
	}
	if statement(votes[4]) == first || statement(votes[5]) == first {
		t.Error("votes committed after the batch was signed share its statement")
	}
}
