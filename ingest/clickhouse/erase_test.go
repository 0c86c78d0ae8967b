package clickhouse_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/agora-rlhf/agora/ingest/clickhouse"
	"github.com/agora-rlhf/agora/ingest/clickhouse/chtest"
	"github.com/agora-rlhf/agora/rlhf"
)

// seqBatch numbers recs from seq first, counts them into counter and
// returns them as one batch of store storeID.
func seqBatch(counter *clickhouse.BlockCounter, storeID string, first int64, recs []rlhf.Record) *clickhouse.Batch {
	b := &clickhouse.Batch{StoreID: storeID}
	for i := range recs {
		seq := first + int64(i)
		b.Records = append(b.Records, clickhouse.SeqRecord{Seq: seq, Record: &recs[i]})
		counter.Add(seq, &recs[i])
	}
	b.Counts = counter.Counts(first, first+int64(len(recs))-1)
	return b
}

// TestEraseDeletesContent ships records in two count blocks, erases a
// quarter of the first block's battles (one contributor's), and checks
// through queries that none of their prompts, answers or reasons is left
// in any table while every other row is; that the leaderboard's pair
// counts, once the block is recounted, drop by exactly the erased votes
// (a pair only they had included) with everyone else's intact; and that a
// later shipment of the same block still outranks the recount.
func TestEraseDeletesContent(t *testing.T) {
	c, _ := open(t)
	ctx := context.Background()
	mark := fmt.Sprintf("GONE%08x", rand.Uint32())
	gen := chtest.NewRecords(7)
	first := make([]rlhf.Record, 40)
	var victims, kept []rlhf.Record
	var victim []string
	for i := range first {
		r := gen.Next()
		if i%4 == 0 {
			r.Battle.Turns[0].Prompt = mark + " prompt"
			r.Battle.Turns[0].A.Content = mark + " answer"
			r.Vote.Reason = mark + " reason"
			if i == 8 { // a pair no one else voted on
				r.Battle.ModelA, r.Battle.ModelB = "zulu", "yankee"
			}
			victim = append(victim, r.Battle.ID)
			victims = append(victims, r)
		} else {
			r.Vote.Reason = "kept reason"
			kept = append(kept, r)
		}
		first[i] = r
	}
	second := make([]rlhf.Record, 20)
	for i := range second {
		second[i] = gen.Next()
		second[i].Vote.Reason = "kept reason"
	}
	counter := clickhouse.NewBlockCounter()
	for _, b := range []*clickhouse.Batch{
		seqBatch(counter, "store1", 1, first),
		seqBatch(counter, "store1", clickhouse.CountBlockSize+1, second),
	} {
		if _, err := c.Insert(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	checkPairCounts(t, c, slices.Concat(first, second))

	blocks, err := c.ErasedBlocks(ctx, "store1", victim)
	if err != nil || !slices.Equal(blocks, []int64{0}) {
		t.Fatalf("ErasedBlocks = %v, %v; want [0]", blocks, err)
	}
	if err := c.Erase(ctx, victim); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	// The shipper recounts the block from the store, which has only the
	// kept votes now, up to what it shipped (seq 40).
	recount := clickhouse.NewBlockCounter()
	for i := range first {
		if i%4 != 0 {
			recount.Add(int64(i+1), &first[i])
		}
	}
	counts := recount.Counts(1, 40)
	counts[0].Through = 40
	if err := c.Recount(ctx, "store1", counts); err != nil {
		t.Fatalf("Recount: %v", err)
	}
	checkPairCounts(t, c, slices.Concat(kept, second))
	checkDrop(t, slices.Concat(first, second), slices.Concat(kept, second), victims)
	checkContentGone(t, c, mark, first, second)

	// The shipper goes on with the block from its recount.
	third := make([]rlhf.Record, 10)
	for i := range third {
		third[i] = gen.Next()
	}
	if _, err := c.Insert(ctx, seqBatch(recount, "store1", 41, third)); err != nil {
		t.Fatal(err)
	}
	checkPairCounts(t, c, slices.Concat(kept, second, third))
}

// checkDrop checks the test's own arithmetic: the counts before less the
// erased votes' are the counts after.
func checkDrop(t *testing.T, before, after, erased []rlhf.Record) {
	t.Helper()
	total := func(recs []rlhf.Record) (n int64) {
		for _, p := range chtest.CountRecords(recs) {
			n += p.Total()
		}
		return n
	}
	if total(before)-total(erased) != total(after) {
		t.Errorf("counted %d votes before, %d erased, %d after", total(before), total(erased), total(after))
	}
}

// checkContentGone checks that no table holds the erased text, and that
// every other row is there.
func checkContentGone(t *testing.T, c *clickhouse.Client, mark string, first, second []rlhf.Record) {
	t.Helper()
	db := c.Config().Database
	turns := 0 // the others' turns
	for i, r := range slices.Concat(first, second) {
		if i >= len(first) || i%4 != 0 {
			turns += len(r.Battle.Turns)
		}
	}
	for _, q := range []struct {
		sql  string
		want int
	}{
		{"SELECT toString(count()) FROM " + db + ".turns WHERE position(prompt, '" + mark + "') > 0 OR position(answer_a, '" + mark + "') > 0", 0},
		{"SELECT toString(count()) FROM " + db + ".votes WHERE position(reason, '" + mark + "') > 0", 0},
		{"SELECT toString(count()) FROM " + db + ".battles", 50},
		{"SELECT toString(count()) FROM " + db + ".votes WHERE reason = 'kept reason'", 50},
		{"SELECT toString(count()) FROM " + db + ".turns", turns},
	} {
		rows, err := c.QueryStrings(context.Background(), q.sql)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := strconv.Atoi(rows[0][0]); got != q.want {
			t.Errorf("%s = %d after erasure, want %d", q.sql, got, q.want)
		}
	}
}
