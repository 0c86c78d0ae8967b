package ledger

import (
	"context"
	"fmt"
	"path/filepath"
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
	batch := make([]*receiptReq, 5)
	for i := range batch {
		batch[i] = &receiptReq{index: int64(10 + i), hash: tlog.RecordHash([]byte(fmt.Sprint(i)))}
	}
	l.signBatch(batch)
	for i, r := range batch {
		if r.err != nil {
			t.Fatal(r.err)
		}
		idx, h, err := OpenReceipt(r.out, l.VerifierKey())
		if err != nil || idx != r.index || h != r.hash {
			t.Errorf("OpenReceipt(receipt %d) = %d, %v, %v; want %d, %v", i, idx, h, err, r.index, r.hash)
		}
		if r.out.Statement != batch[0].out.Statement {
			t.Errorf("receipt %d has a statement of its own; want the batch's", i)
		}
	}
	forged := []struct {
		name   string
		change func(i int)
	}{
		{"another leaf index", func(i int) { batch[i].out.LeafIndex++ }},
		{"another leaf hash", func(i int) { batch[i].out.LeafHash = batch[(i+1)%5].out.LeafHash }},
		{"another position", func(i int) { batch[i].out.Batch = int64((i + 1) % 5) }},
		{"another's proof", func(i int) { batch[i].out.BatchProof = batch[(i+1)%5].out.BatchProof }},
		{"a position past the batch", func(i int) { batch[i].out.Batch = 5 }},
	}
	for _, tc := range forged {
		r := *batch[2].out
		saved := batch[2].out
		batch[2].out = &r
		tc.change(2)
		if _, _, err := OpenReceipt(&r, l.VerifierKey()); err == nil {
			t.Errorf("a receipt with %s opens", tc.name)
		}
		batch[2].out = saved
	}
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
		if l.receipts.take(v.ID) != nil {
			t.Errorf("the receipt of %s is kept after Receipt took it", v.ID)
		}
	}
}
